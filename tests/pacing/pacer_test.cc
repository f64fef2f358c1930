#include <catch2/catch.hpp>

#include <vector>

#include "pacing/pacer.h"

namespace sippacer::pacing {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
constexpr metrics::E164 kA = 15551230001, kB = 15551230002;

struct Events : EventSink {
  void OnStateChange(const StateChange& c) override { changes.push_back(c); }
  std::vector<StateChange> changes;
};

Policy TestPolicy() {
  Policy p;
  p.rules = *ParseRules("603>=20%/10m:throttle,603>=40%/10m:quarantine");
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
  explicit Fixture(Policy p = TestPolicy()) : store(Options()), pacer(store, std::move(p), &events) {}
  static metrics::StoreOptions Options() {
    metrics::StoreOptions o;
    o.max_numbers = 1000;
    o.history = absl::Hours(4);
    return o;
  }
  // One call: INVITE decided, then the carrier's answer if forwarded.
  Decision Dial(metrics::E164 caller, int code, absl::Time now) {
    Decision d = pacer.OnInvite(caller, 15550001234, now);
    if (!d.refuse || d.dry_run) {
      metrics::CallOutcome o;
      o.caller = caller;
      o.callee = 15550001234;
      o.code = code;
      o.final_at = now;
      pacer.OnFinal(o);
    }
    return d;
  }
  metrics::Store store;
  Events events;
  Pacer pacer;
};

TEST_CASE("a number declined over the throttle line is throttled, then quarantined", "[pacing]") {
  Fixture f;
  absl::Time t = kT0;
  // 4 of 10 declined, spread out: over the 20% line, not over the 40% one.
  for (int i = 0; i < 10; ++i) f.Dial(kA, i % 3 == 0 ? 603 : 200, t += absl::Seconds(1));
  CHECK(f.pacer.State(kA).state == NumberState::kThrottled);
  REQUIRE(f.events.changes.size() == 1);
  CHECK(f.events.changes[0].reason.find("603 40.0% of 10 calls in 9s, over the 20% line") != std::string::npos);
  CHECK(f.events.changes[0].rule == "603>=20%/10m:throttle");
  // Throttled: 2 calls per minute. The first one waits for a token.
  Decision d = f.Dial(kA, 603, t += absl::Seconds(1));
  CHECK(d.refuse);
  CHECK(d.action == "throttle");
  CHECK(d.retry_after > absl::Seconds(20));
  CHECK(d.retry_after <= absl::Seconds(30));
  // One call per 30 s passes; declined every time, it is quarantined once
  // the 40% rule has --min_attempts calls of evidence.
  for (int i = 0; i < 9; ++i) CHECK_FALSE(f.Dial(kA, 603, t += absl::Seconds(31)).refuse);
  CHECK(f.pacer.State(kA).state == NumberState::kQuarantined);
  d = f.Dial(kA, 200, t += absl::Seconds(1));
  CHECK(d.refuse);
  CHECK(d.action == "quarantine");
  CHECK(d.retry_after == absl::Minutes(30) - absl::Seconds(1));
  CHECK(f.pacer.numbers_in_state(NumberState::kQuarantined) == 1);
  CHECK(f.pacer.paced_total() == 2);
  CHECK(f.pacer.State(kA).paced == 2);
  CHECK(f.events.changes.back().rule == "603>=40%/10m:quarantine");
  // B is untouched.
  for (int i = 0; i < 20; ++i) CHECK_FALSE(f.Dial(kB, 200, t += absl::Seconds(1)).refuse);
  CHECK(f.pacer.State(kB).state == NumberState::kHealthy);
}

TEST_CASE("min_attempts: no rule fires on a small sample", "[pacing]") {
  Fixture f;
  absl::Time t = kT0;
  for (int i = 0; i < 9; ++i) f.Dial(kA, 603, t += absl::Seconds(1));
  CHECK(f.pacer.State(kA).state == NumberState::kHealthy);
  f.Dial(kA, 603, t += absl::Seconds(1));
  CHECK(f.pacer.State(kA).state == NumberState::kQuarantined);
}

TEST_CASE("the Wilson guard spares a borderline sample", "[pacing]") {
  Policy p = TestPolicy();
  p.confidence = 0.90;
  Fixture f(p);
  absl::Time t = kT0;
  for (int i = 0; i < 10; ++i) f.Dial(kA, i < 2 ? 603 : 200, t += absl::Seconds(1));  // 20%, lower bound ~6%
  CHECK(f.pacer.State(kA).state == NumberState::kHealthy);
  for (int i = 0; i < 90; ++i) f.Dial(kA, i % 3 == 0 ? 603 : 200, t += absl::Seconds(1));  // ~32% of 100
  CHECK(f.pacer.State(kA).state != NumberState::kHealthy);
}

TEST_CASE("the hour guard spares a number that only follows the pool", "[pacing]") {
  Policy p = TestPolicy();
  p.hour_guard = true;
  p.rules = *ParseRules("603>=20%/10m:throttle,603>=50%/10m:throttle");
  Fixture f(p);
  absl::Time t = kT0;
  // The whole pool is declined 25% this hour: over the 20% line, so that
  // line condemns nobody; A is no worse than the rest.
  for (int i = 0; i < 40; ++i) {
    for (metrics::E164 n = 15559990000; n < 15559990005; ++n) f.Dial(n, i % 4 == 0 ? 603 : 200, t);
    f.Dial(kA, i % 4 == 0 ? 603 : 200, t += absl::Seconds(1));
  }
  CHECK(f.pacer.State(kA).state == NumberState::kHealthy);
  // B stands out from the pool and over the 50% line: 80% declined.
  for (int i = 0; i < 20; ++i) f.Dial(kB, i % 5 < 4 ? 603 : 200, t += absl::Seconds(1));
  CHECK(f.pacer.State(kB).state == NumberState::kThrottled);
  CHECK(f.events.changes.back().rule == "603>=50%/10m:throttle");
}

TEST_CASE("quarantine ends in probation, and a clean probation ends healthy", "[pacing]") {
  Fixture f;
  absl::Time t = kT0;
  for (int i = 0; i < 10; ++i) f.Dial(kA, 603, t += absl::Seconds(1));
  REQUIRE(f.pacer.State(kA).state == NumberState::kQuarantined);
  t += absl::Minutes(31);
  f.pacer.Tick(t);
  CHECK(f.pacer.State(kA).state == NumberState::kProbation);
  // Probation judges only new calls: the old 603s are not held against it.
  for (int i = 0; i < 3; ++i) f.Dial(kA, 200, t += absl::Seconds(31));
  CHECK(f.pacer.State(kA).state == NumberState::kProbation);
  f.pacer.Tick(t += absl::Minutes(11));
  CHECK(f.pacer.State(kA).state == NumberState::kHealthy);
  const auto& c = f.events.changes;
  REQUIRE(c.size() == 3);
  CHECK(c[1].to == NumberState::kProbation);
  CHECK(c[2].reason == "probation passed");
}

TEST_CASE("a rule firing on probation sends the number back to quarantine", "[pacing]") {
  Fixture f;
  absl::Time t = kT0;
  for (int i = 0; i < 10; ++i) f.Dial(kA, 603, t += absl::Seconds(1));
  f.pacer.Tick(t += absl::Minutes(31));
  REQUIRE(f.pacer.State(kA).state == NumberState::kProbation);
  Policy p = TestPolicy();
  p.throttled_cpm = 1000;  // let probation calls through quickly
  f.pacer.SetPolicy(p);
  for (int i = 0; i < 10; ++i) f.Dial(kA, i < 5 ? 603 : 200, t += absl::Seconds(1));
  CHECK(f.pacer.State(kA).state == NumberState::kQuarantined);
}

TEST_CASE("a throttled number recovers once no rule fires", "[pacing]") {
  Fixture f;
  absl::Time t = kT0;
  for (int i = 0; i < 10; ++i) f.Dial(kA, i % 3 == 0 ? 603 : 200, t += absl::Seconds(1));
  REQUIRE(f.pacer.State(kA).state == NumberState::kThrottled);
  f.pacer.Tick(t += absl::Minutes(5));
  CHECK(f.pacer.State(kA).state == NumberState::kThrottled);  // still in its window
  f.pacer.Tick(t += absl::Minutes(30));
  CHECK(f.pacer.State(kA).state == NumberState::kHealthy);
}

TEST_CASE("quarantine_for 0 lasts until released", "[pacing]") {
  Policy p = TestPolicy();
  p.quarantine_for = absl::ZeroDuration();
  Fixture f(p);
  auto q = f.pacer.Quarantine(kA, std::nullopt, kT0);
  REQUIRE(q.ok());
  CHECK(q->after.state == NumberState::kQuarantined);
  CHECK(q->after.until == absl::InfiniteFuture());
  f.pacer.Tick(kT0 + absl::Hours(48));
  CHECK(f.pacer.State(kA).state == NumberState::kQuarantined);
  CHECK(f.Dial(kA, 200, kT0 + absl::Hours(48)).retry_after == absl::Hours(1));
  auto r = f.pacer.Release(kA, kT0 + absl::Hours(49));
  REQUIRE(r.ok());
  CHECK(r->after.state == NumberState::kHealthy);
  CHECK(r->before == NumberState::kQuarantined);
  CHECK(r->changed);
  CHECK_FALSE(f.Dial(kA, 200, kT0 + absl::Hours(49)).refuse);
  CHECK(f.events.changes.back().reason == "operator: released");
}

TEST_CASE("a quarantine of a number never seen is pre-emptive; a release with nothing to release creates nothing",
          "[pacing]") {
  Fixture f;
  // Release of a number never seen: nothing to release, and no entry for it.
  auto r = f.pacer.Release(kA, kT0);
  REQUIRE(r.ok());
  CHECK_FALSE(r->changed);
  CHECK_FALSE(r->tracked);
  CHECK(r->after.state == NumberState::kHealthy);
  CHECK(f.store.numbers_tracked() == 0);
  CHECK(f.events.changes.empty());
  // Release of a healthy number: nothing to release either.
  f.Dial(kB, 200, kT0);
  r = f.pacer.Release(kB, kT0);
  REQUIRE(r.ok());
  CHECK_FALSE(r->changed);
  CHECK(r->tracked);
  CHECK(f.store.numbers_tracked() == 1);
  CHECK(f.events.changes.empty());
  // A quarantine of a number never seen: allowed, and said to be pre-emptive.
  auto q = f.pacer.Quarantine(kA, absl::Hours(1), kT0);
  REQUIRE(q.ok());
  CHECK_FALSE(q->tracked);
  CHECK(q->changed);
  CHECK(q->before == NumberState::kHealthy);
  CHECK(q->after.state == NumberState::kQuarantined);
  CHECK(f.store.numbers_tracked() == 2);
  CHECK(f.Dial(kA, 200, kT0 + absl::Minutes(1)).refuse);
  // Of a number it knows: not pre-emptive.
  q = f.pacer.Quarantine(kB, absl::Hours(1), kT0);
  REQUIRE(q.ok());
  CHECK(q->tracked);
}

TEST_CASE("the pacer keeps the flags' policy and who set the live one", "[pacing]") {
  Fixture f;
  CHECK(f.pacer.policy_origin().at == absl::InfinitePast());
  Policy p = TestPolicy();
  p.number_cpm = 3;
  f.pacer.SetPolicy(p, PolicyOrigin{kT0, "uid=0 pid=1"});
  CHECK(f.pacer.policy().number_cpm == 3);
  CHECK(f.pacer.flag_policy().number_cpm == 0);
  CHECK(f.pacer.policy_origin().at == kT0);
  CHECK(f.pacer.policy_origin().by == "uid=0 pid=1");
}

TEST_CASE("an operator quarantine for a duration ends on time", "[pacing]") {
  Fixture f;
  REQUIRE(f.pacer.Quarantine(kA, absl::Minutes(5), kT0).ok());
  CHECK(f.Dial(kA, 200, kT0 + absl::Minutes(4)).refuse);
  f.pacer.Tick(kT0 + absl::Minutes(5));
  CHECK(f.pacer.State(kA).state == NumberState::kProbation);
}

TEST_CASE("dry run decides the same but lets every call through", "[pacing]") {
  Policy p = TestPolicy();
  p.dry_run = true;
  Fixture f(p);
  absl::Time t = kT0;
  for (int i = 0; i < 10; ++i) f.Dial(kA, 603, t += absl::Seconds(1));
  CHECK(f.pacer.State(kA).state == NumberState::kQuarantined);
  Decision d = f.Dial(kA, 603, t += absl::Seconds(1));
  CHECK(d.refuse);
  CHECK(d.dry_run);
  CHECK(f.pacer.paced_total() == 1);
  CHECK(f.store.Snapshot(kA, t)->window.attempts == 11);  // it was forwarded
}

TEST_CASE("number_cpm caps every number with a token bucket", "[pacing]") {
  Policy p = TestPolicy();
  p.number_cpm = 6;  // capacity 1, one call per 10 s
  Fixture f(p);
  CHECK_FALSE(f.Dial(kA, 200, kT0).refuse);
  Decision d = f.Dial(kA, 200, kT0 + absl::Seconds(1));
  CHECK(d.refuse);
  CHECK(d.state == NumberState::kHealthy);
  CHECK(d.retry_after == absl::Seconds(9) + absl::Milliseconds(1));
  CHECK_FALSE(f.Dial(kA, 200, kT0 + absl::Seconds(10)).refuse);
}

TEST_CASE("policy reads from another thread see the last SetPolicy", "[pacing]") {
  Fixture f;
  Policy p = TestPolicy();
  p.min_attempts = 42;
  f.pacer.SetPolicy(p);
  CHECK(f.pacer.policy().min_attempts == 42);
}

}  // namespace
}  // namespace sippacer::pacing

namespace sippacer::pacing {
namespace {

TEST_CASE("a tick reviews a bounded number of paced numbers, round-robin", "[pacing]") {
  metrics::StoreOptions o;
  o.max_numbers = 20'000;
  metrics::Store store(o);
  Events events;
  Pacer pacer(store, TestPolicy(), &events);
  for (metrics::E164 n = 15550000000; n < 15550010000; ++n) REQUIRE(pacer.Quarantine(n, absl::Minutes(5), kT0).ok());
  const absl::Time over = kT0 + absl::Minutes(5);
  pacer.Tick(over);
  // One tick moves at most 4,096 of them; the rest follow on the next ticks.
  CHECK(pacer.numbers_in_state(NumberState::kProbation) == 4096);
  pacer.Tick(over + absl::Seconds(1));
  pacer.Tick(over + absl::Seconds(2));
  CHECK(pacer.numbers_in_state(NumberState::kProbation) == 10'000);
  CHECK(pacer.numbers_in_state(NumberState::kQuarantined) == 0);
}

}  // namespace
}  // namespace sippacer::pacing
