#include "metrics/dialing_plan.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sippacer::metrics {
namespace {

// Two-digit country codes (zones 2-9); everything else in those zones is
// three digits, zone 1 (NANP) and 7 (Russia, Kazakhstan) are one digit.
bool IsTwoDigitCode(int cc) {
  static constexpr int kCodes[] = {20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46,
                                   47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63,
                                   64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98};
  for (int c : kCodes)
    if (c == cc) return true;
  return false;
}

}  // namespace

std::string CountryCodeOf(E164 number) {
  const int cc = CountryCallingCode(number);
  return cc == 0 ? "" : absl::StrCat(cc);
}

absl::StatusOr<CarrierMap> CarrierMap::Parse(absl::string_view csv) {
  CarrierMap map;
  absl::flat_hash_map<std::string, int> index;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> cols = absl::StrSplit(line, absl::MaxSplits(',', 1));
    if (cols.size() != 2)
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": expected prefix,carrier"));
    absl::string_view prefix = absl::StripAsciiWhitespace(cols[0]);
    absl::ConsumePrefix(&prefix, "+");
    const std::string name(absl::StripAsciiWhitespace(cols[1]));
    E164 p = 0;
    if (prefix.empty() || prefix.size() > 15 || !absl::SimpleAtoi(prefix, &p) ||
        !std::all_of(prefix.begin(), prefix.end(), absl::ascii_isdigit)) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": '", cols[0], "' is not a digit prefix"));
    }
    if (name.empty()) return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": empty carrier name"));
    auto [it, inserted] = index.emplace(name, static_cast<int>(map.names_.size()));
    if (inserted) map.names_.push_back(name);
    map.by_prefix_[prefix.size()][p] = it->second;
  }
  return map;
}

absl::StatusOr<CarrierMap> CarrierMap::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
  std::stringstream ss;
  ss << in.rdbuf();
  auto map = Parse(ss.str());
  if (!map.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", map.status().message()));
  return map;
}

int CountryCallingCode(E164 number) {
  if (number == 0) return 0;
  // A NANP number, the common case, without a division.
  if (number >= 10'000'000'000 && number < 20'000'000'000) return 1;
  const int digits = DigitCount(number);
  const E164 div = kPow10[digits - 1];
  const int first = static_cast<int>(number / div);
  if (first == 1 || first == 7 || digits < 2) return first;
  const int two = static_cast<int>(number / (div / 10));
  if (IsTwoDigitCode(two) || digits < 3) return two;
  return static_cast<int>(number / (div / 100));
}

int CarrierMap::Lookup(E164 number) const {
  if (number == 0 || names_.empty()) return -1;
  // Arithmetic, not strings: this runs for every call on the SIP thread.
  const int digits = DigitCount(number);
  E164 div = kPow10[digits - std::min(digits, 15)];
  for (int len = std::min(digits, 15); len >= 1; --len, div *= 10) {
    const auto& m = by_prefix_[len];
    if (m.empty()) continue;
    if (auto it = m.find(number / div); it != m.end()) return it->second;
  }
  return -1;
}

}  // namespace sippacer::metrics
