// The pacer's side of a fleet (pacing/pacer_fleet.cc): other nodes' calls as
// evidence, other nodes' states adopted.
#include <catch2/catch.hpp>

#include <vector>

#include "metrics/fleet_counts.h"
#include "pacing/pacer.h"

namespace sippacer::pacing {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
constexpr metrics::E164 kA = 15551230001, kB = 15551230002;

struct Events : EventSink {
  void OnStateChange(const StateChange& c) override { changes.push_back(c); }
  std::vector<StateChange> changes;
};

// As pacer_test.cc's, on pre-ring 603s.
Policy TestPolicy() {
  Policy p;
  p.rules = *ParseRules("603pre>=20%/10m:throttle,603pre>=40%/10m:quarantine");
  p.min_attempts = 10;
  p.confidence = 0;
  p.hour_guard = false;
  p.throttled_cpm = 2;
  p.quarantine_for = absl::Minutes(30);
  // A loose design (h = ln(2 * 1440 / 0.5) = 8.7) so a few calls decide.
  p.false_alarm_rate = 0.5;
  return p;
}

struct Fixture {
  explicit Fixture(Policy p = TestPolicy()) : store(Options()), pacer(store, std::move(p), &events) {
    store.EnableFleet();
  }
  static metrics::StoreOptions Options() {
    metrics::StoreOptions o;
    o.max_numbers = 1000;
    o.history = absl::Hours(4);
    return o;
  }
  Decision Dial(metrics::E164 caller, int code, absl::Time now) {
    Decision d = pacer.OnInvite(caller, 15550001234, now);
    if (!d.refuse || d.dry_run) {
      metrics::CallOutcome o;
      o.caller = caller;
      o.callee = 15550001234;
      o.code = code;
      o.ringing_seen = code != 603;
      o.final_at = now;
      pacer.OnFinal(o);
    }
    return d;
  }
  // Another node counted `declined` pre-ring 603s and `answered` 200s for
  // `number` in the bucket of `now`: into the Store's fleet counts, as the
  // listener does, then to the pacer as the calls it had not seen.
  void FleetCalls(metrics::E164 number, uint16_t declined, uint16_t answered, absl::Time now) {
    metrics::BucketCounts b;
    b.epoch = static_cast<uint32_t>(absl::ToUnixSeconds(now) / absl::ToInt64Seconds(store.bucket_width()));
    b.attempts = static_cast<uint16_t>(declined + answered);
    b.pre_ring_603 = declined;
    b.outcomes[static_cast<int>(metrics::Outcome::k603)] = declined;
    b.outcomes[static_cast<int>(metrics::Outcome::k2xx)] = answered;
    const metrics::CodeCounts added = store.fleet()->SetNumber("edge-b", number, b, now);
    pacer.OnFleetCalls(number, added, now);
  }
  metrics::Store store;
  Events events;
  Pacer pacer;
};

TEST_CASE("fleet: another node's pre-ring 603s move a tracked number out of healthy", "[pacing][fleet]") {
  Fixture f;
  absl::Time t = kT0;
  for (int i = 0; i < 5; ++i) f.Dial(kA, 200, t += absl::Seconds(1));
  REQUIRE(f.pacer.State(kA).state == NumberState::kHealthy);
  // edge-b saw 20 of A's calls, all declined before ring.
  f.FleetCalls(kA, 20, 0, t += absl::Seconds(1));
  CHECK(f.pacer.State(kA).state != NumberState::kHealthy);
  REQUIRE_FALSE(f.events.changes.empty());
  const StateChange& c = f.events.changes.back();
  CHECK(c.number == kA);
  CHECK(c.from == NumberState::kHealthy);
  CHECK(c.rule.rfind("603pre", 0) == 0);
  CHECK(c.fleet_node.empty());  // this node's own decision: published to the fleet
  CHECK(c.reason.find("603pre") != std::string::npos);
  // The fleet's calls are in the number's window too.
  CHECK(f.store.Window(*f.store.Find(kA), absl::Minutes(10), t).attempts == 25);
  CHECK(f.store.LocalWindow(kA, absl::Minutes(10), t).attempts == 5);
}

TEST_CASE("fleet: another node's answered calls keep a number healthy", "[pacing][fleet]") {
  Fixture f;
  absl::Time t = kT0;
  for (int i = 0; i < 5; ++i) f.Dial(kA, 200, t += absl::Seconds(1));
  f.FleetCalls(kA, 0, 40, t += absl::Seconds(1));
  CHECK(f.pacer.State(kA).state == NumberState::kHealthy);
  CHECK(f.events.changes.empty());
}

TEST_CASE("fleet: calls of a number not tracked here change nothing", "[pacing][fleet]") {
  Fixture f;
  f.FleetCalls(kA, 50, 0, kT0);
  CHECK_FALSE(f.store.Find(kA));
  CHECK(f.pacer.State(kA).state == NumberState::kHealthy);
  CHECK(f.events.changes.empty());
  CHECK(f.store.numbers_tracked() == 0);
}

TEST_CASE("fleet: a quarantine adopted for a number never seen here", "[pacing][fleet]") {
  Fixture f;
  const absl::Time since = kT0 - absl::Minutes(3);
  const absl::Time until = since + absl::Minutes(30);
  const absl::Time now = kT0;
  f.pacer.AdoptFleetState(kA, NumberState::kQuarantined, since, until, "603pre 60% of 20 calls", "edge-b", now);

  const NumberPacing p = f.pacer.State(kA);
  CHECK(p.state == NumberState::kQuarantined);
  CHECK(p.since == since);
  CHECK(p.until == until);
  CHECK(p.reason == "603pre 60% of 20 calls");
  CHECK(f.store.Find(kA));
  CHECK(f.pacer.numbers_in_state(NumberState::kQuarantined) == 1);
  REQUIRE(f.events.changes.size() == 1);
  const StateChange& c = f.events.changes[0];
  CHECK(c.number == kA);
  CHECK(c.from == NumberState::kHealthy);
  CHECK(c.to == NumberState::kQuarantined);
  CHECK(c.fleet_node == "edge-b");
  CHECK(c.until == until);
  CHECK_FALSE(c.by_operator);
  // Its calls are refused here, until the other node's end.
  Decision d = f.Dial(kA, 200, now + absl::Minutes(1));
  CHECK(d.refuse);
  CHECK(d.action == "quarantine");
  CHECK(d.retry_after == until - (now + absl::Minutes(1)));

  SECTION("adopting the same state again emits nothing") {
    f.pacer.AdoptFleetState(kA, NumberState::kQuarantined, since, until, "603pre 60% of 20 calls", "edge-b",
                            now + absl::Seconds(2));
    CHECK(f.events.changes.size() == 1);
    CHECK(f.pacer.State(kA).state == NumberState::kQuarantined);
  }
  SECTION("an operator's release from another node is adopted, and says so") {
    f.pacer.AdoptFleetState(kA, NumberState::kHealthy, now + absl::Minutes(2), absl::InfiniteFuture(),
                            "operator: released", "edge-c", now + absl::Minutes(2));
    CHECK(f.pacer.State(kA).state == NumberState::kHealthy);
    REQUIRE(f.events.changes.size() == 2);
    CHECK(f.events.changes[1].to == NumberState::kHealthy);
    CHECK(f.events.changes[1].fleet_node == "edge-c");
    CHECK(f.events.changes[1].by_operator);
    CHECK_FALSE(f.Dial(kA, 200, now + absl::Minutes(3)).refuse);
  }
}

TEST_CASE("fleet: a change this node makes after an adoption is its own", "[pacing][fleet]") {
  Fixture f;
  f.pacer.AdoptFleetState(kA, NumberState::kThrottled, kT0, absl::InfiniteFuture(), "throttled by edge-b", "edge-b",
                          kT0);
  REQUIRE(f.events.changes.size() == 1);
  REQUIRE(f.pacer.Quarantine(kA, absl::Hours(1), kT0 + absl::Seconds(1)).ok());
  REQUIRE(f.events.changes.size() == 2);
  CHECK(f.events.changes[1].to == NumberState::kQuarantined);
  CHECK(f.events.changes[1].fleet_node.empty());
  CHECK(f.events.changes[1].by_operator);
}

TEST_CASE("fleet: a healthy state adopted for a number not tracked creates nothing", "[pacing][fleet]") {
  Fixture f;
  f.pacer.AdoptFleetState(kB, NumberState::kHealthy, kT0, absl::InfiniteFuture(), "operator: released", "edge-b", kT0);
  CHECK_FALSE(f.store.Find(kB));
  CHECK(f.store.numbers_tracked() == 0);
  CHECK(f.events.changes.empty());
  CHECK(f.pacer.State(kB).state == NumberState::kHealthy);
}

}  // namespace
}  // namespace sippacer::pacing
