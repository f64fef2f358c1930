#pragma once
// Baselines: what a healthy number sees on a call's route, the p0 of every
// rule's test (evidence.h).
//
// A call is counted in four groups: the whole pool, its terminating
// carrier, its dialed country and (NANP) its area code. For each, over the
// last 30 minutes and over the Store's history, the group's rate of the
// rule's CODE *without the number's own calls*, shrunk toward the pool's
// rate by 50 pseudo-calls so a thin group (an area code with 12 calls)
// cannot swing it; with --hour_guard, the pool's rate at this hour of day
// on earlier days too. The baseline is the highest of them, and never under
// 0.2%: a route-wide rise (a carrier blocking everyone, an evening of 480s,
// a country's 403s) raises the bar for every number on that route instead
// of condemning them one by one.
//
// Group counts are read once a minute per group and cached: the SIP thread
// sums a group's buckets at most once a minute.

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "metrics/store.h"
#include "pacing/policy.h"

namespace sippacer::pacing {

inline constexpr absl::Duration kRouteWindow = absl::Minutes(30);
inline constexpr absl::Duration kRouteShortWindow = absl::Minutes(10);
inline constexpr double kBaselineFloor = 0.002;
inline constexpr double kShrinkCalls = 50;

// A number's own counts over the two baseline windows.
struct OwnCounts {
  metrics::CodeCounts recent;   // kRouteWindow
  metrics::CodeCounts history;  // the Store's history
};

class Baselines {
 public:
  explicit Baselines(const metrics::Store& store) : store_(store) {}
  double For(const Rule& rule, const metrics::Route& route, const OwnCounts& own, absl::Time now, bool hour_guard);
  // The cached counts of one group (refreshed once a minute). The reference
  // is good until the next call: the cache may grow and move.
  const metrics::CodeCounts& Recent(int group, absl::Time now) { return Refresh(group, now).recent; }
  const metrics::CodeCounts& Latest(int group, absl::Time now) { return Refresh(group, now).latest; }
  const metrics::CodeCounts& History(int group, absl::Time now) { return Refresh(group, now).history; }

 private:
  struct Cached {
    int64_t minute = -1;
    metrics::CodeCounts latest, recent, history;  // kRouteShortWindow, kRouteWindow, history
  };
  const Cached& Refresh(int group, absl::Time now);

  const metrics::Store& store_;
  absl::flat_hash_map<int, Cached> cache_;
};

}  // namespace sippacer::pacing
