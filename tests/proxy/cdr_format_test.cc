#include <catch2/catch.hpp>

#include "proxy/cdr/cdr_postgres.h"
#include "proxy/cdr/cdr_writer.h"
#include "proxy/ctl/json_value.h"

namespace sippacer::proxy {
namespace {

CdrRecord Sample() {
  CdrRecord r;
  r.ts = absl::FromUnixMillis(1'800'000'000'123);
  r.caller = "+15551230001";
  r.callee = "+15550001234";
  r.code = 603;
  r.reason = "Network Blocked";
  r.pre_ring = true;
  r.network_blocked = true;
  r.reason_header = "SIP;cause=603;text=\"tab\there\\back\nline\"";
  r.setup_ms = 42;
  r.ended_by = "callee";
  r.a_call_id = "a@x";
  r.b_call_id = "b@y";
  return r;
}

TEST_CASE("a CDR line has every field, nulls where unknown", "[proxy]") {
  auto v = ParseJson(CdrToJson(Sample()));
  REQUIRE(v.ok());
  CHECK(v->Get("ts")->text == "2027-01-15T08:00:00.123Z");
  CHECK(v->Get("carrier")->text == "unknown");
  CHECK(v->Get("pdd_ms")->type == JsonValue::Type::kNull);
  CHECK(v->Get("duration_s")->type == JsonValue::Type::kNull);
  CHECK(v->Get("paced")->type == JsonValue::Type::kNull);
  CHECK(v->Get("network_blocked")->boolean);
  CHECK(v->Get("reason_header")->text == Sample().reason_header);
  CHECK(v->Get("setup_ms")->number == 42);
  CHECK(v->Get("trunk")->type == JsonValue::Type::kNull);  // reached no trunk
  CdrRecord r = Sample();
  r.trunk = "carrier-a";
  CHECK(ParseJson(CdrToJson(r))->Get("trunk")->text == "carrier-a");
}

TEST_CASE("COPY text escapes tabs, newlines and backslashes", "[proxy]") {
  const std::string line = CdrToCopyLine(Sample());
  CHECK(line.back() == '\n');
  CHECK(std::count(line.begin(), line.end(), '\t') == 18);         // 19 columns
  CHECK(line.find("\tunknown\t\\N\t603\t") != std::string::npos);  // carrier, trunk null, code
  CHECK(line.find("text=\"tab\\there\\\\back\\nline\"") != std::string::npos);
  CHECK(line.find("\t\\N\t42\t\\N\t") != std::string::npos);  // pdd_ms null, setup_ms, duration_s null
  CdrRecord r = Sample();
  r.trunk = "carrier\ta";
  CHECK(CdrToCopyLine(r).find("\tunknown\tcarrier\\ta\t603\t") != std::string::npos);
  r.would_pace = "quarantine";  // after paced (null here), before refused_by_acl
  CHECK(CdrToCopyLine(r).find("\t\\N\tquarantine\tf\t") != std::string::npos);
}

}  // namespace
}  // namespace sippacer::proxy

namespace sippacer::proxy {
namespace {

TEST_CASE("COPY text is valid UTF-8 whatever bytes a carrier sent", "[proxy]") {
  CdrRecord r;
  r.caller = "+15551230001";
  r.reason = "R\xe9seau";                    // Latin-1 from a carrier
  r.reason_header = std::string("a\0b", 3);  // a NUL PostgreSQL refuses
  r.a_call_id = "ok-\xc3\xa9";               // valid UTF-8 stays as it is
  const std::string line = CdrToCopyLine(r);
  CHECK(line.find("R\xEF\xBF\xBDseau") != std::string::npos);
  CHECK(line.find("a\xEF\xBF\xBD"
                  "b") != std::string::npos);
  CHECK(line.find("ok-\xc3\xa9") != std::string::npos);
  CHECK(line.find('\0') == std::string::npos);
}

}  // namespace
}  // namespace sippacer::proxy
