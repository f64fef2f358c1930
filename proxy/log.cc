#include "proxy/log.h"

#include <unistd.h>

#include <string>

#include "absl/base/const_init.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sippacer::proxy {

void LogLine(absl::string_view level, absl::string_view component, absl::string_view message) {
  std::string line = absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ",
                                  level, " ", component, ": ", message);
  // A message is one line: a newline a peer smuggled in cannot forge another.
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  line.push_back('\n');
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;  // nowhere to complain about a broken stderr
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void LogRateLimited(absl::string_view level, absl::string_view component, absl::string_view message,
                    absl::string_view key) {
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

}  // namespace sippacer::proxy
