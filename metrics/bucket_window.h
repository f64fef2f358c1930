#pragma once
// BucketWindow: a number's counts in time buckets (history/24 each), as
// the other nodes of a fleet send them (fleet_counts.h). A node's own
// calls are a CallLog, exact to the second; what arrives from the fleet is
// already summed per bucket.

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"
#include "metrics/outcome.h"

namespace sippacer::metrics {

inline constexpr int kWindowBuckets = 25;  // history/24 each, plus the one filling

struct Bucket {
  std::atomic<uint32_t> epoch{0};  // bucket number since the Unix epoch
  std::atomic<uint16_t> attempts{0};
  std::atomic<uint16_t> paced{0};
  std::atomic<uint16_t> pre_ring_603{0};
  std::atomic<uint16_t> network_blocked{0};
  std::atomic<uint16_t> outcomes[kOutcomeCount] = {};
};

struct BucketWindow {
  Bucket buckets[kWindowBuckets];
};

// Empties `b` first if it still holds a period other than `epoch`.
Bucket& ResetIfStale(Bucket& b, uint32_t epoch);

// Sums exactly the last `window` before `now`: whole buckets inside it,
// and of the bucket it cuts, the share of that bucket's time it covers
// (calls spread evenly over a bucket, rounded to whole calls).
void SumBuckets(const BucketWindow& w, absl::Duration width, absl::Time now, absl::Duration window, CodeCounts* out);

}  // namespace sippacer::metrics
