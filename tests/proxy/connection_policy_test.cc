#include "proxy/tcp/connection_policy.h"

#include <algorithm>
#include <map>

#include <catch2/catch.hpp>

namespace sippacer::proxy {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TcpConnection Conn(const char* source, int age_s, bool silent = false) {
  return TcpConnection{source, kT0 - absl::Seconds(age_s), silent};
}

std::map<std::string, int> ClosedPerSource(const std::vector<TcpConnection>& conns,
                                           const std::vector<CloseOrder>& orders) {
  std::map<std::string, int> out;
  for (const CloseOrder& o : orders) ++out[conns[o.index].source];
  return out;
}

TEST_CASE("within the limits nothing is closed") {
  std::vector<TcpConnection> conns = {Conn("10.0.0.1", 500), Conn("10.0.0.2", 5, true), Conn("10.0.0.2", 1)};
  CHECK(ConnectionsToClose(conns, TcpLimits{10, 4, absl::Seconds(60)}, kT0).empty());
}

TEST_CASE("a connection silent past the idle time is closed; one that spoke is not") {
  std::vector<TcpConnection> conns = {Conn("10.0.0.1", 61, true), Conn("10.0.0.1", 600, false),
                                      Conn("10.0.0.1", 59, true)};
  auto orders = ConnectionsToClose(conns, TcpLimits{10, 10, absl::Seconds(60)}, kT0);
  REQUIRE(orders.size() == 1);
  CHECK(orders[0].index == 0);
  CHECK(orders[0].reason == CloseReason::kSilent);
}

TEST_CASE("a source past its cap loses its newest connections") {
  std::vector<TcpConnection> conns;
  for (int age = 10; age > 0; --age) conns.push_back(Conn("10.0.0.9", age));  // index 9 is the newest
  conns.push_back(Conn("10.0.0.1", 1));
  auto orders = ConnectionsToClose(conns, TcpLimits{100, 7, absl::Seconds(60)}, kT0);
  REQUIRE(orders.size() == 3);
  std::vector<size_t> closed;
  for (const CloseOrder& o : orders) {
    CHECK(o.reason == CloseReason::kPerSource);
    closed.push_back(o.index);
  }
  std::sort(closed.begin(), closed.end());
  CHECK(closed == std::vector<size_t>{7, 8, 9});
}

TEST_CASE("past the total the crowd is levelled down and a lone dialer keeps its connection") {
  std::vector<TcpConnection> conns = {Conn("10.0.0.1", 3600)};  // the dialer: one old connection
  for (int i = 0; i < 6; ++i) conns.push_back(Conn("198.51.100.7", i));
  for (int i = 0; i < 4; ++i) conns.push_back(Conn("198.51.100.8", i));
  auto orders = ConnectionsToClose(conns, TcpLimits{5, 64, absl::Seconds(60)}, kT0);
  CHECK(orders.size() == 6);
  for (const CloseOrder& o : orders) CHECK(o.reason == CloseReason::kTotal);
  auto closed = ClosedPerSource(conns, orders);
  CHECK(closed.count("10.0.0.1") == 0);
  CHECK(closed["198.51.100.7"] == 4);  // 6 -> 2
  CHECK(closed["198.51.100.8"] == 2);  // 4 -> 2
}

TEST_CASE("silent and over-cap connections are not counted twice") {
  std::vector<TcpConnection> conns = {Conn("10.0.0.5", 100, true), Conn("10.0.0.5", 100, true), Conn("10.0.0.5", 1),
                                      Conn("10.0.0.5", 2)};
  auto orders = ConnectionsToClose(conns, TcpLimits{2, 2, absl::Seconds(60)}, kT0);
  CHECK(orders.size() == 2);
  for (const CloseOrder& o : orders) CHECK(o.reason == CloseReason::kSilent);
}

}  // namespace
}  // namespace sippacer::proxy
