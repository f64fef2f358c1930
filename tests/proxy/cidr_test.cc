#include <catch2/catch.hpp>

#include "proxy/sip/cidr.h"

namespace sippacer::proxy {
namespace {

TEST_CASE("CIDR lists match IPv4 and IPv6", "[proxy]") {
  auto acl = CidrList::Parse("127.0.0.0/8, 10.1.0.0/16,192.168.7.9,2001:db8::/32");
  REQUIRE(acl.ok());
  CHECK(acl->Contains("127.0.0.2"));
  CHECK(acl->Contains("10.1.255.1"));
  CHECK_FALSE(acl->Contains("10.2.0.1"));
  CHECK(acl->Contains("192.168.7.9"));
  CHECK_FALSE(acl->Contains("192.168.7.10"));
  CHECK(acl->Contains("2001:db8:1::5"));
  CHECK_FALSE(acl->Contains("2001:db9::1"));
  CHECK(acl->Contains("::ffff:10.1.2.3"));  // v4-mapped
  auto narrow = CidrList::Parse("127.0.0.1/32");
  CHECK(narrow->Contains("127.0.0.1"));
  CHECK_FALSE(narrow->Contains("127.0.0.2"));
  CHECK(CidrList::Parse("10.0.0.0/12")->Contains("10.15.0.1"));
  CHECK_FALSE(CidrList::Parse("10.0.0.0/12")->Contains("10.16.0.1"));
}

TEST_CASE("bad CIDRs are refused", "[proxy]") {
  CHECK_FALSE(CidrList::Parse("").ok());
  CHECK_FALSE(CidrList::Parse("10.0.0.0/33").ok());
  CHECK_FALSE(CidrList::Parse("example.com").ok());
  CHECK_FALSE(CidrList::Parse("10.0.0.0/x").ok());
}

}  // namespace
}  // namespace sippacer::proxy
