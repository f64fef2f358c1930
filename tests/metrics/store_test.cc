#include <catch2/catch.hpp>

#include "metrics/store.h"

namespace sippacer::metrics {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);  // a bucket edge for 10-minute buckets

CallOutcome Final(E164 caller, int code, absl::Time at, bool ringing = false) {
  CallOutcome o;
  o.caller = caller;
  o.callee = 15550001234;
  o.code = code;
  o.ringing_seen = ringing;
  o.invite_at = at - absl::Seconds(2);
  if (ringing) o.first_ring_at = at - absl::Seconds(1);
  o.final_at = at;
  return o;
}

void Call(Store& s, E164 caller, int code, absl::Time at, bool ringing = false) {
  NumberId id = s.Touch(caller, at);
  s.RecordAttempt(id, 15550001234, at);
  s.RecordFinal(id, Final(caller, code, at, ringing));
}

StoreOptions FourHours(size_t max = 100) {
  StoreOptions o;
  o.max_numbers = max;
  o.history = absl::Hours(4);  // 24 buckets of 10 minutes
  return o;
}

TEST_CASE("counts equal what was recorded", "[metrics]") {
  Store s(FourHours());
  for (int i = 0; i < 30; ++i) Call(s, 15551230001, 603, kT0 + absl::Seconds(i));
  for (int i = 0; i < 70; ++i) Call(s, 15551230001, 200, kT0 + absl::Seconds(i), true);
  auto snap = s.Snapshot(15551230001, kT0 + absl::Minutes(2));
  REQUIRE(snap);
  CHECK(snap->window.attempts == 100);
  CHECK(snap->window.of(Outcome::k603) == 30);
  CHECK(snap->window.of(Outcome::k2xx) == 70);
  CHECK(snap->window.pre_ring_603 == 30);
  CHECK(snap->pdd_ms_avg == Approx(1000));
  CHECK(s.Totals().attempts == 100);
}

TEST_CASE("a window reads exactly its length, to the second", "[metrics]") {
  Store s(FourHours());
  const E164 n = 15551230001;
  for (int i = 0; i < 10; ++i) Call(s, n, 603, kT0 + absl::Minutes(i));  // 0:00 ... 0:09
  Call(s, n, 603, kT0 + absl::Minutes(10));                              // 0:10
  const NumberId id = *s.Find(n);
  auto attempts = [&](absl::Duration w, absl::Duration at) { return s.Window(id, w, kT0 + at).attempts; };
  // A window of W at t holds the calls in (t - W, t].
  CHECK(attempts(absl::Minutes(15), absl::Minutes(14) + absl::Seconds(59)) == 11);
  CHECK(attempts(absl::Minutes(15), absl::Minutes(15)) == 10);  // 0:00 just left
  CHECK(attempts(absl::Minutes(10), absl::Minutes(15)) == 5);   // 0:06 ... 0:10
  CHECK(attempts(absl::Minutes(15), absl::Minutes(24) + absl::Seconds(59)) == 1);
  CHECK(attempts(absl::Minutes(15), absl::Minutes(25)) == 0);
  // Four hours: each call leaves exactly four hours after it was made.
  CHECK(attempts(absl::Hours(4), absl::Minutes(239) + absl::Seconds(59)) == 11);
  CHECK(attempts(absl::Hours(4), absl::Minutes(245)) == 5);
  CHECK(attempts(absl::Hours(4), absl::Minutes(250)) == 0);
  // A call after `now` (a clock read out of order) is not in the window yet.
  CHECK(attempts(absl::Hours(4), absl::Minutes(9) + absl::Seconds(30)) == 10);
}

TEST_CASE("a number's calls cost what it made: a few inline, a busy number's in a block", "[metrics]") {
  Store s(FourHours(1000));
  for (int i = 0; i < 7; ++i) Call(s, 15551230001, 480, kT0 + absl::Seconds(i));  // 14 events: inline
  CHECK(s.log_block_bytes() == 0);
  for (int i = 0; i < 100; ++i) Call(s, 15551230002, 480, kT0 + absl::Seconds(i));  // 200 events
  const uint64_t busy = s.log_block_bytes();  // grew through 32, 64 and 128 to 256 events
  CHECK(busy >= 4 * (32 + 64 + 128 + 256));
  CHECK(busy < 4 * (32 + 64 + 128 + 256) + 2048);  // and the 256-event block's window cursors
  // Four hours later its old calls have left; the next calls take it back inline.
  const absl::Time later = kT0 + absl::Hours(5);
  Call(s, 15551230002, 200, later, true);
  const NumberId id = *s.Find(15551230002);
  const CodeCounts c = s.Window(id, absl::Hours(4), later);
  CHECK(c.attempts == 1);
  CHECK(c.of(Outcome::k2xx) == 1);
  CHECK(c.of(Outcome::k480) == 0);
  // Its blocks went back to the pool and are used again.
  for (int i = 0; i < 100; ++i) Call(s, 15551230003, 480, kT0 + absl::Seconds(i));
  CHECK(s.log_block_bytes() == busy);  // the same two blocks, reused
}

