#include <catch2/catch.hpp>

#include <random>

#include "metrics/call_outcome.h"
#include "metrics/e164.h"

namespace sippacer::metrics {
namespace {

TEST_CASE("numbers in the forms dialers send normalise to E.164", "[metrics]") {
  CHECK(NormalizeE164("+15551230001", "1") == 15551230001u);
  CHECK(NormalizeE164("15551230001", "1") == 15551230001u);
  CHECK(NormalizeE164("5551230001", "1") == 15551230001u);
  CHECK(NormalizeE164("(555) 123-0001", "1") == 15551230001u);
  CHECK(NormalizeE164("tel:+1-555-123-0001", "1") == 15551230001u);
  CHECK(NormalizeE164("sip:+15551230001@carrier.example;user=phone", "1") == 15551230001u);
  CHECK(NormalizeE164("01144 20 7946 0000", "1") == 442079460000u);
  CHECK(NormalizeE164("0044 20 7946 0000", "44") == 442079460000u);
  CHECK(NormalizeE164("020 7946 0000", "44") == 442079460000u);  // national trunk prefix
  CHECK(FormatE164(15551230001) == "+15551230001");
}

TEST_CASE("what is not a phone number is refused", "[metrics]") {
  CHECK_FALSE(NormalizeE164("", "1"));
  CHECK_FALSE(NormalizeE164("anonymous", "1"));
  CHECK_FALSE(NormalizeE164("+12", "1"));
  CHECK_FALSE(NormalizeE164("+1234567890123456", "1"));
  CHECK_FALSE(NormalizeE164("555-CALL-NOW", "1"));
  CHECK_FALSE(NormalizeE164("+1+5551230001", "1"));
}

TEST_CASE("random bytes never crash normalisation", "[metrics][fuzz]") {
  std::mt19937 rng(42);
  for (int i = 0; i < 200000; ++i) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    if (auto n = NormalizeE164(s, "1")) {
      CHECK(*n >= 1000000u);
      CHECK(*n <= 999999999999999u);
    }
  }
}

TEST_CASE("603+ needs the phrase Network Blocked and a Reason header", "[metrics]") {
  CHECK(IsNetworkBlocked(603, "Network Blocked", "SIP;cause=603"));
  CHECK(IsNetworkBlocked(603, " network blocked ", "SIP;cause=603"));
  CHECK_FALSE(IsNetworkBlocked(603, "Decline", "SIP;cause=603"));
  CHECK_FALSE(IsNetworkBlocked(603, "Network Blocked", ""));
  CHECK_FALSE(IsNetworkBlocked(608, "Network Blocked", "SIP;cause=608"));
}

}  // namespace
}  // namespace sippacer::metrics
