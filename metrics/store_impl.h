#pragma once
// Store::Impl: the Store's state, shared by store.cc (counting and reading)
// and store_records.cc (raw windows for --state_file and the fleet). Not for
// use outside metrics/.

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "metrics/bucket_window.h"
#include "metrics/dialing_plan.h"
#include "metrics/group_counters.h"
#include "metrics/group_windows.h"
#include "metrics/number_table.h"
#include "metrics/seqlock_text.h"
#include "metrics/store.h"
#include "metrics/zeroed_array.h"

namespace sippacer::metrics {

// Internal to the Store's two .cc files.

inline constexpr uint32_t kNone = UINT32_MAX;
inline constexpr int kMaxCountryCode = 1000;
inline constexpr int kAreaCodes = 1000;
// Route groups count in 5-minute buckets: fine enough for a 30-minute
// route signal, 49 of them cover a 4-hour baseline.
inline constexpr absl::Duration kGroupBucket = absl::Minutes(5);
inline constexpr int kCountryDays = 8;  // the new-market baseline keeps a week and today
inline constexpr int kReasonSlots = 4096;
inline constexpr std::array<double, 10> kPddBounds = {0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 30};

template <typename T>
inline void Bump(std::atomic<T>& a, T by = 1) {
  a.store(static_cast<T>(a.load(std::memory_order_relaxed) + by), std::memory_order_relaxed);
}

// Per-minute counters are 16-bit: they saturate rather than wrap.
inline void SatInc(std::atomic<uint16_t>& a) {
  const uint16_t v = a.load(std::memory_order_relaxed);
  if (v != UINT16_MAX) a.store(static_cast<uint16_t>(v + 1), std::memory_order_relaxed);
}

inline int GroupBuckets(absl::Duration history) {
  return static_cast<int>(std::max<int64_t>(12, absl::ToInt64Seconds(history) / absl::ToInt64Seconds(kGroupBucket))) +
         1;
}

struct Store::Impl {
  explicit Impl(StoreOptions o)
      : options(std::move(o)),
        table(options.max_numbers, options.history, BucketWidth(options.history)),
        countries(kMaxCountryCode),
        areas(kAreaCodes),
        country_days(kMaxCountryCode, kCountryDays, absl::Hours(24)),
        days_seen(new std::atomic<uint32_t>[kMaxCountryCode]) {
    if (!options.carriers_csv_path.empty()) {
      if (auto m = CarrierMap::Load(options.carriers_csv_path); m.ok()) carriers = *std::move(m);
    }
    carrier_counts = std::vector<GroupCounters>(carriers.names().size() + 1);
    first_country_group = 1 + static_cast<int>(carrier_counts.size());
    first_area_group = first_country_group + kMaxCountryCode;
    groups = std::make_unique<GroupWindows>(first_area_group + kAreaCodes, GroupBuckets(options.history), kGroupBucket);
    group_used = std::unique_ptr<std::atomic<bool>[]>(new std::atomic<bool>[groups->groups()]);
    for (int g = 0; g < groups->groups(); ++g) group_used[g].store(false, std::memory_order_relaxed);
    for (int cc = 0; cc < kMaxCountryCode; ++cc) days_seen[cc].store(0, std::memory_order_relaxed);
  }

  Route RouteOf(E164 callee) const {
    Route r;
    const int c = carriers.Lookup(callee);
    r.carrier = 1 + (c < 0 ? static_cast<int>(carrier_counts.size()) - 1 : c);
    r.carrier_known = c >= 0;
    const int cc = CountryCallingCode(callee);
    if (cc > 0 && cc < kMaxCountryCode) {
      r.country_code = cc;
      r.country = first_country_group + cc;
    }
    if (cc == 1 && DigitCount(callee) == 11) {
      r.area_code = static_cast<int>((callee / 10'000'000) % 1000);
      r.area = first_area_group + r.area_code;
    }
    return r;
  }

  void CountAttempt(const Route& r, absl::Time now) {
    const GroupWindows::Bucket at = groups->WriterBucketOf(now);
    for (int g : {Store::kPoolGroup, r.carrier, r.country, r.area}) {
      if (g < 0) continue;
      groups->AddAttempt(g, at);
      group_used[g].store(true, std::memory_order_relaxed);
    }
    if (r.area >= 0) areas[r.area_code].AddAttempt();
    if (r.country_code > 0 &&
        country_days.AddAttempt(r.country_code, country_days.WriterBucketOf(now)) == kMinAttemptsForADay) {
      Bump<uint32_t>(days_seen[r.country_code]);
    }
  }

