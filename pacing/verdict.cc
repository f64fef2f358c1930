#include "pacing/verdict.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_format.h"
#include "pacing/evidence.h"
#include "pacing/rule_match.h"

namespace sippacer::pacing {
namespace {

bool Passes(const Rule& r, double value) { return r.inclusive ? value >= r.fraction : value > r.fraction; }

bool Fires(const Policy& policy, const Rule& rule, const RuleEvidence& ev, double h, absl::Time now) {
  // Evidence whose run began longer ago than the window has expired.
  if (now - absl::FromUnixSeconds(ev.since_s) > rule.window) return false;
  if (ev.sum < h || ev.calls < static_cast<uint32_t>(policy.min_attempts) || ev.calls == 0) return false;
  return policy.confidence <= 0 || Passes(rule, WilsonLowerBound(ev.hits, ev.calls, policy.confidence));
}

}  // namespace

Thresholds ThresholdsFor(const Policy& policy) {
  int pacing = 0, watch = 0;
  for (size_t i = 0; i < policy.rules.size() && i < kMaxRules; ++i) {
    const Rule& r = policy.rules[i];
    (r.action == RuleAction::kWatch ? watch : pacing)++;
    // A carrier-code rule is also tested per carrier. Each call reaches one
    // carrier, so together those tests see the number's calls once: in the
    // bound they count as one more rule, whatever the number of carriers.
    if (CarrierRuleIndex(policy.rules, i) >= 0) ++pacing;
  }
  return Thresholds{EvidenceThreshold(policy.false_alarm_rate, pacing),
                    EvidenceThreshold(policy.false_alarm_rate, watch)};
}

Verdict Judge(const metrics::Store& store, const Policy& policy, const Thresholds& h, metrics::NumberId id,
              const PacingEntry& entry, absl::Time now, bool watch) {
  Verdict best;
  double best_margin = 0;
  const double threshold = watch ? h.watch : h.pacing;
  auto consider = [&](size_t i, const RuleEvidence& ev, int carrier_group) {
    const Rule& rule = policy.rules[i];
    if (!Fires(policy, rule, ev, threshold, now)) return;
    // A quarantine rule outranks a throttle rule; between runs of one
    // action, the one with the most evidence over h names the reason (a
    // stream of 603+ is also a stream of 603pre, but 603+ says more).
    const double margin = ev.sum - threshold;
    if (best.fired) {
      const bool outranks = rule.action == RuleAction::kQuarantine && best.action == RuleAction::kThrottle;
      const bool same = rule.action == best.action;
      if (!outranks && !(same && margin > best_margin)) return;
    }
    best_margin = margin;
    best.fired = true;
    best.action = rule.action;
    best.rule = i;
    std::string calls = absl::StrCat(ev.calls, " calls");
    if (carrier_group >= 0) {
      const std::string group = store.GroupName(carrier_group);
      absl::StrAppend(&calls, " to ", absl::StripPrefix(group, "carrier:"));
    }
    const absl::Duration run = absl::Trunc(now - absl::FromUnixSeconds(ev.since_s), absl::Seconds(1));
    best.reason =
        absl::StrFormat("%s %.1f%% of %s in %s, over the %s%% line (baseline %.1f%%, evidence %.1f >= %.1f; rule %s)",
                        RuleCodeName(rule), 100.0 * ev.hits / ev.calls, calls, absl::FormatDuration(run),
                        absl::StrFormat("%g", rule.fraction * 100), ev.baseline * 100, ev.sum, threshold, rule.text);
  };
  for (size_t i = 0; i < policy.rules.size() && i < kMaxRules; ++i) {
    if ((policy.rules[i].action == RuleAction::kWatch) != watch) continue;
    consider(i, entry.Evidence().rules[i], -1);
    const int ci = CarrierRuleIndex(policy.rules, i);
    if (ci < 0) continue;
    for (const CarrierEvidence& c : entry.Evidence().by_carrier) {
      if (c.group >= 0) consider(i, c.evidence[ci], c.group);
    }
  }
  if (best.fired && !watch) {
    const absl::Duration history = store.options().history;
    const std::string overuse = OveruseSignature(store.AttemptHistory(id, history, now), history / 24);
    if (!overuse.empty()) absl::StrAppend(&best.reason, "; ", overuse);
  }
  return best;
}

bool RuleCleared(const metrics::Store& store, const Policy& policy, const Thresholds& h, size_t rule_index,
                 metrics::NumberId id, const PacingEntry& entry, absl::Time now) {
  const Rule& rule = policy.rules[rule_index];
  const double threshold = rule.action == RuleAction::kWatch ? h.watch : h.pacing;
  if (Fires(policy, rule, entry.Evidence().rules[rule_index], threshold, now)) return false;
  if (const int ci = CarrierRuleIndex(policy.rules, rule_index); ci >= 0) {
    for (const CarrierEvidence& c : entry.Evidence().by_carrier) {
      if (c.group >= 0 && Fires(policy, rule, c.evidence[ci], threshold, now)) return false;
    }
  }
  const metrics::CodeCounts c = store.Window(id, rule.window, now);
  return !(c.attempts >= static_cast<uint32_t>(policy.min_attempts) && c.attempts > 0 &&
           Passes(rule, static_cast<double>(RuleHits(rule, c)) / c.attempts));
}

bool Recovered(const metrics::Store& store, const Policy& policy, const Thresholds& h, metrics::NumberId id,
               const PacingEntry& entry, absl::Time now) {
  for (size_t i = 0; i < policy.rules.size() && i < kMaxRules; ++i) {
    if (policy.rules[i].action == RuleAction::kWatch) continue;
    if (!RuleCleared(store, policy, h, i, id, entry, now)) return false;
  }
  return true;
}

std::vector<RuleCheck> ExplainRules(const metrics::Store& store, const Policy& policy, const Thresholds& h,
                                    metrics::NumberId id, const PacingEntry& entry, absl::Time now) {
  std::vector<RuleCheck> out;
  for (size_t i = 0; i < policy.rules.size() && i < kMaxRules; ++i) {
    const Rule& rule = policy.rules[i];
    const double threshold = rule.action == RuleAction::kWatch ? h.watch : h.pacing;
    RuleCheck check;
    check.rule = rule.text;
    const metrics::CodeCounts c = store.Window(id, rule.window, now);
    check.attempts = c.attempts;
    check.rate = c.attempts ? static_cast<double>(RuleHits(rule, c)) / c.attempts : 0;
    check.over_line =
        c.attempts > 0 && c.attempts >= static_cast<uint32_t>(policy.min_attempts) && Passes(rule, check.rate);
    const RuleEvidence& ev = entry.Evidence().rules[i];
    check.fires = Fires(policy, rule, ev, threshold, now);
    if (const int ci = CarrierRuleIndex(policy.rules, i); ci >= 0) {
      for (const CarrierEvidence& ce : entry.Evidence().by_carrier) {
        if (ce.group >= 0 && Fires(policy, rule, ce.evidence[ci], threshold, now)) check.fires = true;
      }
    }
    if (check.over_line && !check.fires) {
      // In the order the test applies them (Fires), the first that held.
      const double line = rule.fraction;
      if (ev.baseline >= line) {
        check.held_by = absl::StrFormat(
            "the pool is as high: its routes give other numbers %.1f%%, at or over the %g%% line, so the "
            "number's rate is no evidence against it",
            ev.baseline * 100, line * 100);
      } else if (ev.calls == 0 || now - absl::FromUnixSeconds(ev.since_s) > rule.window) {
        check.held_by =
            "no current run of evidence: the calls over the line are spread over the window, with "
            "enough under it between them to reset the run";
      } else if (ev.calls < static_cast<uint32_t>(policy.min_attempts)) {
        check.held_by = absl::StrFormat("sample too small: %d calls in the current run, --min_attempts is %d", ev.calls,
                                        policy.min_attempts);
      } else if (ev.sum < threshold) {
        check.held_by = absl::StrFormat(
            "evidence %.1f under the threshold %.1f: %d of %d calls in the run against a baseline of %.1f%%; %s",
            ev.sum, threshold, ev.hits, ev.calls, ev.baseline * 100,
            ev.baseline > line / 2 ? "the pool's rate is close to the line, so each call weighs less"
                                   : "more calls over the line are needed (--false_alarm_rate sets how many)");
      } else {
        check.held_by =
            absl::StrFormat("the Wilson lower bound %.1f%% is under the line (--confidence %g)",
                            100 * WilsonLowerBound(ev.hits, ev.calls, policy.confidence), policy.confidence);
      }
    }
    out.push_back(std::move(check));
  }
  return out;
}

std::string OveruseSignature(const std::vector<uint32_t>& history, absl::Duration bucket) {
  const int64_t bucket_s = std::max<int64_t>(60, absl::ToInt64Seconds(bucket));
  const size_t recent = static_cast<size_t>(std::max<int64_t>(2, 90 * 60 / bucket_s));
  const size_t run = static_cast<size_t>(std::max<int64_t>(1, 20 * 60 / bucket_s));
  const size_t n = history.size();
  if (n < run + 2) return "";
  // Each 20-minute run that starts in the last 90 minutes, against the mean
  // of the number's active buckets before it.
  double best = 0;
  for (size_t start = n > recent ? n - recent : 0; start + run <= n; ++start) {
    double before = 0;
    int active = 0;
    for (size_t i = 0; i < start; ++i) {
      if (history[i] == 0) continue;
      before += history[i];
      ++active;
    }
    if (active < 2) continue;
    double volume = 0;
    for (size_t i = start; i < start + run; ++i) volume += history[i];
    const double ratio = volume / static_cast<double>(run) / (before / active);
    if (volume >= 8 && ratio > best) best = ratio;
  }
  if (best < 2.5) return "";
  return absl::StrFormat("overuse: volume %.1fx its baseline before the rise", best);
}

}  // namespace sippacer::pacing
