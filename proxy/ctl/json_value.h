#pragma once
// JsonValue: a small reader for the daemon's one-line JSON answers, so the
// client can print them as tables. Objects keep their key order.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sippacer::proxy {

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string text;  // kString, and the literal text of a kNumber
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> fields;

  const JsonValue* Get(absl::string_view key) const;  // nullptr if absent
  std::string ToText() const;                         // a scalar as a person reads it; "" for null
};

absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

}  // namespace sippacer::proxy
