// sippacer-replay's reader of --cdr_file lines: any line is a call or an
// error, never a crash or UB; a call's numbers are E.164 or 0, and the
// call reads the same with the line's surrounding whitespace.

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "metrics/dialing_plan.h"
#include "replay/cdr_source.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sippacer;
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  auto call = replay::ParseCdrLine(in, "1");
  if (!call.ok()) return 0;
  for (metrics::E164 n : {call->caller, call->callee}) {
    FUZZ_CHECK(n == 0 || (metrics::DigitCount(n) >= 7 && metrics::DigitCount(n) <= 15));
  }
  auto again = replay::ParseCdrLine(absl::StrCat(" ", in, "\t"), "1");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->ts == call->ts && again->caller == call->caller && again->callee == call->callee &&
             again->code == call->code && again->reason_header == call->reason_header &&
             again->pdd_ms == call->pdd_ms && again->setup_ms == call->setup_ms);
  return 0;
}
