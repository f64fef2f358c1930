#include "metrics/bucket_window.h"

#include <algorithm>

namespace sippacer::metrics {

Bucket& ResetIfStale(Bucket& b, uint32_t epoch) {
  if (b.epoch.load(std::memory_order_relaxed) != epoch) {
    b.attempts.store(0, std::memory_order_relaxed);
    b.paced.store(0, std::memory_order_relaxed);
    b.pre_ring_603.store(0, std::memory_order_relaxed);
    b.network_blocked.store(0, std::memory_order_relaxed);
    for (auto& o : b.outcomes) o.store(0, std::memory_order_relaxed);
    b.epoch.store(epoch, std::memory_order_relaxed);
  }
  return b;
}

void SumBuckets(const BucketWindow& w, absl::Duration width, absl::Time now, absl::Duration window, CodeCounts* out) {
  const int64_t width_ms = absl::ToInt64Milliseconds(width);
  const int64_t now_ms = absl::ToUnixMillis(now);
  const int64_t from_ms = now_ms - absl::ToInt64Milliseconds(window);
  const auto now_epoch = static_cast<uint32_t>(absl::ToUnixSeconds(now) / absl::ToInt64Seconds(width));
  auto scaled = [](uint32_t v, double share) { return static_cast<uint32_t>(v * share + 0.5); };
  for (const Bucket& b : w.buckets) {
    const uint32_t e = b.epoch.load(std::memory_order_relaxed);
    if (e > now_epoch || now_epoch - e >= static_cast<uint32_t>(kWindowBuckets)) continue;
    const int64_t start = static_cast<int64_t>(e) * width_ms;
    const int64_t end = std::min(start + width_ms, now_ms);
    if (end <= from_ms) continue;
    const double share = start >= from_ms ? 1.0 : static_cast<double>(end - from_ms) / static_cast<double>(end - start);
    out->attempts += scaled(b.attempts.load(std::memory_order_relaxed), share);
    out->paced += scaled(b.paced.load(std::memory_order_relaxed), share);
    out->pre_ring_603 += scaled(b.pre_ring_603.load(std::memory_order_relaxed), share);
    out->network_blocked += scaled(b.network_blocked.load(std::memory_order_relaxed), share);
    for (int i = 0; i < kOutcomeCount; ++i)
      out->by_outcome[i] += scaled(b.outcomes[i].load(std::memory_order_relaxed), share);
  }
}

}  // namespace sippacer::metrics
