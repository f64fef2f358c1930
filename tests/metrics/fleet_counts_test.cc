#include <catch2/catch.hpp>

#include "metrics/changed_numbers.h"
#include "metrics/fleet_counts.h"
#include "metrics/store.h"

namespace sippacer::metrics {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);  // a bucket edge for 10-minute buckets
const absl::Duration kWidth = absl::Minutes(10);
constexpr E164 kA = 15551230001, kB = 15551230002;
constexpr int kGroups = 4, kGroupBuckets = 13;
const absl::Duration kGroupWidth = absl::Minutes(5);

uint32_t EpochOf(absl::Time t, absl::Duration width = kWidth) {
  return static_cast<uint32_t>(absl::ToUnixSeconds(t) / absl::ToInt64Seconds(width));
}

// One node's counts for a bucket: `attempts` calls, `declined` of them 603
// before ring, the rest answered.
BucketCounts Counts(uint32_t epoch, uint16_t attempts, uint16_t declined) {
  BucketCounts b;
  b.epoch = epoch;
  b.attempts = attempts;
  b.pre_ring_603 = declined;
  b.outcomes[static_cast<int>(Outcome::k603)] = declined;
  b.outcomes[static_cast<int>(Outcome::k2xx)] = static_cast<uint16_t>(attempts - declined);
  return b;
}

CodeCounts Group(uint32_t attempts, uint32_t declined) {
  CodeCounts c;
  c.attempts = attempts;
  c.pre_ring_603 = declined;
  c.by_outcome[static_cast<int>(Outcome::k603)] = declined;
  c.by_outcome[static_cast<int>(Outcome::k2xx)] = attempts - declined;
  return c;
}

FleetCounts MakeFleet() { return FleetCounts(100, kWidth, kGroups, kGroupBuckets, kGroupWidth); }

TEST_CASE("fleet: two nodes' counts for a number sum into its window", "[metrics][fleet]") {
  FleetCounts fleet = MakeFleet();
  const absl::Time now = kT0 + absl::Minutes(5);
  const uint32_t e = EpochOf(kT0);
  CodeCounts added = fleet.SetNumber("edge-b", kA, Counts(e, 10, 4), now);
  CHECK(added.attempts == 10);
  CHECK(added.of(Outcome::k603) == 4);
  CHECK(added.pre_ring_603 == 4);
  added = fleet.SetNumber("edge-c", kA, Counts(e, 5, 1), now);
  CHECK(added.attempts == 5);
  CHECK(added.of(Outcome::k603) == 1);

  const CodeCounts w = fleet.NumberWindow(kA, absl::Minutes(15), now);
  CHECK(w.attempts == 15);
  CHECK(w.of(Outcome::k603) == 5);
  CHECK(w.of(Outcome::k2xx) == 10);
  CHECK(w.pre_ring_603 == 5);
  CHECK(fleet.numbers() == 1);
  // Another number is apart.
  CHECK(fleet.NumberWindow(kB, absl::Minutes(15), now).attempts == 0);
  // Number 0 (no caller ID) is never kept.
  CHECK(fleet.SetNumber("edge-b", 0, Counts(e, 3, 0), now).attempts == 0);
  CHECK(fleet.numbers() == 1);
}

