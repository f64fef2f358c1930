// The client's JSON reader (sippacer-ctl, --state_file, sippacer-replay) and
// the daemon's JSON writer. Any document the reader accepts, written back
// with the writer, reads back to the same text again (a fixed point); any
// bytes written as a string or key read back as those bytes with invalid
// UTF-8 repaired, and the writer's output holds no raw control character.

#include <cstdint>
#include <string>

#include "metrics/json_writer.h"
#include "proxy/ctl/json_value.h"
#include "tests/fuzz/fuzz_check.h"

namespace sippacer {
namespace {

using proxy::JsonValue;

void Write(const JsonValue& v, metrics::JsonWriter& w) {
  switch (v.type) {
    case JsonValue::Type::kNull:
      w.Null();
      break;
    case JsonValue::Type::kBool:
      w.Bool(v.boolean);
      break;
    case JsonValue::Type::kNumber:
      w.Raw(v.text);
      break;  // the literal, as ToText shows it
    case JsonValue::Type::kString:
      w.String(v.text);
      break;
    case JsonValue::Type::kArray:
      w.BeginArray();
      for (const JsonValue& item : v.items) Write(item, w);
      w.EndArray();
      break;
    case JsonValue::Type::kObject:
      w.BeginObject();
      for (const auto& [key, value] : v.fields) {
        w.Key(key);
        Write(value, w);
      }
      w.EndObject();
      break;
  }
}

std::string Written(const JsonValue& v) {
  metrics::JsonWriter w;
  Write(v, w);
  return w.Take();
}

void CheckWriterOutput(absl::string_view json) {
  for (char c : json) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
  FUZZ_CHECK(fuzz::Utf8Repaired(json) == json);
}

}  // namespace
}  // namespace sippacer

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sippacer;
  const absl::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto v = proxy::ParseJson(in); v.ok()) {
    (void)v->ToText();
    const std::string once = Written(*v);
    CheckWriterOutput(once);
    auto again = proxy::ParseJson(once);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->type == v->type);
    FUZZ_CHECK(Written(*again) == once);
  }

  metrics::JsonWriter w;
  w.BeginObject().Key(in).String(in).Key("n").Double(static_cast<double>(size) / 7).EndObject();
  const std::string line = w.Take();
  CheckWriterOutput(line);
  auto back = proxy::ParseJson(line);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->fields.size() == 2);
  const std::string expected = fuzz::Utf8Repaired(in);
  FUZZ_CHECK(back->fields[0].first == expected);
  FUZZ_CHECK(back->fields[0].second.type == proxy::JsonValue::Type::kString);
  FUZZ_CHECK(back->fields[0].second.text == expected);
  return 0;
}
