#include "proxy/log.h"

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/const_init.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sippacer::proxy {
namespace {

constexpr size_t kMaxPending = 10000;
constexpr std::chrono::seconds kLongestHold{10};

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_syslog{false};

LogLevel LevelOf(absl::string_view level) {
  if (level == "ERROR") return LogLevel::kError;
  if (level == "WARN" || level == "WARNING") return LogLevel::kWarn;
  if (level == "DEBUG") return LogLevel::kDebug;
  return LogLevel::kInfo;
}

int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return LOG_ERR;
    case LogLevel::kWarn:
      return LOG_WARNING;
    case LogLevel::kInfo:
      return LOG_INFO;
    case LogLevel::kDebug:
      return LOG_DEBUG;
  }
  return LOG_INFO;
}

// A line for stderr ("TIME LEVEL component: message\n"), or for syslog
// ("component: message", the priority beside it).
struct Entry {
  bool to_syslog = false;
  int priority = LOG_INFO;
  std::string text;
};

Entry Format(absl::string_view level, absl::string_view component, absl::string_view message, bool to_syslog) {
  Entry e;
  e.to_syslog = to_syslog;
  e.priority = SyslogPriority(LevelOf(level));
  e.text = to_syslog ? absl::StrCat(component, ": ", message)
                     : absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ",
                                    level, " ", component, ": ", message);
  // A message is one line: a newline a peer smuggled in cannot forge another.
  for (char& c : e.text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (!to_syslog) e.text.push_back('\n');
  return e;
}

void WriteStderr(const std::string& data) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;  // nowhere to complain about a broken stderr
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// Stderr lines of a batch go out in one write(2), syslog lines one by one.
void WriteAll(const std::vector<Entry>& entries) {
  std::string out;
  for (const Entry& e : entries) {
    if (e.to_syslog) {
      ::syslog(e.priority, "%s", e.text.c_str());
    } else {
      out += e.text;
    }
  }
  if (!out.empty()) WriteStderr(out);
}

// std::mutex, not absl::Mutex: the sanitizer builds see it.
class Writer {
 public:
  // False when the line was not taken (no writer thread): LogLine writes it.
  bool Queue(Entry& e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return true;  // after a refusal: not a line more
      if (!running_) return false;
      if (pending_.size() >= kMaxPending) {
        ++dropped_;
        return true;
      }
      pending_.push_back(std::move(e));
      if (holding_) return true;
    }
    ready_.notify_one();
    return true;
  }

  void Start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) return;
    running_ = true;
    holding_ = true;
    hold_until_ = std::chrono::steady_clock::now() + kLongestHold;
    thread_ = std::thread([this] { Run(); });
  }

  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      holding_ = false;
    }
    ready_.notify_one();
  }

  // The held lines (with `keep`) or nothing; no line is queued after this.
  std::vector<Entry> Close(bool keep) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    std::vector<Entry> held;
    if (keep) held.swap(pending_);
    pending_.clear();
    return held;
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!running_) return;
      stopping_ = true;
      holding_ = false;
    }
    ready_.notify_one();
    thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
    stopping_ = false;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      auto ready = [this] { return stopping_ || (!holding_ && (!pending_.empty() || dropped_ > 0)); };
      if (holding_) {
        // A start slower than this shows its lines anyway.
        if (!ready_.wait_until(lock, hold_until_, ready)) holding_ = false;
      } else {
        ready_.wait(lock, ready);
      }
      std::vector<Entry> batch;
      batch.swap(pending_);
      const uint64_t dropped = std::exchange(dropped_, 0);
      const bool stop = stopping_;
      lock.unlock();
      if (dropped > 0) {
        batch.push_back(Format("WARN", "log", absl::StrCat(dropped, " lines dropped: the log output could not keep up"),
                               g_syslog.load(std::memory_order_relaxed)));
      }
      WriteAll(batch);
      lock.lock();
      if (stop && pending_.empty()) return;
    }
  }

  std::mutex mu_;
  std::condition_variable ready_;
  std::vector<Entry> pending_;
  uint64_t dropped_ = 0;
  bool running_ = false;
  bool holding_ = false;
  bool stopping_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point hold_until_;
  std::thread thread_;
};

Writer& TheWriter() {
  static Writer* w = new Writer();  // never destroyed: threads may log at exit
  return *w;
}

bool Enabled(LogLevel level) { return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed); }

}  // namespace

std::optional<LogLevel> ParseLogLevel(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "error") return LogLevel::kError;
  if (t == "warn") return LogLevel::kWarn;
  if (t == "info") return LogLevel::kInfo;
  if (t == "debug") return LogLevel::kDebug;
  return std::nullopt;
}

std::optional<LogTarget> ParseLogTarget(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "stderr") return LogTarget::kStderr;
  if (t == "syslog") return LogTarget::kSyslog;
  return std::nullopt;
}

bool LogEnabled(absl::string_view level) { return Enabled(LevelOf(level)); }

void LogLine(absl::string_view level, absl::string_view component, absl::string_view message) {
  if (!Enabled(LevelOf(level))) return;
  Entry e = Format(level, component, message, g_syslog.load(std::memory_order_relaxed));
  if (!TheWriter().Queue(e)) WriteAll({e});
}

void LogRateLimited(absl::string_view level, absl::string_view component, absl::string_view message,
                    absl::string_view key) {
  if (!Enabled(LevelOf(level))) return;
  struct Seen {
    absl::Time last = absl::InfinitePast();
    uint64_t held = 0;
  };
  static absl::Mutex mu(absl::kConstInit);
  static auto* seen = new absl::flat_hash_map<std::string, Seen>();  // bounded: one entry per kind
  const absl::Time now = absl::Now();
  uint64_t held = 0;
  {
    absl::MutexLock lock(&mu);
    Seen& s = (*seen)[absl::StrCat(component, ": ", key.empty() ? message : key)];
    if (now - s.last < absl::Seconds(10)) {
      ++s.held;
      return;
    }
    held = s.held;
    s.held = 0;
    s.last = now;
  }
  if (held == 0) {
    LogLine(level, component, message);
  } else {
    LogLine(level, component, absl::StrCat(message, " (", held, " more like it in the last 10 s)"));
  }
}

void StartLog(const LogOptions& options) {
  g_level.store(static_cast<int>(options.level), std::memory_order_relaxed);
  if (options.target == LogTarget::kSyslog) {
    ::openlog("sippacer", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    g_syslog.store(true, std::memory_order_relaxed);
  }
  TheWriter().Start();
}

void LogStarted() { TheWriter().Release(); }

void LogRefusal(absl::string_view message) {
  const bool to_syslog = g_syslog.load(std::memory_order_relaxed);
  std::vector<Entry> held = TheWriter().Close(/*keep=*/Enabled(LogLevel::kDebug));
  WriteAll(held);
  // Always on stderr: whoever started the process sees why it stopped.
  WriteAll({Format("ERROR", "sippacer", message, /*to_syslog=*/false)});
  if (to_syslog) WriteAll({Format("ERROR", "sippacer", message, /*to_syslog=*/true)});
}

void StopLog() {
  TheWriter().Stop();
  if (g_syslog.exchange(false, std::memory_order_relaxed)) ::closelog();
}

}  // namespace sippacer::proxy
