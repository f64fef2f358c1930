#include "metrics/store.h"

#include <array>
#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "metrics/changed_numbers.h"
#include "metrics/fleet_counts.h"
#include "metrics/store_impl.h"

namespace sippacer::metrics {

double CallsPerMinute(int64_t minute, uint16_t attempts, uint16_t prev_attempts, absl::Time now) {
  // The last 60 s, from the counts of two calendar minutes: all of this
  // minute's and the part of the previous one still inside the 60 s.
  const int64_t now_s = absl::ToUnixSeconds(now);
  const int64_t now_minute = now_s / 60;
  const double left_of_prev = 1.0 - static_cast<double>(now_s % 60) / 60.0;
  if (minute == now_minute) return attempts + prev_attempts * left_of_prev;
  if (minute == now_minute - 1) return attempts * left_of_prev;
  return 0;
}

bool Store::Impl::ReadSlot(const Slot& s, E164 want, CodeCounts* out, NumberSnapshot* snap, absl::Time now) const {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint32_t s1 = s.seq.load(std::memory_order_acquire);
    if (s1 & 1) continue;
    CodeCounts c;
    const E164 number = s.number.load(std::memory_order_relaxed);
    table.SumWindow(s, now, options.history, &c);
    NumberSnapshot tmp;
    if (snap) {
      tmp.number = number;
      tmp.last_seen = absl::FromUnixSeconds(s.last_seen_s.load(std::memory_order_relaxed));
      const uint32_t pc = s.pdd_count.load(std::memory_order_relaxed);
      tmp.pdd_ms_avg = pc ? static_cast<double>(s.pdd_sum_ms.load(std::memory_order_relaxed)) / pc : 0;
      tmp.calls_per_minute =
          CallsPerMinute(s.minute.load(std::memory_order_relaxed), s.minute_attempts.load(std::memory_order_relaxed),
                         s.prev_minute_attempts.load(std::memory_order_relaxed), now);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != s1) continue;
    if (want != 0 && number != want) return false;
    if (number == 0) return false;
    *out = c;
    if (snap) *snap = std::move(tmp);
    return true;
  }
  return false;
}

Store::Store(StoreOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Store::~Store() = default;

NumberId Store::Touch(E164 number, absl::Time now) {
  if (number == 0) return {};
  bool inserted = false;
  uint64_t evicted = 0;
  const uint32_t index = impl_->table.Touch(number, now, &inserted, &evicted);
  if (evicted) Bump(impl_->evictions, evicted);
  if (index == kNone) return {};
  return NumberId{index, impl_->table.slot(index).generation.load(std::memory_order_relaxed)};
}

void Store::RecordAttempt(NumberId id, E164 callee, absl::Time now) {
  impl_->totals.AddAttempt();
  impl_->hours[impl_->WriterHourOf(now)].AddAttempt();
  const Route route = impl_->RouteOf(callee);
  impl_->CarrierOf(route).AddAttempt();
  if (GroupCounters* c = impl_->CountryOf(route)) c->AddAttempt();
  impl_->CountAttempt(route, now);
  if (!IsCurrent(id)) return;
  NumberTable& t = impl_->table;
  Slot& s = t.slot(id.index);
  impl_->Changed(s.number.load(std::memory_order_relaxed));
  t.BeginWrite(s);
  impl_->Log(s, CallEvent{absl::ToUnixSeconds(now), CallEvent::Kind::kAttempt});
  const int64_t minute = absl::ToUnixSeconds(now) / 60;
  const int64_t last = s.minute.load(std::memory_order_relaxed);
  if (minute != last) {
    s.prev_minute_attempts.store(minute == last + 1 ? s.minute_attempts.load(std::memory_order_relaxed) : 0,
                                 std::memory_order_relaxed);
    s.minute_attempts.store(0, std::memory_order_relaxed);
    s.minute.store(static_cast<int32_t>(minute), std::memory_order_relaxed);
  }
  SatInc(s.minute_attempts);
  t.EndWrite(s);
}

void Store::RecordFinal(NumberId id, const CallOutcome& o) {
  // Worked out once, added to every count the call goes into.
  const FinalMark mark = MarkOf(o);
  impl_->totals.AddFinal(mark);
  impl_->hours[impl_->WriterHourOf(o.final_at)].AddFinal(mark);
  const Route route = impl_->RouteOf(o.callee);
  impl_->CarrierOf(route).AddFinal(mark);
  if (GroupCounters* c = impl_->CountryOf(route)) c->AddFinal(mark);
  impl_->CountFinal(route, o, mark);
  int64_t pdd_ms = -1;
  if (o.first_ring_at != absl::InfinitePast() && o.invite_at != absl::InfinitePast()) {
    pdd_ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(o.first_ring_at - o.invite_at));
    size_t b = 0;
    while (b < kPddBounds.size() && pdd_ms > kPddBounds[b] * 1000) ++b;
    Bump<uint64_t>(impl_->pdd_buckets[b]);
    Bump<uint64_t>(impl_->pdd_sum_ms, static_cast<uint64_t>(pdd_ms));
  }
  if (!IsCurrent(id)) return;
  NumberTable& t = impl_->table;
  Slot& s = t.slot(id.index);
  int32_t reason_index = -1;
  if (o.network_blocked && !o.reason_header.empty()) {
    // Store the carrier's redress text outside the seqlocked slot.
    reason_index = static_cast<int32_t>(impl_->next_reason++ % kReasonSlots);
    impl_->reasons[reason_index].Write(o.caller, o.reason_header);
  }
  impl_->Changed(s.number.load(std::memory_order_relaxed));
  t.BeginWrite(s);
  impl_->Log(s, CallEvent{absl::ToUnixSeconds(o.final_at), CallEvent::Kind::kFinal, mark.outcome, mark.pre_ring_603,
                          mark.network_blocked});
  if (pdd_ms >= 0) {
    Bump<uint32_t>(s.pdd_count);
    Bump<uint64_t>(s.pdd_sum_ms, static_cast<uint64_t>(pdd_ms));
  }
  if (reason_index >= 0) s.reason_index.store(reason_index, std::memory_order_relaxed);
  t.EndWrite(s);
}

