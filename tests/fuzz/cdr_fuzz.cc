// CDR encoders, every field from the input: the JSON line (--cdr_file)
// reads back with the same values (strings with invalid UTF-8 repaired, ""
// as null where the spec says so) and replays as the same call; each COPY
// text line (--cdr_postgres) is 19 fields with no raw tab, CR or LF inside,
// each unescaping to the value written. PostgreSQL refuses a whole COPY for
// one invalid UTF-8 byte (sofia passes carriers' bytes through as they
// came), so the line must hold none; a value that held one may come back
// changed.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "metrics/e164.h"
#include "proxy/cdr/cdr_postgres.h"
#include "proxy/cdr/cdr_writer.h"
#include "proxy/ctl/json_value.h"
#include "replay/cdr_source.h"
#include "tests/fuzz/fuzz_check.h"

namespace sippacer::proxy {
namespace {

// Values in the ranges the daemon writes (sippacer-replay refuses others).
CdrRecord Record(FuzzedDataProvider& in) {
  constexpr int64_t kDayMs = 86'400'000;
  CdrRecord r;
  r.ts = absl::FromUnixMillis(in.ConsumeIntegralInRange<int64_t>(0, 253'402'300'799'999));  // to 9999
  r.code = in.ConsumeIntegralInRange(0, 699);
  r.pre_ring = in.ConsumeBool();
  r.network_blocked = in.ConsumeBool();
  if (in.ConsumeBool()) r.pdd_ms = in.ConsumeIntegralInRange<int64_t>(0, kDayMs);
  r.setup_ms = in.ConsumeIntegralInRange<int64_t>(0, kDayMs);
  if (in.ConsumeBool()) r.duration_s = in.ConsumeIntegralInRange<int64_t>(0, int64_t{1} << 40);
  r.refused_by_acl = in.ConsumeBool();
  // Newer fields last: the committed inputs keep giving the older fields the same bytes.
  for (std::string* s : {&r.caller, &r.callee, &r.carrier, &r.reason, &r.reason_header, &r.ended_by, &r.paced,
                         &r.a_call_id, &r.b_call_id, &r.trunk, &r.would_pace}) {
    *s = in.ConsumeRandomLengthString(200);
    s->erase(std::remove(s->begin(), s->end(), '\0'), s->end());  // they come from C strings
  }
  return r;
}

void CheckString(const JsonValue& v, absl::string_view key, const std::string& want, bool empty_is_null) {
  const JsonValue* f = v.Get(key);
  FUZZ_CHECK(f != nullptr);
  if (empty_is_null && want.empty()) {
    FUZZ_CHECK(f->type == JsonValue::Type::kNull);
    return;
  }
  FUZZ_CHECK(f->type == JsonValue::Type::kString);
  FUZZ_CHECK(f->text == fuzz::Utf8Repaired(want));
}

void CheckInt(const JsonValue& v, absl::string_view key, std::optional<int64_t> want) {
  const JsonValue* f = v.Get(key);
  FUZZ_CHECK(f != nullptr);
  if (!want) {
    FUZZ_CHECK(f->type == JsonValue::Type::kNull);
    return;
  }
  FUZZ_CHECK(f->type == JsonValue::Type::kNumber && f->text == absl::StrCat(*want));
  FUZZ_CHECK(static_cast<int64_t>(f->number) == *want);
}

void CheckJson(const CdrRecord& r) {
  const std::string line = CdrToJson(r);
  FUZZ_CHECK(line.find_first_of("\r\n") == std::string::npos);
  auto v = ParseJson(line);
  FUZZ_CHECK(v.ok() && v->type == JsonValue::Type::kObject && v->fields.size() == 19);
  CheckString(*v, "caller", r.caller, false);
  CheckString(*v, "callee", r.callee, false);
  CheckString(*v, "carrier", r.carrier.empty() ? "unknown" : r.carrier, false);
  CheckString(*v, "trunk", r.trunk, true);
  CheckString(*v, "reason", r.reason, false);
  CheckString(*v, "reason_header", r.reason_header, true);
  CheckString(*v, "ended_by", r.ended_by, true);
  CheckString(*v, "paced", r.paced, true);
  CheckString(*v, "would_pace", r.would_pace, true);
  CheckString(*v, "a_call_id", r.a_call_id, false);
  CheckString(*v, "b_call_id", r.b_call_id, true);
  CheckInt(*v, "code", r.code);
  CheckInt(*v, "pdd_ms", r.pdd_ms);
  CheckInt(*v, "setup_ms", r.setup_ms);
  CheckInt(*v, "duration_s", r.duration_s);
  for (const auto& [key, want] : {std::pair{"pre_ring", r.pre_ring}, std::pair{"network_blocked", r.network_blocked},
                                  std::pair{"refused_by_acl", r.refused_by_acl}}) {
    FUZZ_CHECK(v->Get(key)->type == JsonValue::Type::kBool && v->Get(key)->boolean == want);
  }

  // sippacer-replay reads the line back as the same call.
  auto call = replay::ParseCdrLine(line, "1");
  FUZZ_CHECK(call.ok());
  FUZZ_CHECK(call->ts == r.ts);
  FUZZ_CHECK(call->caller == metrics::NormalizeE164(fuzz::Utf8Repaired(r.caller), "1").value_or(0));
  FUZZ_CHECK(call->code == r.code && call->setup_ms == r.setup_ms && call->pdd_ms == r.pdd_ms);
  FUZZ_CHECK(call->pre_ring == r.pre_ring && call->network_blocked == r.network_blocked);
  FUZZ_CHECK(call->reason_header == fuzz::Utf8Repaired(r.reason_header));
  FUZZ_CHECK(call->refused == (!r.paced.empty() && r.b_call_id.empty()));
  FUZZ_CHECK(call->refused_by_acl == r.refused_by_acl);
}

// PostgreSQL's COPY text unescaping of one field; \N alone is NULL ("").
std::string CopyUnescape(absl::string_view field) {
  if (field == "\\N") return "";
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\') {
      out.push_back(field[i]);
      continue;
    }
    FUZZ_CHECK(i + 1 < field.size());  // a lone trailing backslash would escape the delimiter
    const char c = field[++i];
    FUZZ_CHECK(c == '\\' || c == 't' || c == 'n' || c == 'r');  // the only escapes written
    out.push_back(c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : '\\');
  }
  return out;
}

