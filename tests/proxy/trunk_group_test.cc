#include "proxy/sip/trunk_group.h"

#include <catch2/catch.hpp>

namespace sippacer::proxy {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST_CASE("trunk URI forms") {
  CHECK(TrunkGroup::ParseUri("10.0.0.1:5080")->port == 5080);
  auto uri = TrunkGroup::ParseUri("sip:carrier.example.net:5070;transport=tcp");
  REQUIRE(uri.ok());
  CHECK(uri->host == "carrier.example.net");
  CHECK(uri->port == 5070);
  CHECK(uri->transport == "tcp");
  CHECK(uri->UriHostPart() == "carrier.example.net:5070;transport=tcp");
  CHECK(TrunkGroup::ParseUri("[2001:db8::1]:5060")->host == "2001:db8::1");
  CHECK(TrunkGroup::ParseUri("[2001:db8::1]")->port == 0);
  CHECK(TrunkGroup::ParseUri("carrier.example.net")->port == 0);  // left to DNS
  CHECK(TrunkGroup::ParseUri("sips:sbc.example.com")->tls());
  CHECK(TrunkGroup::ParseUri("sip:10.0.0.1;transport=TLS")->tls());
  CHECK_FALSE(TrunkGroup::ParseUri("").ok());
  CHECK_FALSE(TrunkGroup::ParseUri("sips:carrier;transport=udp").ok());
  CHECK_FALSE(TrunkGroup::ParseUri("sip:carrier;transport=sctp").ok());
  CHECK_FALSE(TrunkGroup::ParseUri("sip:carrier;lr").ok());
}

TEST_CASE("a trunk list is in failover order") {
  auto list = TrunkGroup::ParseList("10.0.0.1:5060, 10.0.0.2:5060");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].priority < (*list)[1].priority);
  CHECK((*list)[1].name == "10.0.0.2:5060");
  CHECK_FALSE(TrunkGroup::ParseList(" , ").ok());
  CHECK_FALSE(TrunkGroup::ParseList("10.0.0.1:5060,sip:10.0.0.1:5060").ok());
}

TEST_CASE("a trunks file: names, priorities, weights, limits; errors name the line") {
  auto file = TrunkGroup::ParseFile(
      "# carriers\n"
      "carrier-a sip:10.0.0.1:5060 priority=1 weight=3 max_calls=100 max_cps=10\n"
      "\n"
      "carrier-b sips:sbc.example.com priority=2   # backup\n");
  REQUIRE(file.ok());
  REQUIRE(file->size() == 2);
  CHECK((*file)[0].name == "carrier-a");
  CHECK((*file)[0].weight == 3);
  CHECK((*file)[0].max_calls == 100);
  CHECK((*file)[0].max_cps == 10);
  CHECK((*file)[1].tls());
  auto bad = TrunkGroup::ParseFile("a 10.0.0.1\nb 10.0.0.2 weight=0\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("line 2") != std::string::npos);
  CHECK_FALSE(TrunkGroup::ParseFile("a 10.0.0.1\na 10.0.0.2\n").ok());
  CHECK_FALSE(TrunkGroup::ParseFile("only-a-name\n").ok());
  CHECK_FALSE(TrunkGroup::ParseFile("# nothing\n").ok());
}

std::vector<TrunkSpec> Specs(std::initializer_list<std::tuple<int, int, int, double>> rows) {
  std::vector<TrunkSpec> out;
  for (auto [priority, weight, max_calls, max_cps] : rows) {
    TrunkSpec s;
    s.name = "t" + std::to_string(out.size());
    s.priority = priority;
    s.weight = weight;
    s.max_calls = max_calls;
    s.max_cps = max_cps;
    out.push_back(s);
  }
  return out;
}

TEST_CASE("the best priority first; failover goes down the list") {
  TrunkGroup g(Specs({{2, 1, 0, 0}, {1, 1, 0, 0}, {3, 1, 0, 0}}));
  auto first = g.Next(0, kT0, 7);
  CHECK(first.trunk == 1);
  auto second = g.Next(1u << 1, kT0, 7);
  CHECK(second.trunk == 0);
  auto third = g.Next(1u << 1 | 1u << 0, kT0, 7);
  CHECK(third.trunk == 2);
  auto none = g.Next(0b111, kT0, 7);
  CHECK(none.trunk == -1);
  CHECK_FALSE(none.limited);
  CHECK(g.stats(1).attempts.Get() == 1);
  CHECK(g.stats(1).calls_active.Get() == 1);
  g.Release(1);
  CHECK(g.stats(1).calls_active.Get() == 0);
}

TEST_CASE("weights spread calls within a priority") {
  TrunkGroup g(Specs({{1, 3, 0, 0}, {1, 1, 0, 0}}));
  int to_first = 0;
  for (uint64_t r = 0; r < 400; ++r) {
    auto p = g.Next(0, kT0, r);
    to_first += p.trunk == 0;
    g.Release(p.trunk);
  }
  CHECK(to_first == 300);
}

TEST_CASE("max_calls sends calls to the next priority, then refuses") {
  TrunkGroup g(Specs({{1, 1, 1, 0}, {2, 1, 1, 0}}));
  CHECK(g.Next(0, kT0, 0).trunk == 0);
  CHECK(g.Next(0, kT0, 0).trunk == 1);
  auto full = g.Next(0, kT0, 0);
  CHECK(full.trunk == -1);
  CHECK(full.limited);
  CHECK(g.stats(0).refused_max_calls.Get() == 2);
  CHECK(g.stats(1).refused_max_calls.Get() == 1);
  g.Release(0);
  CHECK(g.Next(0, kT0, 0).trunk == 0);
}

TEST_CASE("max_cps is a token bucket with a second of burst") {
  TrunkGroup g(Specs({{1, 1, 0, 2}}));
  CHECK(g.Next(0, kT0, 0).trunk == 0);
  CHECK(g.Next(0, kT0, 0).trunk == 0);
  auto third = g.Next(0, kT0, 0);
  CHECK(third.trunk == -1);
  CHECK(third.limited);
  CHECK(g.stats(0).refused_max_cps.Get() == 1);
  CHECK(g.Next(0, kT0 + absl::Milliseconds(500), 0).trunk == 0);  // one token back after 0.5 s
  CHECK(g.Next(0, kT0 + absl::Milliseconds(500), 0).trunk == -1);
}

}  // namespace
}  // namespace sippacer::proxy
