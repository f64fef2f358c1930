#include <catch2/catch.hpp>

#include <random>

#include "metrics/json_writer.h"
#include "proxy/ctl/json_value.h"

namespace sippacer::proxy {
namespace {

TEST_CASE("the client's JSON reader reads what the daemon writes", "[proxy]") {
  metrics::JsonWriter w;
  w.BeginObject()
      .Key("s")
      .String("a\"b\\c\u00e9\n")
      .Key("n")
      .Double(0.25)
      .Key("a")
      .BeginArray()
      .Int(1)
      .Null()
      .EndArray();
  w.Key("o").BeginObject().Key("t").Bool(true).EndObject().EndObject();
  auto v = ParseJson(w.str());
  REQUIRE(v.ok());
  CHECK(v->Get("s")->text == "a\"b\\c\u00e9\n");
  CHECK(v->Get("n")->number == 0.25);
  CHECK(v->Get("a")->items.size() == 2);
  CHECK(v->Get("o")->Get("t")->boolean);
}

TEST_CASE("malformed JSON is an error, never a crash", "[proxy][fuzz]") {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,,2]", "\"open", "{\"a\":1}x", "nul"}) {
    INFO(bad);
    CHECK_FALSE(ParseJson(bad).ok());
  }
  std::mt19937 rng(7);
  const std::string alphabet = "{}[]\":,0123456789.-etrufalsn \\u";
  for (int i = 0; i < 100000; ++i) {
    std::string s(rng() % 30, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    (void)ParseJson(s);
  }
  CHECK_FALSE(ParseJson(std::string(200, '[')).ok());  // depth bound
}

}  // namespace
}  // namespace sippacer::proxy

namespace sippacer::proxy {
namespace {

TEST_CASE("whatever bytes a carrier sends, the writer emits valid JSON", "[proxy][fuzz]") {
  std::mt19937 rng(99);
  for (int i = 0; i < 50000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    metrics::JsonWriter w;
    w.BeginObject().Key(s).String(s).EndObject();
    auto v = ParseJson(w.str());
    REQUIRE(v.ok());
    bool ascii = true;
    for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii) {
      REQUIRE(v->fields.size() == 1);
      CHECK(v->fields[0].first == s);
      CHECK(v->fields[0].second.text == s);
    }
  }
}

}  // namespace
}  // namespace sippacer::proxy
