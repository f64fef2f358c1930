#include "metrics/fleet_counts.h"

#include <algorithm>

namespace sippacer::metrics {
namespace {

uint32_t Gain(uint32_t now, uint32_t before) { return now > before ? now - before : 0; }

// What `now` adds to `before`, field by field (a node that restarted and
// counts from zero again adds nothing until it passes its old value).
CodeCounts Added(const CodeCounts& now, const CodeCounts& before) {
  CodeCounts d;
  d.attempts = Gain(now.attempts, before.attempts);
  d.paced = Gain(now.paced, before.paced);
  d.pre_ring_603 = Gain(now.pre_ring_603, before.pre_ring_603);
  d.network_blocked = Gain(now.network_blocked, before.network_blocked);
  for (int k = 0; k < kOutcomeCount; ++k) d.by_outcome[k] = Gain(now.by_outcome[k], before.by_outcome[k]);
  return d;
}

uint16_t Clamp16(uint32_t v) { return static_cast<uint16_t>(std::min<uint32_t>(v, UINT16_MAX)); }

void StoreWide(WideBucket& b, const CodeCounts& c) {
  b.attempts.store(c.attempts, std::memory_order_relaxed);
  b.pre_ring_603.store(c.pre_ring_603, std::memory_order_relaxed);
  b.network_blocked.store(c.network_blocked, std::memory_order_relaxed);
  for (int k = 0; k < kOutcomeCount; ++k) b.outcomes[k].store(c.by_outcome[k], std::memory_order_relaxed);
}

CodeCounts LoadWide(const WideBucket& b) {
  CodeCounts c;
  c.attempts = b.attempts.load(std::memory_order_relaxed);
  c.pre_ring_603 = b.pre_ring_603.load(std::memory_order_relaxed);
  c.network_blocked = b.network_blocked.load(std::memory_order_relaxed);
  for (int k = 0; k < kOutcomeCount; ++k) c.by_outcome[k] = b.outcomes[k].load(std::memory_order_relaxed);
  return c;
}

}  // namespace

FleetCounts::FleetCounts(size_t max_numbers, absl::Duration bucket_width, int groups, int group_buckets,
                         absl::Duration group_width)
    : table_(max_numbers, bucket_width * (kWindowBuckets - 1), bucket_width),
      windows_(max_numbers),
      width_(bucket_width),
      groups_(groups, group_buckets, group_width) {}

uint16_t FleetCounts::NodeIndex(absl::string_view node) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i] == node) return static_cast<uint16_t>(i);
  }
  if (nodes_.size() >= kMaxNodes) return kNoNode;
  nodes_.emplace_back(node);
  return static_cast<uint16_t>(nodes_.size() - 1);
}

CodeCounts FleetCounts::SetNumber(absl::string_view node, E164 number, const BucketCounts& counts, absl::Time now) {
  const uint32_t current = table_.EpochOf(now);
  if (number == 0 || counts.epoch > current + 1 || counts.epoch + kWindowBuckets <= current) return {};
  std::vector<NodeBucket> entries;
  CodeCounts added;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint16_t n = NodeIndex(node);
    if (n == kNoNode) return {};
    std::vector<NodeBucket>& d = detail_[number];
    // Buckets that left the window go first: a number keeps at most one
    // entry per node and bucket of the window.
    d.erase(std::remove_if(d.begin(), d.end(),
                           [current](const NodeBucket& b) { return b.counts.epoch + kWindowBuckets <= current; }),
            d.end());
    auto it = std::find_if(d.begin(), d.end(),
                           [&](const NodeBucket& b) { return b.node == n && b.counts.epoch == counts.epoch; });
    if (it == d.end()) {
      added = CountsOf(counts);
      d.push_back(NodeBucket{n, counts});
    } else {
      added = Added(CountsOf(counts), CountsOf(it->counts));
      it->counts = counts;
    }
    for (const NodeBucket& b : d) {
      if (b.counts.epoch == counts.epoch) entries.push_back(b);
    }
  }
  WriteSum(number, counts.epoch, entries, now);
  return added;
}

void FleetCounts::WriteSum(E164 number, uint32_t epoch, const std::vector<NodeBucket>& entries, absl::Time now) {
  CodeCounts sum;
  for (const NodeBucket& b : entries) AddCounts(sum, CountsOf(b.counts));
  bool inserted = false;
  uint64_t evicted = 0;
  const uint32_t index = table_.Touch(number, now, &inserted, &evicted, [this](uint32_t i) {
    for (Bucket& b : windows_.At(i).buckets) b.epoch.store(0, std::memory_order_relaxed);
  });
  if (index == UINT32_MAX) return;
  Slot& s = table_.slot(index);
  Bucket& b = windows_.At(index).buckets[epoch % kWindowBuckets];
  if (b.epoch.load(std::memory_order_relaxed) > epoch) return;  // a newer bucket holds the place
  table_.BeginWrite(s);
  ResetIfStale(b, epoch);
  b.attempts.store(Clamp16(sum.attempts), std::memory_order_relaxed);
  b.paced.store(Clamp16(sum.paced), std::memory_order_relaxed);
  b.pre_ring_603.store(Clamp16(sum.pre_ring_603), std::memory_order_relaxed);
  b.network_blocked.store(Clamp16(sum.network_blocked), std::memory_order_relaxed);
  for (int k = 0; k < kOutcomeCount; ++k) b.outcomes[k].store(Clamp16(sum.by_outcome[k]), std::memory_order_relaxed);
  table_.EndWrite(s);
}

