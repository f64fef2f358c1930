#include "metrics/e164.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sippacer::metrics {
namespace {

constexpr size_t kMinDigits = 7;
constexpr size_t kMaxDigits = 15;

}  // namespace

std::optional<E164> NormalizeE164(absl::string_view raw, absl::string_view default_cc) {
  absl::string_view s = absl::StripAsciiWhitespace(raw);
  if (absl::StartsWithIgnoreCase(s, "tel:"))
    s.remove_prefix(4);
  else if (absl::StartsWithIgnoreCase(s, "sips:"))
    s.remove_prefix(5);
  else if (absl::StartsWithIgnoreCase(s, "sip:"))
    s.remove_prefix(4);
  s = s.substr(0, s.find_first_of(";@"));  // URI parameters and host
  bool international = false;
  std::string digits;
  digits.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (absl::ascii_isdigit(c)) {
      digits.push_back(c);
    } else if (c == '+' && digits.empty() && !international) {
      international = true;
    } else if (c == '-' || c == '.' || c == '(' || c == ')' || c == ' ') {
      continue;  // visual separators
    } else {
      return std::nullopt;
    }
    if (digits.size() > kMaxDigits + 3) return std::nullopt;
  }
  if (!international) {
    if (absl::StartsWith(digits, "011") && default_cc == "1") {
      digits.erase(0, 3);  // NANP international prefix
    } else if (absl::StartsWith(digits, "00")) {
      digits.erase(0, 2);  // international prefix elsewhere
    } else if (default_cc == "1" && digits.size() == 11 && digits[0] == '1') {
      // 1NPANXXXXXX: already carries the country code
    } else {
      if (!digits.empty() && digits[0] == '0') digits.erase(0, 1);  // national trunk prefix
      digits = absl::StrCat(default_cc, digits);
    }
  }
  if (digits.size() < kMinDigits || digits.size() > kMaxDigits || digits[0] == '0') return std::nullopt;
  E164 n = 0;
  for (char c : digits) n = n * 10 + static_cast<E164>(c - '0');
  return n;
}

std::string FormatE164(E164 number) { return absl::StrCat("+", number); }

}  // namespace sippacer::metrics
