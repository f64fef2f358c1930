// sippacer-ctl: one request to the stats socket, printed for a person.
//
//   sippacer-ctl [--socket=P] [--json] REQUEST...
//   sippacer-ctl [--socket=P] watch [--interval=1s] [--limit=20] [--count=N]
//   sippacer-ctl [--socket=P] subscribe
//   sippacer-ctl --help | --version
// Exit codes: 0 answered (and --help, --version), 1 the daemon answered an
// error, 2 usage or connection.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proxy/ops/requests.h"
#include "proxy/ctl/json_value.h"
#include "proxy/ctl/table.h"

namespace {

using sippacer::proxy::JsonValue;
using sippacer::proxy::kRequests;
using sippacer::proxy::RequestHelp;

constexpr char kUsage[] =
    "usage: sippacer-ctl [--socket=PATH] [--json] REQUEST...\n"
    "       sippacer-ctl [--socket=PATH] watch [--interval=1s] [--limit=20] [--count=N]\n"
    "       sippacer-ctl [--socket=PATH] subscribe\n";

int Usage(absl::string_view why) {
  std::fprintf(stderr, "sippacer-ctl: %.*s\n%s", static_cast<int>(why.size()), why.data(), kUsage);
  return 2;
}

int Help() {
  std::string out = absl::StrCat(
      "sippacer-ctl: asks a running sippacer over its stats socket, prints the answer\nfor a person.\n\n", kUsage,
      "\nOptions:\n"
      "  --socket=PATH   the daemon's --stats_socket (default /run/sippacer/sippacer.sock)\n"
      "  --json          print the daemon's answer as it is, one JSON line\n"
      "  --interval=D    watch: time between frames (default 1s)\n"
      "  --limit=N       watch: numbers shown (default 20)\n"
      "  --count=N       watch: stop after N frames (default: until interrupted)\n"
      "  --help, --version\n"
      "\nRequests (docs/stats-socket.md); numbers in any common format:\n");
  for (const RequestHelp& r : kRequests) absl::StrAppend(&out, "  ", r.request, "\n      ", r.about, "\n");
  absl::StrAppend(&out,
                  "  watch\n      sippacer-ctl's own: a live view of the worst numbers\n"
                  "\nExit codes: 0 answered; 1 the daemon answered an error; 2 usage, no connection\n"
                  "or no answer.\n");
  std::fputs(out.c_str(), stdout);
  return 0;
}

class Connection {
 public:
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool Open(const std::string& path, std::string* error) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
      *error = "socket path too long";
      return false;
    }
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      *error = absl::StrCat("cannot connect to ", path, " (is sippacer running? --socket=PATH)");
      return false;
    }
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return true;
  }
  bool Send(const std::string& line) {
    const std::string data = line + "\n";
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // One line without its newline; false at end or error.
  bool ReadLine(std::string* line, bool forever = false) {
    if (forever) {
      timeval none{0, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    }
    for (;;) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        *line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return true;
      }
      char chunk[65536];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

// One answer: a JSON line, or the lines of a text one (help, format=csv)
// up to the empty line that ends it (then with a newline after each line).
int Ask(Connection& c, const std::string& request, std::string* answer) {
  if (!c.Send(request) || !c.ReadLine(answer)) {
    std::fprintf(stderr, "sippacer-ctl: no answer from the daemon\n");
    return 2;
  }
  if (!absl::StartsWith(*answer, "{") && !answer->empty()) {
    std::string line;
    while (c.ReadLine(&line) && !line.empty()) absl::StrAppend(answer, "\n", line);
    answer->push_back('\n');
  }
  return 0;
}

int Watch(const std::string& socket, absl::Duration interval, int limit, int count, bool color) {
  const bool tty = ::isatty(STDOUT_FILENO);
  sippacer::proxy::TableStyle style{color};
  for (int frame = 0; count <= 0 || frame < count; ++frame) {
    if (frame > 0) std::this_thread::sleep_for(absl::ToChronoNanoseconds(interval));
    Connection c;
    std::string error, info_line, numbers_line;
    if (!c.Open(socket, &error)) return Usage(error);
    if (Ask(c, "show info", &info_line) != 0) return 2;
    if (Ask(c, absl::StrCat("show numbers sort=603 limit=", limit), &numbers_line) != 0) return 2;
    auto info = sippacer::proxy::ParseJson(info_line);
    auto numbers = sippacer::proxy::ParseJson(numbers_line);
    if (!info.ok() || !numbers.ok()) return Usage("the daemon's answer is not JSON");
    auto field = [&](absl::string_view k) {
      const JsonValue* v = info->Get(k);
      return v ? v->ToText() : "?";
    };
    std::string out = tty ? "\033[H\033[2J" : "";
    absl::StrAppend(&out, "sippacer ", field("version"), "  ",
                    absl::FormatTime("%H:%M:%S", absl::Now(), absl::LocalTimeZone()), "  up ", field("uptime_s"),
                    "s  calls ", field("calls_active"), "  invites ", field("invites_total"), "  paced ",
                    field("paced_total"), "  numbers ", field("numbers_tracked"), " (throttled ",
                    field("numbers_throttled"), ", quarantined ", field("numbers_quarantined"), ", probation ",
                    field("numbers_probation"), ")\n\n");
    const JsonValue* rows = numbers->Get("numbers");
    absl::StrAppend(&out, rows ? sippacer::proxy::RenderNumbersTable(*rows, style) : "no numbers\n");
    // Paced numbers come first: if some are still left out, the limit is too low to show them all.
    auto info_count = [&](absl::string_view k) {
      const JsonValue* v = info->Get(k);
      return v ? static_cast<int64_t>(v->number) : 0;
    };
    const int64_t paced =
        info_count("numbers_throttled") + info_count("numbers_quarantined") + info_count("numbers_probation");
    int64_t shown = 0;
    for (size_t i = 0; rows != nullptr && i < rows->items.size(); ++i) {
      const JsonValue* state = rows->items[i].Get("state");
      if (state != nullptr && state->text != "healthy") ++shown;
    }
    if (paced > shown) absl::StrAppend(&out, "... and ", paced - shown, " more paced numbers (--limit=", limit, ")\n");
    if (!tty) absl::StrAppend(&out, "\n");
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket = "/run/sippacer/sippacer.sock";
  bool json = false;
  absl::Duration interval = absl::Seconds(1);
  int limit = 20, count = 0;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--socket="))
      socket = std::string(a);
    else if (a == "--json")
      json = true;
    else if (absl::ConsumePrefix(&a, "--interval=")) {
      if (!absl::ParseDuration(a, &interval) || interval <= absl::ZeroDuration())
        return Usage("--interval takes a duration like 1s");
    } else if (absl::ConsumePrefix(&a, "--limit=")) {
      if (!absl::SimpleAtoi(a, &limit) || limit < 1) return Usage("--limit takes a positive number");
    } else if (absl::ConsumePrefix(&a, "--count=")) {
      if (!absl::SimpleAtoi(a, &count) || count < 1) return Usage("--count takes a positive number");
    } else if (a == "--help" || a == "-h" || a == "-help") {
      return Help();
    } else if (a == "--version" || a == "-version") {
      std::printf("sippacer-ctl %s\n", SIPPACER_VERSION);
      return 0;
    } else if (absl::StartsWith(a, "--")) {
      return Usage(absl::StrCat("unknown option ", a));
    } else {
      words.emplace_back(a);
    }
  }
  if (words.empty()) return Usage("no request given");
  const bool color = ::isatty(STDOUT_FILENO) && ::getenv("NO_COLOR") == nullptr;
  if (words[0] == "watch") return Watch(socket, interval, limit, count, color);

  if (words[0] == "prompt") return Usage("prompt is for a person on the socket: socat readline UNIX-CONNECT:PATH");
  Connection c;
  std::string error, line;
  if (!c.Open(socket, &error)) return Usage(error);
  const std::string request = absl::StrJoin(words, " ");
  if (words[0] == "quit") return c.Send(request) ? 0 : 2;  // the daemon closes; nothing to print
  if (Ask(c, request, &line) != 0) return 2;
  if (!absl::StartsWith(line, "{")) {  // help, format=csv: text for a person or a script as it is
    std::fputs(line.c_str(), stdout);
    return 0;
  }
  if (words[0] == "subscribe") {
    while (c.ReadLine(&line, /*forever=*/true)) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
    return 0;
  }
  if (json) {
    std::printf("%s\n", line.c_str());
    return absl::StartsWith(line, "{\"error\"") ? 1 : 0;
  }
  auto answer = sippacer::proxy::ParseJson(line);
  if (!answer.ok()) return Usage(answer.status().message());
  if (const JsonValue* e = answer->Get("error")) {
    std::fprintf(stderr, "sippacer-ctl: %s\n", e->text.c_str());
    return 1;
  }
  std::fputs(sippacer::proxy::RenderForPerson(*answer, {color}).c_str(), stdout);
  return 0;
}
