// --rules and `set policy KEY=VALUE ...`: whatever is accepted is in range,
// and a rule list prints (show policy, the state of `set policy rules=`) as
// text that parses back to the same rules.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "pacing/policy.h"
#include "pacing/rule_match.h"
#include "tests/fuzz/fuzz_check.h"

namespace sippacer::pacing {
namespace {

bool SameRule(const Rule& a, const Rule& b) {
  return a.text == b.text && a.code == b.code && a.code_class == b.code_class &&
         a.network_blocked_only == b.network_blocked_only && a.pre_ring_only == b.pre_ring_only &&
         a.inclusive == b.inclusive && a.fraction == b.fraction && a.window == b.window && a.action == b.action;
}

void CheckRules(const std::vector<Rule>& rules) {
  FUZZ_CHECK(rules.size() <= kMaxRules);
  for (const Rule& r : rules) {
    FUZZ_CHECK(r.fraction >= 0 && r.fraction <= 1);
    FUZZ_CHECK(r.window >= absl::Minutes(1) && r.window <= absl::Hours(168));
    FUZZ_CHECK((r.code >= 200 && r.code <= 699) != (r.code_class >= 2 && r.code_class <= 6));
    FUZZ_CHECK(!r.text.empty() && r.text.find(',') == std::string::npos);
  }
  auto again = ParseRules(RulesToString(rules));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->size() == rules.size());
  for (size_t i = 0; i < rules.size(); ++i) FUZZ_CHECK(SameRule((*again)[i], rules[i]));
}

void CheckPolicy(const Policy& p, const std::vector<std::string>& words) {
  FUZZ_CHECK(p.min_attempts >= 1 && p.min_attempts <= 1'000'000);
  FUZZ_CHECK(p.number_cpm >= 0 && p.number_cpm <= 100000);
  FUZZ_CHECK(p.throttled_cpm > 0 && p.throttled_cpm <= 100000);
  FUZZ_CHECK(p.quarantine_for >= absl::ZeroDuration());
  FUZZ_CHECK(p.reject_code >= 400 && p.reject_code <= 699);
  FUZZ_CHECK(p.false_alarm_rate > 0 && p.false_alarm_rate < 1);
  FUZZ_CHECK(p.baseline_days >= 0 && p.baseline_days <= 365);
  FUZZ_CHECK(p.confidence >= 0 && p.confidence < 1);
  CheckRules(p.rules);
  // The last rules= wins, exactly as --rules would parse it.
  for (auto it = words.rbegin(); it != words.rend(); ++it) {
    if (!absl::StartsWith(*it, "rules=")) continue;
    auto rules = ParseRules(absl::string_view(*it).substr(6));
    FUZZ_CHECK(rules.ok() && rules->size() == p.rules.size());
    for (size_t i = 0; i < rules->size(); ++i) FUZZ_CHECK(SameRule((*rules)[i], p.rules[i]));
    break;
  }
}

}  // namespace
}  // namespace sippacer::pacing

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sippacer::pacing;
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto rules = ParseRules(in); rules.ok()) CheckRules(*rules);

  // As the stats socket splits `set policy` arguments.
  const std::vector<std::string> words = absl::StrSplit(in, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty());
  Policy base;
  base.rules = *ParseRules(kDefaultRules);
  if (auto p = ApplyPolicyUpdate(base, words); p.ok()) CheckPolicy(*p, words);
  return 0;
}
