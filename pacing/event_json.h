#pragma once
// The one JSON line per event that `subscribe` streams and sippacer-replay
// prints, so live and replayed decisions compare line by line:
//
//   {"event":"state","number":"+1...","from":"healthy","to":"throttled","at":"...Z","reason":"..."}
//   {"event":"watch","number":"+1...","from":"normal","to":"watch","at":"...Z","reason":"..."}
//   {"event":"route","route":"area:212","from":"normal","to":"elevated","at":"...Z","reason":"..."}
//   {"event":"policy","at":"...Z","by":"uid=0(root) pid=4242","from":{"dry_run":false},"to":{"dry_run":true},
//    "reason":"dry_run false -> true"}
//
// and the pacing policy's keys as `show policy`, `set policy`, the policy
// event and --state_file write them.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "metrics/json_writer.h"
#include "pacing/pacer.h"

namespace sippacer::pacing {

std::string StateEventJson(const StateChange& c);
std::string WatchEventJson(const WatchChange& c);
std::string RouteEventJson(const RouteChange& c);
// "2026-11-24T18:00:00.000Z"
std::string EventTime(absl::Time t);

// One key of the live policy: its value in `set policy` syntax, exact (read
// back through ApplyPolicyUpdate it gives the same value), and as JSON.
struct PolicySetting {
  enum class Kind { kText, kInt, kNumber, kBool };
  std::string key;
  std::string text;  // "603pre>=15%/1h:throttle", "5", "0.0001", "4h", "true"
  Kind kind = Kind::kText;
  double number = 0;  // kInt, kNumber
  bool boolean = false;
};
// Every key `set policy` takes, in `show policy` order.
std::vector<PolicySetting> PolicySettings(const Policy& p);
// Appends the value as `show policy` has it: a number, a bool or a string.
void WritePolicyValue(metrics::JsonWriter& w, const PolicySetting& s);
// The keys whose values differ, in `show policy` order.
std::vector<std::string> ChangedPolicyKeys(const Policy& from, const Policy& to);
// "number_cpm 0 -> 1, dry_run false -> true"; "" when nothing differs.
std::string PolicyChangeText(const Policy& from, const Policy& to);

// A change of the live policy: `set policy`, or a saved one at start.
struct PolicyChange {
  Policy from, to;
  absl::Time at;
  std::string by;  // the socket peer ("uid=1000(alice) pid=4242", or "socket")
};
// The `policy` event: the changed keys only, old values under "from".
std::string PolicyEventJson(const PolicyChange& c);

}  // namespace sippacer::pacing