void Store::RecordPaced(NumberId id, absl::Time now) {
  impl_->totals.AddPaced();
  impl_->hours[impl_->WriterHourOf(now)].AddPaced();
  if (!IsCurrent(id)) return;
  NumberTable& t = impl_->table;
  Slot& s = t.slot(id.index);
  impl_->Changed(s.number.load(std::memory_order_relaxed));
  t.BeginWrite(s);
  impl_->Log(s, CallEvent{absl::ToUnixSeconds(now), CallEvent::Kind::kPaced});
  t.EndWrite(s);
}

void Store::SetPinned(NumberId id, bool pinned) {
  if (IsCurrent(id)) impl_->table.SetPinned(id.index, pinned);
}

CodeCounts Store::Window(NumberId id, absl::Duration window, absl::Time now) const {
  CodeCounts c;
  if (!IsCurrent(id)) return c;
  Slot& s = impl_->table.slot(id.index);
  impl_->table.CountWindow(s, now, window, &c);
  if (impl_->fleet) AddCounts(c, impl_->fleet->NumberWindow(s.number.load(std::memory_order_relaxed), window, now));
  return c;
}

std::vector<uint32_t> Store::AttemptHistory(NumberId id, absl::Duration window, absl::Time now) const {
  const int n = std::min(impl_->Buckets(window), kWindowBuckets);
  std::vector<uint32_t> out(static_cast<size_t>(n), 0);
  if (!IsCurrent(id)) return out;
  const Slot& s = impl_->table.slot(id.index);
  const uint32_t epoch = impl_->table.EpochOf(now);
  const int64_t width_s = absl::ToInt64Seconds(impl_->table.bucket_width());
  ForEachNewest(s.log, [&](const CallEvent& e) {
    const auto ev = static_cast<uint32_t>(e.at_s / width_s);
    if (ev > epoch) return true;
    if (epoch - ev >= static_cast<uint32_t>(n)) return false;
    if (e.kind == CallEvent::Kind::kAttempt) ++out[static_cast<size_t>(n - 1 - static_cast<int>(epoch - ev))];
    return true;
  });
  if (impl_->fleet) impl_->fleet->AddAttemptHistory(s.number.load(std::memory_order_relaxed), now, &out);
  return out;
}

