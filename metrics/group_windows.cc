#include "metrics/group_windows.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace sippacer::metrics {
namespace {

void Inc(std::atomic<uint32_t>& a) { a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

}  // namespace

GroupWindows::GroupWindows(int groups, int buckets, absl::Duration bucket_width)
    : groups_(groups),
      buckets_(buckets),
      width_s_(std::max<int64_t>(1, absl::ToInt64Seconds(bucket_width))),
      cells_(static_cast<size_t>(groups) * static_cast<size_t>(buckets)) {}

uint32_t GroupWindows::EpochOf(absl::Time t) const { return static_cast<uint32_t>(absl::ToUnixSeconds(t) / width_s_); }

uint32_t GroupWindows::HeldEpoch(int group, uint32_t epoch) const {
  if (group < 0 || group >= groups_) return 0;
  return cells_[static_cast<size_t>(group) * buckets_ + epoch % buckets_].epoch.load(std::memory_order_relaxed);
}

GroupWindows::Bucket GroupWindows::BucketOf(absl::Time t) const {
  const uint32_t epoch = EpochOf(t);
  return Bucket{epoch, epoch % static_cast<uint32_t>(buckets_)};
}

WideBucket& GroupWindows::At(int group, Bucket at) {
  const uint32_t epoch = at.epoch;
  WideBucket& b = cells_[static_cast<size_t>(group) * buckets_ + at.index];
  if (b.epoch.load(std::memory_order_relaxed) != epoch) {
    b.attempts.store(0, std::memory_order_relaxed);
    b.pre_ring_603.store(0, std::memory_order_relaxed);
    b.network_blocked.store(0, std::memory_order_relaxed);
    for (auto& o : b.outcomes) o.store(0, std::memory_order_relaxed);
    b.epoch.store(epoch, std::memory_order_relaxed);
  }
  return b;
}

uint32_t GroupWindows::AddAttempt(int group, Bucket at) {
  if (group < 0 || group >= groups_) return 0;
  WideBucket& b = At(group, at);
  Inc(b.attempts);
  return b.attempts.load(std::memory_order_relaxed);
}

void GroupWindows::AddFinal(int group, Bucket at, const FinalMark& m) {
  if (group < 0 || group >= groups_) return;
  WideBucket& b = At(group, at);
  Inc(b.outcomes[static_cast<int>(m.outcome)]);
  if (m.pre_ring_603) Inc(b.pre_ring_603);
  if (m.network_blocked) Inc(b.network_blocked);
}

void GroupWindows::Import(int group, uint32_t epoch, const CodeCounts& c) {
  if (group < 0 || group >= groups_) return;
  WideBucket& b = At(group, Bucket{epoch, epoch % static_cast<uint32_t>(buckets_)});
  b.attempts.store(c.attempts, std::memory_order_relaxed);
  b.pre_ring_603.store(c.pre_ring_603, std::memory_order_relaxed);
  b.network_blocked.store(c.network_blocked, std::memory_order_relaxed);
  for (int k = 0; k < kOutcomeCount; ++k) b.outcomes[k].store(c.by_outcome[k], std::memory_order_relaxed);
}

void GroupWindows::ForEachBucket(int group, const std::function<void(uint32_t, const CodeCounts&)>& fn) const {
  if (group < 0 || group >= groups_) return;
  std::vector<std::pair<uint32_t, CodeCounts>> found;
  const WideBucket* row = &cells_[static_cast<size_t>(group) * buckets_];
  for (int i = 0; i < buckets_; ++i) {
    CodeCounts c;
    const uint32_t e = row[i].epoch.load(std::memory_order_relaxed);
    c.attempts = row[i].attempts.load(std::memory_order_relaxed);
    c.pre_ring_603 = row[i].pre_ring_603.load(std::memory_order_relaxed);
    c.network_blocked = row[i].network_blocked.load(std::memory_order_relaxed);
    for (int k = 0; k < kOutcomeCount; ++k) c.by_outcome[k] = row[i].outcomes[k].load(std::memory_order_relaxed);
    if (e != 0 && (c.attempts != 0 || c.finals() != 0)) found.emplace_back(e, c);
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [e, c] : found) fn(e, c);
}

CodeCounts GroupWindows::Sum(int group, absl::Duration window, absl::Time now) const {
  CodeCounts c;
  if (group < 0 || group >= groups_) return c;
  const uint32_t epoch = EpochOf(now);
  const int64_t n = std::clamp<int64_t>((absl::ToInt64Seconds(window) + width_s_ - 1) / width_s_, 1, buckets_);
  const WideBucket* row = &cells_[static_cast<size_t>(group) * buckets_];
  for (int i = 0; i < buckets_; ++i) {
    const WideBucket& b = row[i];
    const uint32_t e = b.epoch.load(std::memory_order_relaxed);
    if (e > epoch || epoch - e >= static_cast<uint32_t>(n)) continue;
    c.attempts += b.attempts.load(std::memory_order_relaxed);
    c.pre_ring_603 += b.pre_ring_603.load(std::memory_order_relaxed);
    c.network_blocked += b.network_blocked.load(std::memory_order_relaxed);
    for (int k = 0; k < kOutcomeCount; ++k) c.by_outcome[k] += b.outcomes[k].load(std::memory_order_relaxed);
  }
  return c;
}

}  // namespace sippacer::metrics
