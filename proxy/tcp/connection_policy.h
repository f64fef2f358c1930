#pragma once
// Which inbound TCP connections to close: the pure half of the TCP guard
// (no sockets; time passed in), so every rule has a unit test.
//
// Sofia-sip keeps an accepted connection until it closes itself; it arms no
// idle timer for one that never sends a byte, and caps nothing per source.
// The guard (tcp_guard.h) closes, in this order:
//   1. connections silent (not one byte received) for `silent_after`;
//   2. a source's newest connections past `max_per_source`;
//   3. the newest connections past `max_total`, taken from the sources
//      holding the most connections first (so one crowd cannot push out a
//      dialer's single long-lived connection).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace sippacer::proxy {

struct TcpConnection {
  std::string source;  // the peer's IP address, text
  absl::Time first_seen;
  bool silent = false;  // no byte received yet
};

struct TcpLimits {
  size_t max_total = 4096;
  size_t max_per_source = 64;
  absl::Duration silent_after = absl::Minutes(2);
};

enum class CloseReason { kSilent, kPerSource, kTotal };
const char* CloseReasonName(CloseReason r);

struct CloseOrder {
  size_t index;  // into the connections given
  CloseReason reason;
};

std::vector<CloseOrder> ConnectionsToClose(const std::vector<TcpConnection>& conns, const TcpLimits& limits,
                                           absl::Time now);

}  // namespace sippacer::proxy
