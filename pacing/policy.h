#pragma once
// Policy: the pacing knobs of SPEC §3/§5, parsed and validated.
//
// Flags and `set policy KEY=VALUE` go through the same parsers, so a value
// that would be refused at start is refused live too, and changes nothing.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sippacer::pacing {

enum class RuleAction { kThrottle, kQuarantine };

// `603>=15%/15m:throttle`
struct Rule {
  std::string text;          // as written, for reasons and `show policy`
  int code = 0;              // 603, or 0 when `code_class` is set
  int code_class = 0;        // 6 for "6xx"
  bool network_blocked_only = false;  // "603+"
  bool inclusive = false;    // ">=" vs ">"
  double fraction = 0;       // 0.15 for 15%
  absl::Duration window;
  RuleAction action = RuleAction::kThrottle;
};

struct Policy {
  std::vector<Rule> rules;
  int min_attempts = 20;
  double number_cpm = 0;      // 0 = no cap
  double throttled_cpm = 2;
  absl::Duration quarantine_for = absl::Hours(4);  // ZeroDuration = until released
  int reject_code = 503;
  bool dry_run = false;
  double confidence = 0.90;   // Wilson lower bound confidence (0 disables)
  bool hour_guard = true;     // ignore rises that merely follow the pool's hour pattern
};

absl::StatusOr<std::vector<Rule>> ParseRules(absl::string_view text);
// Applies "key=value" pairs (set policy) to a copy of `base`; on error
// nothing is applied and the status names the key.
absl::StatusOr<Policy> ApplyPolicyUpdate(const Policy& base, const std::vector<std::string>& key_values);
std::string RulesToString(const std::vector<Rule>& rules);

}  // namespace sippacer::pacing