TEST_CASE("a record of buckets imports the history's buckets once, and no more than a log holds", "[metrics]") {
  Store s(FourHours());
  const absl::Time now = kT0 + absl::Minutes(30);
  const uint32_t current = static_cast<uint32_t>(absl::ToUnixSeconds(now) / 600);
  NumberRecord r;
  r.number = 15551230001;
  r.last_seen_s = absl::ToUnixSeconds(now);
  NumberRecord::BucketRecord b;
  b.epoch = current - 1;
  b.attempts = 3;
  r.buckets = {b, b};  // repeated: the last one counts, once
  r.buckets[1].attempts = 4;
  NumberRecord::BucketRecord ahead = b;  // a clock ahead of ours
  ahead.epoch = current + 1;
  ahead.attempts = 9;
  r.buckets.push_back(ahead);
  const NumberId id = s.ImportNumber(r, now);
  CHECK(s.Window(id, absl::Hours(4), now).attempts == 4);
  // The same bucket again replaces it (the fleet imports one at a time).
  s.ImportNumber(r, now);
  CHECK(s.Window(id, absl::Hours(4), now).attempts == 4);
  // A damaged record asking for millions of calls gets at most a full log.
  NumberRecord big;
  big.number = 15551230002;
  for (uint32_t e = current - 20; e <= current; ++e) {
    NumberRecord::BucketRecord full;
    full.epoch = e;
    full.attempts = UINT16_MAX;
    full.outcomes.fill(UINT16_MAX);
    big.buckets.push_back(full);
  }
  const NumberId big_id = s.ImportNumber(big, now);
  const CodeCounts c = s.Window(big_id, absl::Hours(4), now);
  CHECK(c.attempts + c.finals() == kMaxLogEvents);
}

