#include "pacing/route_watch.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "pacing/rule_match.h"

namespace sippacer::pacing {
namespace {

constexpr uint32_t kMinCalls = 20;
constexpr double kRiseFactor = 1.5, kRisePoints = 0.05, kRiseChance = 1e-7;
constexpr double kFallFactor = 1.25, kFallPoints = 0.025;

// P(X >= k) for X ~ Poisson(lambda): how likely the route's count is if it
// only had the rest of the pool's rate. Exact tail sum (k > lambda here, so
// the terms shrink geometrically).
double PoissonTail(uint32_t k, double lambda) {
  if (k == 0) return 1;
  double term = std::exp(-lambda + k * std::log(lambda) - std::lgamma(k + 1.0));
  double sum = 0;
  for (uint32_t i = k; i < k + 10000 && term > sum * 1e-12; ++i) {
    sum += term;
    term *= lambda / (i + 1);
  }
  return std::min(1.0, sum);
}

// The codes whose route-wide rises mean something to an operator.
const std::vector<Rule>& WatchedCodes() {
  static const std::vector<Rule>* codes = [] {
    auto* v = new std::vector<Rule>();
    for (const char* text : {"403>1%/30m:watch", "404>1%/30m:watch", "410>1%/30m:watch", "480>1%/30m:watch",
                             "486>1%/30m:watch", "503>1%/30m:watch", "603pre>1%/30m:watch", "608>1%/30m:watch"}) {
      v->push_back(ParseRules(text)->front());
    }
    return v;
  }();
  return *codes;
}

}  // namespace

namespace {

// One group against the rest of the pool over one window.
struct Reading {
  bool comparable = false;
  uint32_t calls = 0, hits = 0;
  double rate = 0, rest = 0;

  Reading(const Rule& code, const metrics::CodeCounts& g, const metrics::CodeCounts& pool) {
    const uint32_t rest_calls = pool.attempts > g.attempts ? pool.attempts - g.attempts : 0;
    // A group with most of the pool's calls *is* the pool: nothing to compare.
    comparable = g.attempts > 0 && rest_calls >= kMinCalls && g.attempts <= rest_calls;
    if (!comparable) return;
    calls = g.attempts;
    hits = RuleHits(code, g);
    const uint32_t pool_hits = RuleHits(code, pool);
    rate = static_cast<double>(hits) / calls;
    rest = static_cast<double>(pool_hits > hits ? pool_hits - hits : 0) / rest_calls;
  }
  bool Rises() const {
    return comparable && calls >= kMinCalls && rate >= kRiseFactor * rest && rate - rest >= kRisePoints &&
           PoissonTail(hits, calls * std::max(rest, kBaselineFloor)) <= kRiseChance;
  }
  bool Holds() const {
    return comparable && calls >= kMinCalls / 2 && rate >= kFallFactor * rest && rate - rest >= kFallPoints;
  }
  std::string Text(absl::string_view code, absl::string_view window) const {
    return absl::StrFormat("%s %.1f%% of %u calls in %s, rest of the pool %.1f%%", code, rate * 100, calls, window,
                           rest * 100);
  }
};

}  // namespace

std::vector<RouteChange> RouteWatch::Evaluate(const metrics::Store& store, Baselines& baselines, absl::Time now) {
  std::vector<RouteChange> changes;
  const std::vector<RouteStatus> previous = Elevated();
  std::vector<RouteStatus> next;
  // Copies: the cache may grow (and move) as the loop meets new groups.
  const metrics::CodeCounts pool_latest = baselines.Latest(metrics::Store::kPoolGroup, now);
  const metrics::CodeCounts pool_recent = baselines.Recent(metrics::Store::kPoolGroup, now);
  for (int group : store.ActiveGroups()) {
    const metrics::CodeCounts latest = baselines.Latest(group, now);
    const metrics::CodeCounts recent = baselines.Recent(group, now);
    std::string route;
    for (const Rule& code : WatchedCodes()) {
      const std::string code_name = RuleCodeName(code);
      const Reading short_read(code, latest, pool_latest), long_read(code, recent, pool_recent);
      if (route.empty()) route = store.GroupName(group);
      const RouteStatus* was = nullptr;
      for (const RouteStatus& p : previous) {
        if (p.route == route && p.code == code_name) was = &p;
      }
      // Up on either window (10 minutes sees a sudden rise sooner), down
      // only when the 30-minute window no longer holds it.
      const bool short_rises = short_read.Rises();
      const bool elevated = was != nullptr ? long_read.Holds() || short_read.Holds() : short_rises || long_read.Rises();
      const Reading& shown = short_rises && !long_read.Rises() ? short_read : long_read;
      if (elevated) next.push_back({route, code_name, shown.rate, shown.rest, shown.calls, was ? was->since : now});
      if (elevated != (was != nullptr)) {
        RouteChange c;
        c.route = route;
        c.elevated = elevated;
        c.code = code_name;
        c.at = now;
        c.reason = shown.Text(code_name, &shown == &short_read ? "10m" : "30m");
        changes.push_back(std::move(c));
      }
    }
  }
  absl::MutexLock lock(&mu_);
  elevated_ = std::move(next);
  return changes;
}

std::vector<RouteStatus> RouteWatch::Elevated() const {
  absl::MutexLock lock(&mu_);
  return elevated_;
}

}  // namespace sippacer::pacing
