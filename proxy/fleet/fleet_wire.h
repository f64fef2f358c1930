#pragma once
// The fleet's texts in Redis and on its channels (docs/fleet.md):
// counts, count batches, pacing states and node status lines. Pure
// functions, so the parser that reads what other nodes (or anyone with
// access to Redis) wrote is fuzzed (tests/fuzz/fleet_wire_fuzz.cc).
//
//   counts      "a,p,r,b,o0,...,o16"  attempts, paced, pre-ring 603, 603+,
//                                      then one count per Outcome
//   batch       "node NODE MS\n" then lines
//               "n NUMBER EPOCH COUNTS" (a number's bucket),
//               "g GROUP EPOCH COUNTS"  (a route group's bucket),
//               "h HOUR COUNTS"         (an hour of day, since start)
//   state       "RANK|AT_MS|NODE|STATE|SINCE_MS|UNTIL_MS|REASON"
//   node status "PUSHED_MS|CALLS_PER_S|NUMBERS|PENDING|VERSION"
//   policy      "NODE|AT_MS|KEY=VALUE<TAB>KEY=VALUE...|BY"  (keys set live)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "metrics/outcome.h"
#include "metrics/store.h"
#include "pacing/pacer.h"

namespace sippacer::proxy::fleet {

// A node name: letters, digits, '.', '_', '-'; 1 to 64 of them.
bool ValidNodeId(absl::string_view id);

std::string EncodeCounts(const metrics::CodeCounts& c);
std::optional<metrics::CodeCounts> DecodeCounts(absl::string_view text);

struct CountBatch {
  std::string node;
  int64_t sent_ms = 0;
  struct NumberLine {
    metrics::E164 number = 0;
    uint32_t epoch = 0;
    metrics::CodeCounts counts;
  };
  struct GroupLine {
    std::string group;
    uint32_t epoch = 0;
    metrics::CodeCounts counts;
  };
  struct HourLine {
    int hour = 0;
    metrics::CodeCounts counts;
  };
  std::vector<NumberLine> numbers;
  std::vector<GroupLine> groups;
  std::vector<HourLine> hours;
};
std::string EncodeBatch(const CountBatch& b);
// Lines it cannot read are skipped; nullopt when the header is not a node's.
std::optional<CountBatch> DecodeBatch(absl::string_view text);

// One number's pacing state as the fleet settles it. `rank` orders
// transitions made within kConcurrent of each other (fleet_sync.cc).
struct FleetState {
  int rank = 0;
  int64_t at_ms = 0;
  std::string node;
  pacing::NumberState state = pacing::NumberState::kHealthy;
  int64_t since_ms = 0;
  int64_t until_ms = -1;  // -1: no end
  std::string reason;
};
inline constexpr absl::Duration kConcurrent = absl::Seconds(2);
// Quarantine outranks throttle outranks probation outranks healthy; an
// operator's command (quarantine or release) outranks any rule's.
int RankOf(pacing::NumberState to, bool by_operator);
// Whether `incoming` replaces `stored` when both are about one number: the
// rule the settle script in Redis applies (fleet_push.cc), and a node
// applies to what it hears, so that a late echo of a change Redis already
// replaced never flips a number back.
bool Supersedes(const FleetState& incoming, const FleetState& stored);
std::string EncodeState(const FleetState& s);
std::optional<FleetState> DecodeState(absl::string_view text);
std::optional<pacing::NumberState> StateFromName(absl::string_view name);

// Policy keys an operator set live on one node, for every node.
struct FleetPolicy {
  std::string node;
  int64_t at_ms = 0;
  std::vector<std::string> settings;  // "number_cpm=6", as `set policy` takes them
  std::string by;                     // who set them ("uid=1000(alice) pid=42")
};
std::string EncodePolicy(const FleetPolicy& p);
std::optional<FleetPolicy> DecodePolicy(absl::string_view text);

struct NodeStatus {
  std::string node;
  int64_t pushed_ms = 0;
  double calls_per_s = 0;
  uint64_t numbers = 0;
  uint64_t pending = 0;
  std::string version;
};
std::string EncodeNodeStatus(const NodeStatus& s);
std::optional<NodeStatus> DecodeNodeStatus(absl::string_view node, absl::string_view text);

}  // namespace sippacer::proxy::fleet
