#pragma once
// Judge: do the carriers' answers condemn this number now, and why?
//
// For each rule, over the rule's window (or, on probation, over the calls
// made since probation began):
//   1. at least --min_attempts attempts;
//   2. the rate passes the rule's threshold;
//   3. statistical guard: the Wilson lower bound at Policy::confidence also
//      passes it, so a few events on a small sample cannot condemn a number;
//   4. hour-of-day guard: when the whole pool is itself over the line (in
//      this window, or historically at this hour of day), the number must
//      stand out from the pool: its lower bound must exceed the pool's rate.
// A quarantine rule outranks a throttle rule. The reason names the rule,
// rate, attempts and window, and the overuse signature when the number's
// recent volume had spiked over its own baseline.

#include <string>

#include "absl/time/time.h"
#include "metrics/store.h"
#include "pacing/number_pacing_table.h"
#include "pacing/policy.h"

namespace sippacer::pacing {

struct Verdict {
  bool fired = false;
  RuleAction action = RuleAction::kThrottle;
  std::string reason;
};

Verdict Judge(const metrics::Store& store, const Policy& policy, metrics::NumberId id,
              const PacingEntry& entry, absl::Time now);

// "volume 4.0x its baseline" when the last two buckets of `history` carry at
// least twice the mean of the earlier active buckets; "" otherwise.
std::string OveruseSignature(const std::vector<uint32_t>& history);

}  // namespace sippacer::pacing
