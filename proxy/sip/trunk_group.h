#pragma once
// TrunkGroup: the carrier trunks a call may go to, in order of preference,
// with their limits (docs/trunks.md).
//
// Each trunk has a priority (lower is tried first), a weight (calls spread
// over trunks of the same priority in proportion), and optional limits:
// calls in progress (max_calls) and new calls a second (max_cps, a token
// bucket). A new call goes to a trunk of the best priority that is under its
// limits; a call that fails on one trunk before the dialer heard anything
// (503, 408, a transport error) goes on to the next one it has not tried.
// When every trunk is at a limit the call is refused (the pacing refusal
// code), counted on each trunk it was kept from.
//
// Pure: the SIP thread calls it with the time; counters are atomics the
// stats thread reads for `show trunks` and /metrics.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sippacer::proxy {

// A counter the SIP thread writes and the stats thread reads.
struct TrunkCounter {
  std::atomic<uint64_t> value{0};
  void Add(int64_t n = 1) {
    value.store(value.load(std::memory_order_relaxed) + static_cast<uint64_t>(n), std::memory_order_relaxed);
  }
  uint64_t Get() const { return value.load(std::memory_order_relaxed); }
};

struct TrunkSpec {
  std::string name;       // "carrier-a"; for --trunk, the address
  std::string uri;        // as configured: "sip:10.0.0.1:5060;transport=tcp", "sips:sbc.example.com"
  std::string host;       // IPv6 without brackets
  int port = 0;           // 0: found by DNS (RFC 3263) or the transport's default
  std::string transport;  // "", "udp", "tcp" or "tls"
  int priority = 1;
  int weight = 1;
  int max_calls = 0;   // 0: no limit
  double max_cps = 0;  // 0: no limit
  // "host[:port]" (IPv6 in brackets) and the URI parameters for a request-URI.
  std::string HostPortText() const;
  std::string UriHostPart() const;  // "host:port;transport=tcp"
  bool tls() const { return transport == "tls"; }
};

struct TrunkStats {
  TrunkCounter calls_active;           // calls on this trunk now (INVITE sent, not ended)
  TrunkCounter attempts;               // INVITEs sent to it
  TrunkCounter answered;               // 2xx
  TrunkCounter failovers;              // calls that failed here and went on to another trunk
  TrunkCounter refused_max_calls;      // calls kept off it by max_calls (sent to a worse priority, or refused)
  TrunkCounter refused_max_cps;        // ... by max_cps
  std::array<TrunkCounter, 7> finals;  // [1..6]: final answers by class; [0]: timeouts (408, local)
  TrunkCounter unavailable;            // 503 (from it, or a transport error)
};

class TrunkGroup {
 public:
  explicit TrunkGroup(std::vector<TrunkSpec> specs);

  // "uri" or "uri,uri,..." (--trunk): priorities in the order given.
  static absl::StatusOr<std::vector<TrunkSpec>> ParseList(absl::string_view text);
  // A trunks file: one trunk a line, "name uri [priority=N] [weight=N]
  // [max_calls=N] [max_cps=X]"; '#' starts a comment. Errors name the line.
  static absl::StatusOr<std::vector<TrunkSpec>> ParseFile(absl::string_view contents);
  // One URI: "host[:port]", "sip:host[:port][;transport=udp|tcp|tls]", "sips:host[:port]".
  static absl::StatusOr<TrunkSpec> ParseUri(absl::string_view text);

  struct Pick {
    int trunk = -1;        // -1: none
    bool limited = false;  // none because every untried trunk is at a limit
  };
  // The trunk for a call that has tried the trunks in `tried` (bit i: trunk
  // i), at `now`; `random` spreads calls by weight. Takes a max_cps token
  // and counts the attempt and the call on the trunk it returns.
  Pick Next(uint64_t tried, absl::Time now, uint64_t random);
  // The call on `trunk` ended, or went on to another trunk.
  void Release(int trunk);

  static constexpr size_t kMaxTrunks = 64;
  size_t size() const { return specs_.size(); }
  const TrunkSpec& spec(int i) const { return specs_[i]; }
  TrunkStats& stats(int i) { return *stats_[i]; }
  const TrunkStats& stats(int i) const { return *stats_[i]; }

 private:
  bool HasToken(int i, absl::Time now);
  std::vector<TrunkSpec> specs_;
  std::vector<std::unique_ptr<TrunkStats>> stats_;
  struct Bucket {
    double tokens = 0;
    absl::Time at = absl::InfinitePast();
  };
  std::vector<Bucket> buckets_;  // SIP thread only
};

}  // namespace sippacer::proxy
