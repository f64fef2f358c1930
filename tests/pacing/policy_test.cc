#include <catch2/catch.hpp>

#include "pacing/policy.h"

namespace sippacer::pacing {
namespace {

TEST_CASE("set policy applies every valid key", "[pacing]") {
  Policy base;
  auto p = ApplyPolicyUpdate(
      base, {"min_attempts=5", "number_cpm=3.5", "throttled_cpm=1", "quarantine_for=0", "reject_code=480",
             "dry_run=true", "confidence=0.95", "hour_guard=off", "rules=603>=20%/10m:throttle"});
  REQUIRE(p.ok());
  CHECK(p->min_attempts == 5);
  CHECK(p->number_cpm == 3.5);
  CHECK(p->throttled_cpm == 1);
  CHECK(p->quarantine_for == absl::ZeroDuration());
  CHECK(p->reject_code == 480);
  CHECK(p->dry_run);
  CHECK(p->confidence == 0.95);
  CHECK_FALSE(p->hour_guard);
  CHECK(p->rules.size() == 1);
}

TEST_CASE("an invalid update changes nothing and names the key", "[pacing]") {
  Policy base;
  for (const char* bad : {"min_attempts=0", "number_cpm=-1", "throttled_cpm=0", "quarantine_for=later",
                          "reject_code=200", "dry_run=maybe", "confidence=1", "rules=603", "colour=red", "novalue"}) {
    INFO(bad);
    auto p = ApplyPolicyUpdate(base, {"min_attempts=7", bad});
    REQUIRE_FALSE(p.ok());
  }
  CHECK(ApplyPolicyUpdate(base, {"min_attempts=0"}).status().message().find("min_attempts") == 0);
  CHECK_FALSE(ApplyPolicyUpdate(base, {}).ok());
}

}  // namespace
}  // namespace sippacer::pacing

namespace sippacer::pacing {
namespace {

TEST_CASE("set policy refuses not-a-number values", "[pacing]") {
  const Policy base;
  for (const char* kv : {"confidence=nan", "false_alarm_rate=nan", "number_cpm=nan", "throttled_cpm=nan"}) {
    INFO(kv);
    CHECK_FALSE(ApplyPolicyUpdate(base, {kv}).ok());
  }
}

}  // namespace
}  // namespace sippacer::pacing
