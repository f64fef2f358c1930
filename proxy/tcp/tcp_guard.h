#pragma once
// TcpGuard: enforces connection_policy.h on the daemon's inbound TCP
// connections, once a second, from the ops thread.
//
// Sofia-sip owns the sockets and offers no hook at accept, so the guard
// finds them the way `ss` would: the process's descriptors that are TCP
// connections on one of our listening ports. To close one it shuts the
// socket down (never close(2): the descriptor stays sofia's), sofia reads
// the end of stream and frees the connection on the SIP thread itself.
// Nothing here touches sofia's structures, so nothing here blocks the relay.

#include <dirent.h>

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "proxy/relay_counters.h"
#include "proxy/tcp/connection_policy.h"

namespace sippacer::proxy {

class TcpGuard {
 public:
  // `local_ports`: the ports sippacer listens on (--listen, --trunk_listen);
  // `exempt_peers`: the trunks' "ip:port" (our own connections to them).
  TcpGuard(std::vector<int> local_ports, std::vector<std::string> exempt_peers, TcpLimits limits,
           RelayCounters& counters);

  ~TcpGuard();
  TcpGuard(const TcpGuard&) = delete;
  TcpGuard& operator=(const TcpGuard&) = delete;

  // One pass; returns when the next should run: soon while connections
  // are past half the cap (a crowd arriving), else in a second.
  absl::Duration Sweep(absl::Time now);
  const TcpLimits& limits() const { return limits_; }

 private:
  struct Socket {
    int fd;
    std::string peer;  // "ip:port"
  };
  // /proc/self/fd, opened once: at the file limit nothing new can be opened,
  // and that is when the guard is needed.
  DIR* fd_dir_ = nullptr;
  std::vector<int> local_ports_;
  std::vector<std::string> exempt_peers_;
  TcpLimits limits_;
  RelayCounters& counters_;
  // When each connection ("fd peer") was first seen; pruned every sweep.
  absl::flat_hash_map<std::string, absl::Time> first_seen_;
};

// The connection cap that fits the process's descriptor limit: at most the
// flag, and always a reserve for UDP, files, the stats socket and CDRs.
size_t TcpCapForFileLimit(size_t flag, size_t file_limit);

}  // namespace sippacer::proxy
