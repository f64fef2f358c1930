#include <catch2/catch.hpp>

#include "pacing/pacer.h"
#include "proxy/ctl/json_value.h"
#include "proxy/ops/metrics_http.h"
#include "proxy/ops/render.h"

namespace sippacer::proxy {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

struct World {
  World() : store(metrics::StoreOptions{}), pacer(store, Policy(), nullptr) {
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
  void Call(metrics::E164 n, int code) {
    pacer.OnInvite(n, 15550001234, kT0);
    metrics::CallOutcome o;
    o.caller = n;
    o.callee = 15550001234;
    o.code = code;
    o.final_at = kT0;
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
