#include "proxy/cdr/cdr_postgres.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "metrics/json_writer.h"
#include "proxy/cdr/cdr_schema.h"
#include "proxy/log.h"

namespace sippacer::proxy {
namespace {

constexpr size_t kBatch = 1000;
// A connection attempt that takes longer is given up (and retried later).
constexpr absl::Duration kConnectTimeout = absl::Seconds(5);
constexpr char kColumns[] =
    "ts, caller, callee, carrier, trunk, code, reason, pre_ring, network_blocked, reason_header, pdd_ms, "
    "setup_ms, duration_s, ended_by, paced, would_pace, refused_by_acl, a_call_id, b_call_id";

// COPY text: escapes, and only valid UTF-8. A carrier's Latin-1 byte (or a
// NUL) would make PostgreSQL refuse the whole batch, and the writer retry it
// forever: such bytes become U+FFFD, as in the JSON CDRs.
void AppendCopyText(std::string& out, absl::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      i += metrics::AppendUtf8Sequence(out, s, i);
      continue;
    }
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      default:
        out.push_back(c);
    }
    ++i;
  }
}

void Field(std::string& out, absl::string_view s, bool last = false) {
  AppendCopyText(out, s);
  out.push_back(last ? '\n' : '\t');
}

void NullableField(std::string& out, const std::string& s) {
  if (s.empty())
    out += "\\N\t";
  else
    Field(out, s);
}

// The server's NOTICE, WARNING (and with client_min_messages lower, DEBUG
// and LOG) messages: through our log, not libpq's default of raw stderr.
// "relation ... already exists, skipping" comes at every connect.
void OnNotice(void*, const PGresult* res) {
  const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  const absl::string_view s = severity != nullptr ? severity : "NOTICE";
  const char* level = s == "WARNING" ? "WARN" : (s == "DEBUG" || s == "LOG") ? "DEBUG" : "INFO";
  const std::string message = PostgresOneLine(PQresultErrorMessage(res));
  LogRateLimited(level, "cdr", absl::StrCat("postgres: ", message));
}

std::string ErrorOf(pg_conn* conn) { return PostgresOneLine(PQerrorMessage(conn)); }

}  // namespace

std::string PostgresOneLine(absl::string_view message) {
  std::string out;
  bool space = false;
  for (char c : absl::StripAsciiWhitespace(message)) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string LibpqVersion() {
  const int v = PQlibVersion();  // 150005 for 15.5
  return absl::StrCat(v / 10000, ".", v % 10000);
}

std::string CdrToCopyLine(const CdrRecord& r) {
  std::string out;
  Field(out, absl::FormatTime("%Y-%m-%d %H:%M:%E3S+00", r.ts, absl::UTCTimeZone()));
  Field(out, r.caller);
  Field(out, r.callee);
  Field(out, r.carrier.empty() ? "unknown" : r.carrier);
  NullableField(out, r.trunk);
  Field(out, absl::StrCat(r.code));
  Field(out, r.reason);
  Field(out, r.pre_ring ? "t" : "f");
  Field(out, r.network_blocked ? "t" : "f");
  NullableField(out, r.reason_header);
  if (r.pdd_ms)
    Field(out, absl::StrCat(*r.pdd_ms));
  else
    out += "\\N\t";
  Field(out, absl::StrCat(r.setup_ms));
  if (r.duration_s)
    Field(out, absl::StrCat(*r.duration_s));
  else
    out += "\\N\t";
  NullableField(out, r.ended_by);
  NullableField(out, r.paced);
  NullableField(out, r.would_pace);
  Field(out, r.refused_by_acl ? "t" : "f");
  Field(out, r.a_call_id);
  if (r.b_call_id.empty())
    out += "\\N\n";
  else
    Field(out, r.b_call_id, true);
  return out;
}

CdrPostgres::CdrPostgres(std::string conninfo, size_t backlog_limit)
    : conninfo_(std::move(conninfo)), limit_(backlog_limit) {}

CdrPostgres::~CdrPostgres() { Disconnect(); }

bool CdrPostgres::Add(CdrRecord record) {
  if (backlog_.size() >= limit_) return false;
  backlog_.push_back(std::move(record));
  return true;
}

void CdrPostgres::Disconnect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  connecting_ = false;
}

void CdrPostgres::StartConnect(absl::Time now) {
  // The notice receiver is in place before the server says anything (a
  // collation warning comes with the connection).
  const char* keys[] = {"dbname", "application_name", nullptr};
  const char* values[] = {conninfo_.c_str(), "sippacer", nullptr};
  conn_ = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
  if (conn_ != nullptr) PQsetNoticeReceiver(conn_, OnNotice, nullptr);
  connecting_ = true;
  polling_ = PGRES_POLLING_WRITING;  // what libpq says to assume before the first PQconnectPoll
  connect_deadline_ = now + kConnectTimeout;
}