  void CountFinal(const Route& r, const CallOutcome& o, const FinalMark& m) {
    const GroupWindows::Bucket at = groups->WriterBucketOf(o.final_at);
    for (int g : {Store::kPoolGroup, r.carrier, r.country, r.area}) {
      if (g >= 0) groups->AddFinal(g, at, m);
    }
    if (r.area >= 0) areas[r.area_code].AddFinal(m);
    if (r.country_code > 0) country_days.AddFinal(r.country_code, country_days.WriterBucketOf(o.final_at), m);
  }

  static absl::Duration BucketWidth(absl::Duration history) {
    // 24 buckets span the history; at least a minute, whole seconds.
    const int64_t s = std::max<int64_t>(60, (absl::ToInt64Seconds(history) + 23) / 24);
    return absl::Seconds(s);
  }

  int Buckets(absl::Duration window) const {
    const int64_t w = absl::ToInt64Seconds(table.bucket_width());
    return static_cast<int>(std::max<int64_t>(1, (absl::ToInt64Seconds(window) + w - 1) / w));
  }

  // The since-start counters of a route's carrier ("unknown" last) and
  // country, if it has one.
  GroupCounters& CarrierOf(const Route& r) { return carrier_counts[static_cast<size_t>(r.carrier - 1)]; }
  GroupCounters* CountryOf(const Route& r) { return r.country_code > 0 ? &countries[r.country_code] : nullptr; }
  int HourOf(absl::Time t) const { return absl::ToCivilHour(t, options.timezone).hour(); }
  // HourOf for the writer, remembered per quarter hour: every time zone's
  // hours begin on a quarter hour of UTC, and a time zone lookup costs
  // more than counting the call.
  int WriterHourOf(absl::Time t) {
    const int64_t quarter = absl::ToUnixSeconds(t) / 900;
    if (quarter != hour_quarter) {
      hour_quarter = quarter;
      hour_of_quarter = HourOf(absl::FromUnixSeconds(quarter * 900));
    }
    return hour_of_quarter;
  }
  int64_t hour_quarter = INT64_MIN;  // writer-only
  int hour_of_quarter = 0;

  bool ReadSlot(const Slot& s, E164 want, CodeCounts* out, NumberSnapshot* snap, absl::Time now) const;

  // Logs one event on the number's slot (inside its write).
  void Log(Slot& s, const CallEvent& e) {
    if (!table.Log(s, e)) Bump<uint64_t>(events_dropped);
  }

  StoreOptions options;
  NumberTable table;
  CarrierMap carriers;
  std::vector<GroupCounters> carrier_counts;  // names() order, then "unknown"
  std::vector<GroupCounters> countries;       // by country calling code
  GroupCounters hours[24];
  GroupCounters totals;
  std::vector<GroupCounters> areas;  // by NANP area code, since start
  int first_country_group = 0;
  int first_area_group = 0;
  std::unique_ptr<GroupWindows> groups;  // pool, carriers, countries, areas
  std::unique_ptr<std::atomic<bool>[]> group_used;
  GroupWindows country_days;                           // per country, one bucket a UTC day
  std::unique_ptr<std::atomic<uint32_t>[]> days_seen;  // days with kMinAttemptsForADay calls
  std::atomic<uint64_t> evictions{0};
  std::atomic<uint64_t> events_dropped{0};  // a full log's oldest, to make room
  std::array<std::atomic<uint64_t>, kPddBounds.size() + 1> pdd_buckets{};
  std::atomic<uint64_t> pdd_sum_ms{0};
  ZeroedArray<SeqlockText> reasons{kReasonSlots};  // 603+ Reason texts, a ring
  uint32_t next_reason = 0;                        // writer-only
  std::unique_ptr<FleetCounts> fleet;              // --redis only
  std::unique_ptr<ChangedNumbers> changes;         // --redis only

  void Changed(E164 number) {
    if (changes) changes->Push(number);
  }
};

}  // namespace sippacer::metrics
