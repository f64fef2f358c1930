// Parsing and printing --rules: CODE OP PERCENT% / WINDOW : ACTION, e.g.
// 603>=15%/15m:throttle, 6xx>20%/1h:quarantine, 603+>=1%/4h:quarantine.

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "metrics/outcome.h"
#include "pacing/policy.h"
#include "pacing/rule_match.h"

namespace sippacer::pacing {
namespace {

absl::StatusOr<Rule> ParseOne(absl::string_view text) {
  Rule r;
  r.text = std::string(text);
  std::string compact;
  for (char c : text) {
    if (!absl::ascii_isspace(c)) compact.push_back(c);
  }
  absl::string_view s = compact;
  // CODE
  size_t i = 0;
  while (i < s.size() && (absl::ascii_isalnum(s[i]) || s[i] == '+')) ++i;
  // 603pre: the letters belong to the code, not to the operator after it.
  absl::string_view code = s.substr(0, i);
  s.remove_prefix(i);
  if (code.size() == 3 && (code[1] == 'x' || code[1] == 'X') && (code[2] == 'x' || code[2] == 'X') && code[0] >= '2' &&
      code[0] <= '6') {
    r.code_class = code[0] - '0';
  } else if (code == "603+") {
    r.code = 603;
    r.network_blocked_only = true;
  } else if (code == "603pre") {
    r.code = 603;
    r.pre_ring_only = true;
  } else if (code.size() == 3 && absl::SimpleAtoi(code, &r.code) && r.code >= 200 && r.code <= 699) {
    const metrics::Outcome o = metrics::OutcomeFromStatus(r.code);
    if (metrics::OutcomeKey(o) != code && !(r.code >= 200 && r.code < 300)) {
      std::vector<std::string> tracked;
      for (int k = 0; k < metrics::kOutcomeCount; ++k) {
        tracked.emplace_back(metrics::OutcomeKey(static_cast<metrics::Outcome>(k)));
      }
      return absl::InvalidArgumentError(absl::StrCat("code ", code, " is not counted on its own; use its class (",
                                                     code.substr(0, 1), "xx) or one of ", absl::StrJoin(tracked, " "),
                                                     " 603+ 603pre"));
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", code, "' is not a SIP code (603), a class (6xx), 603+ or 603pre"));
  }
  // OP
  if (absl::ConsumePrefix(&s, ">="))
    r.inclusive = true;
  else if (absl::ConsumePrefix(&s, ">"))
    r.inclusive = false;
  else
    return absl::InvalidArgumentError("expected > or >= after the code");
  // PERCENT%
  const size_t pct = s.find('%');
  if (pct == absl::string_view::npos) return absl::InvalidArgumentError("expected a percentage like 15%");
  double percent = 0;
  if (!absl::SimpleAtod(s.substr(0, pct), &percent) || !(percent >= 0) || percent > 100) {
    return absl::InvalidArgumentError(absl::StrCat("'", s.substr(0, pct), "%' is not a percentage 0..100"));
  }
  r.fraction = percent / 100.0;
  s.remove_prefix(pct + 1);
  // /WINDOW
  if (!absl::ConsumePrefix(&s, "/")) return absl::InvalidArgumentError("expected /WINDOW after the percentage");
  const size_t colon = s.find(':');
  if (colon == absl::string_view::npos) return absl::InvalidArgumentError("expected :throttle, :quarantine or :watch");
  if (!absl::ParseDuration(s.substr(0, colon), &r.window) || r.window < absl::Minutes(1) ||
      r.window > absl::Hours(24 * 7)) {
    return absl::InvalidArgumentError(
        absl::StrCat("window '", s.substr(0, colon), "' is not a duration from 1m to 168h (e.g. 15m, 4h)"));
  }
  s.remove_prefix(colon + 1);
  const std::string action = absl::AsciiStrToLower(s);
  if (action == "throttle")
    r.action = RuleAction::kThrottle;
  else if (action == "quarantine")
    r.action = RuleAction::kQuarantine;
  else if (action == "watch")
    r.action = RuleAction::kWatch;
  else
    return absl::InvalidArgumentError(absl::StrCat("action '", s, "' is not throttle, quarantine or watch"));
  return r;
}

}  // namespace

absl::StatusOr<std::vector<Rule>> ParseRules(absl::string_view text) {
  std::vector<Rule> rules;
  int n = 0;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    ++n;
    item = absl::StripAsciiWhitespace(item);
    auto rule = ParseOne(item);
    if (!rule.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("rule ", n, " '", item, "': ", rule.status().message()));
    }
    rules.push_back(*std::move(rule));
  }
  if (rules.size() > kMaxRules) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxRules, " rules"));
  }
  return rules;
}

std::string RulesToString(const std::vector<Rule>& rules) {
  return absl::StrJoin(rules, ",", [](std::string* out, const Rule& r) { out->append(r.text); });
}

uint32_t RuleHits(const Rule& r, const metrics::CodeCounts& c) {
  using metrics::Outcome;
  if (r.network_blocked_only) return c.network_blocked;
  if (r.pre_ring_only) return c.pre_ring_603;
  if (r.code_class == 0) return c.of(metrics::OutcomeFromStatus(r.code));
  uint32_t n = 0;
  for (int k = 0; k < metrics::kOutcomeCount; ++k) {
    const auto o = static_cast<Outcome>(k);
    const absl::string_view key = metrics::OutcomeKey(o);
    if (key[0] - '0' == r.code_class) n += c.by_outcome[k];
  }
  return n;
}

bool RuleMatches(const Rule& r, const metrics::CallOutcome& o) {
  const int code = o.code;
  if (r.network_blocked_only) return o.network_blocked;
  if (r.pre_ring_only) return code == 603 && !o.ringing_seen;
  if (r.code_class != 0) return code / 100 == r.code_class;
  return metrics::OutcomeFromStatus(code) == metrics::OutcomeFromStatus(r.code);
}

bool IsCarrierCode(const Rule& r) {
  return r.pre_ring_only || r.network_blocked_only || (r.code == 608 && r.code_class == 0);
}

int CarrierRuleIndex(const std::vector<Rule>& rules, size_t rule) {
  if (rule >= rules.size() || !IsCarrierCode(rules[rule]) || rules[rule].action == RuleAction::kWatch) return -1;
  int index = 0;
  for (size_t i = 0; i < rule; ++i) {
    if (IsCarrierCode(rules[i]) && rules[i].action != RuleAction::kWatch) ++index;
  }
  return index < kMaxCarrierRules ? index : -1;
}

std::string RuleCodeName(const Rule& r) {
  if (r.network_blocked_only) return "603+";
  if (r.pre_ring_only) return "603pre";
  if (r.code_class != 0) return absl::StrCat(r.code_class, "xx");
  return absl::StrCat(r.code);
}

}  // namespace sippacer::pacing
