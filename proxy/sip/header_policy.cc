#include "proxy/sip/header_policy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sippacer::proxy {
namespace {

// RFC 3261 token characters, the only ones a header name may have.
bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && !absl::StrContains("-.!%*_+`'~", c)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<HeaderPolicy> HeaderPolicy::Parse(absl::string_view pass, absl::string_view strip) {
  HeaderPolicy p;
  for (auto [text, list] : {std::pair{pass, &p.pass_}, std::pair{strip, &p.strip_}}) {
    for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
      entry = absl::StripAsciiWhitespace(entry);
      if (!IsToken(entry)) return absl::InvalidArgumentError(absl::StrCat("'", entry, "' is not a header name"));
      Pattern pattern{absl::AsciiStrToLower(entry), absl::EndsWith(entry, "-")};
      list->push_back(std::move(pattern));
    }
  }
  return p;
}

bool HeaderPolicy::Matches(const std::vector<Pattern>& list, absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (const Pattern& p : list) {
    if (p.prefix ? absl::StartsWith(lower, p.name) : lower == p.name) return true;
  }
  return false;
}

bool HeaderPolicy::Passes(absl::string_view name) const { return Matches(pass_, name) && !Matches(strip_, name); }

}  // namespace sippacer::proxy
