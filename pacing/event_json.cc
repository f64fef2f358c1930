#include "pacing/event_json.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "metrics/e164.h"
#include "metrics/json_writer.h"

namespace sippacer::pacing {
namespace {

// The shortest text that reads back as exactly `x` ("0.0001", not "0.00010000000000000000479").
std::string ExactNumber(double x) {
  char buf[32];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

PolicySetting Text(absl::string_view key, std::string text) {
  PolicySetting s;
  s.key = std::string(key);
  s.text = std::move(text);
  return s;
}

PolicySetting Int(absl::string_view key, int64_t v) {
  PolicySetting s = Text(key, absl::StrCat(v));
  s.kind = PolicySetting::Kind::kInt;
  s.number = static_cast<double>(v);
  return s;
}

PolicySetting Number(absl::string_view key, double v) {
  PolicySetting s = Text(key, ExactNumber(v));
  s.kind = PolicySetting::Kind::kNumber;
  s.number = v;
  return s;
}

PolicySetting Bool(absl::string_view key, bool v) {
  PolicySetting s = Text(key, v ? "true" : "false");
  s.kind = PolicySetting::Kind::kBool;
  s.boolean = v;
  return s;
}

}  // namespace

std::string EventTime(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone()); }

std::string StateEventJson(const StateChange& c) {
  metrics::JsonWriter w;
  w.BeginObject();
  w.Key("event").String("state");
  w.Key("number").String(metrics::FormatE164(c.number));
  w.Key("from").String(StateName(c.from));
  w.Key("to").String(StateName(c.to));
  w.Key("at").String(EventTime(c.at));
  w.Key("reason").String(c.reason);
  if (!c.fleet_node.empty()) w.Key("node").String(c.fleet_node);  // made by another node of the fleet
  w.EndObject();
  return w.Take();
}

std::string WatchEventJson(const WatchChange& c) {
  metrics::JsonWriter w;
  w.BeginObject();
  w.Key("event").String("watch");
  w.Key("number").String(metrics::FormatE164(c.number));
  w.Key("from").String(c.watched ? "normal" : "watch");
  w.Key("to").String(c.watched ? "watch" : "normal");
  w.Key("at").String(EventTime(c.at));
  w.Key("reason").String(c.reason);
  w.EndObject();
  return w.Take();
}

std::string RouteEventJson(const RouteChange& c) {
  metrics::JsonWriter w;
  w.BeginObject();
  w.Key("event").String("route");
  w.Key("route").String(c.route);
  w.Key("code").String(c.code);
  w.Key("from").String(c.elevated ? "normal" : "elevated");
  w.Key("to").String(c.elevated ? "elevated" : "normal");
  w.Key("at").String(EventTime(c.at));
  w.Key("reason").String(c.reason);
  w.EndObject();
  return w.Take();
}

std::vector<PolicySetting> PolicySettings(const Policy& p) {
  return {
      Text("rules", RulesToString(p.rules)),
      Int("min_attempts", p.min_attempts),
      Number("number_cpm", p.number_cpm),
      Number("throttled_cpm", p.throttled_cpm),
      Text("quarantine_for", p.quarantine_for == absl::ZeroDuration() ? "0" : absl::FormatDuration(p.quarantine_for)),
      Int("reject_code", p.reject_code),
      Bool("dry_run", p.dry_run),
      Number("confidence", p.confidence),
      Bool("hour_guard", p.hour_guard),
      Number("false_alarm_rate", p.false_alarm_rate),
      Int("baseline_days", p.baseline_days),
  };
}

void WritePolicyValue(metrics::JsonWriter& w, const PolicySetting& s) {
  switch (s.kind) {
    case PolicySetting::Kind::kInt:
      w.Int(static_cast<int64_t>(s.number));
      break;
    case PolicySetting::Kind::kNumber:
      w.Double(s.number);
      break;
    case PolicySetting::Kind::kBool:
      w.Bool(s.boolean);
      break;
    case PolicySetting::Kind::kText:
      w.String(s.text);
      break;
  }
}

std::vector<std::string> ChangedPolicyKeys(const Policy& from, const Policy& to) {
  const std::vector<PolicySetting> a = PolicySettings(from), b = PolicySettings(to);
  std::vector<std::string> keys;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i].text != b[i].text) keys.push_back(a[i].key);
  }
  return keys;
}

std::string PolicyChangeText(const Policy& from, const Policy& to) {
  const std::vector<PolicySetting> a = PolicySettings(from), b = PolicySettings(to);
  std::string out;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i].text == b[i].text) continue;
    absl::StrAppend(&out, out.empty() ? "" : ", ", a[i].key, " ", a[i].text, " -> ", b[i].text);
  }
  return out;
}

std::string PolicyEventJson(const PolicyChange& c) {
  const std::vector<PolicySetting> a = PolicySettings(c.from), b = PolicySettings(c.to);
  metrics::JsonWriter w;
  w.BeginObject();
  w.Key("event").String("policy");
  w.Key("at").String(EventTime(c.at));
  w.Key("by").String(c.by);
  for (const auto* side : {&a, &b}) {
    w.Key(side == &a ? "from" : "to").BeginObject();
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (a[i].text == b[i].text) continue;
      w.Key(a[i].key);
      WritePolicyValue(w, (*side)[i]);
    }
    w.EndObject();
  }
  w.Key("reason").String(PolicyChangeText(c.from, c.to));
  w.EndObject();
  return w.Take();
}

}  // namespace sippacer::pacing
