// The stats socket's requests as an operator uses them: set policy (logged,
// an event, who did it), quarantine and release of numbers not tracked,
// help, format=csv, quit and prompt, and `show numbers` ordering.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "pacing/event_json.h"
#include "pacing/pacer.h"
#include "proxy/ctl/json_value.h"
#include "proxy/ops/command.h"
#include "proxy/ops/render.h"
#include "proxy/sip/trunk_group.h"

namespace sippacer::proxy {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

// Runs a SIP-thread command at once, as if the SIP thread took it.
struct InlineQueue : SipThreadQueue {
  bool Post(Task task) override {
    task();
    return true;
  }
};

struct Published {
  std::string event, log;
};

struct World {
  World() : store(metrics::StoreOptions{}), pacer(store, Policy(), nullptr) {
    view.store = &store;
    view.pacer = &pacer;
    view.relay = &relay;
    view.started = kT0;
  }
  static pacing::Policy Policy() {
    pacing::Policy p;
    p.rules = *pacing::ParseRules("603>=50%/15m:throttle");
    return p;
  }
  void Call(metrics::E164 n, int code, absl::Time at = kT0) {
    pacer.OnInvite(n, 15550001234, at);
    metrics::CallOutcome o;
    o.caller = n;
    o.callee = 15550001234;
    o.code = code;
    o.final_at = at;
    pacer.OnFinal(o);
  }
  // One request; its answer (JSON or text) and what it published.
  std::string Ask(const std::string& line, CommandKind* kind = nullptr) {
    CommandContext ctx;
    ctx.view = view;
    ctx.pacer = &pacer;
    ctx.sip_queue = &queue;
    ctx.post_to_ops = [](std::function<void()> fn) { fn(); };
    ctx.peer = "uid=7 pid=9 (test)";
    ctx.publish = [this](std::string event, std::string log) { published.push_back({event, log}); };
    std::string answer = "(none)";
    const CommandKind k = RunCommand(line, ctx, kT0, [&answer](std::string a) { answer = std::move(a); });
    if (kind != nullptr) *kind = k;
    return answer;
  }
  metrics::Store store;
  pacing::Pacer pacer;
  RelayCounters relay;
  OpsView view;
  InlineQueue queue;
  std::vector<Published> published;
};

JsonValue Parse(const std::string& s) {
  auto v = ParseJson(s);
  INFO(s);
  REQUIRE(v.ok());
  return *v;
}

TEST_CASE("set policy is logged with who asked, streamed as a policy event and answered with what changed", "[proxy]") {
  World w;
  JsonValue a = Parse(w.Ask("set policy number_cpm=1 dry_run=yes"));
  CHECK(a.Get("number_cpm")->number == 1);
  CHECK(a.Get("dry_run")->boolean);
  REQUIRE(a.Get("changed") != nullptr);
  REQUIRE(a.Get("changed")->items.size() == 2);
  CHECK(a.Get("changed")->items[0].text == "number_cpm");
  CHECK(a.Get("flags")->Get("number_cpm")->number == 0);
  CHECK_FALSE(a.Get("flags")->Get("dry_run")->boolean);
  CHECK(a.Get("set_by")->text == "uid=7 pid=9 (test)");
  CHECK(w.pacer.policy().dry_run);

  REQUIRE(w.published.size() == 1);
  CHECK(w.published[0].log == "policy set by uid=7 pid=9 (test): number_cpm 0 -> 1, dry_run false -> true");
  JsonValue e = Parse(w.published[0].event);
  CHECK(e.Get("event")->text == "policy");
  CHECK(e.Get("by")->text == "uid=7 pid=9 (test)");
  CHECK(e.Get("from")->Get("dry_run")->boolean == false);
  CHECK(e.Get("to")->Get("dry_run")->boolean == true);
  CHECK(e.Get("to")->Get("number_cpm")->number == 1);
  CHECK(e.Get("from")->Get("rules") == nullptr);  // unchanged keys are left out
  CHECK(e.Get("reason")->text == "number_cpm 0 -> 1, dry_run false -> true");
  CHECK(e.Get("at")->text.back() == 'Z');

  // The same values again: logged, no event.
  a = Parse(w.Ask("set policy dry_run=true"));
  CHECK(a.Get("changed")->items.empty());
  REQUIRE(w.published.size() == 2);
  CHECK(w.published[1].event.empty());
  CHECK(absl::StrContains(w.published[1].log, "no change"));
  // Refused: nothing published.
  CHECK(Parse(w.Ask("set policy number_cpm=-1")).Get("error") != nullptr);
  CHECK(w.published.size() == 2);

  // show policy names the flags' values of what was set live, and who set it.
  JsonValue p = Parse(w.Ask("show policy"));
  CHECK(p.Get("number_cpm")->number == 1);
  CHECK(p.Get("flags")->fields.size() == 2);
  CHECK(p.Get("set_by")->text == "uid=7 pid=9 (test)");
  // Back to the flag's value: no longer set live.
  Parse(w.Ask("set policy number_cpm=0 dry_run=no"));
  CHECK(Parse(w.Ask("show policy")).Get("flags")->fields.empty());
}

TEST_CASE("policy settings read back through set policy exactly", "[proxy]") {
  pacing::Policy p = World::Policy();
  p.number_cpm = 1.2345678901;
  p.false_alarm_rate = 1e-4;
  p.quarantine_for = absl::Minutes(90);
  p.confidence = 0.9;
  p.hour_guard = false;
  std::vector<std::string> kv;
  for (const pacing::PolicySetting& s : pacing::PolicySettings(p)) kv.push_back(s.key + "=" + s.text);
  auto back = pacing::ApplyPolicyUpdate(pacing::Policy(), kv);
  REQUIRE(back.ok());
  CHECK(pacing::ChangedPolicyKeys(p, *back).empty());
  CHECK(back->number_cpm == p.number_cpm);
  CHECK(pacing::PolicySettings(p)[2].text == "1.2345678901");
  CHECK(pacing::PolicySettings(p)[9].text == "0.0001");
  // show policy keeps its shape.
  JsonValue shown = Parse(RenderPolicy(p));
  CHECK(shown.Get("quarantine_for")->text == "1h30m");
  CHECK(shown.Get("false_alarm_rate")->number == Approx(1e-4));
  CHECK(shown.Get("hour_guard")->type == JsonValue::Type::kBool);
}

TEST_CASE("quarantine of a number never seen says it is pre-emptive; release with nothing to release creates nothing",
          "[proxy]") {
  World w;
  w.Call(15551230001, 200);
  auto tracked = [&w] { return Parse(RenderInfo(w.view, kT0)).Get("numbers_tracked")->number; };
  REQUIRE(tracked() == 1);

  JsonValue r = Parse(w.Ask("release +1 555 999 0001"));
  CHECK_FALSE(r.Get("released")->boolean);
  CHECK(r.Get("state")->text == "healthy");
  CHECK(r.Get("message")->text == "+15559990001 is not tracked: nothing to release");
  CHECK(tracked() == 1);  // no entry created
  r = Parse(w.Ask("release 15551230001"));
  CHECK_FALSE(r.Get("released")->boolean);
  CHECK(r.Get("message")->text == "+15551230001 is healthy: nothing to release");
  CHECK(absl::StrContains(w.published.back().log, "release +15551230001 by uid=7 pid=9 (test): nothing to release"));

  JsonValue q = Parse(w.Ask("quarantine 15559990002 for=2h"));
  CHECK(q.Get("state")->text == "quarantined");
  CHECK(q.Get("preemptive")->boolean);
  CHECK(absl::StrContains(q.Get("message")->text, "not tracked"));
  CHECK(q.Get("from")->text == "healthy");
  CHECK(tracked() == 2);  // a pre-emptive quarantine is an entry, on purpose
  q = Parse(w.Ask("quarantine 15551230001"));
  CHECK_FALSE(q.Get("preemptive")->boolean);
  CHECK(q.Get("message") == nullptr);

  r = Parse(w.Ask("release 15559990002"));
  CHECK(r.Get("released")->boolean);
  CHECK(r.Get("from")->text == "quarantined");
  CHECK(r.Get("state")->text == "healthy");
}

TEST_CASE("help is one line per request; format=json gives the list", "[proxy]") {
  World w;
  const std::string help = w.Ask("help");
  CHECK(help.back() == '\n');
  const std::vector<std::string> lines = absl::StrSplit(help.substr(0, help.size() - 1), '\n');
  CHECK(lines.size() == Parse(RenderHelp()).Get("commands")->items.size());
  for (const std::string& l : lines) {
    INFO(l);
    CHECK(absl::StrContains(l, " : "));
    CHECK_FALSE(absl::StripAsciiWhitespace(l).empty());
  }
  for (const char* r : {"prompt", "quit", "show numbers [state=S] [sort=CODE|attempts] [limit=N] [format=csv]",
                        "show trunks [format=csv]", "set policy KEY=VALUE ...", "subscribe"}) {
    INFO(r);
    CHECK(absl::StrContains(help, absl::StrCat("  ", r, " ")));
  }
  CHECK(Parse(w.Ask("help format=json")).Get("commands") != nullptr);
}

TEST_CASE("quit, prompt and every other line get their kind of answer", "[proxy]") {
  World w;
  CommandKind kind;
  CHECK(w.Ask("quit", &kind) == "(none)");
  CHECK(kind == CommandKind::kQuit);
  CHECK(w.Ask("PROMPT", &kind) == "(none)");
  CHECK(kind == CommandKind::kPrompt);
  for (const char* line :
       {"", "bogus", "show", "show nothing", "set", "quarantine", "release x", "show info format=xml",
        "show info format=csv", "show policy format=csv", "help format=csv"}) {
    INFO(line);
    CHECK(Parse(w.Ask(line, &kind)).Get("error") != nullptr);
    CHECK(kind == CommandKind::kAnswered);
  }
}

std::vector<std::string> Lines(const std::string& text) {
  REQUIRE(!text.empty());
  REQUIRE(text.back() == '\n');
  return absl::StrSplit(text.substr(0, text.size() - 1), '\n');
}

TEST_CASE("format=csv: a # header line, then one row per line, as HAProxy's show stat", "[proxy]") {
  World w;
  for (int i = 0; i < 10; ++i) w.Call(15551230001, i < 3 ? 603 : 200);
  w.Call(15551230002, 480);
  REQUIRE(w.pacer.Quarantine(15551230003, absl::Hours(1), kT0).ok());

  std::vector<std::string> rows = Lines(w.Ask("show numbers sort=603 format=csv"));
  REQUIRE(rows.size() == 4);
  CHECK(absl::StartsWith(rows[0], "# number,state,reason,until,watched,watch_reason,window_s,attempts,200,3xx,"));
  const std::vector<std::string> header = absl::StrSplit(rows[0].substr(2), ',');
  // Paced first; the quarantine's reason "operator: for 1h" has no comma.
  CHECK(absl::StartsWith(rows[1], "+15551230003,quarantined,operator: for 1h,20"));
  CHECK(absl::StartsWith(rows[2], "+15551230001,healthy,,,false,,"));
  const std::vector<std::string> a = absl::StrSplit(rows[2], ',');
  REQUIRE(a.size() == header.size());
  auto column = [&header](absl::string_view name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  CHECK(a[column("attempts")] == "10");
  CHECK(a[column("603")] == "3");
  CHECK(a[column("200")] == "7");
  CHECK(a[column("pre_ring_603")] == "3");
  CHECK(Lines(w.Ask("show numbers state=quarantined format=csv")).size() == 2);
  CHECK(Parse(w.Ask("show numbers sort=nonsense format=csv")).Get("error") != nullptr);  // errors stay JSON

  for (const char* request : {"show carriers format=csv", "show countries format=csv", "show areas format=csv",
                              "show hours format=csv", "show trunks format=csv", "show numbers FORMAT=CSV"}) {
    INFO(request);
    const std::vector<std::string> lines = Lines(w.Ask(request));
    CHECK(absl::StartsWith(lines[0], "# "));
    for (const std::string& l : lines) CHECK_FALSE(l.empty());  // an empty line ends the answer
  }
  CHECK(absl::StartsWith(Lines(w.Ask("show countries format=csv"))[0], "# country_code,status,days,attempts,200,"));
  CHECK(Lines(w.Ask("show hours format=csv")).size() == 25);
  CHECK(Lines(w.Ask("show trunks format=csv")).size() == 1);  // no trunk group: the header only
  CHECK(absl::StrContains(Lines(w.Ask("show countries format=csv"))[1], "+1,ready,"));
}

TEST_CASE("a CSV field with a comma or a quote is quoted; a line break becomes a space", "[proxy]") {
  TrunkSpec t;
  t.name = "carrier \"a\", east";
  t.uri = "sip:10.0.0.1;transport=tcp\nx";
  TrunkGroup g({t});
  World w;
  w.view.trunks = &g;
  const std::vector<std::string> lines = Lines(w.Ask("show trunks format=csv"));
  REQUIRE(lines.size() == 2);
  CHECK(absl::StartsWith(lines[1], "\"carrier \"\"a\"\", east\",sip:10.0.0.1;transport=tcp x,1,1,"));
}

TEST_CASE("show numbers lists paced numbers first, then by the sort key; the limit cuts after", "[proxy]") {
  World w;
  // Three healthy numbers with 603s, five paced with none.
  for (metrics::E164 n = 15551230001; n <= 15551230003; ++n) {
    for (int i = 0; i < 10; ++i) w.Call(n, i < 3 ? 603 : 200);
    REQUIRE(w.pacer.State(n).state == pacing::NumberState::kHealthy);
  }
  for (metrics::E164 n = 15551240001; n <= 15551240005; ++n) {
    w.Call(n, 200);
    REQUIRE(w.pacer.Quarantine(n, absl::Hours(1), kT0).ok());
  }
  JsonValue top = Parse(w.Ask("show numbers sort=603 limit=5"));
  REQUIRE(top.Get("numbers")->items.size() == 5);
  for (const JsonValue& n : top.Get("numbers")->items) CHECK(n.Get("state")->text == "quarantined");
  JsonValue all = Parse(w.Ask("show numbers sort=603 limit=7"));
  REQUIRE(all.Get("numbers")->items.size() == 7);
  CHECK(all.Get("numbers")->items[5].Get("number")->text == "+15551230001");  // then by 603, ties by number
  CHECK(all.Get("numbers")->items[5].Get("codes")->Get("603")->number == 3);
}

}  // namespace
}  // namespace sippacer::proxy