CodeCounts Store::PoolHour(int hour) const {
  hour = ((hour % 24) + 24) % 24;
  CodeCounts c = impl_->hours[hour].Read();
  if (impl_->fleet) AddCounts(c, impl_->fleet->Hour(hour));
  return c;
}

CodeCounts Store::PoolWindow(absl::Duration window, absl::Time now) const {
  return GroupWindow(kPoolGroup, window, now);
}

Route Store::RouteOf(E164 callee) const { return impl_->RouteOf(callee); }

CodeCounts Store::GroupWindow(int group, absl::Duration window, absl::Time now) const {
  CodeCounts c = impl_->groups->Sum(group, window, now);
  if (impl_->fleet) AddCounts(c, impl_->fleet->GroupWindow(group, window, now));
  return c;
}

int Store::group_count() const { return impl_->groups->groups(); }

std::string Store::GroupName(int group) const {
  const Impl& m = *impl_;
  if (group == kPoolGroup) return "pool";
  if (group < m.first_country_group) {
    const size_t c = static_cast<size_t>(group - 1);
    return absl::StrCat("carrier:", c < m.carriers.names().size() ? m.carriers.names()[c] : "unknown");
  }
  if (group < m.first_area_group) return absl::StrCat("country:+", group - m.first_country_group);
  return absl::StrCat("area:", group - m.first_area_group);
}

std::vector<int> Store::ActiveGroups() const {
  std::vector<int> out;
  for (int g = 1; g < impl_->groups->groups(); ++g) {
    if (impl_->group_used[g].load(std::memory_order_relaxed)) out.push_back(g);
  }
  return out;
}

bool Store::IsCurrent(NumberId id) const {
  if (!id.valid() || id.index >= impl_->table.allocated()) return false;
  return impl_->table.slot(id.index).generation.load(std::memory_order_relaxed) == id.generation;
}

E164 Store::NumberOf(NumberId id) const {
  return IsCurrent(id) ? impl_->table.slot(id.index).number.load(std::memory_order_relaxed) : 0;
}

int Store::HourOf(absl::Time t) const { return impl_->HourOf(t); }

std::string Store::LastReason(NumberId id) const {
  if (!IsCurrent(id)) return "";
  const Slot& s = impl_->table.slot(id.index);
  const int32_t ri = s.reason_index.load(std::memory_order_relaxed);
  const E164 owner = s.number.load(std::memory_order_relaxed);
  if (ri < 0) return "";
  return impl_->reasons[ri].Read(owner);
}

std::optional<NumberId> Store::Find(E164 number) const {
  const uint32_t index = impl_->table.Find(number);
  if (index == kNone) return std::nullopt;
  return NumberId{index, impl_->table.slot(index).generation.load(std::memory_order_relaxed)};
}

std::string Store::CarrierOf(E164 callee) const {
  const int c = impl_->carriers.Lookup(callee);
  return c < 0 ? "unknown" : impl_->carriers.names()[static_cast<size_t>(c)];
}

std::optional<NumberSnapshot> Store::Snapshot(E164 number, absl::Time now) const {
  const uint32_t index = impl_->table.Find(number);
  if (index == kNone && impl_->fleet) {
    // Only the other nodes have seen it.
    NumberSnapshot snap;
    snap.number = number;
    snap.window = impl_->fleet->NumberWindow(number, impl_->options.history, now);
    snap.window_length = impl_->options.history;
    if (snap.window.attempts + snap.window.paced + snap.window.finals() == 0) return std::nullopt;
    return snap;
  }
  if (index == kNone) return std::nullopt;
  NumberSnapshot snap;
  CodeCounts c;
  const Slot& s = impl_->table.slot(index);
  if (!impl_->ReadSlot(s, number, &c, &snap, now)) {
    return std::nullopt;
  }
  snap.window = c;
  if (impl_->fleet) AddCounts(snap.window, impl_->fleet->NumberWindow(number, impl_->options.history, now));
  snap.window_length = impl_->options.history;
  snap.last_reason_header = LastReason(NumberId{index, s.generation.load(std::memory_order_relaxed)});
  return snap;
}

