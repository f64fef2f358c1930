#include "pacing/verdict.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pacing/pacer.h"
#include "pacing/rule_match.h"

namespace sippacer::pacing {
namespace {

bool Passes(const Rule& r, double value) { return r.inclusive ? value >= r.fraction : value > r.fraction; }

// The rest of the pool: `pool` without the number's own `own` counts, so a
// number that carries most of the traffic is not excused by itself. -1 when
// the rest has fewer than `min_attempts` attempts (no evidence either way).
double RestOfPoolRate(const Rule& r, const metrics::CodeCounts& pool, uint32_t own_attempts,
                      uint32_t own_hits, int min_attempts) {
  const uint32_t attempts = pool.attempts > own_attempts ? pool.attempts - own_attempts : 0;
  const uint32_t pool_hits = RuleHits(r, pool);
  const uint32_t hits = pool_hits > own_hits ? pool_hits - own_hits : 0;
  if (attempts < static_cast<uint32_t>(min_attempts) || attempts == 0) return -1;
  return static_cast<double>(hits) / attempts;
}

}  // namespace

std::string OveruseSignature(const std::vector<uint32_t>& history) {
  if (history.size() < 4) return "";
  const size_t n = history.size();
  const double recent = (history[n - 1] + history[n - 2]) / 2.0;
  double sum = 0;
  int active = 0;
  for (size_t i = 0; i + 2 < n; ++i) {
    if (history[i] == 0) continue;
    sum += history[i];
    ++active;
  }
  if (active == 0) return "";
  const double baseline = sum / active;
  if (recent < 2 * baseline || recent < 4) return "";
  return absl::StrFormat("overuse: volume %.1fx its baseline before the 603s rose", recent / baseline);
}

Verdict Judge(const metrics::Store& store, const Policy& policy, metrics::NumberId id,
              const PacingEntry& entry, absl::Time now) {
  Verdict best;
  const bool probation =
      static_cast<NumberState>(entry.state.load(std::memory_order_relaxed)) == NumberState::kProbation;
  for (size_t i = 0; i < policy.rules.size() && i < kMaxRules; ++i) {
    const Rule& rule = policy.rules[i];
    uint32_t attempts, hits;
    if (probation) {
      attempts = entry.probation_attempts;
      hits = entry.probation_hits[i];
    } else {
      const metrics::CodeCounts c = store.Window(id, rule.window, now);
      attempts = c.attempts;
      hits = RuleHits(rule, c);
    }
    if (attempts < static_cast<uint32_t>(policy.min_attempts) || attempts == 0) continue;
    const double rate = static_cast<double>(hits) / attempts;
    if (!Passes(rule, rate)) continue;
    const double lower = WilsonLowerBound(hits, attempts, policy.confidence);
    if (policy.confidence > 0 && !Passes(rule, lower)) continue;
    if (policy.hour_guard) {
      const double pool_now = RestOfPoolRate(rule, store.PoolWindow(rule.window, now), attempts, hits,
                                             policy.min_attempts);
      const double pool_hour = RestOfPoolRate(rule, store.PoolHour(store.HourOf(now)), attempts, hits,
                                              policy.min_attempts);
      const double pool = std::max(pool_now, pool_hour);
      if (pool >= 0 && Passes(rule, pool) && lower <= pool) continue;  // it only follows the pool
    }
    if (best.fired && !(rule.action == RuleAction::kQuarantine && best.action == RuleAction::kThrottle)) continue;
    best.fired = true;
    best.action = rule.action;
    best.reason = absl::StrFormat("%s %.1f%% of %u attempts in %s (rule %s)",
                                  rule.network_blocked_only ? "603+" :
                                  rule.code_class ? absl::StrCat(rule.code_class, "xx") : absl::StrCat(rule.code),
                                  rate * 100, attempts,
                                  probation ? "probation" : absl::FormatDuration(rule.window), rule.text);
    if (!probation) {
      const std::string overuse = OveruseSignature(store.AttemptHistory(id, rule.window, now));
      if (!overuse.empty()) absl::StrAppend(&best.reason, "; ", overuse);
    }
  }
  return best;
}

}  // namespace sippacer::pacing