TEST_CASE("fleet: a node's new value for a bucket replaces its old one", "[metrics][fleet]") {
  FleetCounts fleet = MakeFleet();
  const absl::Time now = kT0 + absl::Minutes(5);
  const uint32_t e = EpochOf(kT0);
  fleet.SetNumber("edge-b", kA, Counts(e, 10, 4), now);
  fleet.SetNumber("edge-c", kA, Counts(e, 5, 1), now);

  SECTION("a higher value returns only the increase") {
    const CodeCounts added = fleet.SetNumber("edge-b", kA, Counts(e, 12, 6), now);
    CHECK(added.attempts == 2);
    CHECK(added.of(Outcome::k603) == 2);
    CHECK(added.pre_ring_603 == 2);
    CHECK(added.of(Outcome::k2xx) == 0);
    const CodeCounts w = fleet.NumberWindow(kA, absl::Minutes(15), now);
    CHECK(w.attempts == 17);
    CHECK(w.of(Outcome::k603) == 7);
  }
  SECTION("the same value again (a retry, a replay) adds nothing") {
    const CodeCounts added = fleet.SetNumber("edge-b", kA, Counts(e, 10, 4), now);
    CHECK(added.attempts == 0);
    CHECK(added.finals() == 0);
    CHECK(fleet.NumberWindow(kA, absl::Minutes(15), now).attempts == 15);
  }
  SECTION("a lower value (the node restarted) adds nothing and lowers the sum") {
    const CodeCounts added = fleet.SetNumber("edge-b", kA, Counts(e, 3, 1), now);
    CHECK(added.attempts == 0);
    CHECK(added.finals() == 0);
    CHECK(added.pre_ring_603 == 0);
    const CodeCounts w = fleet.NumberWindow(kA, absl::Minutes(15), now);
    CHECK(w.attempts == 8);
    CHECK(w.of(Outcome::k603) == 2);
    // Once it passes its old value, only the part over the new one is added.
    const CodeCounts more = fleet.SetNumber("edge-b", kA, Counts(e, 4, 2), now);
    CHECK(more.attempts == 1);
    CHECK(more.of(Outcome::k603) == 1);
  }
  SECTION("a new bucket of the same node adds to the window") {
    const absl::Time later = kT0 + absl::Minutes(12);
    const CodeCounts added = fleet.SetNumber("edge-b", kA, Counts(e + 1, 2, 2), later);
    CHECK(added.attempts == 2);
    CHECK(fleet.NumberWindow(kA, absl::Minutes(30), later).attempts == 17);
  }
}

TEST_CASE("fleet: buckets outside the window are ignored", "[metrics][fleet]") {
  FleetCounts fleet = MakeFleet();
  const absl::Time now = kT0 + absl::Minutes(5);
  const uint32_t e = EpochOf(kT0);
  fleet.SetNumber("edge-b", kA, Counts(e, 10, 4), now);
  // 25 buckets of 10 minutes back: left the window.
  CodeCounts added = fleet.SetNumber("edge-b", kA, Counts(e - kWindowBuckets, 50, 50), now);
  CHECK(added.attempts == 0);
  CHECK(added.finals() == 0);
  // Two buckets ahead: a clock far off.
  added = fleet.SetNumber("edge-c", kA, Counts(e + 2, 50, 50), now);
  CHECK(added.attempts == 0);
  CHECK(fleet.NumberWindow(kA, absl::Hours(4), now).attempts == 10);
  CHECK(fleet.ByNode(kA, absl::Hours(4), now).size() == 1);
  // The oldest bucket still inside counts for a window long enough only.
  added = fleet.SetNumber("edge-c", kA, Counts(e - 6, 7, 0), now);
  CHECK(added.attempts == 7);
  CHECK(fleet.NumberWindow(kA, absl::Hours(4), now).attempts == 17);
  CHECK(fleet.NumberWindow(kA, absl::Minutes(15), now).attempts == 10);
  // A number nobody sent is not created by an ignored bucket.
  fleet.SetNumber("edge-b", kB, Counts(e - kWindowBuckets, 5, 0), now);
  CHECK(fleet.NumberWindow(kB, absl::Hours(4), now).attempts == 0);
  CHECK(fleet.numbers() == 1);
}

