// The Store's raw windows: a number's buckets as they are (for --state_file
// and the fleet's push), put back at a start, and the fleet's hooks.
#include <algorithm>
#include <optional>
#include <utility>

#include "metrics/changed_numbers.h"
#include "metrics/fleet_counts.h"
#include "metrics/store_impl.h"

namespace sippacer::metrics {
namespace {

// One slot's raw window, consistent (seqlock); false for a free slot.
bool ReadRecord(const Slot& s, int64_t width_s, NumberRecord* out) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint32_t s1 = s.seq.load(std::memory_order_acquire);
    if (s1 & 1) continue;
    NumberRecord r;
    r.number = s.number.load(std::memory_order_relaxed);
    r.last_seen_s = s.last_seen_s.load(std::memory_order_relaxed);
    r.pdd_count = s.pdd_count.load(std::memory_order_relaxed);
    r.pdd_sum_ms = s.pdd_sum_ms.load(std::memory_order_relaxed);
    r.events = Events(s.log);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != s1) continue;
    if (r.number == 0) return false;
    // Buckets from the events, oldest first.
    CodeCounts counts;
    for (size_t i = 0; i < r.events.size(); ++i) {
      const CallEvent& e = r.events[i];
      const auto epoch = static_cast<uint32_t>(e.at_s / width_s);
      AddEvent(e, &counts);
      const bool last_of_bucket = i + 1 == r.events.size() || r.events[i + 1].at_s / width_s != epoch;
      if (last_of_bucket) {
        r.buckets.push_back(BucketOf(epoch, counts));
        counts = CodeCounts{};
      }
    }
    *out = std::move(r);
    return true;
  }
  return false;
}

// A bucket's calls as events at `at_s`, until `out` holds `limit`: the 603s
// first among the finals, so that the pre-ring and 603+ marks land on them.
void AppendBucketEvents(const NumberRecord::BucketRecord& b, int64_t at_s, size_t limit, std::vector<CallEvent>* out) {
  auto add = [&](int n, const CallEvent& e) {
    for (int i = 0; i < n && out->size() < limit; ++i) out->push_back(e);
  };
  add(b.attempts, CallEvent{at_s, CallEvent::Kind::kAttempt});
  add(b.paced, CallEvent{at_s, CallEvent::Kind::kPaced});
  const size_t finals = out->size();
  add(b.outcomes[static_cast<int>(Outcome::k603)], CallEvent{at_s, CallEvent::Kind::kFinal, Outcome::k603});
  for (int k = 0; k < kOutcomeCount; ++k) {
    if (static_cast<Outcome>(k) != Outcome::k603) {
      add(b.outcomes[k], CallEvent{at_s, CallEvent::Kind::kFinal, static_cast<Outcome>(k)});
    }
  }
  for (size_t i = finals, n = 0; i < out->size() && n < b.pre_ring_603; ++i, ++n) (*out)[i].pre_ring_603 = true;
  for (size_t i = finals, n = 0; i < out->size() && n < b.network_blocked; ++i, ++n) (*out)[i].network_blocked = true;
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
    if (ReadRecord(impl_->table.slot(i), absl::ToInt64Seconds(impl_->table.bucket_width()), &r)) fn(r);
  }
}

std::optional<NumberRecord> Store::ExportNumber(E164 number) const {
  const uint32_t index = impl_->table.Find(number);
  NumberRecord r;
  if (index == kNone || !ReadRecord(impl_->table.slot(index), absl::ToInt64Seconds(impl_->table.bucket_width()), &r) ||
      r.number != number) {
    return std::nullopt;
  }
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
    impl_->table.SumWindow(s, now, window, &tmp);
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
  const int64_t now_s = absl::ToUnixSeconds(now);
  const int64_t width_s = absl::ToInt64Seconds(t.bucket_width());
  const int64_t history_s = absl::ToInt64Seconds(impl_->options.history);
  std::vector<CallEvent> events;
  if (!r.events.empty()) {
    events = r.events;
  } else {
    // Buckets only: each replaces what the log holds of its period. Only
    // the history's buckets count (not one from a clock ahead of ours), the
    // last of a repeated one, newest first up to what a log holds: a
    // damaged file cannot ask for more.
    const auto current = static_cast<uint32_t>(now_s / width_s);
    std::vector<NumberRecord::BucketRecord> buckets;
    for (auto it = r.buckets.rbegin(); it != r.buckets.rend(); ++it) {
      const bool in_history = it->epoch <= current && static_cast<int64_t>(current - it->epoch) * width_s < history_s;
      const bool seen =
          std::any_of(buckets.begin(), buckets.end(), [&](const auto& b) { return b.epoch == it->epoch; });
      if (in_history && !seen) buckets.push_back(*it);
    }
    std::sort(buckets.begin(), buckets.end(), [](const auto& a, const auto& b) { return a.epoch > b.epoch; });
    auto imported = [&](int64_t at_s) {
      const auto ev = static_cast<uint32_t>(at_s / width_s);
      return std::any_of(buckets.begin(), buckets.end(), [ev](const auto& b) { return b.epoch == ev; });
    };
    for (const CallEvent& e : Events(s.log)) {
      if (!imported(e.at_s)) events.push_back(e);
    }
    const size_t limit = events.size() + kMaxLogEvents;
    for (const NumberRecord::BucketRecord& b : buckets) {
      AppendBucketEvents(b, std::min(now_s, static_cast<int64_t>(b.epoch) * width_s + width_s / 2), limit, &events);
    }
  }
  // Aged out while we were down, or from a clock ahead of ours.
  events.erase(std::remove_if(events.begin(), events.end(),
                              [&](const CallEvent& e) { return e.at_s > now_s || now_s - e.at_s >= history_s; }),
               events.end());
  std::stable_sort(events.begin(), events.end(),
                   [](const CallEvent& a, const CallEvent& b) { return a.at_s < b.at_s; });
  t.BeginWrite(s);
  s.last_seen_s.store(static_cast<uint32_t>(std::clamp<int64_t>(r.last_seen_s, 0, UINT32_MAX)),
                      std::memory_order_relaxed);
  s.pdd_count.store(r.pdd_count, std::memory_order_relaxed);
  s.pdd_sum_ms.store(r.pdd_sum_ms, std::memory_order_relaxed);
  t.ReplaceLog(s, events);
  t.EndWrite(s);
  return id;
}

}  // namespace sippacer::metrics
