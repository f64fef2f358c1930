#include "flags/decision_flags.h"

#include <unistd.h>

#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "flags/flag_check.h"
#include "metrics/dialing_plan.h"

// Numbers are taken as text and checked by ParseNumberFlag, so a bad one
// exits 2 with one line like every other flag problem.
ABSL_FLAG(std::string, default_country_code, "1", "prefix for national numbers when normalising to E.164");
ABSL_FLAG(std::string, carriers, "", "CSV prefix,carrier naming the terminating carrier of a dialed number");
ABSL_FLAG(std::string, timezone, "localtime", "time zone for hour-of-day statistics");
ABSL_FLAG(std::string, rules, std::string(sippacer::pacing::kDefaultRules),
          "pacing rules: CODE OP PERCENT%/WINDOW:ACTION, comma-separated; CODE 603pre is a 603 before ring, "
          "603+ a 603 Network Blocked; ACTION throttle, quarantine or watch");
ABSL_FLAG(std::string, min_attempts, "5", "a rule never fires on fewer calls of evidence");
ABSL_FLAG(std::string, number_cpm, "0", "velocity cap for every number, calls per minute (0 = none)");
ABSL_FLAG(std::string, throttled_cpm, "2", "velocity of a throttled number, calls per minute");
ABSL_FLAG(std::string, quarantine_for, "4h", "how long a quarantine lasts before probation; 0 = until released");
ABSL_FLAG(std::string, reject_code, "480",
          "response to an INVITE refused by pacing (480 survives proxies; a proxy turns 503 into 500)");
ABSL_FLAG(std::string, confidence, "0",
          "extra guard: a rule fires only when the Wilson lower bound of its evidence's rate at this "
          "confidence passes the line too (0 = off)");
ABSL_FLAG(bool, hour_guard, true, "the whole pool's rate at this hour of day is part of every baseline");
ABSL_FLAG(bool, dry_run, false, "decide, count and report, but forward every call");
ABSL_FLAG(std::string, false_alarm_rate, "1e-4",
          "designed chance that a number whose calls follow their routes' baselines is paced by chance in a "
          "day of 1440 calls");
ABSL_FLAG(std::string, baseline_days, "5",
          "a dialed country with fewer days of history is learning: counted, never evidence against a number "
          "(0 = off; --default_country_code is never learning)");
ABSL_FLAG(std::string, max_numbers, "1000000", "bound on tracked numbers; idle healthy numbers are evicted first");