TEST_CASE("fleet: ByNode splits a number's window by node", "[metrics][fleet]") {
  FleetCounts fleet = MakeFleet();
  const absl::Time now = kT0 + absl::Minutes(15);
  const uint32_t e = EpochOf(kT0);
  fleet.SetNumber("edge-b", kA, Counts(e, 10, 4), now);
  fleet.SetNumber("edge-b", kA, Counts(e + 1, 2, 1), now);
  fleet.SetNumber("edge-c", kA, Counts(e + 1, 5, 0), now);
  fleet.SetNumber("edge-d", kA, Counts(e - 10, 9, 9), now);  // 100 minutes ago

  const auto by_node = fleet.ByNode(kA, absl::Minutes(20), now);
  REQUIRE(by_node.size() == 2);
  CHECK(by_node[0].first == "edge-b");
  CHECK(by_node[0].second.attempts == 12);
  CHECK(by_node[0].second.of(Outcome::k603) == 5);
  CHECK(by_node[1].first == "edge-c");
  CHECK(by_node[1].second.attempts == 5);

  const auto all = fleet.ByNode(kA, absl::Hours(4), now);
  REQUIRE(all.size() == 3);
  CHECK(all[2].first == "edge-d");
  CHECK(all[2].second.of(Outcome::k603) == 9);
  // The split adds up to the sum.
  uint32_t attempts = 0;
  for (const auto& [node, c] : all) attempts += c.attempts;
  CHECK(attempts == fleet.NumberWindow(kA, absl::Hours(4), now).attempts);

  CHECK(fleet.ByNode(kB, absl::Hours(4), now).empty());
}

TEST_CASE("fleet: route groups sum the nodes' latest values", "[metrics][fleet]") {
  FleetCounts fleet = MakeFleet();
  const absl::Time now = kT0 + absl::Minutes(2);
  const uint32_t e = EpochOf(now, kGroupWidth);
  fleet.SetGroup("edge-b", 1, e, Group(7, 2), now);
  fleet.SetGroup("edge-c", 1, e, Group(3, 1), now);
  CodeCounts w = fleet.GroupWindow(1, absl::Minutes(15), now);
  CHECK(w.attempts == 10);
  CHECK(w.of(Outcome::k603) == 3);
  CHECK(w.pre_ring_603 == 3);
  // A node's new value replaces its old one.
  fleet.SetGroup("edge-b", 1, e, Group(9, 2), now);
  CHECK(fleet.GroupWindow(1, absl::Minutes(15), now).attempts == 12);
  // An older bucket adds to a window long enough.
  fleet.SetGroup("edge-b", 1, e - 2, Group(4, 0), now);
  CHECK(fleet.GroupWindow(1, absl::Minutes(15), now).attempts == 16);
  CHECK(fleet.GroupWindow(1, absl::Minutes(5), now).attempts == 12);
  // Groups are apart; one out of range is ignored.
  CHECK(fleet.GroupWindow(2, absl::Minutes(15), now).attempts == 0);
  fleet.SetGroup("edge-b", kGroups, e, Group(5, 5), now);
  fleet.SetGroup("edge-b", -1, e, Group(5, 5), now);
  // A bucket older than the window, or from the future, changes nothing:
  // it must not wipe the bucket that holds its place now.
  fleet.SetGroup("edge-b", 1, e - 13, Group(50, 0), now);
  fleet.SetGroup("edge-b", 1, e + 13, Group(50, 0), now);
  CHECK(fleet.GroupWindow(1, absl::Minutes(15), now).attempts == 16);
  CHECK(fleet.GroupWindow(kGroups, absl::Minutes(15), now).attempts == 0);
}

TEST_CASE("fleet: hours of day sum the nodes' latest values", "[metrics][fleet]") {
  FleetCounts fleet = MakeFleet();
  fleet.SetHour("edge-b", 13, Group(5, 1));
  fleet.SetHour("edge-c", 13, Group(7, 2));
  CHECK(fleet.Hour(13).attempts == 12);
  CHECK(fleet.Hour(13).of(Outcome::k603) == 3);
  fleet.SetHour("edge-b", 13, Group(6, 1));
  CHECK(fleet.Hour(13).attempts == 13);
  CHECK(fleet.Hour(12).attempts == 0);
  fleet.SetHour("edge-b", 24, Group(5, 5));
  fleet.SetHour("edge-b", -1, Group(5, 5));
  CHECK(fleet.Hour(24).attempts == 0);
  CHECK(fleet.Hour(-1).attempts == 0);
}

