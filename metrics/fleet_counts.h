#pragma once
// FleetCounts: what the other nodes of a fleet counted, so that rules judge
// fleet-wide windows (docs/fleet.md).
//
// Every node publishes its own counts per number and bucket as absolute
// values, never as increments: a retry, a replay after an outage or a node
// that publishes twice cannot count a call twice. This keeps every other
// node's latest values and, per number, bucket and group, their sum. The sums
// live in a NumberTable with BucketWindows beside it, and GroupWindows, with one writer (the fleet listener
// thread) and lock-free readers (the SIP thread, through Store).
//
// The per-node detail, needed to turn a node's new value into a sum and for
// `show number`'s per-node split, sits behind a mutex that only the listener
// and the stats thread take; the SIP thread never does.
//
// Example (listener thread):
//   CodeCounts added = fleet.SetNumber("edge-b", number, bucket, now);
//   // `added`: edge-b's calls not seen before, for the pacer's evidence
// Example (SIP thread, via Store::Window):
//   CodeCounts others = fleet.NumberWindow(number, absl::Minutes(15), now);

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "metrics/bucket_window.h"
#include "metrics/group_windows.h"
#include "metrics/number_table.h"
#include "metrics/slot_array.h"
#include "metrics/store.h"

namespace sippacer::metrics {

// One node's counts for one number in one bucket (the same layout the
// --state_file keeps).
using BucketCounts = NumberRecord::BucketRecord;

class FleetCounts {
 public:
  // Shaped like the local Store's tables (bucket widths must match across
  // the fleet: the keys in Redis carry them, so mismatched nodes never mix).
  FleetCounts(size_t max_numbers, absl::Duration bucket_width, int groups, int group_buckets,
              absl::Duration group_width);

  // ---- writer (one thread) ----
  // `node` has counted `counts` for `number` in bucket `counts.epoch` so
  // far. Returns how much that adds to what the node had said before (its
  // calls not seen yet here), for the pacer's evidence. A bucket older than
  // the window is ignored.
  CodeCounts SetNumber(absl::string_view node, E164 number, const BucketCounts& counts, absl::Time now);
  // A bucket outside the group's window (or from the future) is ignored.
  void SetGroup(absl::string_view node, int group, uint32_t epoch, const CodeCounts& counts, absl::Time now);
  void SetHour(absl::string_view node, int hour, const CodeCounts& counts);
  // Forgets numbers with nothing left inside the window (bounded memory).
  void Prune(absl::Time now);

  // ---- any thread (lock-free) ----
  CodeCounts NumberWindow(E164 number, absl::Duration window, absl::Time now) const;
  // Adds the other nodes' attempts per bucket to `history` (oldest first,
  // the newest bucket last, as Store::AttemptHistory).
  void AddAttemptHistory(E164 number, absl::Time now, std::vector<uint32_t>* history) const;
  CodeCounts GroupWindow(int group, absl::Duration window, absl::Time now) const;
  CodeCounts Hour(int hour) const;
  size_t numbers() const { return table_.size(); }

  // ---- stats thread (takes the detail lock) ----
  // Each other node's counts for `number` over `window`, by node name.
  std::vector<std::pair<std::string, CodeCounts>> ByNode(E164 number, absl::Duration window, absl::Time now) const;

 private:
  struct NodeBucket {
    uint16_t node = 0;
    BucketCounts counts;
  };
  // kNoNode past kMaxNodes names (a Redis anyone writes to must not grow
  // this without bound).
  static constexpr size_t kMaxNodes = 256;
  static constexpr uint16_t kNoNode = UINT16_MAX;
  uint16_t NodeIndex(absl::string_view node);
  void WriteSum(E164 number, uint32_t epoch, const std::vector<NodeBucket>& entries, absl::Time now);

  NumberTable table_;                // the numbers other nodes counted
  SlotArray<BucketWindow> windows_;  // beside table_: per bucket, the sum over the other nodes
  const absl::Duration width_;
  GroupWindows groups_;
  WideBucket hours_[24];

  // std::mutex, not absl::Mutex: the sanitizer builds see its locking.
  // Everything below it is guarded by it (NodeIndex is called holding it).
  mutable std::mutex mu_;
  std::vector<std::string> nodes_;
  absl::flat_hash_map<E164, std::vector<NodeBucket>> detail_;
  std::map<std::tuple<int, uint32_t, uint16_t>, CodeCounts> group_detail_;
  std::map<std::pair<int, uint16_t>, CodeCounts> hour_detail_;
};

}  // namespace sippacer::metrics