void Store::ForEachNumber(absl::Time now, const std::function<void(const NumberSnapshot&)>& fn) const {
  const uint32_t n = impl_->table.allocated();
  for (uint32_t i = 0; i < n; ++i) {
    NumberSnapshot snap;
    CodeCounts c;
    if (!impl_->ReadSlot(impl_->table.slot(i), 0, &c, &snap, now)) continue;
    snap.window = c;
    if (impl_->fleet) AddCounts(snap.window, impl_->fleet->NumberWindow(snap.number, impl_->options.history, now));
    snap.window_length = impl_->options.history;
    fn(snap);
  }
}

CodeCounts Store::Pool(absl::Time now) const { return PoolWindow(impl_->options.history, now); }

std::vector<GroupSnapshot> Store::Carriers() const {
  std::vector<GroupSnapshot> out;
  const auto& names = impl_->carriers.names();
  for (size_t i = 0; i < impl_->carrier_counts.size(); ++i) {
    out.push_back({i < names.size() ? names[i] : "unknown", impl_->carrier_counts[i].Read()});
  }
  return out;
}

std::vector<GroupSnapshot> Store::Countries() const {
  std::vector<GroupSnapshot> out;
  for (int cc = 1; cc < kMaxCountryCode; ++cc) {
    CodeCounts c = impl_->countries[cc].Read();
    if (c.attempts == 0 && c.finals() == 0) continue;
    out.push_back({absl::StrCat("+", cc), c});
  }
  return out;
}

std::vector<GroupSnapshot> Store::Areas() const {
  std::vector<GroupSnapshot> out;
  for (int a = 0; a < kAreaCodes; ++a) {
    CodeCounts c = impl_->areas[a].Read();
    if (c.attempts == 0 && c.finals() == 0) continue;
    out.push_back({absl::StrCat(a), c});
  }
  return out;
}

CountryHistory Store::Country(int country_code) const {
  CountryHistory h;
  h.country_code = country_code;
  if (country_code <= 0 || country_code >= kMaxCountryCode) return h;
  h.days_seen = impl_->days_seen[country_code].load(std::memory_order_relaxed);
  impl_->country_days.ForEachBucket(country_code,
                                    [&h](uint32_t day, const CodeCounts& c) { h.days.emplace_back(day, c); });
  return h;
}

uint32_t Store::CountryDaysSeen(int country_code) const {
  if (country_code <= 0 || country_code >= kMaxCountryCode) return 0;
  return impl_->days_seen[country_code].load(std::memory_order_relaxed);
}

void Store::ExportCountries(const std::function<void(const CountryHistory&)>& fn) const {
  for (int cc = 1; cc < kMaxCountryCode; ++cc) {
    CountryHistory h = Country(cc);
    if (h.days_seen > 0 || !h.days.empty()) fn(h);
  }
}

void Store::ImportCountry(const CountryHistory& h) {
  if (h.country_code <= 0 || h.country_code >= kMaxCountryCode) return;
  impl_->days_seen[h.country_code].store(h.days_seen, std::memory_order_relaxed);
  for (const auto& [day, counts] : h.days) impl_->country_days.Import(h.country_code, day, counts);
}

std::vector<GroupSnapshot> Store::Hours() const {
  std::vector<GroupSnapshot> out;
  for (int h = 0; h < 24; ++h) out.push_back({absl::StrCat(h), impl_->hours[h].Read()});
  return out;
}

CodeCounts Store::Totals() const { return impl_->totals.Read(); }
size_t Store::numbers_tracked() const { return impl_->table.size(); }
uint64_t Store::evictions() const { return impl_->evictions.load(std::memory_order_relaxed); }
uint64_t Store::events_dropped() const { return impl_->events_dropped.load(std::memory_order_relaxed); }
uint64_t Store::log_block_bytes() const { return impl_->table.log_block_bytes(); }
const StoreOptions& Store::options() const { return impl_->options; }

Store::PddHistogram Store::Pdd() const {
  PddHistogram h;
  uint64_t running = 0;
  for (size_t i = 0; i < kPddBounds.size(); ++i) {
    running += impl_->pdd_buckets[i].load(std::memory_order_relaxed);
    h.bounds_s.push_back(kPddBounds[i]);
    h.cumulative.push_back(running);
  }
  h.count = running + impl_->pdd_buckets[kPddBounds.size()].load(std::memory_order_relaxed);
  h.sum_s = static_cast<double>(impl_->pdd_sum_ms.load(std::memory_order_relaxed)) / 1000.0;
  return h;
}

}  // namespace sippacer::metrics
