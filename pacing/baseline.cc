#include "pacing/baseline.h"

#include <algorithm>

#include "pacing/rule_match.h"

namespace sippacer::pacing {
namespace {

struct Rate {
  double hits = 0;
  double calls = 0;
};

// The group's counts less the number's own (never below zero).
Rate Rest(const Rule& rule, const metrics::CodeCounts& group, const metrics::CodeCounts& own) {
  const double hits = RuleHits(rule, group), own_hits = RuleHits(rule, own);
  return Rate{std::max(0.0, hits - own_hits), std::max(0.0, static_cast<double>(group.attempts) - own.attempts)};
}

double Shrunk(const Rate& r, double prior) { return (r.hits + kShrinkCalls * prior) / (r.calls + kShrinkCalls); }

}  // namespace

const Baselines::Cached& Baselines::Refresh(int group, absl::Time now) {
  Cached& c = cache_[group];
  const int64_t minute = absl::ToUnixSeconds(now) / 60;
  if (c.minute != minute) {
    c.minute = minute;
    c.latest = store_.GroupWindow(group, kRouteShortWindow, now);
    c.recent = store_.GroupWindow(group, kRouteWindow, now);
    c.history = store_.GroupWindow(group, store_.options().history, now);
  }
  return c;
}

double Baselines::For(const Rule& rule, const metrics::Route& route, const OwnCounts& own, absl::Time now,
                      bool hour_guard) {
  const metrics::CodeCounts pool = History(metrics::Store::kPoolGroup, now);  // a copy: see Recent()
  const Rate pool_history = Rest(rule, pool, own.history);
  const double prior = pool_history.calls > 0 ? pool_history.hits / pool_history.calls : kBaselineFloor;
  double p0 = std::max(kBaselineFloor, prior);
  p0 = std::max(p0, Shrunk(Rest(rule, Recent(metrics::Store::kPoolGroup, now), own.recent), prior));
  for (int group : {route.carrier, route.country, route.area}) {
    if (group < 0) continue;
    p0 = std::max(p0, Shrunk(Rest(rule, Recent(group, now), own.recent), prior));
    p0 = std::max(p0, Shrunk(Rest(rule, History(group, now), own.history), prior));
  }
  if (hour_guard) {
    // Every earlier day's calls at this hour (the number's own recent calls
    // are the best guess at its share of them).
    p0 = std::max(p0, Shrunk(Rest(rule, store_.PoolHour(store_.HourOf(now)), own.history), prior));
  }
  return p0;
}

}  // namespace sippacer::pacing
