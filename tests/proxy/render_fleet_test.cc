// The fleet on the stats socket (proxy/ops/render_fleet.cc) and as
// sippacer-ctl prints it (proxy/ctl/table.cc): `show nodes`, `show number`'s
// split by node, `show info`'s "fleet".
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "metrics/fleet_counts.h"
#include "pacing/pacer.h"
#include "proxy/ctl/json_value.h"
#include "proxy/ctl/table.h"
#include "proxy/fleet/fleet_sync.h"
#include "proxy/ops/render.h"

namespace sippacer::proxy {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
constexpr metrics::E164 kA = 15551230001;

JsonValue Parse(const std::string& s) {
  auto v = ParseJson(s);
  REQUIRE(v.ok());
  return *v;
}

std::vector<std::string> Lines(const std::string& text) { return absl::StrSplit(text, '\n', absl::SkipEmpty()); }

// The words of a table line (columns are 2+ spaces apart, a cell may hold one).
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> out;
  for (absl::string_view c : absl::StrSplit(line, "  ", absl::SkipEmpty())) {
    c = absl::StripAsciiWhitespace(c);
    if (!c.empty()) out.emplace_back(c);
  }
  return out;
}

struct NoQueue : SipThreadQueue {
  bool Post(Task) override { return false; }
};

// A node of a fleet, its FleetSync never started (no Redis needed).
struct FleetWorld {
  FleetWorld() : store(Options()), pacer(store, pacing::Policy(), nullptr) {
    store.EnableFleet();
    fleet::FleetOptions o;
    o.target.host = "cache";
    o.node_id = "edge-a";
    o.version = "0.1.0";
    sync = std::make_unique<fleet::FleetSync>(o, store, pacer, queue);
    view.store = &store;
    view.pacer = &pacer;
    view.relay = &relay;
    view.started = kT0;
    view.fleet = sync.get();
  }
  static metrics::StoreOptions Options() {
    metrics::StoreOptions o;
    o.max_numbers = 1000;
    return o;
  }
  void Call(metrics::E164 n, int code, absl::Time at) {
    pacer.OnInvite(n, 15550001234, at);
    metrics::CallOutcome o;
    o.caller = n;
    o.callee = 15550001234;
    o.code = code;
    o.ringing_seen = true;
    o.final_at = at;
    pacer.OnFinal(o);
  }
  // Another node's counts for `n` in the bucket of `at`.
  void Other(absl::string_view node, metrics::E164 n, uint16_t answered, uint16_t declined, absl::Time at) {
    metrics::BucketCounts b;
    b.epoch = static_cast<uint32_t>(absl::ToUnixSeconds(at) / absl::ToInt64Seconds(store.bucket_width()));
    b.attempts = static_cast<uint16_t>(answered + declined);
    b.outcomes[static_cast<int>(metrics::Outcome::k2xx)] = answered;
    b.outcomes[static_cast<int>(metrics::Outcome::k603)] = declined;
    b.pre_ring_603 = declined;
    store.fleet()->SetNumber(node, n, b, at);
  }
  metrics::Store store;
  pacing::Pacer pacer;
  NoQueue queue;
  std::unique_ptr<fleet::FleetSync> sync;
  RelayCounters relay;
  OpsView view;
};

TEST_CASE("show number in a fleet: fleet-wide counts, split by node", "[proxy][fleet]") {
  FleetWorld w;
  const absl::Time now = kT0 + absl::Minutes(1);
  for (int i = 0; i < 3; ++i) w.Call(kA, 200, kT0 + absl::Seconds(i));
  w.Other("edge-b", kA, 2, 5, kT0 + absl::Seconds(10));

  const JsonValue n = Parse(RenderNumber(w.view, kA, now));
  CHECK(n.Get("attempts")->number == 10);
  CHECK(n.Get("codes")->Get("603")->number == 5);
  const JsonValue* by_node = n.Get("by_node");
  REQUIRE(by_node != nullptr);
  REQUIRE(by_node->items.size() == 2);
  CHECK(by_node->items[0].Get("node")->text == "edge-a");  // this node first
  CHECK(by_node->items[0].Get("attempts")->number == 3);
  CHECK(by_node->items[1].Get("node")->text == "edge-b");
  CHECK(by_node->items[1].Get("attempts")->number == 7);
  CHECK(by_node->items[1].Get("codes")->Get("603")->number == 5);
  CHECK(by_node->items[1].Get("pre_ring_603")->number == 5);

  // sippacer-ctl: the number's fields, then the split as a table.
  const std::string text = RenderForPerson(n, {});
  const size_t split = text.find("\nby node:\n");
  REQUIRE(split != std::string::npos);
  CHECK(text.substr(0, split).find("by_node") == std::string::npos);
  const std::vector<std::string> lines = Lines(text.substr(split + 10));
  REQUIRE(lines.size() == 3);
  CHECK(Cells(lines[0]) == std::vector<std::string>{"NODE", "ATTEMPTS", "200", "603", "PRE-RING 603", "603+", "PACED"});
  CHECK(Cells(lines[1]) == std::vector<std::string>{"edge-a", "3", "3", "0", "0", "0", "0"});
  CHECK(Cells(lines[2]) == std::vector<std::string>{"edge-b", "7", "2", "5", "5", "0", "0"});
  // The columns line up.
  CHECK(lines[1].find("3") == lines[0].find("ATTEMPTS"));
  CHECK(lines[2].find("7") == lines[0].find("ATTEMPTS"));
}

