#include "metrics/json_writer.h"
#include "proxy/cdr/cdr_writer.h"

namespace sippacer::proxy {

std::string CdrToJson(const CdrRecord& r) {
  metrics::JsonWriter w;
  auto str_or_null = [&w](const std::string& s) -> metrics::JsonWriter& { return s.empty() ? w.Null() : w.String(s); };
  w.BeginObject();
  w.Key("ts").String(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", r.ts, absl::UTCTimeZone()));
  w.Key("caller").String(r.caller);
  w.Key("callee").String(r.callee);
  w.Key("carrier").String(r.carrier.empty() ? "unknown" : r.carrier);
  w.Key("trunk");
  str_or_null(r.trunk);
  w.Key("code").Int(r.code);
  w.Key("reason").String(r.reason);
  w.Key("pre_ring").Bool(r.pre_ring);
  w.Key("network_blocked").Bool(r.network_blocked);
  w.Key("reason_header");
  str_or_null(r.reason_header);
  w.Key("pdd_ms");
  r.pdd_ms ? w.Int(*r.pdd_ms) : w.Null();
  w.Key("setup_ms").Int(r.setup_ms);
  w.Key("duration_s");
  r.duration_s ? w.Int(*r.duration_s) : w.Null();
  w.Key("ended_by");
  str_or_null(r.ended_by);
  w.Key("paced");
  str_or_null(r.paced);
  w.Key("would_pace");
  str_or_null(r.would_pace);
  w.Key("refused_by_acl").Bool(r.refused_by_acl);
  w.Key("a_call_id").String(r.a_call_id);
  w.Key("b_call_id");
  str_or_null(r.b_call_id);
  w.EndObject();
  return w.Take();
}

}  // namespace sippacer::proxy