TEST_CASE("pool and route counters do not wrap at any rate one box carries", "[metrics]") {
  Store s(FourHours());
  // 70,000 calls in one 10-minute bucket (117 calls/s): 16-bit counters read 4,464.
  for (int i = 0; i < 70'000; ++i) {
    const E164 caller = 15551230000 + static_cast<E164>(i % 500);
    const NumberId id = s.Touch(caller, kT0);
    s.RecordAttempt(id, 12125550000 + static_cast<E164>(i % 1000), kT0 + absl::Milliseconds(i));
  }
  const absl::Time now = kT0 + absl::Seconds(70);
  CHECK(s.PoolWindow(absl::Minutes(10), now).attempts == 70'000);
  const Route r = s.RouteOf(12125550001);
  CHECK(r.area_code == 212);
  CHECK(r.country_code == 1);
  CHECK(s.GroupWindow(r.area, absl::Minutes(30), now).attempts == 70'000);
  CHECK(s.GroupWindow(r.country, absl::Minutes(30), now).attempts == 70'000);
  // One number's log keeps its newest kMaxLogEvents, and counts the rest dropped.
  const NumberId one = s.Touch(15559990000, kT0);
  for (int i = 0; i < 70'000; ++i) s.RecordAttempt(one, 12125550001, kT0);
  CHECK(s.Window(one, absl::Minutes(10), kT0).attempts == kMaxLogEvents);
  CHECK(s.events_dropped() == 70'000 - kMaxLogEvents);
}

TEST_CASE("a country counts a day of history once it carries 20 calls", "[metrics]") {
  Store s(FourHours());
  const NumberId id = s.Touch(15551230001, kT0);
  for (int day = 0; day < 3; ++day) {
    for (int i = 0; i < (day == 1 ? 19 : 25); ++i) {
      s.RecordAttempt(id, 4930123456 + static_cast<E164>(i), kT0 + absl::Hours(24 * day) + absl::Minutes(i));
    }
  }
  CHECK(s.CountryDaysSeen(49) == 2);  // day 1 had 19 calls
  const CountryHistory h = s.Country(49);
  CHECK(h.days.size() == 3);
  CHECK(h.days.back().second.attempts == 25);
  Store restored(FourHours());
  restored.ImportCountry(h);
  CHECK(restored.CountryDaysSeen(49) == 2);
  CHECK(restored.Country(49).days.size() == 3);
}

TEST_CASE("a 15-minute and a 4-hour window answer at once", "[metrics]") {
  Store s(FourHours());
  const E164 n = 15551230001;
  for (int i = 0; i < 10; ++i) Call(s, n, 200, kT0 + absl::Minutes(i));
  for (int i = 0; i < 5; ++i) Call(s, n, 603, kT0 + absl::Hours(2) + absl::Seconds(i));
  const NumberId id = *s.Find(n);
  const absl::Time now = kT0 + absl::Hours(2) + absl::Minutes(1);
  const CodeCounts short_w = s.Window(id, absl::Minutes(15), now);
  const CodeCounts long_w = s.Window(id, absl::Hours(4), now);
  CHECK(short_w.attempts == 5);
  CHECK(short_w.of(Outcome::k603) == 5);
  CHECK(long_w.attempts == 15);
  CHECK(long_w.of(Outcome::k2xx) == 10);
}

TEST_CASE("the least recently used unpinned number is evicted first", "[metrics]") {
  Store s(FourHours(3));
  const NumberId a = s.Touch(15550000001, kT0);
  const NumberId b = s.Touch(15550000002, kT0 + absl::Seconds(1));
  s.Touch(15550000003, kT0 + absl::Seconds(2));
  s.SetPinned(a, true);                          // quarantined numbers are never evicted
  s.Touch(15550000002, kT0 + absl::Seconds(3));  // b is now recent
  const NumberId d = s.Touch(15550000004, kT0 + absl::Seconds(4));
  CHECK(d.valid());
  CHECK(s.evictions() == 1);
  CHECK(s.Find(15550000003) == std::nullopt);  // the oldest unpinned one
  CHECK(s.Find(15550000001).has_value());
  CHECK(s.IsCurrent(a));
  CHECK(s.IsCurrent(b));
  CHECK(s.numbers_tracked() == 3);
  // Every slot pinned: a new number gets no slot rather than evicting one.
  s.SetPinned(b, true);
  s.SetPinned(d, true);
  CHECK_FALSE(s.Touch(15550000005, kT0 + absl::Seconds(5)).valid());
  CHECK(s.evictions() == 1);
}

TEST_CASE("a reused slot changes generation and forgets the old counts", "[metrics]") {
  Store s(FourHours(1));
  Call(s, 15550000001, 603, kT0);
  const NumberId old_id = *s.Find(15550000001);
  Call(s, 15550000002, 200, kT0 + absl::Seconds(1));
  CHECK_FALSE(s.IsCurrent(old_id));
  auto snap = s.Snapshot(15550000002, kT0 + absl::Seconds(2));
  REQUIRE(snap);
  CHECK(snap->window.of(Outcome::k603) == 0);
  CHECK(snap->window.attempts == 1);
}

TEST_CASE("603+ is counted and its Reason kept per number", "[metrics]") {
  Store s(FourHours());
  CallOutcome o = Final(15551230001, 603, kT0);
  o.network_blocked = true;
  o.reason_header = "SIP;cause=603;text=\"blocked; redress https://x\"";
  const NumberId id = s.Touch(o.caller, kT0);
  s.RecordAttempt(id, o.callee, kT0);
  s.RecordFinal(id, o);
  auto snap = s.Snapshot(o.caller, kT0);
  REQUIRE(snap);
  CHECK(snap->window.network_blocked == 1);
  CHECK(snap->last_reason_header == "SIP;cause=603;text=\"blocked; redress https://x\"");
}

TEST_CASE("groups by hour of day use the configured time zone", "[metrics]") {
  StoreOptions o = FourHours();
  REQUIRE(absl::LoadTimeZone("America/New_York", &o.timezone));
  Store s(o);
  // 1,800,000,000 is 2027-01-15 08:00 UTC = 03:00 in New York.
  Call(s, 15551230001, 480, kT0);
  const auto hours = s.Hours();
  REQUIRE(hours.size() == 24);
  CHECK(hours[3].counts.attempts == 1);
  CHECK(hours[3].counts.of(Outcome::k480) == 1);
  CHECK(hours[8].counts.attempts == 0);
  CHECK(s.PoolHour(3).attempts == 1);
}

TEST_CASE("countries and carriers of the dialed number", "[metrics]") {
  Store s(FourHours());
  NumberId id = s.Touch(15551230001, kT0);
  s.RecordAttempt(id, 442079460000, kT0);
  s.RecordAttempt(id, 15550001234, kT0);
  const auto countries = s.Countries();
  REQUIRE(countries.size() == 2);
  CHECK(countries[0].key == "+1");
  CHECK(countries[1].key == "+44");
  CHECK(s.CarrierOf(15550001234) == "unknown");
}

TEST_CASE("attempt history lists buckets oldest first", "[metrics]") {
  Store s(FourHours());
  const E164 n = 15551230001;
  for (int i = 0; i < 3; ++i) Call(s, n, 200, kT0);
  for (int i = 0; i < 7; ++i) Call(s, n, 200, kT0 + absl::Minutes(20));
  const auto h = s.AttemptHistory(*s.Find(n), absl::Minutes(30), kT0 + absl::Minutes(20));
  CHECK(h == std::vector<uint32_t>{3, 0, 7});
}

}  // namespace
}  // namespace sippacer::metrics

namespace sippacer::metrics {
namespace {

TEST_CASE("a number's window survives export and import", "[metrics]") {
  Store a(StoreOptions{});
  for (int i = 0; i < 5; ++i) Call(a, 15551230001, 603, kT0 + absl::Minutes(i * 10));
  Call(a, 15551230001, 200, kT0 + absl::Hours(1), true);
  std::vector<NumberRecord> saved;
  a.ExportNumbers([&](const NumberRecord& r) { saved.push_back(r); });
  REQUIRE(saved.size() == 1);
  Store b(StoreOptions{});
  const absl::Time now = kT0 + absl::Hours(1) + absl::Minutes(5);
  REQUIRE(b.ImportNumber(saved[0], now).valid());
  const auto before = a.Snapshot(15551230001, now);
  const auto after = b.Snapshot(15551230001, now);
  REQUIRE(after);
  CHECK(after->window.attempts == before->window.attempts);
  CHECK(after->window.by_outcome == before->window.by_outcome);
  CHECK(after->window.pre_ring_603 == 5);
  // Buckets older than the history are dropped on import; at 4h10m the 4-hour
  // window (24 buckets) starts at +20 min: the calls at +20, +30, +40 and +60.
  Store c(StoreOptions{});
  c.ImportNumber(saved[0], kT0 + absl::Hours(4) + absl::Minutes(10));
  CHECK(c.Snapshot(15551230001, kT0 + absl::Hours(4) + absl::Minutes(10))->window.attempts == 4);
}

}  // namespace
}  // namespace sippacer::metrics

namespace sippacer::metrics {
namespace {

TEST_CASE("calls_per_minute is the last 60 s, and falls to 0 when a number stops", "[metrics]") {
  Store s(FourHours());
  // One call a second for three minutes: 60 a minute.
  for (int i = 0; i < 180; ++i) {
    const absl::Time at = kT0 + absl::Seconds(i);
    s.RecordAttempt(s.Touch(15551230001, at), 15550001234, at);
  }
  auto now = s.Snapshot(15551230001, kT0 + absl::Seconds(179));
  REQUIRE(now);
  CHECK(now->calls_per_minute == Approx(60).margin(1.5));
  // It stopped: half a minute later, about half; two minutes later, none.
  auto later = s.Snapshot(15551230001, kT0 + absl::Seconds(210));
  REQUIRE(later);
  CHECK(later->calls_per_minute == Approx(30).margin(1.5));
  auto gone = s.Snapshot(15551230001, kT0 + absl::Seconds(300));
  REQUIRE(gone);
  CHECK(gone->calls_per_minute == 0);
  CHECK(CallsPerMinute(100, 10, 20, absl::FromUnixSeconds(100 * 60 + 30)) == Approx(20));  // 10 + 20 * 0.5
  CHECK(CallsPerMinute(99, 10, 20, absl::FromUnixSeconds(100 * 60 + 45)) == Approx(2.5));  // 10 * 0.25
}

}  // namespace
}  // namespace sippacer::metrics
