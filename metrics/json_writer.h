#pragma once
// JsonWriter
//
// A small streaming JSON writer for one-line responses, CDR lines and events.
// It inserts commas itself and escapes every string (control characters,
// quotes, backslashes; invalid UTF-8 bytes become U+FFFD), so whatever a
// carrier puts in a Reason header comes out as valid JSON.
//
// Example:
//   JsonWriter w;
//   w.BeginObject().Key("number").String("+15551230001").Key("attempts").Int(42).EndObject();
//   std::string line = w.Take();   // {"number":"+15551230001","attempts":42}

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace sippacer::metrics {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(absl::string_view key);
  JsonWriter& String(absl::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  // Finite values with up to 6 significant decimals; NaN/Inf become null.
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Inserts already-serialised JSON (e.g. a nested object built elsewhere).
  JsonWriter& Raw(absl::string_view json);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate();
  std::string out_;
  bool need_comma_ = false;
};

// Appends `value` to `out` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, absl::string_view value);

// Appends the multi-byte UTF-8 sequence starting at s[i] (a byte >= 0x80),
// or U+FFFD if it is not a valid one; returns the bytes of `s` consumed.
// Whatever a carrier sends, what we write is valid UTF-8 (JSON, COPY text).
size_t AppendUtf8Sequence(std::string& out, absl::string_view s, size_t i);

}  // namespace sippacer::metrics
