#pragma once
// GroupWindows: rolling windows of counts for groups of calls that many
// numbers share: the whole pool, each terminating carrier, each dialed
// country code and each dialed NANP area code. They are the baselines a
// number is judged against, and what route-wide signals are read from.
//
// Counters are 32-bit: one group can carry every call one box relays
// (a 10-minute bucket at 5,000 calls/s is 3 M) without wrapping. One
// writer (the SIP thread), relaxed atomics, readers anywhere: a reader may
// see an attempt without its final for an instant, never garbage.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/time/time.h"
#include "metrics/call_outcome.h"
#include "metrics/outcome.h"
#include "metrics/zeroed_array.h"

namespace sippacer::metrics {

struct WideBucket {
  std::atomic<uint32_t> epoch{0};
  std::atomic<uint32_t> attempts{0};
  std::atomic<uint32_t> pre_ring_603{0};
  std::atomic<uint32_t> network_blocked{0};
  std::atomic<uint32_t> outcomes[kOutcomeCount] = {};
};

class GroupWindows {
 public:
  // `groups` windows of `buckets` buckets of `bucket_width` each.
  GroupWindows(int groups, int buckets, absl::Duration bucket_width);

  // Where a moment's counts go in every group: its period and that
  // period's bucket, worked out once for all the groups a call counts in.
  struct Bucket {
    uint32_t epoch = 0;
    uint32_t index = 0;
  };
  Bucket BucketOf(absl::Time t) const;
  // BucketOf for the writer, remembered while `t` stays in one period: two
  // divisions saved on nearly every call.
  Bucket WriterBucketOf(absl::Time t) {
    const int64_t s = absl::ToUnixSeconds(t);
    if (s < writer_from_s_ || s >= writer_from_s_ + width_s_) {
      writer_bucket_ = BucketOf(t);
      writer_from_s_ = static_cast<int64_t>(writer_bucket_.epoch) * width_s_;
    }
    return writer_bucket_;
  }

  // ---- writer ----
  // Returns the attempts now in the group's bucket.
  uint32_t AddAttempt(int group, Bucket b);
  void AddFinal(int group, Bucket b, const FinalMark& m);
  // Puts saved counts back into the bucket of `epoch` (a restart).
  void Import(int group, uint32_t epoch, const CodeCounts& c);

  // ---- any thread ----
  // Counts of the last `window` (whole buckets, the current one included).
  CodeCounts Sum(int group, absl::Duration window, absl::Time now) const;
  // Every non-empty bucket of `group`, oldest first: (epoch, counts).
  void ForEachBucket(int group, const std::function<void(uint32_t, const CodeCounts&)>& fn) const;
  uint32_t EpochOf(absl::Time t) const;
  // The period the bucket `epoch` falls in holds now (0: never used).
  uint32_t HeldEpoch(int group, uint32_t epoch) const;
  int groups() const { return groups_; }
  int buckets() const { return buckets_; }

 private:
  WideBucket& At(int group, Bucket b);

  const int groups_;
  const int buckets_;
  const int64_t width_s_;
  ZeroedArray<WideBucket> cells_;      // a group's pages are written once it counts
  int64_t writer_from_s_ = INT64_MIN;  // writer-only: WriterBucketOf's period
  Bucket writer_bucket_;
};

}  // namespace sippacer::metrics
