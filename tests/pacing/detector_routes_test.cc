// The detector on a simulated pool: a route-wide rise condemns nobody and
// is reported as a route; a new market's calls are no evidence until it
// has a baseline.

#include <catch2/catch.hpp>

#include "tests/pacing/detector_pool.h"

namespace sippacer::pacing::detector_testing {
namespace {

TEST_CASE("a carrier blocking everyone paces no number and raises a route event", "[pacing][detector]") {
  Pool pool(100);
  const absl::Time onset = kT0 + absl::Hours(1), end = onset + absl::Hours(1);
  pool.mix = [&](int i, metrics::E164 to, absl::Time t) {
    const Mix m = Healthy(pool.pre603[static_cast<size_t>(i)]);
    return t >= onset && t < end && CarrierIndex(to) == 0 ? WithShare(m, &Mix::pre603, 0.25) : m;
  };
  pool.RunFor(absl::Hours(2) + absl::Minutes(45));
  INFO(pool.Describe());
  CHECK(pool.Paced().empty());
  CHECK(pool.pacer.paced_total() == 0);

  std::optional<RouteChange> up, down;
  for (const RouteChange& c : pool.events.routes) {
    INFO(c.route << " " << c.code << " " << c.elevated << " at +" << absl::FormatDuration(c.at - kT0) << ": "
                 << c.reason);
    CHECK(c.route == "carrier:alpha");
    if (c.route != "carrier:alpha" || c.code != "603pre") continue;
    (c.elevated ? up : down) = c;
  }
  REQUIRE(up.has_value());
  CHECK(up->at > onset);
  CHECK(up->at - onset <= absl::Minutes(10));
  // Normal again once the 30-minute window forgets the hour.
  REQUIRE(down.has_value());
  CHECK(down->at > end);
  CHECK(down->at - end <= absl::Minutes(35));
}

TEST_CASE("a learning country's calls are no evidence until it has a baseline", "[pacing][detector]") {
  const metrics::E164 kGerman = 49'301'234'000;  // +49 30 1234xxx
  const int german_dialer = 0, nanp_dialer = 1;
  auto setup = [&](Pool& pool) {
    pool.callee = [&pool, kGerman](int i) {
      return i == german_dialer
                 ? kGerman + static_cast<metrics::E164>(std::uniform_int_distribution<int>(0, 999)(pool.rng))
                 : pool.SpreadCallee();
    };
    pool.mix = [&pool](int i, metrics::E164, absl::Time) {
      return i == german_dialer || i == nanp_dialer ? WithShare(Healthy(), &Mix::pre603, 1.0)
                                                    : Healthy(pool.pre603[static_cast<size_t>(i)]);
    };
  };

  SECTION("a new market: +49 has no days of history") {
    Pool pool(100);
    setup(pool);
    pool.RunFor(absl::Minutes(45));
    INFO(pool.Describe());
    CHECK(pool.store.CountryDaysSeen(49) == 1);  // today, once it carried 20 calls
    CHECK(pool.pacer.CountryLearning(49));
    CHECK_FALSE(pool.pacer.CountryLearning(1));
    CHECK(pool.calls[german_dialer] == 45);
    CHECK(pool.pre_ring[german_dialer] == 45);
    CHECK(pool.pacer.State(pool.Caller(german_dialer)).state == NumberState::kHealthy);
    CHECK_FALSE(pool.FirstPaced(pool.Caller(german_dialer)).has_value());
    // The same pattern to +1 numbers is paced at once.
    const auto nanp = pool.FirstPaced(pool.Caller(nanp_dialer));
    REQUIRE(nanp.has_value());
    CHECK(nanp->at - kT0 <= absl::Minutes(10));
    CHECK(pool.Paced() == std::set<metrics::E164>{pool.Caller(nanp_dialer)});
  }

  SECTION("a saved history of 5 days") {
    Pool pool(100);
    metrics::CountryHistory h;
    h.country_code = 49;
    h.days_seen = 5;
    pool.store.ImportCountry(h);
    setup(pool);
    CHECK_FALSE(pool.pacer.CountryLearning(49));
    pool.RunFor(absl::Minutes(45));
    INFO(pool.Describe());
    const auto german = pool.FirstPaced(pool.Caller(german_dialer));
    REQUIRE(german.has_value());
    CHECK(german->at - kT0 <= absl::Minutes(10));
    CHECK(pool.Paced() == std::set<metrics::E164>{pool.Caller(german_dialer), pool.Caller(nanp_dialer)});
  }

  SECTION("5 days of traffic to +49") {
    Pool pool(0);
    const metrics::E164 other = 15550109999, german = 15550100042;
    for (int day = 0; day < 5; ++day) {
      for (int i = 0; i < 25; ++i) {
        const absl::Time t = kT0 + absl::Hours(24 * day) + absl::Minutes(i);
        pool.Place(other, kGerman + static_cast<metrics::E164>(i), Healthy(), t);
      }
      CHECK(pool.store.CountryDaysSeen(49) == static_cast<uint32_t>(day + 1));
      CHECK(pool.pacer.CountryLearning(49) == (day < 4));
    }
    const absl::Time day5 = kT0 + absl::Hours(24 * 5);
    for (int i = 0; i < 10; ++i) {
      pool.Place(german, kGerman + 500, WithShare(Healthy(), &Mix::pre603, 1.0), day5 + absl::Minutes(i));
    }
    INFO(pool.Describe());
    CHECK(pool.pacer.State(german).state != NumberState::kHealthy);
    CHECK(pool.pacer.State(other).state == NumberState::kHealthy);
  }
}

TEST_CASE("the first route check after many new routes reads the pool's counts intact", "[pacing][detector]") {
  // 30 area codes seen for the first time in one route check: the
  // baselines' cache of group counts grows while the check runs. (Area 220
  // is in no carrier's prefixes, so only its area stands out.)
  Pool pool(0);
  const absl::Time t = kT0 + absl::Minutes(1);
  const Mix answered = WithShare(Healthy(0), &Mix::answered, 1.0);
  const Mix unanswered = WithShare(Healthy(0), &Mix::no_answer, 1.0);
  for (int a = 0; a < 30; ++a) {
    const int area = 201 + a;
    for (int i = 0; i < 45; ++i) {
      pool.Place(15550400000 + static_cast<metrics::E164>(i), Nanp(area, 0, i), area == 220 ? unanswered : answered, t);
    }
  }
  pool.pacer.Tick(t);
  std::string routes;
  for (const RouteChange& c : pool.events.routes) absl::StrAppend(&routes, c.route, " ", c.code, ": ", c.reason, "\n");
  INFO(routes);
  REQUIRE(pool.events.routes.size() == 1);
  CHECK(pool.events.routes[0].route == "area:220");
  CHECK(pool.events.routes[0].code == "480");
  CHECK(pool.events.routes[0].elevated);
}

}  // namespace
}  // namespace sippacer::pacing::detector_testing