TEST_CASE("fleet: Prune forgets what left the window, keeps the rest", "[metrics][fleet]") {
  FleetCounts fleet = MakeFleet();
  const absl::Time now = kT0 + absl::Minutes(5);
  const uint32_t e = EpochOf(kT0);
  fleet.SetNumber("edge-b", kA, Counts(e, 10, 4), now);
  // B has a bucket 20 buckets later: still live when A's has left.
  const absl::Time later = kT0 + kWidth * kWindowBuckets;
  fleet.SetNumber("edge-b", kB, Counts(e + 20, 6, 0), later - absl::Minutes(50));
  fleet.Prune(later);

  CHECK(fleet.NumberWindow(kA, absl::Hours(4), later).attempts == 0);
  CHECK(fleet.ByNode(kA, absl::Hours(4), later).empty());
  // B's detail was kept: the same value again is nothing new.
  CHECK(fleet.SetNumber("edge-b", kB, Counts(e + 20, 6, 0), later).attempts == 0);
  CHECK(fleet.ByNode(kB, absl::Hours(4), later).size() == 1);
  // A's was forgotten: told its old bucket again (at a time it is inside
  // the window), edge-b's calls count as new.
  CHECK(fleet.SetNumber("edge-b", kA, Counts(e, 10, 4), now).attempts == 10);
  // Without Prune the same replay is nothing new.
  CHECK(fleet.SetNumber("edge-b", kA, Counts(e, 10, 4), now).attempts == 0);
}

TEST_CASE("fleet: Prune forgets route group buckets older than the groups' window", "[metrics][fleet]") {
  FleetCounts fleet = MakeFleet();
  const absl::Time then = kT0;
  const uint32_t e = EpochOf(then, kGroupWidth);
  fleet.SetGroup("edge-b", 1, e, Group(7, 0), then);
  fleet.Prune(then + kGroupWidth * (kGroupBuckets + 1));
  // edge-b's old value is gone: edge-c's alone is the bucket's sum.
  fleet.SetGroup("edge-c", 1, e, Group(3, 0), then);
  CHECK(fleet.GroupWindow(1, absl::Minutes(5), then).attempts == 3);
}

StoreOptions FourHours() {
  StoreOptions o;
  o.max_numbers = 100;
  o.history = absl::Hours(4);  // 24 buckets of 10 minutes
  return o;
}

void Call(Store& s, E164 caller, int code, absl::Time at) {
  NumberId id = s.Touch(caller, at);
  s.RecordAttempt(id, 15550001234, at);
  CallOutcome o;
  o.caller = caller;
  o.callee = 15550001234;
  o.code = code;
  o.ringing_seen = true;
  o.final_at = at;
  s.RecordFinal(id, o);
}

TEST_CASE("fleet: Store::Window adds the fleet's counts once enabled, LocalWindow does not", "[metrics][fleet]") {
  Store s(FourHours());
  CHECK(s.fleet() == nullptr);
  CHECK(s.changes() == nullptr);
  const absl::Time now = kT0 + absl::Minutes(5);
  for (int i = 0; i < 4; ++i) Call(s, kA, 200, kT0 + absl::Seconds(i));
  s.EnableFleet();
  REQUIRE(s.fleet() != nullptr);
  REQUIRE(s.changes() != nullptr);
  CHECK(s.bucket_width() == kWidth);
  CHECK(s.group_bucket_width() == absl::Minutes(5));

  const uint32_t e = EpochOf(kT0, s.bucket_width());
  s.fleet()->SetNumber("edge-b", kA, Counts(e, 6, 6), now);
  const NumberId id = *s.Find(kA);
  const CodeCounts w = s.Window(id, absl::Minutes(15), now);
  CHECK(w.attempts == 10);
  CHECK(w.of(Outcome::k603) == 6);
  CHECK(w.of(Outcome::k2xx) == 4);
  CHECK(w.pre_ring_603 == 6);
  const CodeCounts local = s.LocalWindow(kA, absl::Minutes(15), now);
  CHECK(local.attempts == 4);
  CHECK(local.of(Outcome::k603) == 0);
  CHECK(s.LocalWindow(kB, absl::Minutes(15), now).attempts == 0);
  // The snapshot (show number) is fleet-wide too.
  const auto snap = s.Snapshot(kA, now);
  REQUIRE(snap);
  CHECK(snap->window.attempts == 10);
  // So is the attempt history, newest bucket last.
  const std::vector<uint32_t> history = s.AttemptHistory(id, absl::Minutes(30), now);
  REQUIRE_FALSE(history.empty());
  CHECK(history.back() == 10);
  // The raw export is this node's own only (what it pushes).
  const auto own = s.ExportNumber(kA);
  REQUIRE(own);
  REQUIRE(own->buckets.size() == 1);
  CHECK(own->buckets[0].attempts == 4);
  CHECK_FALSE(s.ExportNumber(kB));

  // A number only another node has seen still has a snapshot.
  s.fleet()->SetNumber("edge-b", kB, Counts(e, 3, 1), now);
  CHECK_FALSE(s.Find(kB));
  const auto other = s.Snapshot(kB, now);
  REQUIRE(other);
  CHECK(other->window.attempts == 3);
}