void FleetCounts::SetGroup(absl::string_view node, int group, uint32_t epoch, const CodeCounts& counts,
                           absl::Time now) {
  const uint32_t current = groups_.EpochOf(now);
  if (group < 0 || group >= groups_.groups() || epoch > current + 1 ||
      epoch + static_cast<uint32_t>(groups_.buckets()) <= current || groups_.HeldEpoch(group, epoch) > epoch) {
    return;  // outside the window, or its place holds a newer bucket
  }
  CodeCounts sum;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint16_t n = NodeIndex(node);
    if (n == kNoNode) return;
    group_detail_[{group, epoch, n}] = counts;
    for (auto it = group_detail_.lower_bound({group, epoch, 0});
         it != group_detail_.end() && std::get<0>(it->first) == group && std::get<1>(it->first) == epoch; ++it) {
      AddCounts(sum, it->second);
    }
  }
  groups_.Import(group, epoch, sum);
}

void FleetCounts::SetHour(absl::string_view node, int hour, const CodeCounts& counts) {
  if (hour < 0 || hour >= 24) return;
  CodeCounts sum;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint16_t n = NodeIndex(node);
    if (n == kNoNode) return;
    hour_detail_[{hour, n}] = counts;
    for (const auto& [key, c] : hour_detail_) {
      if (key.first == hour) AddCounts(sum, c);
    }
  }
  StoreWide(hours_[hour], sum);
}

void FleetCounts::Prune(absl::Time now) {
  const uint32_t current = table_.EpochOf(now);
  const uint32_t group_oldest = groups_.EpochOf(now) - static_cast<uint32_t>(groups_.buckets());
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = detail_.begin(); it != detail_.end();) {
    const bool live = std::any_of(it->second.begin(), it->second.end(),
                                  [current](const NodeBucket& b) { return b.counts.epoch + kWindowBuckets > current; });
    if (live) {
      ++it;
    } else {
      detail_.erase(it++);
    }
  }
  for (auto it = group_detail_.begin(); it != group_detail_.end();) {
    if (std::get<1>(it->first) < group_oldest) {
      it = group_detail_.erase(it);
    } else {
      ++it;
    }
  }
}

CodeCounts FleetCounts::NumberWindow(E164 number, absl::Duration window, absl::Time now) const {
  const uint32_t index = table_.Find(number);
  if (index == UINT32_MAX) return {};
  const Slot& s = *table_.SlotAt(index);
  const BucketWindow* w = windows_.Find(index);
  if (w == nullptr) return {};
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint32_t s1 = s.seq.load(std::memory_order_acquire);
    if (s1 & 1) continue;
    CodeCounts c;
    const E164 found = s.number.load(std::memory_order_relaxed);
    SumBuckets(*w, width_, now, window, &c);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != s1) continue;
    return found == number ? c : CodeCounts{};
  }
  return {};
}

void FleetCounts::AddAttemptHistory(E164 number, absl::Time now, std::vector<uint32_t>* history) const {
  const uint32_t index = table_.Find(number);
  if (index == UINT32_MAX || history->empty()) return;
  const Slot& s = *table_.SlotAt(index);
  const BucketWindow* w = windows_.Find(index);
  if (w == nullptr) return;
  const uint32_t epoch = table_.EpochOf(now);
  const auto n = static_cast<uint32_t>(history->size());
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint32_t s1 = s.seq.load(std::memory_order_acquire);
    if (s1 & 1) continue;
    std::vector<uint32_t> add(history->size(), 0);
    const E164 found = s.number.load(std::memory_order_relaxed);
    for (const Bucket& b : w->buckets) {
      const uint32_t e = b.epoch.load(std::memory_order_relaxed);
      if (e > epoch || epoch - e >= n) continue;
      add[n - 1 - (epoch - e)] = b.attempts.load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != s1) continue;
    if (found != number) return;
    for (size_t i = 0; i < add.size(); ++i) (*history)[i] += add[i];
    return;
  }
}

CodeCounts FleetCounts::GroupWindow(int group, absl::Duration window, absl::Time now) const {
  return groups_.Sum(group, window, now);
}

CodeCounts FleetCounts::Hour(int hour) const { return hour >= 0 && hour < 24 ? LoadWide(hours_[hour]) : CodeCounts{}; }

std::vector<std::pair<std::string, CodeCounts>> FleetCounts::ByNode(E164 number, absl::Duration window,
                                                                    absl::Time now) const {
  std::vector<std::pair<std::string, CodeCounts>> out;
  const uint32_t current = table_.EpochOf(now);
  const int64_t width_s = absl::ToInt64Seconds(table_.bucket_width());
  const auto buckets = static_cast<uint32_t>((absl::ToInt64Seconds(window) + width_s - 1) / width_s);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = detail_.find(number);
  if (it == detail_.end()) return out;
  std::vector<CodeCounts> per_node(nodes_.size());
  std::vector<bool> seen(nodes_.size(), false);
  for (const NodeBucket& b : it->second) {
    if (b.counts.epoch > current || current - b.counts.epoch >= buckets) continue;
    AddCounts(per_node[b.node], CountsOf(b.counts));
    seen[b.node] = true;
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (seen[i]) out.emplace_back(nodes_[i], per_node[i]);
  }
  return out;
}

}  // namespace sippacer::metrics
