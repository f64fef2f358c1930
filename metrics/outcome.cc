#include "metrics/outcome.h"

namespace sippacer::metrics {

Outcome OutcomeFromStatus(int code) {
  switch (code) {
    case 403:
      return Outcome::k403;
    case 404:
      return Outcome::k404;
    case 408:
      return Outcome::k408;
    case 410:
      return Outcome::k410;
    case 480:
      return Outcome::k480;
    case 486:
      return Outcome::k486;
    case 487:
      return Outcome::k487;
    case 500:
      return Outcome::k500;
    case 503:
      return Outcome::k503;
    case 603:
      return Outcome::k603;
    case 607:
      return Outcome::k607;
    case 608:
      return Outcome::k608;
    default:
      break;
  }
  if (code >= 200 && code < 300) return Outcome::k2xx;
  if (code >= 300 && code < 400) return Outcome::k3xx;
  if (code >= 400 && code < 500) return Outcome::kOther4xx;
  if (code >= 500 && code < 600) return Outcome::kOther5xx;
  return Outcome::kOther6xx;
}

absl::string_view OutcomeKey(Outcome o) {
  static constexpr absl::string_view kKeys[kOutcomeCount] = {"200", "3xx", "403", "404", "408", "410",
                                                             "480", "486", "487", "4xx", "500", "503",
                                                             "5xx", "603", "607", "608", "6xx"};
  const int i = static_cast<int>(o);
  return i >= 0 && i < kOutcomeCount ? kKeys[i] : "?";
}

uint32_t CodeCounts::finals() const {
  uint32_t n = 0;
  for (uint32_t c : by_outcome) n += c;
  return n;
}

void AddCounts(CodeCounts& into, const CodeCounts& c) {
  into.attempts += c.attempts;
  into.paced += c.paced;
  into.pre_ring_603 += c.pre_ring_603;
  into.network_blocked += c.network_blocked;
  for (int k = 0; k < kOutcomeCount; ++k) into.by_outcome[k] += c.by_outcome[k];
}

}  // namespace sippacer::metrics
