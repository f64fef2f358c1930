#pragma once
// CdrPostgres: CDRs into PostgreSQL with COPY, on the CDR writer thread.
//
// Records wait in `backlog_` until a COPY that carries them has committed;
// then they are forgotten. COPY goes into a temporary table and from there
// INSERT ... ON CONFLICT DO NOTHING on (a_call_id, ts), so a batch retried
// after a lost COMMIT acknowledgement cannot duplicate rows.
//
// Errors are one line (libpq's own messages span several). The server's
// NOTICEs and WARNINGs, from the connection on, go to the log, rate-limited.

#include <deque>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proxy/cdr_record.h"

struct pg_conn;

namespace sippacer::proxy {

class CdrPostgres {
 public:
  CdrPostgres(std::string conninfo, size_t backlog_limit);
  ~CdrPostgres();

  // False (and the record not kept) when the backlog is at its bound.
  bool Add(CdrRecord record);
  // Connects if needed (with backoff between failures, also while there is
  // nothing to send, so a dead database is known before the first call) and
  // sends up to one batch. Returns the error of the last attempt, if any.
  // A connection is made over several calls without waiting on the network
  // (libpq's non-blocking connect), so the CDR file is written meanwhile.
  absl::Status Pump(absl::Time now);
  size_t backlog() const { return backlog_.size(); }
  bool connected() const { return conn_ != nullptr && !connecting_; }
  uint64_t written() const { return written_; }

 private:
  void StartConnect(absl::Time now);
  // Moves the connection on as far as the network allows now; once libpq
  // has it, creates the tables. OK while still connecting.
  absl::Status ContinueConnect(absl::Time now);
  absl::Status Setup();
  absl::Status SendBatch(size_t n);
  void Disconnect();

  std::string conninfo_;
  size_t limit_;
  std::deque<CdrRecord> backlog_;
  pg_conn* conn_ = nullptr;
  bool connecting_ = false;
  int polling_ = 0;  // libpq's PostgresPollingStatusType: what the socket waits for
  absl::Time connect_deadline_ = absl::InfiniteFuture();
  absl::Time next_attempt_ = absl::InfinitePast();
  absl::Duration backoff_ = absl::Milliseconds(500);
  uint64_t written_ = 0;
};

// One record as a line of COPY text format (tab-separated, \N for NULL).
std::string CdrToCopyLine(const CdrRecord& r);

// A libpq message on one line: its newlines and indents become single spaces.
std::string PostgresOneLine(absl::string_view message);

// The libpq the daemon runs with ("15.5"), for --version.
std::string LibpqVersion();

}  // namespace sippacer::proxy
