#pragma once
// The flags that shape pacing decisions, defined once for the daemon
// (`sippacer`) and the backtest (`sippacer-replay`): the same names, the
// same defaults and the same validation, so a policy tried on last week's
// CDRs is the policy the daemon will run.
//
// BuildDecisionConfig is pure (values in, "--flag: why" out) and
// unit-tested; ReadDecisionFlags reads the Abseil flags defined in
// decision_flags.cc.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "metrics/store.h"
#include "pacing/policy.h"

namespace sippacer::flags {

struct DecisionFlagValues {
  std::string default_country_code = "1";
  std::string carriers;
  std::string timezone = "localtime";
  std::string rules{pacing::kDefaultRules};
  std::string quarantine_for = "4h";
  int64_t min_attempts = 5;
  double number_cpm = 0, throttled_cpm = 2;
  int64_t reject_code = 480;
  bool dry_run = false;
  double confidence = 0;
  bool hour_guard = true;
  double false_alarm_rate = 1e-4;
  int64_t baseline_days = 5;
  int64_t max_numbers = 1'000'000;
};

struct DecisionConfig {
  pacing::Policy policy;
  std::string default_country_code;
  std::string carriers_path;
  std::string timezone_name;
  absl::TimeZone timezone;
  size_t max_numbers = 1'000'000;
  // The Store the rules need: history as long as the longest window.
  metrics::StoreOptions StoreOptions() const;
};

absl::StatusOr<DecisionConfig> BuildDecisionConfig(const DecisionFlagValues& values);

// The decision flags as given on the command line (numbers checked here:
// "--min_attempts: 'many' is not a whole number").
absl::StatusOr<DecisionFlagValues> ReadDecisionFlags();

}  // namespace sippacer::flags
