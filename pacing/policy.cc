#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pacing/policy.h"

namespace sippacer::pacing {
namespace {

absl::Status KeyError(absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(key, ": ", why));
}

absl::StatusOr<bool> ParseBool(absl::string_view v) {
  const std::string s = absl::AsciiStrToLower(v);
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  return absl::InvalidArgumentError(absl::StrCat("'", v, "' is not true or false"));
}

}  // namespace

absl::StatusOr<Policy> ApplyPolicyUpdate(const Policy& base, const std::vector<std::string>& key_values) {
  Policy p = base;
  if (key_values.empty()) return absl::InvalidArgumentError("expected KEY=VALUE ...");
  for (const std::string& kv : key_values) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) return absl::InvalidArgumentError(absl::StrCat("'", kv, "' is not KEY=VALUE"));
    const std::string key = kv.substr(0, eq);
    const absl::string_view value = absl::string_view(kv).substr(eq + 1);
    if (key == "rules") {
      auto rules = ParseRules(value);
      if (!rules.ok()) return KeyError(key, rules.status().message());
      p.rules = *std::move(rules);
    } else if (key == "min_attempts") {
      int n = 0;
      if (!absl::SimpleAtoi(value, &n) || n < 1 || n > 1'000'000) return KeyError(key, "must be 1..1000000");
      p.min_attempts = n;
    } else if (key == "number_cpm" || key == "throttled_cpm") {
      double v = 0;
      const bool zero_ok = key == "number_cpm";
      if (!absl::SimpleAtod(value, &v) || !(zero_ok ? v >= 0 : v > 0) || v > 100000) {
        return KeyError(key, zero_ok ? "must be 0 (off) to 100000" : "must be above 0 and at most 100000");
      }
      (zero_ok ? p.number_cpm : p.throttled_cpm) = v;
    } else if (key == "quarantine_for") {
      absl::Duration d;
      if (!absl::ParseDuration(value, &d) || d < absl::ZeroDuration()) {
        return KeyError(key, "is not a duration like 4h, 30m or 0");
      }
      p.quarantine_for = d;
    } else if (key == "reject_code") {
      int c = 0;
      if (!absl::SimpleAtoi(value, &c) || c < 400 || c > 699) return KeyError(key, "must be 400..699");
      p.reject_code = c;
    } else if (key == "dry_run" || key == "hour_guard") {
      auto b = ParseBool(value);
      if (!b.ok()) return KeyError(key, b.status().message());
      (key == "dry_run" ? p.dry_run : p.hour_guard) = *b;
    } else if (key == "false_alarm_rate") {
      double a = 0;
      if (!absl::SimpleAtod(value, &a) || !(a > 0) || a >= 1)
        return KeyError(key, "must be a probability above 0 and below 1, e.g. 1e-4");
      p.false_alarm_rate = a;
    } else if (key == "baseline_days") {
      int n = 0;
      if (!absl::SimpleAtoi(value, &n) || n < 0 || n > 365) return KeyError(key, "must be 0..365");
      p.baseline_days = n;
    } else if (key == "confidence") {
      double c = 0;
      if (!absl::SimpleAtod(value, &c) || !(c >= 0) || c >= 1)
        return KeyError(key, "must be 0 (off) or a level below 1, e.g. 0.9");
      p.confidence = c;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown key '", key,
                       "' (rules, min_attempts, number_cpm, throttled_cpm, quarantine_for, "
                       "reject_code, dry_run, confidence, hour_guard, false_alarm_rate, baseline_days)"));
    }
  }
  return p;
}

}  // namespace sippacer::pacing
