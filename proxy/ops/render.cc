#include "proxy/ops/render.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "metrics/e164.h"
#include "pacing/event_json.h"
#include "pacing/rule_match.h"
#include "proxy/cdr/cdr_writer.h"
#include "proxy/ops/render_select.h"
#include "proxy/ops/requests.h"
#include "proxy/sip/trunk_group.h"

namespace sippacer::proxy {
namespace {

using metrics::JsonWriter;

void WriteRates(JsonWriter& w, const metrics::CodeCounts& c) {
  w.Key("rates").BeginObject();
  for (int i = 0; i < metrics::kOutcomeCount; ++i) {
    if (c.by_outcome[i] == 0) continue;
    w.Key(metrics::OutcomeKey(static_cast<metrics::Outcome>(i)))
        .Double(c.attempts ? static_cast<double>(c.by_outcome[i]) / c.attempts : 0);
  }
  w.EndObject();
}

void WriteNumberBody(JsonWriter& w, const metrics::NumberSnapshot& s, const pacing::NumberPacing& p) {
  w.Key("number").String(metrics::FormatE164(s.number));
  w.Key("state").String(pacing::StateName(p.state));
  w.Key("reason").String(p.reason);
  w.Key("watched").Bool(p.watched);
  if (p.watched) w.Key("watch_reason").String(p.watch_reason);
  if (p.until != absl::InfiniteFuture() && p.state == pacing::NumberState::kQuarantined) {
    w.Key("until").String(IsoTime(p.until));
  }
  w.Key("window_s").Int(absl::ToInt64Seconds(s.window_length));
  w.Key("attempts").Uint(s.window.attempts);
  WriteCodes(w, "codes", s.window);
  WriteRates(w, s.window);
  w.Key("pre_ring_603").Uint(s.window.pre_ring_603);
  w.Key("network_blocked").Uint(s.window.network_blocked);
  w.Key("paced").Uint(s.window.paced);
  w.Key("paced_total").Uint(p.paced);
  w.Key("calls_per_minute").Double(s.calls_per_minute);
  w.Key("pdd_ms_avg").Double(s.pdd_ms_avg);
  if (s.last_seen != absl::UnixEpoch())
    w.Key("last_seen").String(IsoTime(s.last_seen));  // unset: only other nodes saw it
  if (!s.last_reason_header.empty()) w.Key("last_reason_header").String(s.last_reason_header);
}

void WriteGroupCounts(JsonWriter& w, const metrics::CodeCounts& c) {
  w.Key("attempts").Uint(c.attempts);
  WriteCodes(w, "codes", c);
  w.Key("pre_ring_603").Uint(c.pre_ring_603);
  w.Key("network_blocked").Uint(c.network_blocked);
}

// The codes `route` ("area:212") stands out in now; [] when none.
void WriteElevated(JsonWriter& w, absl::string_view route, const std::vector<pacing::RouteStatus>& elevated) {
  w.Key("elevated").BeginArray();
  for (const pacing::RouteStatus& r : elevated) {
    if (r.route != route) continue;
    w.BeginObject();
    w.Key("code").String(r.code).Key("rate").Double(r.rate).Key("rest_rate").Double(r.rest_rate);
    w.Key("calls").Uint(r.calls).Key("since").String(IsoTime(r.since));
    w.EndObject();
  }
  w.EndArray();
}

using GroupExtra = std::function<void(JsonWriter&, const metrics::GroupSnapshot&)>;

// One route kind's groups; `route_kind` is what Store::GroupName puts
// before the key ("carrier", "country", "area").
std::string RenderRouteGroups(absl::string_view field, absl::string_view key_name, absl::string_view route_kind,
                              const std::vector<metrics::GroupSnapshot>& groups,
                              const std::vector<pacing::RouteStatus>& elevated, const GroupExtra& extra) {
  JsonWriter w;
  w.BeginObject().Key(field).BeginArray();
  for (const metrics::GroupSnapshot& g : groups) {
    w.BeginObject();
    w.Key(key_name).String(g.key);
    WriteGroupCounts(w, g.counts);
    if (extra) extra(w, g);
    WriteElevated(w, absl::StrCat(route_kind, ":", g.key), elevated);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

// A country's baseline keys: every outcome, then the two kinds of 603.
constexpr int kBaselineKeys = metrics::kOutcomeCount + 2;

absl::string_view BaselineKey(int k) {
  if (k < metrics::kOutcomeCount) return metrics::OutcomeKey(static_cast<metrics::Outcome>(k));
  return k == metrics::kOutcomeCount ? "603pre" : "603+";
}

uint32_t BaselineHits(const metrics::CodeCounts& c, int k) {
  if (k < metrics::kOutcomeCount) return c.by_outcome[k];
  return k == metrics::kOutcomeCount ? c.pre_ring_603 : c.network_blocked;
}

// How each code's daily rate varied over the country's recorded days: what
// a new market's numbers will be judged against once it is ready.
void WriteBaseline(JsonWriter& w, const metrics::CountryHistory& h) {
  w.Key("baseline").BeginObject();
  for (int k = 0; k < kBaselineKeys; ++k) {
    std::vector<double> rates;
    bool any = false;
    for (const auto& [day, c] : h.days) {
      if (c.attempts == 0) continue;
      const uint32_t hits = BaselineHits(c, k);
      any = any || hits > 0;
      rates.push_back(static_cast<double>(hits) / c.attempts);
    }
    if (!any) continue;
    double sum = 0;
    for (double r : rates) sum += r;
    const auto [lo, hi] = std::minmax_element(rates.begin(), rates.end());
    w.Key(BaselineKey(k)).BeginObject();
    w.Key("mean").Double(sum / rates.size()).Key("min").Double(*lo).Key("max").Double(*hi);
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

int CountryCode(absl::string_view key) {
  int cc = 0;
  return absl::SimpleAtoi(absl::StripPrefix(key, "+"), &cc) ? cc : 0;
}

std::string IsoTime(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone()); }

std::string ErrorJson(absl::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("error").String(message).EndObject();
  return w.Take();
}

void WriteCodes(JsonWriter& w, absl::string_view key, const metrics::CodeCounts& c) {
  w.Key(key).BeginObject();
  for (int i = 0; i < metrics::kOutcomeCount; ++i) {
    if (c.by_outcome[i] == 0) continue;
    w.Key(metrics::OutcomeKey(static_cast<metrics::Outcome>(i))).Uint(c.by_outcome[i]);
  }
  w.EndObject();
}

std::string RenderHelp() {
  JsonWriter w;
  w.BeginObject().Key("commands").BeginArray();
  for (const RequestHelp& h : kRequests) w.String(h.request);
  w.EndArray().EndObject();
  return w.Take();
}

std::string RenderHelpText() {
  size_t width = 0;
  for (const RequestHelp& h : kRequests) width = std::max(width, std::string_view(h.request).size());
  std::string out;
  for (const RequestHelp& h : kRequests) {
    absl::StrAppend(&out, "  ", h.request, std::string(width - std::string_view(h.request).size(), ' '), " : ", h.about,
                    "\n");
  }
  return out;
}

std::string RenderInfo(const OpsView& v, absl::Time now) {
  using pacing::NumberState;
  JsonWriter w;
  w.BeginObject();
  w.Key("version").String(SIPPACER_VERSION);
  w.Key("sofia_sip").String(SIPPACER_SOFIA_BUILD);  // "patched" (third_party/sofia-sip) or "stock"
  w.Key("uptime_s").Int(absl::ToInt64Seconds(now - v.started));
  w.Key("calls_active").Uint(v.relay->calls_active.Get());
  w.Key("invites_total").Uint(v.relay->invites_total.Get());
  w.Key("invites_forwarded").Uint(v.relay->invites_forwarded.Get());
  w.Key("invites_without_number").Uint(v.relay->invites_without_number.Get());
  w.Key("invites_refused_acl").Uint(v.relay->invites_refused_acl.Get());
  w.Key("acks_dropped").Uint(v.relay->acks_dropped.Get());
  w.Key("late_answers").Uint(v.relay->late_answers.Get());
  w.Key("ring_timeouts").Uint(v.relay->ring_timeouts.Get());
  w.Key("pracks_sent").Uint(v.relay->pracks_sent.Get());
  w.Key("trunk_failovers").Uint(v.relay->trunk_failovers.Get());
  w.Key("trunk_limited").Uint(v.relay->trunk_limited.Get());
  w.Key("session_expiries").Uint(v.relay->session_expiries.Get());
  w.Key("loops_refused").Uint(v.relay->loops.Get());
  w.Key("out_of_dialog_refused").Uint(v.relay->out_of_dialog_refused.Get());
  w.Key("refusals_dropped").Uint(v.relay->refusals_dropped.Get());
  w.Key("degraded").Uint(v.relay->degraded.Get());
  w.Key("malformed").Uint(v.relay->malformed.Get());
  w.Key("sip_server_transactions").Uint(v.relay->sip_server_transactions.Get());
  w.Key("sip_client_transactions").Uint(v.relay->sip_client_transactions.Get());
  w.Key("sip_dialogs").Uint(v.relay->sip_dialogs.Get());
  w.Key("calls_tracked").Uint(v.relay->calls_tracked.Get());
  w.Key("tcp_connections").Uint(v.relay->tcp_connections.Get());
  w.Key("tcp_closed_silent").Uint(v.relay->tcp_closed_silent.Get());
  w.Key("tcp_closed_over_limit").Uint(v.relay->tcp_closed_over_limit.Get());
  w.Key("paced_total").Uint(v.pacer->paced_total());
  w.Key("numbers_tracked").Uint(v.store->numbers_tracked());
  w.Key("numbers_throttled").Uint(v.pacer->numbers_in_state(NumberState::kThrottled));
  w.Key("numbers_quarantined").Uint(v.pacer->numbers_in_state(NumberState::kQuarantined));
  w.Key("numbers_probation").Uint(v.pacer->numbers_in_state(NumberState::kProbation));
  w.Key("numbers_watched").Uint(v.pacer->numbers_watched());
  w.Key("numbers_evicted").Uint(v.store->evictions());
  w.Key("window_events_dropped").Uint(v.store->events_dropped());
  w.Key("window_log_bytes").Uint(v.store->log_block_bytes());
  w.Key("routes_elevated").Uint(v.pacer->ElevatedRoutes().size());
  w.Key("dry_run").Bool(v.pacer->policy().dry_run);
  if (v.cdr != nullptr) {
    const CdrWriter::Status s = v.cdr->status();
    w.Key("cdr").BeginObject();
    w.Key("written").Uint(s.written).Key("dropped").Uint(s.dropped).Key("queued").Uint(s.queued);
    if (s.postgres_enabled) {
      w.Key("postgres_connected").Bool(s.postgres_connected).Key("postgres_written").Uint(s.pg_written);
    }
    if (!s.last_error.empty()) w.Key("last_error").String(s.last_error);
    w.EndObject();
  }
  WriteFleetInfo(w, v, now);
  w.EndObject();
  return w.Take();
}

std::string RenderCodes(const OpsView& v, absl::Time now) {
  const metrics::CodeCounts pool = v.store->Pool(now);
  JsonWriter w;
  w.BeginObject();
  w.Key("window_s").Int(absl::ToInt64Seconds(v.store->options().history));
  w.Key("attempts").Uint(pool.attempts);
  WriteCodes(w, "codes", pool);
  const metrics::CodeCounts totals = v.store->Totals();
  w.Key("since_start").BeginObject().Key("attempts").Uint(totals.attempts);
  WriteCodes(w, "codes", totals);
  w.Key("pre_ring_603").Uint(totals.pre_ring_603).Key("network_blocked").Uint(totals.network_blocked);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

std::string RenderNumber(const OpsView& v, metrics::E164 number, absl::Time now,
                         const std::vector<pacing::RuleCheck>& rules) {
  auto snap = v.store->Snapshot(number, now);
  if (!snap) return ErrorJson(absl::StrCat(metrics::FormatE164(number), " is not tracked"));
  JsonWriter w;
  w.BeginObject();
  WriteNumberBody(w, *snap, v.pacer->State(number));
  WriteNumberByNode(w, v, number, now);
  // Each rule as it stands: a number over a line but not paced says what
  // held the rule, so Prometheus or the SQL alert seeing the raw rate over
  // the line can be checked against the daemon's reason.
  w.Key("rules").BeginArray();
  for (const pacing::RuleCheck& r : rules) {
    w.BeginObject();
    w.Key("rule").String(r.rule).Key("attempts").Uint(r.attempts).Key("rate").Double(r.rate);
    w.Key("over_line").Bool(r.over_line).Key("fires").Bool(r.fires);
    if (!r.held_by.empty()) w.Key("held_by").String(r.held_by);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string RenderNumbers(const OpsView& v, const std::vector<std::string>& args, absl::Time now) {
  auto rows = SelectNumbers(v, args, now);
  if (!rows.ok()) return ErrorJson(rows.status().message());
  JsonWriter w;
  w.BeginObject().Key("numbers").BeginArray();
  for (const NumberRow& r : *rows) {
    w.BeginObject();
    WriteNumberBody(w, r.snap, r.pacing);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

std::string RenderGroups(absl::string_view field, absl::string_view key_name,
                         const std::vector<metrics::GroupSnapshot>& groups) {
  JsonWriter w;
  w.BeginObject().Key(field).BeginArray();
  for (const metrics::GroupSnapshot& g : groups) {
    w.BeginObject();
    int64_t hour = 0;
    if (key_name == "hour" && absl::SimpleAtoi(g.key, &hour))
      w.Key("hour").Int(hour);
    else
      w.Key(key_name).String(g.key);
    WriteGroupCounts(w, g.counts);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

std::string RenderCarriers(const OpsView& v) {
  return RenderRouteGroups("carriers", "carrier", "carrier", v.store->Carriers(), v.pacer->ElevatedRoutes(), nullptr);
}

std::string RenderCountries(const OpsView& v) {
  auto status = [&v](JsonWriter& w, const metrics::GroupSnapshot& g) {
    const int cc = CountryCode(g.key);
    const metrics::CountryHistory h = v.store->Country(cc);
    w.Key("status").String(v.pacer->CountryLearning(cc) ? "learning" : "ready");
    w.Key("days").Uint(h.days_seen);
    WriteBaseline(w, h);
  };
  return RenderRouteGroups("countries", "country_code", "country", CountryGroups(*v.store), v.pacer->ElevatedRoutes(),
                           status);
}

std::string RenderAreas(const OpsView& v) {
  return RenderRouteGroups("areas", "area_code", "area", v.store->Areas(), v.pacer->ElevatedRoutes(), nullptr);
}

std::string RenderTrunks(const OpsView& v) {
  JsonWriter w;
  w.BeginObject().Key("trunks").BeginArray();
  for (int i = 0; v.trunks != nullptr && i < static_cast<int>(v.trunks->size()); ++i) {
    const TrunkSpec& t = v.trunks->spec(i);
    const TrunkStats& s = v.trunks->stats(i);
    w.BeginObject();
    w.Key("name").String(t.name).Key("uri").String(t.uri);
    w.Key("priority").Int(t.priority).Key("weight").Int(t.weight);
    w.Key("max_calls").Int(t.max_calls).Key("max_cps").Double(t.max_cps);
    w.Key("calls_active").Uint(s.calls_active.Get()).Key("attempts").Uint(s.attempts.Get());
    w.Key("answered").Uint(s.answered.Get()).Key("failovers").Uint(s.failovers.Get());
    w.Key("refused_max_calls").Uint(s.refused_max_calls.Get()).Key("refused_max_cps").Uint(s.refused_max_cps.Get());
    w.Key("responses").BeginObject();
    for (int c = 1; c < static_cast<int>(s.finals.size()); ++c) w.Key(absl::StrCat(c, "xx")).Uint(s.finals[c].Get());
    w.EndObject();
    w.Key("timeouts").Uint(s.finals[0].Get()).Key("unavailable").Uint(s.unavailable.Get());
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

std::string RenderPolicy(const pacing::Policy& p) {
  JsonWriter w;
  w.BeginObject();
  for (const pacing::PolicySetting& s : pacing::PolicySettings(p)) {
    w.Key(s.key);
    pacing::WritePolicyValue(w, s);
  }
  w.EndObject();
  return w.Take();
}

std::string RenderPolicyState(const pacing::Policy& live, const pacing::Policy& flags,
                              const pacing::PolicyOrigin& origin, const std::vector<std::string>* changed) {
  const std::vector<pacing::PolicySetting> now = pacing::PolicySettings(live);
  const std::vector<pacing::PolicySetting> flag = pacing::PolicySettings(flags);
  JsonWriter w;
  w.BeginObject();
  for (const pacing::PolicySetting& s : now) {
    w.Key(s.key);
    pacing::WritePolicyValue(w, s);
  }
  // The keys set live (or restored from --state_file), with their flags' values.
  w.Key("flags").BeginObject();
  for (size_t i = 0; i < now.size() && i < flag.size(); ++i) {
    if (now[i].text == flag[i].text) continue;
    w.Key(flag[i].key);
    pacing::WritePolicyValue(w, flag[i]);
  }
  w.EndObject();
  if (origin.at != absl::InfinitePast()) {
    w.Key("set_at").String(IsoTime(origin.at)).Key("set_by").String(origin.by);
  }
  if (changed != nullptr) {
    w.Key("changed").BeginArray();
    for (const std::string& k : *changed) w.String(k);
    w.EndArray();
  }
  w.EndObject();
  return w.Take();
}

std::string RenderPacing(metrics::E164 number, const pacing::NumberPacing& p) {
  JsonWriter w;
  w.BeginObject();
  w.Key("number").String(metrics::FormatE164(number));
  w.Key("state").String(pacing::StateName(p.state));
  w.Key("reason").String(p.reason);
  if (p.until != absl::InfiniteFuture()) w.Key("until").String(IsoTime(p.until));
  w.EndObject();
  return w.Take();
}

std::string RenderEvent(const pacing::StateChange& c) { return pacing::StateEventJson(c); }

std::string RenderOperatorAction(metrics::E164 number, const pacing::OperatorAction& a, bool quarantine) {
  const std::string n = metrics::FormatE164(number);
  JsonWriter w;
  w.BeginObject();
  w.Key("number").String(n);
  w.Key("state").String(pacing::StateName(a.after.state));
  w.Key("reason").String(a.after.reason);
  if (a.after.until != absl::InfiniteFuture()) w.Key("until").String(IsoTime(a.after.until));
  w.Key("from").String(pacing::StateName(a.before));
  if (quarantine) {
    w.Key("preemptive").Bool(!a.tracked);
    if (!a.tracked) {
      w.Key("message").String(
          absl::StrCat(n, " was not tracked (no call in the window): quarantined before its first call"));
    }
  } else {
    w.Key("released").Bool(a.changed);
    if (!a.changed) {
      w.Key("message").String(absl::StrCat(n, a.tracked ? " is healthy" : " is not tracked", ": nothing to release"));
    }
  }
  w.EndObject();
  return w.Take();
}

std::vector<metrics::GroupSnapshot> CountryGroups(const metrics::Store& store) {
  std::map<int, metrics::CodeCounts> by_code;
  for (const metrics::GroupSnapshot& g : store.Countries()) by_code[CountryCode(g.key)] = g.counts;
  store.ExportCountries([&](const metrics::CountryHistory& h) { by_code.try_emplace(h.country_code); });
  std::vector<metrics::GroupSnapshot> out;
  for (const auto& [cc, counts] : by_code) out.push_back({absl::StrCat("+", cc), counts});
  return out;
}

absl::StatusOr<std::vector<NumberRow>> SelectNumbers(const OpsView& v, const std::vector<std::string>& args,
                                                     absl::Time now) {
  std::string state_filter, sort = "attempts";
  size_t limit = 100;
  for (const std::string& a : args) {
    if (absl::StartsWith(a, "state=")) {
      state_filter = a.substr(6);
      if (state_filter != "healthy" && state_filter != "throttled" && state_filter != "quarantined" &&
          state_filter != "probation") {
        return absl::InvalidArgumentError("state is one of healthy, throttled, quarantined, probation");
      }
    } else if (absl::StartsWith(a, "sort=")) {
      sort = a.substr(5);
    } else if (absl::StartsWith(a, "limit=")) {
      if (!absl::SimpleAtoi(a.substr(6), &limit) || limit == 0 || limit > 100000) {
        return absl::InvalidArgumentError("limit must be 1..100000");
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument '", a, "' (state=, sort=, limit=, format=)"));
    }
  }
  int sort_outcome = -1;
  if (sort != "attempts") {
    for (int i = 0; i < metrics::kOutcomeCount; ++i) {
      if (metrics::OutcomeKey(static_cast<metrics::Outcome>(i)) == sort) sort_outcome = i;
    }
    if (sort_outcome < 0) {
      return absl::InvalidArgumentError(absl::StrCat("cannot sort by '", sort, "' (attempts or a code like 603)"));
    }
  }
  std::vector<NumberRow> rows;
  v.store->ForEachNumber(now, [&](const metrics::NumberSnapshot& s) {
    pacing::NumberPacing p = v.pacer->State(s.number);
    if (!state_filter.empty() && pacing::StateName(p.state) != state_filter) return;
    const uint32_t key = sort_outcome < 0 ? s.window.attempts : s.window.by_outcome[sort_outcome];
    rows.push_back({s, std::move(p), key});
  });
  std::sort(rows.begin(), rows.end(), [](const NumberRow& a, const NumberRow& b) {
    const bool a_paced = a.pacing.state != pacing::NumberState::kHealthy;
    const bool b_paced = b.pacing.state != pacing::NumberState::kHealthy;
    if (a_paced != b_paced) return a_paced;
    return a.key != b.key ? a.key > b.key : a.snap.number < b.snap.number;
  });
  if (rows.size() > limit) rows.resize(limit);
  return rows;
}

}  // namespace sippacer::proxy
