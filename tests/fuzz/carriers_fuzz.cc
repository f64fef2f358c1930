// --carriers CSV: a file that parses answers Lookup exactly as a plain
// longest-prefix match over its lines would (the last line of a prefix
// wins), for numbers built from each prefix and from the input's digits.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "metrics/dialing_plan.h"
#include "tests/fuzz/fuzz_check.h"

namespace sippacer::metrics {
namespace {

// The file's meaning, by digit strings: prefix -> carrier name.
std::map<std::string, std::string> Model(absl::string_view csv) {
  std::map<std::string, std::string> m;
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::pair<absl::string_view, absl::string_view> cols = absl::StrSplit(line, absl::MaxSplits(',', 1));
    absl::string_view prefix = absl::StripAsciiWhitespace(cols.first);
    absl::ConsumePrefix(&prefix, "+");
    m[std::string(prefix)] = std::string(absl::StripAsciiWhitespace(cols.second));
  }
  return m;
}

std::string Expected(const std::map<std::string, std::string>& m, const std::string& digits) {
  for (size_t len = std::min<size_t>(digits.size(), 15); len >= 1; --len) {
    if (auto it = m.find(digits.substr(0, len)); it != m.end()) return it->second;
  }
  return "";
}

void CheckNumber(const CarrierMap& map, const std::map<std::string, std::string>& m, const std::string& digits) {
  E164 n = 0;
  if (digits.empty() || digits.size() > 19 || digits[0] == '0' || !absl::SimpleAtoi(digits, &n)) return;
  const int i = map.Lookup(n);
  FUZZ_CHECK(i >= -1 && i < static_cast<int>(map.names().size()));
  FUZZ_CHECK((i < 0 ? std::string() : map.names()[i]) == Expected(m, digits));
}

}  // namespace
}  // namespace sippacer::metrics

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sippacer::metrics;
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  auto map = CarrierMap::Parse(in);
  if (!map.ok()) return 0;
  const auto m = Model(in);
  std::string input_digits;
  for (char c : in) {
    if (absl::ascii_isdigit(c)) input_digits.push_back(c);
  }
  for (const auto& [prefix, name] : m) {
    FUZZ_CHECK(!name.empty());
    CheckNumber(*map, m, prefix);
    CheckNumber(*map, m, prefix + "5551230001");
    CheckNumber(*map, m, (prefix + input_digits).substr(0, 15));
    CheckNumber(*map, m, (prefix + input_digits).substr(0, 19));  // longer than E.164: still no crash
  }
  for (size_t len = 1; len <= input_digits.size() && len <= 19; len += 3)
    CheckNumber(*map, m, input_digits.substr(0, len));
  return 0;
}
