#include <catch2/catch.hpp>

#include "metrics/json_writer.h"

namespace sippacer::metrics {
namespace {

TEST_CASE("the JSON writer places commas and escapes everything", "[metrics]") {
  JsonWriter w;
  w.BeginObject().Key("a").Int(-1).Key("b").BeginArray().String("x").Bool(true).Null().EndArray();
  w.Key("c").Double(0.3).Key("d").Double(1.0 / 0.0).EndObject();
  CHECK(w.str() == R"({"a":-1,"b":["x",true,null],"c":0.3,"d":null})");
  std::string out;
  AppendJsonString(out, "q\"b\\s\n\t\x01\x7f");
  CHECK(out == R"("q\"b\\s\n\t\u0001\u007f")");
}

TEST_CASE("invalid UTF-8 from a carrier becomes U+FFFD", "[metrics]") {
  std::string out;
  AppendJsonString(out, "ok \xC3\xA9 bad \xFF\xC3 end");
  CHECK(out == "\"ok \xC3\xA9 bad \xEF\xBF\xBD\xEF\xBF\xBD end\"");
}

}  // namespace
}  // namespace sippacer::metrics