absl::Status CdrPostgres::ContinueConnect(absl::Time now) {
  if (conn_ == nullptr) return absl::UnavailableError("postgres: out of memory");
  while (polling_ != PGRES_POLLING_OK) {
    if (PQstatus(conn_) == CONNECTION_BAD || polling_ == PGRES_POLLING_FAILED) {
      return absl::UnavailableError(absl::StrCat("postgres: ", ErrorOf(conn_)));
    }
    pollfd p{PQsocket(conn_), static_cast<short>(polling_ == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    const int ready = p.fd < 0 ? 1 : ::poll(&p, 1, 0);
    if (ready < 0 && errno != EINTR)
      return absl::UnavailableError(absl::StrCat("postgres: poll: ", std::strerror(errno)));
    if (ready <= 0) {
      if (now >= connect_deadline_) {
        return absl::UnavailableError(
            absl::StrCat("postgres: no connection within ", absl::FormatDuration(kConnectTimeout)));
      }
      return absl::OkStatus();  // on with it next time
    }
    polling_ = PQconnectPoll(conn_);
  }
  if (PQstatus(conn_) != CONNECTION_OK) return absl::UnavailableError(absl::StrCat("postgres: ", ErrorOf(conn_)));
  connecting_ = false;
  return Setup();
}

absl::Status CdrPostgres::Setup() {
  const std::string setup =
      absl::StrCat(kCdrSchemaSql,
                   "CREATE TEMP TABLE IF NOT EXISTS sippacer_cdr_in (LIKE sippacer_cdr INCLUDING DEFAULTS) "
                   "ON COMMIT DELETE ROWS;");
  PGresult* res = PQexec(conn_, setup.c_str());
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string err = ok ? "" : ErrorOf(conn_);
  PQclear(res);
  if (!ok) return absl::UnavailableError(absl::StrCat("postgres: creating the CDR table: ", err));
  LogLine("INFO", "cdr", "connected to PostgreSQL");
  return absl::OkStatus();
}

absl::Status CdrPostgres::SendBatch(size_t n) {
  auto exec = [this](const char* sql) -> absl::Status {
    PGresult* res = PQexec(conn_, sql);
    const ExecStatusType st = PQresultStatus(res);
    const bool ok = st == PGRES_COMMAND_OK || st == PGRES_COPY_IN;
    std::string err = ok ? "" : ErrorOf(conn_);
    PQclear(res);
    return ok ? absl::OkStatus() : absl::UnavailableError(absl::StrCat("postgres: ", err));
  };
  if (auto s = exec("BEGIN"); !s.ok()) return s;
  if (auto s = exec(absl::StrCat("COPY sippacer_cdr_in (", kColumns, ") FROM STDIN").c_str()); !s.ok()) return s;
  std::string data;
  for (size_t i = 0; i < n; ++i) data += CdrToCopyLine(backlog_[i]);
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1 || PQputCopyEnd(conn_, nullptr) != 1) {
    return absl::UnavailableError(absl::StrCat("postgres: COPY: ", ErrorOf(conn_)));
  }
  PGresult* res = PQgetResult(conn_);
  const bool copied = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string err = copied ? "" : ErrorOf(conn_);
  PQclear(res);
  while ((res = PQgetResult(conn_)) != nullptr) PQclear(res);
  if (!copied) return absl::UnavailableError(absl::StrCat("postgres: COPY: ", err));
  if (auto s = exec(absl::StrCat("INSERT INTO sippacer_cdr (", kColumns, ") SELECT ", kColumns,
                                 " FROM sippacer_cdr_in ON CONFLICT (a_call_id, ts) DO NOTHING")
                        .c_str());
      !s.ok()) {
    return s;
  }
  if (auto s = exec("COMMIT"); !s.ok()) return s;
  backlog_.erase(backlog_.begin(), backlog_.begin() + static_cast<std::ptrdiff_t>(n));
  written_ += n;
  if (LogEnabled("DEBUG")) LogLine("DEBUG", "cdr", absl::StrCat("postgres: ", n, " CDRs committed"));
  return absl::OkStatus();
}

absl::Status CdrPostgres::Pump(absl::Time now) {
  if (conn_ == nullptr) {
    if (now < next_attempt_) return absl::OkStatus();
    StartConnect(now);
  }
  if (connecting_) {
    if (auto s = ContinueConnect(now); !s.ok()) {
      Disconnect();
      next_attempt_ = now + backoff_;
      backoff_ = std::min(backoff_ * 2, absl::Seconds(10));
      return s;
    }
    if (connecting_) return absl::OkStatus();
    backoff_ = absl::Milliseconds(500);
  }
  if (backlog_.empty()) return absl::OkStatus();
  if (auto s = SendBatch(std::min(kBatch, backlog_.size())); !s.ok()) {
    // Whatever state the session is in, a fresh connection starts clean;
    // the batch is still in the backlog.
    Disconnect();
    next_attempt_ = now + backoff_;
    return s;
  }
  return absl::OkStatus();
}

}  // namespace sippacer::proxy
