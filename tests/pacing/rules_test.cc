#include <catch2/catch.hpp>

#include "pacing/policy.h"
#include "pacing/rule_match.h"

namespace sippacer::pacing {
namespace {

TEST_CASE("the default rules parse", "[pacing]") {
  auto rules = ParseRules("603>=15%/15m:throttle,603>5%/4h:quarantine,480>10%/4h:throttle");
  REQUIRE(rules.ok());
  REQUIRE(rules->size() == 3);
  const Rule& r = (*rules)[0];
  CHECK(r.code == 603);
  CHECK(r.inclusive);
  CHECK(r.fraction == Approx(0.15));
  CHECK(r.window == absl::Minutes(15));
  CHECK(r.action == RuleAction::kThrottle);
  CHECK((*rules)[1].action == RuleAction::kQuarantine);
  CHECK_FALSE((*rules)[1].inclusive);
  CHECK(RulesToString(*rules) == "603>=15%/15m:throttle,603>5%/4h:quarantine,480>10%/4h:throttle");
}

TEST_CASE("classes, 603+ and spaces", "[pacing]") {
  auto rules = ParseRules(" 6xx > 20% / 1h : quarantine , 603+>=1.5%/4h:quarantine");
  REQUIRE(rules.ok());
  CHECK((*rules)[0].code_class == 6);
  CHECK((*rules)[1].network_blocked_only);
  CHECK((*rules)[1].fraction == Approx(0.015));
}

TEST_CASE("bad rules are refused with the rule named", "[pacing]") {
  for (const char* bad : {"603=15%/15m:throttle", "603>=15/15m:throttle", "603>=150%/15m:throttle",
                          "603>=15%/forever:throttle", "603>=15%/15m:block", "abc>=15%/15m:throttle",
                          "488>=15%/15m:throttle", "603>=15%15m:throttle", "603>=15%/10s:throttle"}) {
    auto rules = ParseRules(absl::StrCat("480>10%/4h:throttle,", bad));
    INFO(bad);
    REQUIRE_FALSE(rules.ok());
    CHECK(rules.status().message().find("rule 2") != std::string::npos);
  }
}

TEST_CASE("a rule's hits read the right counters", "[pacing]") {
  metrics::CodeCounts c;
  c.attempts = 100;
  c.by_outcome[static_cast<int>(metrics::Outcome::k603)] = 10;
  c.by_outcome[static_cast<int>(metrics::Outcome::k608)] = 3;
  c.network_blocked = 4;
  c.pre_ring_603 = 6;
  auto rules = ParseRules("603>1%/1h:throttle,6xx>1%/1h:throttle,603+>1%/1h:throttle,603pre>1%/1h:watch");
  REQUIRE(rules.ok());
  CHECK(RuleHits((*rules)[0], c) == 10);
  CHECK(RuleHits((*rules)[1], c) == 13);
  CHECK(RuleHits((*rules)[2], c) == 4);
  CHECK(RuleHits((*rules)[3], c) == 6);
  CHECK((*rules)[3].action == RuleAction::kWatch);
  metrics::CallOutcome o;
  o.code = 607;
  CHECK(RuleMatches((*rules)[1], o));
  o.code = 603;
  CHECK_FALSE(RuleMatches((*rules)[2], o));
  CHECK(RuleMatches((*rules)[3], o));  // no ring before it
  o.ringing_seen = true;
  CHECK_FALSE(RuleMatches((*rules)[3], o));  // declined by a person, after ring
  CHECK(RuleMatches((*rules)[0], o));
}

TEST_CASE("603pre and watch parse; the defaults are valid", "[pacing]") {
  auto r = ParseRules("603pre >= 15% / 1h : throttle");
  REQUIRE(r.ok());
  CHECK(r->front().pre_ring_only);
  CHECK(r->front().code == 603);
  CHECK(RuleCodeName(r->front()) == "603pre");
  auto defaults = ParseRules(kDefaultRules);
  REQUIRE(defaults.ok());
  CHECK(defaults->size() == 5);
  CHECK_FALSE(ParseRules("603post>1%/1h:throttle").ok());
  CHECK_FALSE(ParseRules("603pre>1%/1h:panic").ok());
}

}  // namespace
}  // namespace sippacer::pacing
