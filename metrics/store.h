#pragma once
// Store
//
// Everything counted about the carriers' final responses: per originating
// number (rolling windows), per terminating carrier, per dialed country code,
// per hour of day, and pool-wide. The SIP thread is the only writer; the
// stats thread reads concurrently without locks (per-number seqlocks), and a
// reader always sees one number's windows as of one write.
//
// Time is passed in: nothing here reads a clock, so tests drive it.
//
// Example (SIP thread):
//   NumberId id = store.Touch(caller, now);          // find or insert
//   store.RecordAttempt(id, callee, now);            // INVITE forwarded
//   store.RecordFinal(id, outcome);                  // carrier's final answer
// Example (stats thread):
//   if (auto snap = store.Snapshot(caller, now)) { ... snap->window ... }

#include <cstdint>
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/time/civil_time.h"
#include "metrics/call_log.h"
#include "metrics/call_outcome.h"
#include "metrics/outcome.h"

namespace sippacer::metrics {

class ChangedNumbers;
class FleetCounts;

// A slot in the number table. Stable while the number is tracked; reused
// after eviction, when `generation` changes.
struct NumberId {
  uint32_t index = UINT32_MAX;
  uint32_t generation = 0;
  bool valid() const { return index != UINT32_MAX; }
};

struct StoreOptions {
  size_t max_numbers = 1'000'000;
  // Longest window any rule may ask about; the per-number history covers it.
  absl::Duration history = absl::Hours(4);
  // Shortest window a rule uses; sets the bucket width (history / buckets).
  absl::Duration finest_window = absl::Minutes(15);
  absl::TimeZone timezone = absl::UTCTimeZone();  // for hour-of-day groups
  std::string carriers_csv_path;                  // --carriers, may be empty
};

struct NumberSnapshot {
  E164 number = 0;
  CodeCounts window;  // over StoreOptions::history
  absl::Duration window_length;
  double calls_per_minute = 0;  // attempts in the last 60 s (CallsPerMinute)
  absl::Time last_seen;
  std::string last_reason_header;  // last 603+ Reason text, "" if none
  double pdd_ms_avg = 0;           // mean post-dial delay (INVITE->first 18x)
};

// One number's raw rolling window, for --state_file: what a restart needs
// to carry the windows on exactly.
struct NumberRecord {
  E164 number = 0;
  int64_t last_seen_s = 0;
  uint32_t pdd_count = 0;
  uint64_t pdd_sum_ms = 0;
  struct BucketRecord {
    uint32_t epoch = 0;
    uint16_t attempts = 0, paced = 0, pre_ring_603 = 0, network_blocked = 0;
    std::array<uint16_t, kOutcomeCount> outcomes{};
  };
  std::vector<BucketRecord> buckets;  // only the non-empty ones
  // The calls themselves, oldest first, to the second (from this node's
  // log; empty in a record of buckets only, as the fleet sends them).
  std::vector<CallEvent> events;
};

// One bucket's counts as CodeCounts, and back (saturating at 16 bits).
CodeCounts CountsOf(const NumberRecord::BucketRecord& b);
NumberRecord::BucketRecord BucketOf(uint32_t epoch, const CodeCounts& c);

struct GroupSnapshot {
  std::string key;  // carrier name, "+44", "212" (area code) or "13" (hour)
  CodeCounts counts;
};

// The groups a dialed number's calls are counted in (indexes for
// Store::GroupWindow; -1 when it has none of that kind).
struct Route {
  int carrier = -1;
  bool carrier_known = false;  // named by --carriers (not "unknown")
  int country = -1;
  int area = -1;         // NANP area code (NPA), +1 numbers only
  int country_code = 0;  // 1, 49
  int area_code = 0;     // 212; 0 outside +1
};

// A dialed country's days of history (the new-market baseline): how many
// days it carried enough calls to count, and its recent days' counts.
struct CountryHistory {
  int country_code = 0;
  uint32_t days_seen = 0;
  std::vector<std::pair<uint32_t, CodeCounts>> days;  // (UTC day number, counts), oldest first
};
inline constexpr uint32_t kMinAttemptsForADay = 20;

// Attempts in the 60 s before `now`, from a number's count for calendar
// `minute` and for the minute before it (the older one pro rata).
double CallsPerMinute(int64_t minute, uint16_t attempts, uint16_t prev_attempts, absl::Time now);

class Store {
 public:
  explicit Store(StoreOptions options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // ---- writer side (SIP thread only) ----
  // Finds or inserts `number`. May evict the least recently used unpinned
  // number; returns an invalid id when every slot is pinned.
  NumberId Touch(E164 number, absl::Time now);
  void RecordAttempt(NumberId id, E164 callee, absl::Time now);
  void RecordFinal(NumberId id, const CallOutcome& outcome);
  void RecordPaced(NumberId id, absl::Time now);
  // Pinned numbers (throttled, quarantined, probation) are never evicted.
  void SetPinned(NumberId id, bool pinned);
  // Counts of exactly the last `window` for one number, to the second
  // (the other nodes' calls, with --redis, to their bucket: pro rata).
  // SIP thread only: it moves the number's window cursors.
  CodeCounts Window(NumberId id, absl::Duration window, absl::Time now) const;
  // Attempts per bucket, oldest first, over `window` (for volume-spike checks).
  std::vector<uint32_t> AttemptHistory(NumberId id, absl::Duration window, absl::Time now) const;
  // Pool-wide counts for one hour of day over recent days (hour-of-day guard).
  CodeCounts PoolHour(int hour) const;
  CodeCounts PoolWindow(absl::Duration window, absl::Time now) const;
  // Route groups: the pool (kPoolGroup), each carrier, country and area
  // code, as rolling windows of 32-bit counts (any thread).
  static constexpr int kPoolGroup = 0;
  Route RouteOf(E164 callee) const;
  CodeCounts GroupWindow(int group, absl::Duration window, absl::Time now) const;
  int group_count() const;
  // "pool", "carrier:alpha", "country:+49", "area:212".
  std::string GroupName(int group) const;
  // Every group index of one kind that has carried calls since start.
  std::vector<int> ActiveGroups() const;
  bool IsCurrent(NumberId id) const;  // false once the slot was reused
  E164 NumberOf(NumberId id) const;   // 0 once the slot was reused
  int HourOf(absl::Time t) const;
  // The last 603+ Reason text recorded for the number ("" if none).
  std::string LastReason(NumberId id) const;

  // ---- reader side (any thread) ----
  // The number's slot, if tracked (a reader may race an eviction: check
  // IsCurrent or the snapshot's number before trusting what it reads).
  std::optional<NumberId> Find(E164 number) const;
  // The terminating carrier of a dialed number per --carriers, or "unknown".
  std::string CarrierOf(E164 callee) const;
  // Post-dial delay (INVITE to first 18x) of every ringing call since start.
  struct PddHistogram {
    std::vector<double> bounds_s;      // upper bounds, seconds
    std::vector<uint64_t> cumulative;  // calls with PDD <= bound
    uint64_t count = 0;
    double sum_s = 0;
  };
  PddHistogram Pdd() const;
  std::optional<NumberSnapshot> Snapshot(E164 number, absl::Time now) const;
  // Every tracked number, in no particular order.
  void ForEachNumber(absl::Time now, const std::function<void(const NumberSnapshot&)>& fn) const;
  CodeCounts Pool(absl::Time now) const;  // all numbers, over history
  std::vector<GroupSnapshot> Carriers() const;
  std::vector<GroupSnapshot> Countries() const;
  std::vector<GroupSnapshot> Hours() const;  // 24 entries, since start
  std::vector<GroupSnapshot> Areas() const;  // NANP area codes with calls, since start
  CountryHistory Country(int country_code) const;
  uint32_t CountryDaysSeen(int country_code) const;
  void ExportCountries(const std::function<void(const CountryHistory&)>& fn) const;
  // Writer side, before traffic: a saved country history back.
  void ImportCountry(const CountryHistory& h);
  CodeCounts Totals() const;  // all numbers, since start
  // Every tracked number's raw window (reader side, consistent per number).
  void ExportNumbers(const std::function<void(const NumberRecord&)>& fn) const;
  // Writer side, before traffic: puts a saved number back (as Touch would).
  // Its events replace the log; else each bucket replaces that bucket's
  // calls, placed at the middle of the bucket (not after `now`).
  NumberId ImportNumber(const NumberRecord& record, absl::Time now);
  size_t numbers_tracked() const;
  uint64_t evictions() const;
  // Calls forgotten early because a number's log was full (kMaxLogEvents
  // inside the history): its longest windows then undercount.
  uint64_t events_dropped() const;
  // Memory of busy numbers' logs (blocks beyond each slot's inline ring).
  uint64_t log_block_bytes() const;
  const StoreOptions& options() const;

  // ---- fleet (docs/fleet.md) ----
  // Before traffic: from now on every number's windows, the route groups
  // and the hour baselines include what the other nodes counted (written
  // into fleet() by the fleet listener), and every change of a number's
  // counts is reported on changes() for the sync thread.
  void EnableFleet();
  FleetCounts* fleet() const;                 // nullptr without EnableFleet
  absl::Duration bucket_width() const;        // a number's bucket
  absl::Duration group_bucket_width() const;  // a route group's bucket
  ChangedNumbers* changes() const;            // nullptr without EnableFleet
  // This node's own counts, without the fleet's (reader side).
  CodeCounts LocalWindow(E164 number, absl::Duration window, absl::Time now) const;
  // One number's raw window as ExportNumbers gives it, if tracked.
  std::optional<NumberRecord> ExportNumber(E164 number) const;
  // A route group's non-empty buckets, oldest first: (epoch, counts).
  void ExportGroup(int group, const std::function<void(uint32_t, const CodeCounts&)>& fn) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sippacer::metrics