TEST_CASE("show number alone has no split by node", "[proxy][fleet]") {
  FleetWorld w;
  w.view.fleet = nullptr;
  w.Call(kA, 200, kT0);
  const JsonValue n = Parse(RenderNumber(w.view, kA, kT0));
  CHECK(n.Get("by_node") == nullptr);
  CHECK(RenderForPerson(n, {}).find("by node") == std::string::npos);
}

TEST_CASE("show nodes: an error alone, this node's status in a fleet", "[proxy][fleet]") {
  FleetWorld w;
  const JsonValue fleet = Parse(RenderNodes(w.view, kT0));
  CHECK(fleet.Get("node_id")->text == "edge-a");
  CHECK(fleet.Get("redis")->text == "cache:6379");
  CHECK(fleet.Get("degraded")->boolean);  // never started: no link to Redis
  REQUIRE(fleet.Get("nodes") != nullptr);
  CHECK(fleet.Get("nodes")->items.empty());
  const std::string text = RenderForPerson(fleet, {});
  CHECK(text ==
        "no nodes in redis yet\ndegraded: not in sync with redis at cache:6379, deciding on this node's own counts\n");

  const JsonValue info = Parse(RenderInfo(w.view, kT0));
  REQUIRE(info.Get("fleet") != nullptr);
  CHECK(info.Get("fleet")->Get("node_id")->text == "edge-a");
  CHECK(info.Get("fleet")->Get("degraded")->boolean);

  w.view.fleet = nullptr;
  CHECK(Parse(RenderNodes(w.view, kT0)).Get("error") != nullptr);
  CHECK(Parse(RenderInfo(w.view, kT0)).Get("fleet") == nullptr);
}

// What the daemon answers to `show nodes` in a fleet of three (RenderNodes'
// fields), one of them behind.
constexpr char kNodesAnswer[] =
    R"({"node_id":"edge-a","redis":"10.0.0.5:6379","degraded":false,"nodes":[)"
    R"({"node":"edge-a","self":true,"last_sync":"2027-01-15T08:00:00Z","lag_s":0.31,"stale":false,"calls_per_s":41.333,"numbers":5120,"version":"0.1.0"},)"
    R"({"node":"edge-b","self":false,"last_sync":"2027-01-15T08:00:00Z","lag_s":0.8,"stale":false,"calls_per_s":39,"numbers":4800,"version":"0.1.0"},)"
    R"({"node":"edge-c","self":false,"last_sync":"2027-01-15T07:58:00Z","lag_s":120.04,"stale":true,"calls_per_s":0,"numbers":12,"version":"0.0.9"}]})";

TEST_CASE("sippacer-ctl show nodes: one row a node", "[proxy][fleet]") {
  const JsonValue answer = Parse(kNodesAnswer);
  const std::string text = RenderForPerson(answer, {});
  const std::vector<std::string> lines = Lines(text);
  REQUIRE(lines.size() == 4);
  CHECK(Cells(lines[0]) ==
        std::vector<std::string>{"NODE", "SELF", "LAST_SYNC", "LAG_S", "STALE", "CALLS_PER_S", "NUMBERS", "VERSION"});
  CHECK(Cells(lines[1]) ==
        std::vector<std::string>{"edge-a", "yes", "2027-01-15T08:00:00Z", "0.3", "no", "41.3", "5120", "0.1.0"});
  CHECK(Cells(lines[2]) ==
        std::vector<std::string>{"edge-b", "no", "2027-01-15T08:00:00Z", "0.8", "no", "39.0", "4800", "0.1.0"});
  CHECK(Cells(lines[3]) ==
        std::vector<std::string>{"edge-c", "no", "2027-01-15T07:58:00Z", "120.0", "yes", "0.0", "12", "0.0.9"});
  CHECK(lines[3].find("120.0") == lines[0].find("LAG_S"));
  CHECK(text.find("degraded") == std::string::npos);
  CHECK(text.find('\033') == std::string::npos);
  // On a terminal a stale node stands out.
  const std::string colored = RenderForPerson(answer, {true});
  CHECK(colored.find("\033[31;1myes\033[0m") != std::string::npos);
  // Colour does not move the columns.
  const std::vector<std::string> colored_lines = Lines(colored);
  REQUIRE(colored_lines.size() == 4);
  CHECK(colored_lines[3].find("\033") == lines[3].find("yes"));
}

}  // namespace
}  // namespace sippacer::proxy
