#pragma once
// LogLine: the daemon's one log format, one line per message:
//   2026-11-24T12:00:00.123Z INFO relay: listening on sip:127.0.0.1:5060
// on stderr, or with --log_target=syslog to syslog(3) (journald), where
// the line is "relay: listening on ..." at the level's priority and syslog
// adds the time.
//
// Once StartLog has run, no caller writes: LogLine formats the line (the
// time is the caller's) and queues it, and a writer thread of its own
// writes stderr or calls syslog(3). The SIP thread never waits on a full
// pipe or a slow /dev/log; past 10,000 lines waiting, lines are dropped and
// the count logged. Before StartLog and after StopLog, LogLine writes
// itself, one write(2) per line.
//
// Start-up: lines wait in memory until LogStarted(), so a start that fails
// says one thing. LogRefusal prints the line that says why (always on
// stderr, and to syslog too) and drops the rest (with --log_level=debug they
// are written first). A start slower than 10 s shows its lines anyway.

#include <optional>

#include "absl/strings/string_view.h"

namespace sippacer::proxy {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };
enum class LogTarget { kStderr, kSyslog };

struct LogOptions {
  LogLevel level = LogLevel::kInfo;
  LogTarget target = LogTarget::kStderr;
};

// "error", "warn", "info", "debug" (any case); nullopt otherwise.
std::optional<LogLevel> ParseLogLevel(absl::string_view text);
// "stderr", "syslog"; nullopt otherwise.
std::optional<LogTarget> ParseLogTarget(absl::string_view text);

// `level` is "ERROR", "WARN", "INFO" or "DEBUG"; lines below --log_level
// are not formatted at all.
void LogLine(absl::string_view level, absl::string_view component, absl::string_view message);

// LogLine for a message that may repeat at the rate of the traffic (a
// degraded path): at most one line per distinct message every 10 s, which
// says how many were held back since the last one.
// `key` names the kind of message when its text varies (default: the text).
void LogRateLimited(absl::string_view level, absl::string_view component, absl::string_view message,
                    absl::string_view key = {});

// Whether a line at `level` would be written (to skip building a DEBUG one).
bool LogEnabled(absl::string_view level);

// Starts the writer thread; holds lines until LogStarted. Once, from main,
// before any other thread.
void StartLog(const LogOptions& options);
// The daemon is up: held lines are written, and every line from now on.
void LogStarted();
// One line saying why the process cannot start, "... ERROR sippacer:
// MESSAGE"; nothing is logged after it. Works before StartLog too.
void LogRefusal(absl::string_view message);
// Writes what is queued and stops the writer thread.
void StopLog();

}  // namespace sippacer::proxy
