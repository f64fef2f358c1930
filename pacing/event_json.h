#pragma once
// The one JSON line per event that `subscribe` streams and sippacer-replay
// prints, so live and replayed decisions compare line by line:
//
//   {"event":"state","number":"+1...","from":"healthy","to":"throttled","at":"...Z","reason":"..."}
//   {"event":"watch","number":"+1...","from":"normal","to":"watch","at":"...Z","reason":"..."}
//   {"event":"route","route":"area:212","from":"normal","to":"elevated","at":"...Z","reason":"..."}

#include <string>

#include "pacing/pacer.h"

namespace sippacer::pacing {

std::string StateEventJson(const StateChange& c);
std::string WatchEventJson(const WatchChange& c);
std::string RouteEventJson(const RouteChange& c);
// "2026-11-24T18:00:00.000Z"
std::string EventTime(absl::Time t);

}  // namespace sippacer::pacing
