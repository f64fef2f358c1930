#include <catch2/catch.hpp>

#include <vector>

#include "pacing/pacer.h"

namespace sippacer::pacing {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
constexpr metrics::E164 kA = 15551230001;

struct Quiet : EventSink {
  void OnStateChange(const StateChange&) override {}
};

Policy Rules(int min_attempts) {
  Policy p;
  p.rules = *ParseRules("603>=20%/10m:throttle");
  p.min_attempts = min_attempts;
  p.confidence = 0;
  p.hour_guard = false;
  p.false_alarm_rate = 1e-4;  // h = ln(1440 / 1e-4), about 16.5: a few calls do not decide
  return p;
}

metrics::StoreOptions Options() {
  metrics::StoreOptions o;
  o.max_numbers = 100;
  o.history = absl::Hours(4);
  return o;
}

void Dial(Pacer& pacer, int code, absl::Time now) {
  pacer.OnInvite(kA, 15550001234, now);
  metrics::CallOutcome o;
  o.caller = kA;
  o.callee = 15550001234;
  o.code = code;
  o.final_at = now;
  pacer.OnFinal(o);
}

TEST_CASE("a number over a rule's line but not paced says what held the rule", "[pacing]") {
  metrics::Store store(Options());
  Quiet quiet;
  Pacer pacer(store, Rules(3), &quiet);
  // 2 of 4 declined: 50%, over the 20% line, on 4 calls (>= --min_attempts 3),
  // yet far from the evidence a false-alarm rate of 1e-4 asks for.
  absl::Time t = kT0;
  for (int code : {603, 200, 603, 200}) Dial(pacer, code, t += absl::Seconds(10));
  const std::vector<RuleCheck> checks = pacer.Explain(kA, t);
  REQUIRE(checks.size() == 1);
  CHECK(checks[0].rule == "603>=20%/10m:throttle");
  CHECK(checks[0].attempts == 4);
  CHECK(checks[0].rate == Approx(0.5));
  CHECK(checks[0].over_line);
  CHECK_FALSE(checks[0].fires);
  CHECK(checks[0].held_by.find("evidence") != std::string::npos);
  CHECK(pacer.State(kA).state == NumberState::kHealthy);
}

TEST_CASE("under the line or too few calls: nothing to explain", "[pacing]") {
  metrics::Store store(Options());
  Quiet quiet;
  Pacer pacer(store, Rules(10), &quiet);
  absl::Time t = kT0;
  for (int code : {603, 200, 603}) Dial(pacer, code, t += absl::Seconds(10));
  auto checks = pacer.Explain(kA, t);
  REQUIRE(checks.size() == 1);
  CHECK_FALSE(checks[0].over_line);  // 3 calls, --min_attempts 10
  CHECK(checks[0].held_by.empty());
  CHECK(pacer.Explain(15559999999, t).empty());  // never seen
}

}  // namespace
}  // namespace sippacer::pacing
