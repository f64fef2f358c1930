#pragma once
// RouteWatch: route-wide signals. A carrier, dialed country or area code
// whose rate of a code stands well above the rest of the pool's is a route
// problem (routing tables, congestion, an outage, a carrier blocking
// everyone), not a number problem: it is reported as a `route` event and in
// `show carriers` / `show countries` / `show areas`, and baselines.h keeps it
// from condemning the numbers that dial it.
//
// Over the last 30 minutes, a group is *elevated* for a code when it has at
// least 20 calls, its rate is 1.5 times the rest of the pool's and 5 points
// over it, and a count that high would happen by chance less than once in a
// million at the rest's rate (Poisson tail; ~1,000 route-code pairs, each
// with ~150 independent 10-minute windows a day, make a spurious route event
// about one a week). The same over the last 10 minutes raises it sooner.
// It is *normal*
// again under 1.25x or 2.5 points, so one call does not flip it back and
// forth. The rest of the pool must itself have 20 calls and at least as
// many as the group, or there is nothing to compare with.

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "metrics/store.h"
#include "pacing/baseline.h"

namespace sippacer::pacing {

struct RouteChange {
  std::string route;  // "area:212", "country:+49", "carrier:charlie"
  bool elevated = false;
  std::string code;  // "480", "603pre"
  absl::Time at;
  std::string reason;
};

struct RouteStatus {
  std::string route;
  std::string code;
  double rate = 0, rest_rate = 0;
  uint32_t calls = 0;
  absl::Time since;
};

class RouteWatch {
 public:
  // Evaluates every active group; returns the changes since the last call.
  std::vector<RouteChange> Evaluate(const metrics::Store& store, Baselines& baselines, absl::Time now);
  // The routes elevated now (any thread).
  std::vector<RouteStatus> Elevated() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<RouteStatus> elevated_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sippacer::pacing
