#pragma once
// CdrWriter: one record per call attempt, written off the relay path.
//
// The SIP thread pushes finished records into a lock-free single-producer
// queue and never waits. A writer thread appends them as JSON lines to
// --cdr_file (flushed at least every second, reopened on SIGHUP) and batches
// them into PostgreSQL with COPY (--cdr_postgres). While the database is down
// or slow the batches wait in memory, up to a bound, and are retried with
// backoff; a batch leaves memory only once its transaction committed. Every
// record dropped at a bound is counted and warned about. The database is
// tried as soon as the writer starts: one that cannot be reached is a
// warning at start, and the daemon runs on.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <boost/lockfree/spsc_queue.hpp>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proxy/cdr_record.h"

namespace sippacer::proxy {

class CdrFile;
class CdrPostgres;

struct CdrOptions {
  std::string file;
  std::string postgres;
  size_t queue_limit = 100000;          // records waiting for the writer thread
  size_t postgres_backlog = 1'000'000;  // records waiting for the database
};

class CdrWriter : public CdrSink {
 public:
  static absl::StatusOr<std::unique_ptr<CdrWriter>> Start(CdrOptions options);
  ~CdrWriter() override;

  void Push(CdrRecord&& record) override;    // SIP thread; never blocks
  void Reopen();                             // SIGHUP; any thread
  void Stop(absl::Duration drain_deadline);  // flush what can be flushed, then join

  struct Status {
    uint64_t written = 0, dropped = 0, queued = 0, pg_written = 0;
    bool postgres_enabled = false, postgres_connected = false;
    // One line: PostgreSQL's problem while it lasts (cleared once a batch is
    // written again), else the CDR file's last one; empty when none.
    std::string last_error;
  };
  Status status() const;  // any thread

 private:
  explicit CdrWriter(CdrOptions options);
  void Run();
  void WarnDropped();

  CdrOptions options_;
  boost::lockfree::spsc_queue<CdrRecord*> queue_;
  std::unique_ptr<CdrFile> file_;
  std::unique_ptr<CdrPostgres> postgres_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reopen_{false};
  std::atomic<int64_t> stop_deadline_ms_{0};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> queued_{0};
  std::atomic<int64_t> last_drop_warning_s_{0};
  uint64_t warned_dropped_ = 0;  // writer thread
  std::atomic<bool> pg_connected_{false};
  std::atomic<uint64_t> pg_written_{0};
  mutable absl::Mutex error_mu_;  // never taken on the SIP thread
  std::string last_error_ ABSL_GUARDED_BY(error_mu_);
};

// The record as one JSON line (no trailing newline), docs/cdr.md field names.
std::string CdrToJson(const CdrRecord& r);

}  // namespace sippacer::proxy
