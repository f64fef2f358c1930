#pragma once
// Replay: the daemon's own Store and Pacer run over recorded calls on a
// simulated clock, so a policy can be backtested on last week's CDRs.
//
// Each call's INVITE is decided at its `ts`, its final answer counted at
// `ts + setup_ms`, and the pacer ticks every simulated second, as the
// daemon's SIP thread does. CDRs are written at call end, so the calls are
// put back in time order first. A call this policy refuses never reached
// the carrier: its recorded answer is dropped (unless --dry_run, which
// forwards and counts everything, like the daemon). A call refused in the
// record but forwarded by this policy has no answer to replay: it counts as
// an attempt and is reported as such.

#include <map>
#include <string>
#include <vector>

#include "flags/decision_flags.h"
#include "pacing/pacer.h"
#include "replay/recorded_call.h"

namespace sippacer::replay {

struct ReplayTotals {
  size_t calls = 0;  // calls with a usable caller number
  size_t numbers = 0;
  size_t forwarded = 0;
  size_t refused = 0;                               // by this policy (dry run: would be)
  size_t recorded_refusals_forwarded = 0;           // no recorded answer to replay
  std::map<std::string, size_t> refused_by_action;  // "throttle", "quarantine"
  std::map<std::string, size_t> refused_by_rule;    // rule text that paced the number
  std::map<std::string, size_t> refused_by_carrier;
  std::map<std::string, size_t> refused_by_country;     // "+1"
  std::map<std::string, size_t> numbers_by_state;       // at the end
  std::map<std::string, size_t> numbers_paced_by_rule;  // first pacing of each number
  size_t numbers_ever_paced = 0;
  size_t numbers_watched = 0;
  size_t route_events = 0;
  absl::Time first, last;
};

// Runs `calls` (any order) through a fresh Store and Pacer; every change
// goes to `sink` as it happens. `sink` may be null.
ReplayTotals Replay(std::vector<RecordedCall> calls, const flags::DecisionConfig& config, pacing::EventSink* sink);

// The --summary table.
std::string SummaryTable(const ReplayTotals& t);

}  // namespace sippacer::replay
