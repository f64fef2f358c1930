#pragma once
// Policy: the pacing knobs of docs/flags.md and docs/pacing.md, parsed and validated.
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

// kWatch flags a number (an event, `show number`) without pacing it.
enum class RuleAction { kThrottle, kQuarantine, kWatch };

// `603pre>=15%/1h:throttle`: pace a number when the evidence says its rate
// of CODE is above PERCENT rather than at its routes' baseline, from calls
// of at most the last WINDOW (see evidence.h).
struct Rule {
  std::string text;                   // as written, for reasons and `show policy`
  int code = 0;                       // 603, or 0 when `code_class` is set
  int code_class = 0;                 // 6 for "6xx"
  bool network_blocked_only = false;  // "603+"
  bool pre_ring_only = false;         // "603pre": 603 with no 180/183 before it
  bool inclusive = false;             // ">=" vs ">"
  double fraction = 0;                // 0.15 for 15%
  absl::Duration window;
  RuleAction action = RuleAction::kThrottle;
};

inline constexpr absl::string_view kDefaultRules =
    "603pre>=15%/1h:throttle,603pre>5%/4h:quarantine,603+>=5%/4h:quarantine,608>=5%/4h:quarantine,"
    "486>=30%/1h:watch";

struct Policy {
  std::vector<Rule> rules;
  int min_attempts = 5;   // calls of evidence before a rule may fire
  double number_cpm = 0;  // 0 = no cap
  double throttled_cpm = 2;
  absl::Duration quarantine_for = absl::Hours(4);  // ZeroDuration = until released
  // 480 Temporarily Unavailable: a proxy in front passes it on with its
  // Retry-After and Reason, where it must turn a 503 into a 500 without
  // them (RFC 3261 16.7).
  int reject_code = 480;
  bool dry_run = false;
  double confidence = 0;   // extra Wilson lower-bound guard on the evidence (0 = off)
  bool hour_guard = true;  // the pool's rate at this hour of day is part of the baseline
  // Designed chance that a number whose calls follow its routes' baselines
  // is paced by chance in a day of 1,440 calls (sets the evidence threshold).
  double false_alarm_rate = 1e-4;
  // A dialed country with fewer days of history is learning: its calls are
  // counted and shown but are no evidence against a number.
  int baseline_days = 5;
  int home_country_code = 1;  // --default_country_code: never learning
};

absl::StatusOr<std::vector<Rule>> ParseRules(absl::string_view text);
// Applies "key=value" pairs (set policy) to a copy of `base`; on error
// nothing is applied and the status names the key.
absl::StatusOr<Policy> ApplyPolicyUpdate(const Policy& base, const std::vector<std::string>& key_values);
std::string RulesToString(const std::vector<Rule>& rules);

}  // namespace sippacer::pacing
