// Caller and callee numbers: a number that normalises prints as +DIGITS,
// which normalises back to itself whatever the default country code, also
// as a tel: or sip: URI (how it reaches ExtractCaller).

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "metrics/dialing_plan.h"
#include "metrics/e164.h"
#include "tests/fuzz/fuzz_check.h"

namespace sippacer::metrics {
namespace {

void Check(absl::string_view in, absl::string_view cc) {
  const std::optional<E164> n = NormalizeE164(in, cc);
  if (!n) return;
  FUZZ_CHECK(*n != 0);
  FUZZ_CHECK(DigitCount(*n) >= 7 && DigitCount(*n) <= 15);
  const std::string text = FormatE164(*n);
  FUZZ_CHECK(text == absl::StrCat("+", *n));
  FUZZ_CHECK(NormalizeE164(text, "1") == n);
  FUZZ_CHECK(NormalizeE164(text, "44") == n);
  FUZZ_CHECK(NormalizeE164(absl::StrCat("tel:", text, ";phone-context=x"), cc) == n);
  FUZZ_CHECK(NormalizeE164(absl::StrCat("sip:", text, "@trunk.example;user=phone"), cc) == n);
  FUZZ_CHECK(CountryCallingCode(*n) > 0);
}

}  // namespace
}  // namespace sippacer::metrics

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  sippacer::metrics::Check(in, "1");
  sippacer::metrics::Check(in, "44");
  return 0;
}
