// The Store's raw windows: a number's buckets as they are (for --state_file
// and the fleet's push), put back at a start, and the fleet's hooks.
#include <optional>
#include <utility>

#include "metrics/changed_numbers.h"
#include "metrics/fleet_counts.h"
#include "metrics/store_impl.h"

namespace sippacer::metrics {
namespace {

// One slot's raw window, consistent (seqlock); false for a free slot.
bool ReadRecord(const Slot& s, NumberRecord* out) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint32_t s1 = s.seq.load(std::memory_order_acquire);
    if (s1 & 1) continue;
    NumberRecord r;
    r.number = s.number.load(std::memory_order_relaxed);
    r.last_seen_s = s.last_seen_s.load(std::memory_order_relaxed);
    r.pdd_count = s.pdd_count.load(std::memory_order_relaxed);
    r.pdd_sum_ms = s.pdd_sum_ms.load(std::memory_order_relaxed);
    for (const Bucket& b : s.buckets) {
      NumberRecord::BucketRecord br;
      br.epoch = b.epoch.load(std::memory_order_relaxed);
      br.attempts = b.attempts.load(std::memory_order_relaxed);
      br.paced = b.paced.load(std::memory_order_relaxed);
      br.pre_ring_603 = b.pre_ring_603.load(std::memory_order_relaxed);
      br.network_blocked = b.network_blocked.load(std::memory_order_relaxed);
      uint32_t any = br.attempts + br.paced;
      for (int k = 0; k < kOutcomeCount; ++k) any += br.outcomes[k] = b.outcomes[k].load(std::memory_order_relaxed);
      if (br.epoch != 0 && any != 0) r.buckets.push_back(br);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != s1) continue;
    if (r.number == 0) return false;
    *out = std::move(r);
    return true;
  }
  return false;
}

}  // namespace

CodeCounts CountsOf(const NumberRecord::BucketRecord& b) {
  CodeCounts c;
  c.attempts = b.attempts;
  c.paced = b.paced;
  c.pre_ring_603 = b.pre_ring_603;
  c.network_blocked = b.network_blocked;
  for (int k = 0; k < kOutcomeCount; ++k) c.by_outcome[k] = b.outcomes[k];
  return c;
}

NumberRecord::BucketRecord BucketOf(uint32_t epoch, const CodeCounts& c) {
  auto clamp = [](uint32_t v) { return static_cast<uint16_t>(std::min<uint32_t>(v, UINT16_MAX)); };
  NumberRecord::BucketRecord b;
  b.epoch = epoch;
  b.attempts = clamp(c.attempts);
  b.paced = clamp(c.paced);
  b.pre_ring_603 = clamp(c.pre_ring_603);
  b.network_blocked = clamp(c.network_blocked);
  for (int k = 0; k < kOutcomeCount; ++k) b.outcomes[k] = clamp(c.by_outcome[k]);
  return b;
}

void Store::ExportNumbers(const std::function<void(const NumberRecord&)>& fn) const {
  const uint32_t n = impl_->table.allocated();
  for (uint32_t i = 0; i < n; ++i) {
    NumberRecord r;
    if (ReadRecord(impl_->table.slot(i), &r)) fn(r);
  }
}

std::optional<NumberRecord> Store::ExportNumber(E164 number) const {
  const uint32_t index = impl_->table.Find(number);
  NumberRecord r;
  if (index == kNone || !ReadRecord(impl_->table.slot(index), &r) || r.number != number) return std::nullopt;
  return r;
}

void Store::ExportGroup(int group, const std::function<void(uint32_t, const CodeCounts&)>& fn) const {
  impl_->groups->ForEachBucket(group, fn);
}

void Store::EnableFleet() {
  Impl& m = *impl_;
  m.fleet = std::make_unique<FleetCounts>(m.options.max_numbers, m.table.bucket_width(), m.groups->groups(),
                                          m.groups->buckets(), kGroupBucket);
  m.changes = std::make_unique<ChangedNumbers>();
}

FleetCounts* Store::fleet() const { return impl_->fleet.get(); }
absl::Duration Store::bucket_width() const { return impl_->table.bucket_width(); }
absl::Duration Store::group_bucket_width() const { return kGroupBucket; }
ChangedNumbers* Store::changes() const { return impl_->changes.get(); }

CodeCounts Store::LocalWindow(E164 number, absl::Duration window, absl::Time now) const {
  CodeCounts c;
  const uint32_t index = impl_->table.Find(number);
  if (index == kNone) return c;
  const Slot& s = impl_->table.slot(index);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint32_t s1 = s.seq.load(std::memory_order_acquire);
    if (s1 & 1) continue;
    CodeCounts tmp;
    const E164 found = s.number.load(std::memory_order_relaxed);
    impl_->table.SumExactWindow(s, now, window, &tmp);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != s1) continue;
    return found == number ? tmp : c;
  }
  return c;
}

NumberId Store::ImportNumber(const NumberRecord& r, absl::Time now) {
  const NumberId id = Touch(r.number, now);
  if (!IsCurrent(id)) return id;
  NumberTable& t = impl_->table;
  Slot& s = t.slot(id.index);
  const uint32_t oldest = t.EpochOf(now) - kWindowBuckets + 1;
  t.BeginWrite(s);
  s.last_seen_s.store(r.last_seen_s, std::memory_order_relaxed);
  s.pdd_count.store(r.pdd_count, std::memory_order_relaxed);
  s.pdd_sum_ms.store(r.pdd_sum_ms, std::memory_order_relaxed);
  for (const NumberRecord::BucketRecord& br : r.buckets) {
    if (br.epoch < oldest || br.epoch > t.EpochOf(now)) continue;  // aged out while we were down
    Bucket& b = ResetIfStale(s.buckets[br.epoch % kWindowBuckets], br.epoch);
    b.attempts.store(br.attempts, std::memory_order_relaxed);
    b.paced.store(br.paced, std::memory_order_relaxed);
    b.pre_ring_603.store(br.pre_ring_603, std::memory_order_relaxed);
    b.network_blocked.store(br.network_blocked, std::memory_order_relaxed);
    for (int k = 0; k < kOutcomeCount; ++k) b.outcomes[k].store(br.outcomes[k], std::memory_order_relaxed);
  }
  t.EndWrite(s);
  return id;
}

}  // namespace sippacer::metrics