// `got` unescaped from a COPY field for the value `want`.
bool SameText(const std::string& got, const std::string& want) {
  return fuzz::Utf8Repaired(want) != want || got == want;
}

void CheckCopy(const CdrRecord& r) {
  const std::string line = CdrToCopyLine(r);
  FUZZ_CHECK(!line.empty() && line.back() == '\n');
  const absl::string_view body = absl::string_view(line).substr(0, line.size() - 1);
  FUZZ_CHECK(body.find_first_of("\r\n") == absl::string_view::npos);
  FUZZ_CHECK(body.find('\0') == absl::string_view::npos);
  FUZZ_CHECK(fuzz::Utf8Repaired(body) == body);
  const std::vector<absl::string_view> f = absl::StrSplit(body, '\t');
  FUZZ_CHECK(f.size() == 19);
  FUZZ_CHECK(SameText(CopyUnescape(f[1]), r.caller));
  FUZZ_CHECK(SameText(CopyUnescape(f[2]), r.callee));
  FUZZ_CHECK(SameText(CopyUnescape(f[3]), (r.carrier.empty() ? "unknown" : r.carrier)));
  FUZZ_CHECK(SameText(CopyUnescape(f[4]), r.trunk));
  FUZZ_CHECK(f[5] == absl::StrCat(r.code));
  FUZZ_CHECK(SameText(CopyUnescape(f[6]), r.reason));
  FUZZ_CHECK(SameText(CopyUnescape(f[9]), r.reason_header));
  FUZZ_CHECK(f[10] == (r.pdd_ms ? absl::StrCat(*r.pdd_ms) : "\\N"));
  FUZZ_CHECK(f[11] == absl::StrCat(r.setup_ms));
  FUZZ_CHECK(SameText(CopyUnescape(f[13]), r.ended_by));
  FUZZ_CHECK(SameText(CopyUnescape(f[14]), r.paced));
  FUZZ_CHECK(SameText(CopyUnescape(f[15]), r.would_pace));
  FUZZ_CHECK(SameText(CopyUnescape(f[17]), r.a_call_id));
  FUZZ_CHECK(SameText(CopyUnescape(f[18]), r.b_call_id));
}

}  // namespace
}  // namespace sippacer::proxy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const sippacer::proxy::CdrRecord r = sippacer::proxy::Record(in);
  sippacer::proxy::CheckJson(r);
  sippacer::proxy::CheckCopy(r);
  return 0;
}
