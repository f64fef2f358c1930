#pragma once
// HeaderPolicy: which headers the relay passes from one leg to the other
// beyond those it owns or always carries (docs/headers.md).
//
// A B2BUA builds each leg's messages itself; headers it does not own would
// otherwise stop at it. The ones a carrier or a dialer needs pass through by
// name: STIR/SHAKEN's Identity (RFC 8224), Diversion and History-Info
// (forwarded calls, STIR "div"), P-Charge-Info (the billing number),
// User-to-User, and X- headers. `--pass_headers` replaces that list and
// `--strip_headers` removes names from it; a name ending in '-' is a prefix.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sippacer::proxy {

class HeaderPolicy {
 public:
  static constexpr absl::string_view kDefaultPass = "Identity,Diversion,History-Info,P-Charge-Info,User-to-User,X-";

  // Comma-separated names; an error names the bad entry.
  static absl::StatusOr<HeaderPolicy> Parse(absl::string_view pass, absl::string_view strip);

  // Whether a header of this name crosses to the other leg.
  bool Passes(absl::string_view name) const;

 private:
  struct Pattern {
    std::string name;  // lower case
    bool prefix = false;
  };
  static bool Matches(const std::vector<Pattern>& list, absl::string_view name);
  std::vector<Pattern> pass_, strip_;
};

}  // namespace sippacer::proxy
