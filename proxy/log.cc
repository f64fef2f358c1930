#include "proxy/log.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sippacer::proxy {

void LogLine(absl::string_view level, absl::string_view component, absl::string_view message) {
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ", level,
      " ", component, ": ", message);
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

}  // namespace sippacer::proxy