namespace sippacer::flags {
namespace {

absl::Status FlagError(absl::string_view flag, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", why));
}

}  // namespace

metrics::StoreOptions DecisionConfig::StoreOptions() const {
  metrics::StoreOptions o;
  o.max_numbers = max_numbers;
  o.timezone = timezone;
  o.carriers_csv_path = carriers_path;
  absl::Duration longest = absl::Hours(4), shortest = absl::Minutes(15);
  if (!policy.rules.empty()) {
    longest = shortest = policy.rules.front().window;
    for (const pacing::Rule& r : policy.rules) {
      longest = std::max(longest, r.window);
      shortest = std::min(shortest, r.window);
    }
  }
  o.history = longest;
  o.finest_window = shortest;
  return o;
}

absl::StatusOr<DecisionConfig> BuildDecisionConfig(const DecisionFlagValues& f) {
  DecisionConfig c;
  if (f.default_country_code.empty() || f.default_country_code.size() > 3 ||
      !std::all_of(f.default_country_code.begin(), f.default_country_code.end(), absl::ascii_isdigit) ||
      f.default_country_code[0] == '0') {
    return FlagError("default_country_code", "must be 1 to 3 digits, not starting with 0 (e.g. 1, 44)");
  }
  c.default_country_code = f.default_country_code;
  c.policy.home_country_code = std::stoi(f.default_country_code);
  if (!f.carriers.empty()) {
    if (::access(f.carriers.c_str(), R_OK) != 0)
      return FlagError("carriers", absl::StrCat("cannot read '", f.carriers, "'"));
    auto map = metrics::CarrierMap::Load(f.carriers);
    if (!map.ok()) return FlagError("carriers", map.status().message());
    c.carriers_path = f.carriers;
  }
  c.timezone_name = f.timezone.empty() ? "localtime" : f.timezone;
  if (!absl::LoadTimeZone(c.timezone_name, &c.timezone)) {
    return FlagError("timezone", absl::StrCat("unknown time zone '", c.timezone_name, "'"));
  }
  auto rules = pacing::ParseRules(f.rules);
  if (!rules.ok()) return FlagError("rules", rules.status().message());
  c.policy.rules = *rules;
  if (f.min_attempts < 1 || f.min_attempts > 1'000'000) return FlagError("min_attempts", "must be 1..1000000");
  c.policy.min_attempts = static_cast<int>(f.min_attempts);
  if (!(f.number_cpm >= 0) || f.number_cpm > 100000) return FlagError("number_cpm", "must be 0 (off) to 100000");
  c.policy.number_cpm = f.number_cpm;
  if (!(f.throttled_cpm > 0) || f.throttled_cpm > 100000) {
    return FlagError("throttled_cpm", "must be above 0 and at most 100000");
  }
  c.policy.throttled_cpm = f.throttled_cpm;
  absl::Duration q;
  if (!absl::ParseDuration(f.quarantine_for, &q) || q < absl::ZeroDuration()) {
    return FlagError("quarantine_for", absl::StrCat("'", f.quarantine_for, "' is not a duration like 4h, 30m or 0"));
  }
  c.policy.quarantine_for = q;
  if (f.reject_code < 400 || f.reject_code > 699)
    return FlagError("reject_code", "must be a SIP final failure code 400..699");
  c.policy.reject_code = static_cast<int>(f.reject_code);
  c.policy.dry_run = f.dry_run;
  if (!(f.confidence >= 0) || f.confidence >= 1)
    return FlagError("confidence", "must be 0 (off) or a level below 1, e.g. 0.9");
  c.policy.confidence = f.confidence;
  c.policy.hour_guard = f.hour_guard;
  if (!(f.false_alarm_rate > 0) || f.false_alarm_rate >= 1) {
    return FlagError("false_alarm_rate", "must be a probability above 0 and below 1, e.g. 1e-4");
  }
  c.policy.false_alarm_rate = f.false_alarm_rate;
  if (f.baseline_days < 0 || f.baseline_days > 365) return FlagError("baseline_days", "must be 0..365");
  c.policy.baseline_days = static_cast<int>(f.baseline_days);
  if (f.max_numbers < 1 || f.max_numbers > 100'000'000) return FlagError("max_numbers", "must be 1..100000000");
  c.max_numbers = static_cast<size_t>(f.max_numbers);
  return c;
}

absl::StatusOr<DecisionFlagValues> ReadDecisionFlags() {
  DecisionFlagValues f;
  f.default_country_code = absl::GetFlag(FLAGS_default_country_code);
  f.carriers = absl::GetFlag(FLAGS_carriers);
  f.timezone = absl::GetFlag(FLAGS_timezone);
  f.rules = absl::GetFlag(FLAGS_rules);
  f.quarantine_for = absl::GetFlag(FLAGS_quarantine_for);
  f.dry_run = absl::GetFlag(FLAGS_dry_run);
  f.hour_guard = absl::GetFlag(FLAGS_hour_guard);
  struct {
    const char* name;
    std::string text;
    int64_t* whole;
    double* real;
  } numbers[] = {
      {"min_attempts", absl::GetFlag(FLAGS_min_attempts), &f.min_attempts, nullptr},
      {"number_cpm", absl::GetFlag(FLAGS_number_cpm), nullptr, &f.number_cpm},
      {"throttled_cpm", absl::GetFlag(FLAGS_throttled_cpm), nullptr, &f.throttled_cpm},
      {"confidence", absl::GetFlag(FLAGS_confidence), nullptr, &f.confidence},
      {"reject_code", absl::GetFlag(FLAGS_reject_code), &f.reject_code, nullptr},
      {"false_alarm_rate", absl::GetFlag(FLAGS_false_alarm_rate), nullptr, &f.false_alarm_rate},
      {"baseline_days", absl::GetFlag(FLAGS_baseline_days), &f.baseline_days, nullptr},
      {"max_numbers", absl::GetFlag(FLAGS_max_numbers), &f.max_numbers, nullptr},
  };
  for (const auto& n : numbers) {
    const absl::Status s = n.whole ? ParseNumberFlag(n.name, n.text, n.whole) : ParseNumberFlag(n.name, n.text, n.real);
    if (!s.ok()) return s;
  }
  return f;
}

}  // namespace sippacer::flags
