#pragma once
// CdrPostgres: CDRs into PostgreSQL with COPY, on the CDR writer thread.
//
// Records wait in `backlog_` until a COPY that carries them has committed;
// then they are forgotten. COPY goes into a temporary table and from there
// INSERT ... ON CONFLICT DO NOTHING on (a_call_id, ts), so a batch retried
// after a lost COMMIT acknowledgement cannot duplicate rows.

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
  // Connects if needed (with backoff between failures) and sends up to one
  // batch. Returns the error of the last attempt, if any.
  absl::Status Pump(absl::Time now);
  size_t backlog() const { return backlog_.size(); }
  bool connected() const { return conn_ != nullptr; }
  uint64_t written() const { return written_; }

 private:
  absl::Status Connect();
  absl::Status SendBatch(size_t n);
  void Disconnect();

  std::string conninfo_;
  size_t limit_;
  std::deque<CdrRecord> backlog_;
  pg_conn* conn_ = nullptr;
  absl::Time next_attempt_ = absl::InfinitePast();
  absl::Duration backoff_ = absl::Milliseconds(500);
  uint64_t written_ = 0;
};

// One record as a line of COPY text format (tab-separated, \N for NULL).
std::string CdrToCopyLine(const CdrRecord& r);

}  // namespace sippacer::proxy
