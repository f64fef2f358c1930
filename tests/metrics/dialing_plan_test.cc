#include <catch2/catch.hpp>

#include "metrics/dialing_plan.h"

namespace sippacer::metrics {
namespace {

TEST_CASE("the longest carrier prefix wins", "[metrics]") {
  auto map = CarrierMap::Parse("# prefix,carrier\n1,NANP default\n1555,Generic\n+1555000, Acme Mobile \n\n44,UK\n");
  REQUIRE(map.ok());
  CHECK(map->names()[static_cast<size_t>(map->Lookup(15550001234))] == "Acme Mobile");
  CHECK(map->names()[static_cast<size_t>(map->Lookup(15559990000))] == "Generic");
  CHECK(map->names()[static_cast<size_t>(map->Lookup(12125550000))] == "NANP default");
  CHECK(map->names()[static_cast<size_t>(map->Lookup(442079460000))] == "UK");
  CHECK(map->Lookup(33142000000) == -1);
}

TEST_CASE("a bad carriers line is named", "[metrics]") {
  auto map = CarrierMap::Parse("1555,Acme\nabc,Broken\n");
  REQUIRE_FALSE(map.ok());
  CHECK(map.status().message().find("line 2") != std::string::npos);
  CHECK_FALSE(CarrierMap::Parse("1555,\n").ok());
}

TEST_CASE("country calling codes are prefix-free", "[metrics]") {
  CHECK(CountryCodeOf(15551230001) == "1");
  CHECK(CountryCodeOf(74951234567) == "7");
  CHECK(CountryCodeOf(442079460000) == "44");
  CHECK(CountryCodeOf(4930123456) == "49");
  CHECK(CountryCodeOf(353861234567) == "353");
  CHECK(CountryCodeOf(8613800000000) == "86");
  CHECK(CountryCodeOf(0) == "");
  CHECK(CountryCallingCode(9) == 9);
  CHECK(CountryCallingCode(18) == 1);
  CHECK(CountryCallingCode(999) == 999);
}

TEST_CASE("digits are counted right at every power of ten", "[metrics]") {
  CHECK(DigitCount(0) == 1);
  CHECK(DigitCount(1) == 1);
  E164 ten = 1;
  for (int digits = 1; digits < 20; ++digits) {
    ten *= 10;  // 10^digits
    CHECK(DigitCount(ten - 1) == digits);
    CHECK(DigitCount(ten) == digits + 1);
    CHECK(DigitCount(ten + 1) == digits + 1);
  }
  CHECK(DigitCount(UINT64_MAX) == 20);
}

}  // namespace
}  // namespace sippacer::metrics
