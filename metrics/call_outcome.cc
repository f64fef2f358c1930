#include "metrics/call_outcome.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace sippacer::metrics {

bool IsNetworkBlocked(int code, absl::string_view phrase, absl::string_view reason_header) {
  return code == 603 && absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(phrase), "Network Blocked") &&
         !absl::StripAsciiWhitespace(reason_header).empty();
}

}  // namespace sippacer::metrics
