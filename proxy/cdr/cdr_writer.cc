#include "proxy/cdr/cdr_writer.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "proxy/cdr/cdr_file.h"
#include "proxy/cdr/cdr_postgres.h"
#include "proxy/log.h"

namespace sippacer::proxy {
namespace {

constexpr absl::Duration kFlushEvery = absl::Milliseconds(250);
constexpr int64_t kDropWarningEveryS = 10;

}  // namespace

CdrWriter::CdrWriter(CdrOptions options) : options_(std::move(options)), queue_(options_.queue_limit) {}

absl::StatusOr<std::unique_ptr<CdrWriter>> CdrWriter::Start(CdrOptions options) {
  std::unique_ptr<CdrWriter> w(new CdrWriter(std::move(options)));
  if (!w->options_.file.empty()) {
    w->file_ = std::make_unique<CdrFile>(w->options_.file);
    if (auto s = w->file_->Open(); !s.ok()) return absl::UnavailableError(absl::StrCat("--cdr_file: ", s.message()));
  }
  if (!w->options_.postgres.empty()) {
    w->postgres_ = std::make_unique<CdrPostgres>(w->options_.postgres, w->options_.postgres_backlog);
  }
  w->thread_ = std::thread([raw = w.get()] { raw->Run(); });
  return w;
}

CdrWriter::~CdrWriter() {
  if (thread_.joinable()) Stop(absl::Seconds(2));
  CdrRecord* r = nullptr;
  while (queue_.pop(r)) delete r;
}

void CdrWriter::Push(CdrRecord&& record) {
  auto* boxed = new CdrRecord(std::move(record));
  if (!queue_.push(boxed)) {
    delete boxed;
    dropped_.fetch_add(1, std::memory_order_relaxed);  // the writer thread warns
    return;
  }
  queued_.fetch_add(1, std::memory_order_relaxed);
}

// Writer thread only: at most one line every kDropWarningEveryS, and only
// when more records were dropped since the last one.
void CdrWriter::WarnDropped() {
  const int64_t now_s = absl::ToUnixSeconds(absl::Now());
  const int64_t last = last_drop_warning_s_.load(std::memory_order_relaxed);
  const uint64_t dropped = dropped_.load(std::memory_order_relaxed);
  if (now_s - last < kDropWarningEveryS || dropped == warned_dropped_) return;
  warned_dropped_ = dropped;
  last_drop_warning_s_.store(now_s, std::memory_order_relaxed);
  LogLine("WARN", "cdr",
          absl::StrCat("CDR queue full: ", dropped_.load(std::memory_order_relaxed), " records dropped so far"));
}

void CdrWriter::Reopen() { reopen_.store(true, std::memory_order_relaxed); }

void CdrWriter::Stop(absl::Duration drain_deadline) {
  if (!thread_.joinable()) return;
  stop_deadline_ms_.store(absl::ToUnixMillis(absl::Now() + drain_deadline), std::memory_order_relaxed);
  stop_.store(true, std::memory_order_release);
  thread_.join();
}

CdrWriter::Status CdrWriter::status() const {
  Status s;
  s.written = written_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.queued = queued_.load(std::memory_order_relaxed);
  s.postgres_enabled = postgres_ != nullptr;
  s.postgres_connected = pg_connected_.load(std::memory_order_relaxed);
  s.pg_written = pg_written_.load(std::memory_order_relaxed);
  absl::MutexLock lock(&error_mu_);
  s.last_error = last_error_;
  return s;
}

void CdrWriter::Run() {
  absl::Time last_flush = absl::Now();
  std::string logged_file_error, logged_pg_error;  // each problem is logged once while it lasts
  std::string file_error_shown;                    // the file's last problem (kept, as before)
  std::string pg_error;                            // PostgreSQL's problem now; gone once it writes again
  bool pg_ever_connected = false, pg_start_warned = false;
  for (;;) {
    const bool stopping = stop_.load(std::memory_order_acquire);
    CdrRecord* r = nullptr;
    size_t taken = 0;
    while (taken < 5000 && queue_.pop(r)) {
      std::unique_ptr<CdrRecord> rec(r);
      ++taken;
      queued_.fetch_sub(1, std::memory_order_relaxed);
      if (file_) file_->Append(CdrToJson(*rec));
      if (postgres_ && !postgres_->Add(std::move(*rec))) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        WarnDropped();
      }
      if (!postgres_ || file_) written_.fetch_add(1, std::memory_order_relaxed);
    }
    const absl::Time now = absl::Now();
    std::string file_error;
    if (file_ && reopen_.exchange(false, std::memory_order_relaxed)) {
      if (auto s = file_->Flush(); !s.ok()) file_error = std::string(s.message());
      if (auto s = file_->Open(); !s.ok())
        file_error = std::string(s.message());
      else
        LogLine("INFO", "cdr", absl::StrCat("reopened ", options_.file));
    }
    if (file_ && (now - last_flush >= kFlushEvery || stopping)) {
      if (auto s = file_->Flush(); !s.ok()) file_error = std::string(s.message());
      last_flush = now;
    }
    if (!file_error.empty()) {
      if (file_error != logged_file_error) LogLine("WARN", "cdr", file_error);
      logged_file_error = file_error_shown = file_error;
    } else {
      logged_file_error.clear();
    }
    // Stopping with nothing for the database: no new connection attempt.
    if (postgres_ && !(stopping && postgres_->backlog() == 0)) {
      // Connecting starts with the first round: a --cdr_postgres that does
      // not work is said at start, not at the first call.
      const absl::Status s = postgres_->Pump(now);
      if (!s.ok()) {
        pg_error = PostgresOneLine(s.message());
      } else if (postgres_->connected()) {
        pg_error.clear();
      }
      if (postgres_->connected()) pg_ever_connected = true;
      if (!pg_error.empty() && pg_error != logged_pg_error) {
        if (!pg_ever_connected && !pg_start_warned) {
          LogLine("WARN", "cdr",
                  absl::StrCat("--cdr_postgres: cannot connect, starting anyway (CDRs wait in memory, the "
                               "connection is retried): ",
                               absl::StripPrefix(pg_error, "postgres: ")));
          pg_start_warned = true;
        } else {
          LogLine("WARN", "cdr", pg_error);
        }
        logged_pg_error = pg_error;
      } else if (pg_error.empty()) {
        logged_pg_error.clear();
      }
      pg_connected_.store(postgres_->connected(), std::memory_order_relaxed);
      pg_written_.store(postgres_->written(), std::memory_order_relaxed);
      if (!file_) written_.store(postgres_->written(), std::memory_order_relaxed);
      queued_.store(queue_.read_available() + postgres_->backlog(), std::memory_order_relaxed);
    }
    {
      // show info's last_error: PostgreSQL's standing problem, else the
      // file's last one.
      const std::string& shown = !pg_error.empty() ? pg_error : file_error_shown;
      absl::MutexLock lock(&error_mu_);
      if (last_error_ != shown) last_error_ = shown;
    }
    if (stopping && queue_.read_available() == 0) {
      const bool pg_done = !postgres_ || postgres_->backlog() == 0;
      if (pg_done || absl::ToUnixMillis(now) >= stop_deadline_ms_.load(std::memory_order_relaxed)) {
        if (postgres_ && postgres_->backlog() > 0) {
          LogLine("WARN", "cdr", absl::StrCat("stopping with ", postgres_->backlog(), " CDRs not in PostgreSQL"));
        }
        if (file_) (void)file_->Flush();
        return;
      }
    }
    if (dropped_.load(std::memory_order_relaxed) != 0) WarnDropped();
    if (taken == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace sippacer::proxy
