#include <catch2/catch.hpp>

#include "pacing/rule_match.h"
#include "pacing/verdict.h"

namespace sippacer::pacing {
namespace {

TEST_CASE("the Wilson lower bound keeps small samples from condemning", "[pacing]") {
  // 4 of 20 is a 20% rate, but at 90% confidence it could be under 10%.
  CHECK(WilsonLowerBound(4, 20, 0.90) == Approx(0.0931).epsilon(0.01));
  // 30 of 100 is clearly over 15%.
  CHECK(WilsonLowerBound(30, 100, 0.90) == Approx(0.2307).epsilon(0.01));
  CHECK(WilsonLowerBound(0, 0, 0.90) == 0);
  CHECK(WilsonLowerBound(3, 10, 0) == Approx(0.3));  // confidence 0: the raw rate
  CHECK(WilsonLowerBound(100, 100, 0.99) < 1.0);
}

TEST_CASE("the overuse signature needs a spike over the number's own baseline", "[pacing]") {
  const absl::Duration ten = absl::Minutes(10);
  CHECK(OveruseSignature({2, 2, 2, 2, 8, 10}, ten).find("4.5x") != std::string::npos);
  CHECK(OveruseSignature({5, 5, 5, 5, 6, 6}, ten).empty());
  CHECK(OveruseSignature({0, 0, 0, 0, 9, 9}, ten).empty());  // no baseline yet
  CHECK(OveruseSignature({1, 1}, ten).empty());
  // The spike came 40-60 minutes ago and volume is back to normal now: the
  // rise still followed it.
  std::vector<uint32_t> h(24, 0);
  for (size_t i = 10; i < 24; ++i) h[i] = 10;
  h[17] = h[18] = h[19] = 50;
  CHECK(OveruseSignature(h, ten).find("5.0x") != std::string::npos);
  // A spike older than 90 minutes is not what preceded this rise.
  for (size_t i = 10; i < 24; ++i) h[i] = 10;
  h[12] = h[13] = 50;
  CHECK(OveruseSignature(h, ten).empty());
}

}  // namespace
}  // namespace sippacer::pacing
