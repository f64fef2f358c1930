#include "proxy/sip/header_policy.h"

#include <catch2/catch.hpp>

namespace sippacer::proxy {
namespace {

TEST_CASE("the default pass list carries STIR/SHAKEN and the forwarding headers") {
  auto p = HeaderPolicy::Parse(HeaderPolicy::kDefaultPass, "");
  REQUIRE(p.ok());
  for (const char* name : {"Identity", "identity", "Diversion", "History-Info", "P-Charge-Info", "User-to-User",
                           "X-Campaign", "x-anything"}) {
    CHECK(p->Passes(name));
  }
  for (const char* name : {"Via", "Contact", "Route", "Authorization", "X", "P-Asserted-Identity-X"}) {
    CHECK_FALSE(p->Passes(name));
  }
}

TEST_CASE("strip takes names and prefixes out of the pass list") {
  auto p = HeaderPolicy::Parse(HeaderPolicy::kDefaultPass, "X-Internal-, Diversion");
  REQUIRE(p.ok());
  CHECK(p->Passes("X-Campaign"));
  CHECK_FALSE(p->Passes("X-Internal-Id"));
  CHECK_FALSE(p->Passes("diversion"));
  CHECK(p->Passes("Identity"));
}

TEST_CASE("a name that is not a header token is refused, naming it") {
  auto p = HeaderPolicy::Parse("Identity,X Bad", "");
  REQUIRE_FALSE(p.ok());
  CHECK(std::string(p.status().message()).find("'X Bad'") != std::string::npos);
  CHECK_FALSE(HeaderPolicy::Parse("", "X:").ok());
  CHECK(HeaderPolicy::Parse("", "").ok());
}

}  // namespace
}  // namespace sippacer::proxy
