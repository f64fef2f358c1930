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

bool InList(absl::string_view list, absl::string_view name) {
  for (absl::string_view entry : absl::StrSplit(list, ',')) {
    if (absl::EqualsIgnoreCase(entry, name)) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<HeaderPolicy> HeaderPolicy::Parse(absl::string_view pass, absl::string_view strip) {
  HeaderPolicy p;
  const std::string all_pass = absl::StrCat(kDefaultPass, ",", pass);
  for (auto [text, list] : {std::pair<absl::string_view, std::vector<Pattern>*>{all_pass, &p.pass_},
                            std::pair<absl::string_view, std::vector<Pattern>*>{strip, &p.strip_}}) {
    for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
      entry = absl::StripAsciiWhitespace(entry);
      if (!IsToken(entry)) return absl::InvalidArgumentError(absl::StrCat("'", entry, "' is not a header name"));
      if (list == &p.pass_ && InList(kOwned, CanonicalName(entry))) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", entry, "' is made by the relay for each leg, never passed"));
      }
      list->push_back(Pattern{absl::AsciiStrToLower(entry), absl::EndsWith(entry, "-")});
    }
  }
  return p;
}

bool HeaderPolicy::Matches(const std::vector<Pattern>& list, absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(CanonicalName(name));
  for (const Pattern& p : list) {
    if (p.prefix ? absl::StartsWith(lower, p.name) : lower == p.name) return true;
  }
  return false;
}

bool HeaderPolicy::Passes(absl::string_view name) const {
  return !InList(kOwned, CanonicalName(name)) && Matches(pass_, name) && !Matches(strip_, name);
}

absl::string_view HeaderPolicy::CanonicalName(absl::string_view name) {
  if (name.size() != 1) return name;
  // RFC 3261 7.3.3 and later RFCs' compact forms.
  switch (absl::ascii_tolower(static_cast<unsigned char>(name[0]))) {
    case 'a':
      return "Accept-Contact";
    case 'b':
      return "Referred-By";
    case 'c':
      return "Content-Type";
    case 'd':
      return "Request-Disposition";
    case 'e':
      return "Content-Encoding";
    case 'f':
      return "From";
    case 'i':
      return "Call-ID";
    case 'j':
      return "Reject-Contact";
    case 'k':
      return "Supported";
    case 'l':
      return "Content-Length";
    case 'm':
      return "Contact";
    case 'o':
      return "Event";
    case 'r':
      return "Refer-To";
    case 's':
      return "Subject";
    case 't':
      return "To";
    case 'u':
      return "Allow-Events";
    case 'v':
      return "Via";
    case 'x':
      return "Session-Expires";
    case 'y':
      return "Identity";
    default:
      return name;
  }
}

bool HeaderPolicy::ServesOptionTag(absl::string_view tag) { return InList(kOptionTags, tag); }

}  // namespace sippacer::proxy
