#include "proxy/sip/header_policy.h"

#include <catch2/catch.hpp>

namespace sippacer::proxy {
namespace {

TEST_CASE("the default pass list carries STIR/SHAKEN, identity, forwarding, timers and why a call failed") {
  auto p = HeaderPolicy::Parse("", "");
  REQUIRE(p.ok());
  for (const char* name : {"Identity",
                           "identity",
                           "y",
                           "Diversion",
                           "History-Info",
                           "P-Charge-Info",
                           "User-to-User",
                           "X-Campaign",
                           "x-anything",
                           "P-Asserted-Identity",
                           "Privacy",
                           "Call-Info",
                           "Reason",
                           "Retry-After",
                           "Session-Expires",
                           "x",
                           "Min-SE",
                           "Allow",
                           "Accept",
                           "Refer-To",
                           "r",
                           "Referred-By",
                           "Event",
                           "Subscription-State",
                           "Info-Package"}) {
    CHECK(p->Passes(name));
  }
  for (const char* name :
       {"Via", "v", "Contact", "m", "Route", "Record-Route", "Authorization", "CSeq", "Call-ID", "Max-Forwards",
        "Content-Length", "Supported", "k", "Require", "RSeq", "RAck", "Z", "P-Asserted-Identity-X"}) {
    INFO(name);
    CHECK_FALSE(p->Passes(name));
  }
}

TEST_CASE("pass adds to the default list, never an owned header") {
  auto p = HeaderPolicy::Parse("P-Dialer-, Custom", "");
  REQUIRE(p.ok());
  CHECK(p->Passes("P-Dialer-Campaign"));
  CHECK(p->Passes("custom"));
  CHECK(p->Passes("Identity"));
  auto owned = HeaderPolicy::Parse("Via", "");
  REQUIRE_FALSE(owned.ok());
  CHECK(std::string(owned.status().message()).find("'Via'") != std::string::npos);
  CHECK_FALSE(HeaderPolicy::Parse("k", "").ok());  // Supported, compact
}

TEST_CASE("the option tags the relay serves") {
  for (const char* tag : {"100rel", "timer", "replaces", "norefersub", "histinfo"}) {
    CHECK(HeaderPolicy::ServesOptionTag(tag));
  }
  for (const char* tag : {"precondition", "gruu", "path", "100", "", "timerx"}) {
    CHECK_FALSE(HeaderPolicy::ServesOptionTag(tag));
  }
}

TEST_CASE("strip takes names and prefixes out of the pass list") {
  auto p = HeaderPolicy::Parse("", "X-Internal-, Diversion");
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