TEST_CASE("fleet: the pool's groups and hours add the fleet's", "[metrics][fleet]") {
  Store s(FourHours());
  s.EnableFleet();
  const absl::Time now = kT0 + absl::Minutes(2);
  for (int i = 0; i < 4; ++i) Call(s, kA, 200, kT0 + absl::Seconds(i));
  const uint32_t local = s.PoolWindow(absl::Minutes(15), now).attempts;
  CHECK(local == 4);
  s.fleet()->SetGroup("edge-b", Store::kPoolGroup, EpochOf(now, s.group_bucket_width()), Group(6, 0), now);
  CHECK(s.PoolWindow(absl::Minutes(15), now).attempts == 10);
  CHECK(s.GroupWindow(Store::kPoolGroup, absl::Minutes(15), now).attempts == 10);
  const int hour = s.HourOf(now);
  const uint32_t hour_local = s.PoolHour(hour).attempts;
  s.fleet()->SetHour("edge-b", hour, Group(5, 0));
  CHECK(s.PoolHour(hour).attempts == hour_local + 5);
}

TEST_CASE("fleet: every count of a number is reported on changes()", "[metrics][fleet]") {
  Store s(FourHours());
  s.EnableFleet();
  ChangedNumbers& changes = *s.changes();
  Call(s, kA, 200, kT0);
  Call(s, kB, 603, kT0);
  std::vector<E164> seen;
  while (auto n = changes.Pop()) seen.push_back(*n);
  // An attempt and a final each.
  CHECK(seen == std::vector<E164>{kA, kA, kB, kB});
  CHECK_FALSE(changes.TakeOverflow());
}

TEST_CASE("ChangedNumbers: a ring in order, a full one drops and says so", "[metrics][fleet]") {
  ChangedNumbers ring(4);
  CHECK_FALSE(ring.Pop());
  for (E164 n = 1; n <= 4; ++n) CHECK(ring.Push(n));
  CHECK_FALSE(ring.TakeOverflow());
  CHECK_FALSE(ring.Push(5));
  CHECK_FALSE(ring.Push(6));
  CHECK(ring.dropped() == 2);
  CHECK(ring.TakeOverflow());
  CHECK_FALSE(ring.TakeOverflow());  // once
  for (E164 n = 1; n <= 4; ++n) {
    auto got = ring.Pop();
    REQUIRE(got);
    CHECK(*got == n);
  }
  CHECK_FALSE(ring.Pop());
  // Room again, around the end of the array.
  for (E164 n = 7; n <= 10; ++n) CHECK(ring.Push(n));
  CHECK(*ring.Pop() == 7);
  CHECK(ring.Push(11));
  for (E164 n = 8; n <= 11; ++n) CHECK(*ring.Pop() == n);
  CHECK_FALSE(ring.Pop());
  CHECK(ring.dropped() == 2);
  CHECK_FALSE(ring.TakeOverflow());
}

}  // namespace
}  // namespace sippacer::metrics
