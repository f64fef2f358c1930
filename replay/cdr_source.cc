#include "replay/cdr_source.h"

#include <libpq-fe.h>

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "metrics/e164.h"
#include "proxy/ctl/json_value.h"

namespace sippacer::replay {
namespace {

using proxy::JsonValue;

bool ParseTs(absl::string_view text, absl::Time* out) {
  std::string err;
  return absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", text, absl::UTCTimeZone(), out, &err) ||
         absl::ParseTime(absl::RFC3339_full, text, out, &err);
}

std::optional<metrics::E164> Number(absl::string_view text, absl::string_view cc) {
  return metrics::NormalizeE164(text, cc);
}

}  // namespace

absl::StatusOr<RecordedCall> ParseCdrLine(absl::string_view line, absl::string_view default_country_code) {
  auto v = proxy::ParseJson(line);
  if (!v.ok()) return v.status();
  const JsonValue* ts = v->Get("ts");
  const JsonValue* code = v->Get("code");
  if (ts == nullptr || code == nullptr || ts->type != JsonValue::Type::kString) {
    return absl::InvalidArgumentError("not a CDR (no ts or code)");
  }
  RecordedCall c;
  if (!ParseTs(ts->text, &c.ts)) return absl::InvalidArgumentError(absl::StrCat("bad ts '", ts->text, "'"));
  auto text = [&](absl::string_view key) -> std::string {
    const JsonValue* f = v->Get(key);
    return f && f->type == JsonValue::Type::kString ? f->text : "";
  };
  auto flag = [&](absl::string_view key) {
    const JsonValue* f = v->Get(key);
    return f && f->type == JsonValue::Type::kBool && f->boolean;
  };
  c.caller = Number(text("caller"), default_country_code).value_or(0);
  c.callee = Number(text("callee"), default_country_code).value_or(0);
  // Numbers out of any sane range are a bad line, not a cast to overflow.
  if (!(code->number >= 0 && code->number <= 699)) return absl::InvalidArgumentError("code out of range");
  c.code = static_cast<int>(code->number);
  c.pre_ring = flag("pre_ring");
  c.network_blocked = flag("network_blocked");
  c.reason_header = text("reason_header");
  constexpr double kMaxMs = 86'400'000.0 * 7;  // a week: longer is no call
  if (const JsonValue* pdd = v->Get("pdd_ms"); pdd && pdd->type == JsonValue::Type::kNumber) {
    if (!(pdd->number >= 0 && pdd->number <= kMaxMs)) return absl::InvalidArgumentError("pdd_ms out of range");
    c.pdd_ms = static_cast<int64_t>(pdd->number);
  }
  if (const JsonValue* setup = v->Get("setup_ms"); setup && setup->type == JsonValue::Type::kNumber) {
    if (!(setup->number >= 0 && setup->number <= kMaxMs)) return absl::InvalidArgumentError("setup_ms out of range");
    c.setup_ms = static_cast<int64_t>(setup->number);
  }
  c.refused = !text("paced").empty() && text("b_call_id").empty();
  c.refused_by_acl = flag("refused_by_acl");
  return c;
}

absl::Status ReadCdrFile(const std::string& path, absl::string_view default_country_code,
                         std::vector<RecordedCall>* out, ReadStats* stats) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++stats->lines;
    auto call = ParseCdrLine(line, default_country_code);
    if (!call.ok()) {
      ++stats->bad_lines;
      continue;
    }
    if (call->refused_by_acl) {
      ++stats->refused_by_acl;
      continue;
    }
    if (call->caller == 0) ++stats->not_a_number;
    out->push_back(*std::move(call));
  }
  return absl::OkStatus();
}

absl::Status ReadCdrPostgres(const std::string& conninfo, absl::Time since, absl::Time until,
                             absl::string_view default_country_code, std::vector<RecordedCall>* out, ReadStats* stats) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return absl::UnavailableError(absl::StrCat("cannot connect: ", err));
  }
  const std::string from = absl::FormatTime(absl::RFC3339_full, since, absl::UTCTimeZone());
  const std::string to = absl::FormatTime(absl::RFC3339_full, until, absl::UTCTimeZone());
  const char* params[] = {from.c_str(), to.c_str()};
  PGresult* res =
      PQexecParams(conn,
                   "SELECT (extract(epoch FROM ts) * 1000)::bigint, caller, callee, code, pre_ring, network_blocked, "
                   "coalesce(reason_header, ''), pdd_ms, setup_ms, coalesce(paced, ''), refused_by_acl, "
                   "coalesce(b_call_id, '') FROM sippacer_cdr WHERE ts >= $1 AND ts < $2 ORDER BY ts, id",
                   2, nullptr, params, nullptr, nullptr, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    std::string err = PQerrorMessage(conn);
    PQclear(res);
    PQfinish(conn);
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return absl::UnavailableError(absl::StrCat("reading sippacer_cdr: ", err));
  }
  const int rows = PQntuples(res);
  for (int i = 0; i < rows; ++i) {
    ++stats->lines;
    auto cell = [&](int col) { return absl::string_view(PQgetvalue(res, i, col)); };
    auto truth = [&](int col) { return cell(col) == "t"; };
    RecordedCall c;
    int64_t ms = 0, setup = 0, pdd = 0;
    int code = 0;
    if (!absl::SimpleAtoi(cell(0), &ms) || !absl::SimpleAtoi(cell(3), &code) || !absl::SimpleAtoi(cell(8), &setup)) {
      ++stats->bad_lines;
      continue;
    }
    c.ts = absl::FromUnixMillis(ms);
    c.caller = Number(cell(1), default_country_code).value_or(0);
    c.callee = Number(cell(2), default_country_code).value_or(0);
    c.code = code;
    c.pre_ring = truth(4);
    c.network_blocked = truth(5);
    c.reason_header = std::string(cell(6));
    if (!PQgetisnull(res, i, 7) && absl::SimpleAtoi(cell(7), &pdd)) c.pdd_ms = pdd;
    c.setup_ms = setup;
    c.refused = !cell(9).empty() && cell(11).empty();
    c.refused_by_acl = truth(10);
    if (c.refused_by_acl) {
      ++stats->refused_by_acl;
      continue;
    }
    if (c.caller == 0) ++stats->not_a_number;
    out->push_back(std::move(c));
  }
  PQclear(res);
  PQfinish(conn);
  return absl::OkStatus();
}

}  // namespace sippacer::replay
