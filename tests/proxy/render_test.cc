#include <catch2/catch.hpp>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "pacing/pacer.h"
#include "proxy/ctl/json_value.h"
#include "proxy/ctl/table.h"
#include "proxy/ops/metrics_http.h"
#include "proxy/ops/render.h"
#include "proxy/sip/trunk_group.h"

namespace sippacer::proxy {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

struct World {
  explicit World(pacing::Policy policy = Policy())
      : store(metrics::StoreOptions{}), pacer(store, std::move(policy), nullptr) {
    view.store = &store;
    view.pacer = &pacer;
    view.relay = &relay;
    view.started = kT0;
    for (int i = 0; i < 10; ++i) Call(15551230001, i < 3 ? 603 : 200);
    Call(15551230002, 480);
  }
  static pacing::Policy Policy() {
    pacing::Policy p;
    p.rules = *pacing::ParseRules("603>=50%/15m:throttle");
    return p;
  }
  void Call(metrics::E164 n, int code, metrics::E164 callee = 15550001234, absl::Time at = kT0) {
    pacer.OnInvite(n, callee, at);
    metrics::CallOutcome o;
    o.caller = n;
    o.callee = callee;
    o.code = code;
    o.final_at = at;
    pacer.OnFinal(o);
    relay.invites_total.Add();
  }
  metrics::Store store;
  pacing::Pacer pacer;
  RelayCounters relay;
  OpsView view;
};

JsonValue Parse(const std::string& s) {
  auto v = ParseJson(s);
  REQUIRE(v.ok());
  return *v;
}

TEST_CASE("show number has the fields of the spec", "[proxy]") {
  World w;
  JsonValue n = Parse(RenderNumber(w.view, 15551230001, kT0));
  for (const char* f : {"number", "state", "reason", "window_s", "attempts", "codes", "rates", "pre_ring_603",
                        "network_blocked", "paced"}) {
    INFO(f);
    CHECK(n.Get(f) != nullptr);
  }
  CHECK(n.Get("number")->text == "+15551230001");
  CHECK(n.Get("attempts")->number == 10);
  CHECK(n.Get("codes")->Get("603")->number == 3);
  CHECK(n.Get("rates")->Get("603")->number == Approx(0.3));
  CHECK(Parse(RenderNumber(w.view, 19999999999, kT0)).Get("error") != nullptr);
}

TEST_CASE("show info, codes, numbers, hours and policy", "[proxy]") {
  World w;
  JsonValue info = Parse(RenderInfo(w.view, kT0 + absl::Seconds(5)));
  for (const char* f : {"version", "uptime_s", "calls_active", "invites_total", "paced_total", "numbers_tracked",
                        "numbers_throttled", "numbers_quarantined"}) {
    INFO(f);
    CHECK(info.Get(f) != nullptr);
  }
  CHECK(info.Get("uptime_s")->number == 5);
  CHECK(info.Get("numbers_tracked")->number == 2);
  JsonValue codes = Parse(RenderCodes(w.view, kT0));
  CHECK(codes.Get("codes")->Get("480")->number == 1);
  JsonValue top = Parse(RenderNumbers(w.view, {"sort=480", "limit=1"}, kT0));
  REQUIRE(top.Get("numbers")->items.size() == 1);
  CHECK(top.Get("numbers")->items[0].Get("number")->text == "+15551230002");
  CHECK(Parse(RenderNumbers(w.view, {"sort=nonsense"}, kT0)).Get("error") != nullptr);
  CHECK(Parse(RenderNumbers(w.view, {"state=throttled"}, kT0)).Get("numbers")->items.empty());
  JsonValue hours = Parse(RenderGroups("hours", "hour", w.store.Hours()));
  CHECK(hours.Get("hours")->items.size() == 24);
  JsonValue policy = Parse(RenderPolicy(w.pacer.policy()));
  CHECK(policy.Get("rules")->text == "603>=50%/15m:throttle");
}

TEST_CASE("Prometheus text has HELP, TYPE and escaped labels", "[proxy]") {
  World w;
  const std::string text = RenderPrometheus(w.view, kT0);
  CHECK(text.find("# TYPE sippacer_responses_total counter\n") != std::string::npos);
  CHECK(text.find("sippacer_responses_total{code=\"603\"} 3\n") != std::string::npos);
  CHECK(text.find("sippacer_numbers{state=\"healthy\"} 2\n") != std::string::npos);
  CHECK(text.find("sippacer_post_dial_delay_seconds_bucket{le=\"+Inf\"}") != std::string::npos);
  CHECK(text.find("sippacer_number_603_ratio{number=\"+15551230001\"} 0.3\n") != std::string::npos);
}

// The group of `items` whose `key_name` is `key`.
const JsonValue* Group(const JsonValue& answer, absl::string_view field, absl::string_view key_name,
                       absl::string_view key) {
  for (const JsonValue& g : answer.Get(field)->items) {
    if (g.Get(key_name)->text == key) return &g;
  }
  return nullptr;
}

// Area 212 declines 70% of its calls with 480, area 310 5%; +49 80%. Each
// caller dials once, so no number is judged.
void DialRoutes(World& w) {
  metrics::E164 caller = 15552000000;
  absl::Time t = kT0;
  for (int i = 0; i < 100; ++i) w.Call(++caller, i % 10 < 7 ? 480 : 200, 12125550000 + i, t += absl::Seconds(1));
  for (int i = 0; i < 200; ++i) w.Call(++caller, i % 20 ? 200 : 480, 13105550000 + i, t += absl::Seconds(1));
  for (int i = 0; i < 60; ++i) w.Call(++caller, i % 5 ? 480 : 200, 4930123000 + i, t += absl::Seconds(1));
  w.pacer.Tick(t);
}

TEST_CASE("show areas, carriers and countries name the routes elevated now", "[proxy]") {
  World w;
  DialRoutes(w);
  JsonValue areas = Parse(RenderAreas(w.view));
  const JsonValue* a212 = Group(areas, "areas", "area_code", "212");
  REQUIRE(a212 != nullptr);
  CHECK(a212->Get("attempts")->number == 100);
  CHECK(a212->Get("codes")->Get("480")->number == 70);
  const JsonValue* elevated = a212->Get("elevated");
  REQUIRE(elevated->items.size() == 1);
  CHECK(elevated->items[0].Get("code")->text == "480");
  CHECK(elevated->items[0].Get("rate")->number == Approx(0.7));
  CHECK(elevated->items[0].Get("rest_rate")->number < 0.25);
  CHECK(elevated->items[0].Get("calls")->number == 100);
  CHECK(elevated->items[0].Get("since")->text.back() == 'Z');
  CHECK(Group(areas, "areas", "area_code", "310")->Get("elevated")->items.empty());

  JsonValue countries = Parse(RenderCountries(w.view));
  const JsonValue* de = Group(countries, "countries", "country_code", "+49");
  REQUIRE(de != nullptr);
  REQUIRE(de->Get("elevated")->items.size() == 1);
  CHECK(de->Get("elevated")->items[0].Get("code")->text == "480");
  JsonValue carriers = Parse(RenderCarriers(w.view));
  REQUIRE(carriers.Get("carriers")->items.size() == 1);
  CHECK(carriers.Get("carriers")->items[0].Get("elevated")->items.empty());  // it is the whole pool

  CHECK(Parse(RenderInfo(w.view, kT0)).Get("routes_elevated")->number == 2);
  CHECK(RenderPrometheus(w.view, kT0).find("\nsippacer_routes_elevated 2\n") != std::string::npos);
  const std::string table = RenderForPerson(areas, {});
  CHECK(table.find("ELEVATED") != std::string::npos);
  CHECK(table.find("480 70% (rest ") != std::string::npos);
}

TEST_CASE("show countries: learning or ready, days of history and the daily baseline", "[proxy]") {
  World w;
  auto day = [](uint32_t attempts, uint32_t c603, uint32_t pre, uint32_t blocked, uint32_t c200) {
    metrics::CodeCounts c;
    c.attempts = attempts;
    c.by_outcome[static_cast<int>(metrics::Outcome::k603)] = c603;
    c.pre_ring_603 = pre;
    c.network_blocked = blocked;
    c.by_outcome[static_cast<int>(metrics::Outcome::k2xx)] = c200;
    return c;
  };
  // A day with no attempts (late answers only) is no day of the baseline.
  w.store.ImportCountry(
      {49, 2, {{20830, day(0, 3, 0, 0, 0)}, {20831, day(100, 10, 5, 2, 80)}, {20832, day(50, 10, 0, 0, 40)}}});
  w.store.ImportCountry({44, 6, {{20832, day(40, 0, 0, 0, 40)}}});
  JsonValue countries = Parse(RenderCountries(w.view));
  REQUIRE(countries.Get("countries")->items.size() == 3);  // +1 dialed, +44 and +49 restored
  const JsonValue* us = Group(countries, "countries", "country_code", "+1");
  CHECK(us->Get("status")->text == "ready");  // the home country never learns
  CHECK(us->Get("attempts")->number == 11);
  const JsonValue* uk = Group(countries, "countries", "country_code", "+44");
  CHECK(uk->Get("status")->text == "ready");
  CHECK(uk->Get("days")->number == 6);
  CHECK(uk->Get("attempts")->number == 0);
  CHECK(uk->Get("baseline")->Get("200")->Get("mean")->number == 1);
  const JsonValue* de = Group(countries, "countries", "country_code", "+49");
  CHECK(de->Get("status")->text == "learning");
  CHECK(de->Get("days")->number == 2);
  const JsonValue* base = de->Get("baseline");
  CHECK(base->Get("603")->Get("mean")->number == Approx(0.15));
  CHECK(base->Get("603")->Get("min")->number == Approx(0.1));
  CHECK(base->Get("603")->Get("max")->number == Approx(0.2));
  CHECK(base->Get("603pre")->Get("mean")->number == Approx(0.025));
  CHECK(base->Get("603pre")->Get("min")->number == 0);
  CHECK(base->Get("603+")->Get("max")->number == Approx(0.02));
  CHECK(base->Get("200")->Get("mean")->number == Approx(0.8));
  CHECK(base->Get("480") == nullptr);
  const std::string table = RenderForPerson(countries, {});
  CHECK(table.find("STATUS") != std::string::npos);
  CHECK(table.find("learning") != std::string::npos);
}

TEST_CASE("a number a watch rule flags is watched, not paced", "[proxy]") {
  pacing::Policy p = World::Policy();
  p.rules = *pacing::ParseRules("603>=50%/15m:throttle,486>=30%/1h:watch");
  p.false_alarm_rate = 0.5;  // a loose design, so a few calls decide
  p.hour_guard = false;
  World w(p);
  absl::Time t = kT0;
  for (int i = 0; i < 20; ++i) w.Call(15551230003, 486, 15550001234, t += absl::Seconds(30));
  REQUIRE(w.pacer.State(15551230003).watched);
  JsonValue n = Parse(RenderNumber(w.view, 15551230003, t));
  CHECK(n.Get("watched")->boolean);
  CHECK(n.Get("state")->text == "healthy");
  CHECK_FALSE(n.Get("watch_reason")->text.empty());
  JsonValue quiet = Parse(RenderNumber(w.view, 15551230001, t));
  CHECK_FALSE(quiet.Get("watched")->boolean);
  CHECK(quiet.Get("watch_reason") == nullptr);
  JsonValue list = Parse(RenderNumbers(w.view, {"sort=486", "limit=1"}, t));
  CHECK(list.Get("numbers")->items[0].Get("watched")->boolean);
  JsonValue info = Parse(RenderInfo(w.view, t));
  CHECK(info.Get("numbers_watched")->number == 1);
  CHECK(info.Get("routes_elevated")->number == 0);
  const std::string text = RenderPrometheus(w.view, t);
  CHECK(text.find("# TYPE sippacer_numbers_watched gauge\nsippacer_numbers_watched 1\n") != std::string::npos);
  CHECK(text.find("# TYPE sippacer_routes_elevated gauge\n") != std::string::npos);
}

TEST_CASE("help lists show areas", "[proxy]") {
  const std::string help = RenderHelp();
  CHECK(help.find("\"show areas [format=csv]\"") != std::string::npos);
  CHECK(help.find("\"show trunks [format=csv]\"") != std::string::npos);
}

// Two trunks; the second's name needs escaping in a Prometheus label.
TrunkGroup Trunks() {
  TrunkSpec a;
  a.name = "carrier-a";
  a.uri = "sip:10.0.0.1:5060;transport=tcp";
  a.max_calls = 100;
  a.max_cps = 2.5;
  TrunkSpec b;
  b.name = "back\\up \"b\"";
  b.uri = "sips:sbc.example.com";
  b.priority = 2;
  b.weight = 3;
  TrunkGroup g({a, b});
  TrunkStats& s = g.stats(0);
  s.calls_active.Add(4);
  s.attempts.Add(20);
  s.answered.Add(12);
  s.failovers.Add(3);
  s.refused_max_calls.Add(5);
  s.refused_max_cps.Add(6);
  s.finals[2].Add(12);
  s.finals[4].Add(2);
  s.finals[5].Add(3);
  s.finals[6].Add(1);
  s.finals[0].Add(2);
  s.unavailable.Add(3);
  g.stats(1).attempts.Add(3);
  return g;
}

TEST_CASE("show trunks: each trunk in order with its limits and counters", "[proxy]") {
  World w;
  CHECK(Parse(RenderTrunks(w.view)).Get("trunks")->items.empty());  // no trunk group
  const TrunkGroup g = Trunks();
  w.view.trunks = &g;
  JsonValue answer = Parse(RenderTrunks(w.view));
  const JsonValue* trunks = answer.Get("trunks");
  REQUIRE(trunks->items.size() == 2);
  const JsonValue& a = trunks->items[0];
  for (const char* f :
       {"name", "uri", "priority", "weight", "max_calls", "max_cps", "calls_active", "attempts", "answered",
        "failovers", "refused_max_calls", "refused_max_cps", "responses", "timeouts", "unavailable"}) {
    INFO(f);
    CHECK(a.Get(f) != nullptr);
  }
  CHECK(a.Get("name")->text == "carrier-a");
  CHECK(a.Get("uri")->text == "sip:10.0.0.1:5060;transport=tcp");
  CHECK(a.Get("max_calls")->number == 100);
  CHECK(a.Get("max_cps")->number == 2.5);
  CHECK(a.Get("calls_active")->number == 4);
  CHECK(a.Get("refused_max_cps")->number == 6);
  const JsonValue* responses = a.Get("responses");
  REQUIRE(responses->fields.size() == 6);
  CHECK(responses->fields[0].first == "1xx");
  CHECK(responses->Get("2xx")->number == 12);
  CHECK(responses->Get("6xx")->number == 1);
  CHECK(a.Get("timeouts")->number == 2);
  CHECK(a.Get("unavailable")->number == 3);
  const JsonValue& b = trunks->items[1];
  CHECK(b.Get("name")->text == g.spec(1).name);
  CHECK(b.Get("priority")->number == 2);
  CHECK(b.Get("weight")->number == 3);
  CHECK(b.Get("max_calls")->number == 0);

  const std::string table = RenderForPerson(answer, {});
  CHECK(table.find("REFUSED CALLS+CPS") != std::string::npos);
  CHECK(table.find("sip:10.0.0.1:5060;transport=tcp") != std::string::npos);
  CHECK(table.find("5+6") != std::string::npos);
  w.view.trunks = nullptr;
  CHECK(RenderForPerson(Parse(RenderTrunks(w.view)), {}) == "no trunks\n");
}

TEST_CASE("Prometheus has per-trunk series with escaped names", "[proxy]") {
  World w;
  CHECK(RenderPrometheus(w.view, kT0).find("sippacer_trunk_") == std::string::npos);  // no trunk group
  const TrunkGroup g = Trunks();
  w.view.trunks = &g;
  const std::string text = RenderPrometheus(w.view, kT0);
  for (const char* line : {
           "# TYPE sippacer_trunk_calls_active gauge\n",
           "sippacer_trunk_calls_active{trunk=\"carrier-a\"} 4\n",
           "# TYPE sippacer_trunk_attempts_total counter\n",
           "sippacer_trunk_attempts_total{trunk=\"carrier-a\"} 20\n",
           "sippacer_trunk_attempts_total{trunk=\"back\\\\up \\\"b\\\"\"} 3\n",
           "sippacer_trunk_answered_total{trunk=\"carrier-a\"} 12\n",
           "sippacer_trunk_failovers_total{trunk=\"carrier-a\"} 3\n",
           "sippacer_trunk_refused_total{trunk=\"carrier-a\",reason=\"max_calls\"} 5\n",
           "sippacer_trunk_refused_total{trunk=\"carrier-a\",reason=\"max_cps\"} 6\n",
           "sippacer_trunk_responses_total{trunk=\"carrier-a\",class=\"2xx\"} 12\n",
           "sippacer_trunk_responses_total{trunk=\"carrier-a\",class=\"1xx\"} 0\n",
           "sippacer_trunk_responses_total{trunk=\"carrier-a\",class=\"6xx\"} 1\n",
           "sippacer_trunk_timeouts_total{trunk=\"carrier-a\"} 2\n",
           "sippacer_trunk_unavailable_total{trunk=\"carrier-a\"} 3\n",
       }) {
    INFO(line);
    CHECK(text.find(line) != std::string::npos);
  }
  // A family's series come together, right after its TYPE line: 6 classes for each of 2 trunks.
  const std::vector<std::string> lines = absl::StrSplit(text, '\n');
  const auto type = std::find(lines.begin(), lines.end(), "# TYPE sippacer_trunk_responses_total counter");
  REQUIRE(type != lines.end());
  auto series = [](const std::string& l) { return absl::StartsWith(l, "sippacer_trunk_responses_total{"); };
  CHECK(std::count_if(lines.begin(), lines.end(), series) == 12);
  CHECK(std::all_of(type + 1, type + 13, series));
}

TEST_CASE("Prometheus names the build, the start and the process", "[proxy]") {
  World w;
  w.view.started = kT0 + absl::Milliseconds(250);
  ProcessStats p;
  p.ok = true;
  p.cpu_seconds = 12.34;
  p.resident_bytes = 50'000'000;
  p.virtual_bytes = 300'000'000;
  p.open_fds = 17;
  p.max_fds = 65536;
  p.start_time_s = 1'800'000'000.11;
  const std::string text = RenderPrometheus(w.view, kT0 + absl::Hours(1), p);
  for (const std::string& line : {
           absl::StrCat("sippacer_build_info{version=\"", SIPPACER_VERSION, "\",build_type=\""),
           absl::StrCat("\",sofia_sip=\"", SIPPACER_SOFIA_BUILD, "\"} 1\n"),
           std::string("# TYPE sippacer_start_time_seconds gauge\nsippacer_start_time_seconds 1800000000.25\n"),
           std::string("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 12.34\n"),
           std::string("process_resident_memory_bytes 50000000\n"),
           std::string("process_virtual_memory_bytes 300000000\n"),
           std::string("process_open_fds 17\n"),
           std::string("process_max_fds 65536\n"),
           std::string("process_start_time_seconds 1800000000.11\n"),
       }) {
    INFO(line);
    CHECK(text.find(line) != std::string::npos);
  }
  CHECK(text.find("sippacer_uptime_seconds") == std::string::npos);  // the start time replaces it

  p.open_fds = -1;  // no descriptor left to list them: left out, not 0
  CHECK(RenderPrometheus(w.view, kT0, p).find("process_open_fds") == std::string::npos);
  CHECK(RenderPrometheus(w.view, kT0).find("process_") == std::string::npos);  // /proc not read
}

TEST_CASE("ReadProcessStats reads this process", "[proxy]") {
  const ProcessStats p = ReadProcessStats();
  REQUIRE(p.ok);
  CHECK(p.cpu_seconds >= 0);
  CHECK(p.resident_bytes > 0);
  CHECK(p.virtual_bytes >= p.resident_bytes);
  CHECK(p.open_fds >= 3);  // at least stdin, stdout, stderr
  CHECK(static_cast<uint64_t>(p.open_fds) <= p.max_fds);
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  CHECK(p.start_time_s > now - 3600);
  CHECK(p.start_time_s < now + 2);  // boot time and clock ticks are whole seconds and ticks
}

TEST_CASE("Prometheus post-dial delay buckets start under a second", "[proxy]") {
  World w;
  for (int ms : {80, 300, 300, 4000}) {
    w.pacer.OnInvite(15551230005, 15550001234, kT0);
    metrics::CallOutcome o;
    o.caller = 15551230005;
    o.callee = 15550001234;
    o.code = 200;
    o.ringing_seen = true;
    o.invite_at = kT0;
    o.first_ring_at = kT0 + absl::Milliseconds(ms);
    o.final_at = kT0 + absl::Seconds(10);
    w.pacer.OnFinal(o);
  }
  const std::string text = RenderPrometheus(w.view, kT0 + absl::Seconds(10));
  const std::string buckets = absl::StrCat(
      "# TYPE sippacer_post_dial_delay_seconds histogram\n", "sippacer_post_dial_delay_seconds_bucket{le=\"0.1\"} 1\n",
      "sippacer_post_dial_delay_seconds_bucket{le=\"0.25\"} 1\n",
      "sippacer_post_dial_delay_seconds_bucket{le=\"0.5\"} 3\n",
      "sippacer_post_dial_delay_seconds_bucket{le=\"1\"} 3\n", "sippacer_post_dial_delay_seconds_bucket{le=\"2\"} 3\n",
      "sippacer_post_dial_delay_seconds_bucket{le=\"3\"} 3\n", "sippacer_post_dial_delay_seconds_bucket{le=\"5\"} 4\n",
      "sippacer_post_dial_delay_seconds_bucket{le=\"8\"} 4\n", "sippacer_post_dial_delay_seconds_bucket{le=\"13\"} 4\n",
      "sippacer_post_dial_delay_seconds_bucket{le=\"30\"} 4\n",
      "sippacer_post_dial_delay_seconds_bucket{le=\"+Inf\"} 4\n", "sippacer_post_dial_delay_seconds_sum 4.68\n",
      "sippacer_post_dial_delay_seconds_count 4\n");
  CHECK_THAT(text, Catch::Contains(buckets));
}

TEST_CASE("Prometheus gives each worst number's attempts beside its 603 ratio, window named", "[proxy]") {
  World w;  // +15551230001: 3 x 603 of 10; +15551230002: a 480, no 603
  const std::string text = RenderPrometheus(w.view, kT0);
  CHECK(text.find("sippacer_number_603_ratio{number=\"+15551230001\"} 0.3\n") != std::string::npos);
  CHECK(text.find("sippacer_number_attempts{number=\"+15551230001\"} 10\n") != std::string::npos);
  CHECK(text.find("{number=\"+15551230002\"}") == std::string::npos);
  // Both name the store's history window (4h by default).
  const std::string window = "over the last 4h (the per-number history";
  CHECK(text.find("# HELP sippacer_number_603_ratio 603 share of attempts " + window) != std::string::npos);
  CHECK(text.find("# HELP sippacer_number_attempts INVITEs forwarded to the trunk " + window) != std::string::npos);
  CHECK(text.find("# TYPE sippacer_number_attempts gauge\n") != std::string::npos);
}

TEST_CASE("Prometheus counts 603+ per carrier", "[proxy]") {
  World w;
  w.pacer.OnInvite(15551230006, 15550001234, kT0);
  metrics::CallOutcome o;
  o.caller = 15551230006;
  o.callee = 15550001234;
  o.code = 603;
  o.network_blocked = true;
  o.final_at = kT0;
  w.pacer.OnFinal(o);
  const std::string text = RenderPrometheus(w.view, kT0);
  CHECK(text.find("# TYPE sippacer_carrier_network_blocked_total counter\n"
                  "sippacer_carrier_network_blocked_total{carrier=\"unknown\"} 1\n") != std::string::npos);
  CHECK(text.find("sippacer_carrier_responses_total{carrier=\"unknown\",code=\"603\"} 4\n") != std::string::npos);
}

TEST_CASE("events render as one JSON line", "[proxy]") {
  pacing::StateChange c;
  c.number = 15551230001;
  c.from = pacing::NumberState::kHealthy;
  c.to = pacing::NumberState::kThrottled;
  c.at = kT0;
  c.reason = "603 \"quoted\"\nnext";
  const std::string line = RenderEvent(c);
  CHECK(line.find('\n') == std::string::npos);
  JsonValue e = Parse(line);
  CHECK(e.Get("to")->text == "throttled");
  CHECK(e.Get("reason")->text == "603 \"quoted\"\nnext");
}

}  // namespace
}  // namespace sippacer::proxy
