#pragma once
// Verdicts: what a number's evidence says now, and the words for it.
//
// A pacing rule fires when its evidence (evidence.h) has reached the
// threshold h on at least --min_attempts calls (and, with --confidence, the
// Wilson lower bound of the run's rate passes the line too). A quarantine
// rule outranks a throttle rule. The reason names the rule's code, the rate
// and calls of the evidence, the line, the baseline it was judged against,
// and the overuse signature when the number's volume spiked before the rise.
//
// A paced number recovers when no rule's evidence is over h and its rate of
// every pacing rule's code over that rule's window is at or under the line.

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "metrics/store.h"
#include "pacing/number_pacing_table.h"
#include "pacing/policy.h"

namespace sippacer::pacing {

struct Verdict {
  bool fired = false;
  RuleAction action = RuleAction::kThrottle;
  size_t rule = 0;
  std::string reason;
};

struct Thresholds {
  double pacing = 0;  // h for throttle and quarantine rules
  double watch = 0;   // h for watch rules
};
Thresholds ThresholdsFor(const Policy& policy);

// The strongest pacing rule (or, with `watch`, the first watch rule) whose
// evidence fires now.
Verdict Judge(const metrics::Store& store, const Policy& policy, const Thresholds& h, metrics::NumberId id,
              const PacingEntry& entry, absl::Time now, bool watch);

// True when rule `rule_index` no longer holds on this number: no run of its
// evidence fires, and its rate over its window (on at least --min_attempts
// calls) is at or under the line.
bool RuleCleared(const metrics::Store& store, const Policy& policy, const Thresholds& h, size_t rule_index,
                 metrics::NumberId id, const PacingEntry& entry, absl::Time now);

// True when a paced number may go back to healthy: every pacing rule cleared.
bool Recovered(const metrics::Store& store, const Policy& policy, const Thresholds& h, metrics::NumberId id,
               const PacingEntry& entry, absl::Time now);

// One rule as it stands on one number: its rate over the window, whether
// that is over the line, whether the rule fires, and when it is over the
// line but does not fire, what held it (too few calls, the routes' baseline
// as high, evidence under the threshold, an expired run, the Wilson bound).
struct RuleCheck {
  std::string rule;        // the rule as written
  uint32_t attempts = 0;   // the number's attempts over the rule's window
  double rate = 0;         // share of them in the rule's code
  bool over_line = false;  // rate past the line, on at least --min_attempts calls
  bool fires = false;      // its evidence fires now (on the number or one of its carriers)
  std::string held_by;     // over the line but not firing: why; "" otherwise
};
std::vector<RuleCheck> ExplainRules(const metrics::Store& store, const Policy& policy, const Thresholds& h,
                                    metrics::NumberId id, const PacingEntry& entry, absl::Time now);

// "overuse: volume 5.0x its baseline before the rise" when, in the 90
// minutes before now, 20 minutes of the number's calls ran at 2.5 times or
// more the mean of its (at least two) active buckets before them; ""
// otherwise. `history`: attempts per bucket,
// oldest first (Store::AttemptHistory over its history).
std::string OveruseSignature(const std::vector<uint32_t>& history, absl::Duration bucket);

}  // namespace sippacer::pacing
