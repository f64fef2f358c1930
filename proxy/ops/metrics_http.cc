#include "proxy/ops/metrics_http.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "proxy/config.h"

namespace sippacer::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr size_t kMaxRequest = 8192;

// A small /proc file, whole ("" when it cannot be read).
std::string ReadProcFile(const char* path) {
  std::string out;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

// The kernel's boot time in Unix seconds (`btime` of /proc/stat), the base
// of the start time in /proc/self/stat; 0 if unknown.
int64_t BootTime() {
  for (absl::string_view line : absl::StrSplit(ReadProcFile("/proc/stat"), '\n')) {
    int64_t t = 0;
    if (absl::ConsumePrefix(&line, "btime ") && absl::SimpleAtoi(line, &t)) return t;
  }
  return 0;
}

// Entries of /proc/self/fd but the one listing them; -1 when the directory
// cannot be opened (no descriptor left).
int64_t CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  const std::string own = std::to_string(dirfd(dir));
  int64_t n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.' && own != e->d_name) ++n;
  }
  closedir(dir);
  return n;
}

class HttpExchange : public std::enable_shared_from_this<HttpExchange> {
 public:
  HttpExchange(tcp::socket s, const OpsView& v)
      : socket_(std::move(s)), view_(v), buffer_(kMaxRequest), timer_(socket_.get_executor()) {}

  void Start() {
    timer_.expires_after(std::chrono::seconds(10));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) {
        boost::system::error_code ignored;
        self->socket_.close(ignored);
      }
    });
    asio::async_read_until(
        socket_, buffer_, "\r\n\r\n",
        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) { self->OnRequest(ec, n); });
  }

 private:
  void OnRequest(const boost::system::error_code& ec, size_t n) {
    if (ec) {
      if (ec == asio::error::not_found)
        Reply("431 Request Header Fields Too Large", "text/plain", "request too large\n");
      return;
    }
    const std::string head(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + n);
    if (absl::StartsWith(head, "GET /metrics ") || absl::StartsWith(head, "GET /metrics?")) {
      Reply("200 OK", "text/plain; version=0.0.4; charset=utf-8",
            RenderPrometheus(view_, absl::Now(), ReadProcessStats()));
    } else if (absl::StartsWith(head, "GET ")) {
      Reply("404 Not Found", "text/plain", "try /metrics\n");
    } else {
      Reply("405 Method Not Allowed", "text/plain", "GET only\n");
    }
  }

  void Reply(absl::string_view status, absl::string_view type, const std::string& body) {
    out_ = absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", type, "\r\nContent-Length: ", body.size(),
                        "\r\nConnection: close\r\n\r\n", body);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const boost::system::error_code&, size_t) {
                        boost::system::error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
                        self->socket_.close(ignored);
                        self->timer_.cancel();
                      });
  }

  tcp::socket socket_;
  OpsView view_;
  asio::streambuf buffer_;
  asio::steady_timer timer_;
  std::string out_;
};

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats p;
  // The command name (field 2) may hold spaces and parentheses: the fields
  // of proc(5) are counted from after its last ')', where field 3 begins.
  const std::string stat = ReadProcFile("/proc/self/stat");
  const size_t name_end = stat.rfind(')');
  if (name_end == std::string::npos) return p;
  const std::vector<absl::string_view> f =
      absl::StrSplit(absl::string_view(stat).substr(name_end + 1), ' ', absl::SkipEmpty());
  auto field = [&f](size_t n, uint64_t* out) { return n - 3 < f.size() && absl::SimpleAtoi(f[n - 3], out); };
  uint64_t utime = 0, stime = 0, start_ticks = 0, vsize = 0, rss_pages = 0;
  if (!field(14, &utime) || !field(15, &stime) || !field(22, &start_ticks) || !field(23, &vsize) ||
      !field(24, &rss_pages)) {
    return p;
  }
  static const long kTicks = sysconf(_SC_CLK_TCK);
  static const long kPage = sysconf(_SC_PAGESIZE);
  static const int64_t kBoot = BootTime();
  if (kTicks <= 0 || kPage <= 0) return p;
  p.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(kTicks);
  p.virtual_bytes = vsize;
  p.resident_bytes = rss_pages * static_cast<uint64_t>(kPage);
  if (kBoot > 0) p.start_time_s = static_cast<double>(kBoot) + static_cast<double>(start_ticks) / kTicks;
  p.open_fds = CountOpenFds();
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) p.max_fds = files.rlim_cur;
  p.ok = true;
  return p;
}

MetricsHttp::MetricsHttp(asio::io_context& io, OpsView view) : io_(io), view_(view), acceptor_(io), retry_(io) {}

absl::Status MetricsHttp::Listen(const std::string& host_port) {
  auto hp = ParseHostPort(host_port, true);
  if (!hp.ok()) return absl::InvalidArgumentError(absl::StrCat("--metrics_listen: ", hp.status().message()));
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(hp->host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("--metrics_listen: '", hp->host, "' is not an IP address"));
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(hp->port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(64, ec);
  if (ec)
    return absl::UnavailableError(absl::StrCat("--metrics_listen: cannot listen on ", host_port, ": ", ec.message()));
  Accept();
  return absl::OkStatus();
}

void MetricsHttp::Accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec) {
      // Out of descriptors, the connection stays queued: try again in a
      // moment, not at once (that would spin the ops thread).
      if (ec != asio::error::operation_aborted) {
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([this](const boost::system::error_code& e) {
          if (!e) Accept();
        });
      }
      return;
    }
    std::make_shared<HttpExchange>(std::move(socket), view_)->Start();
    Accept();
  });
}

}  // namespace sippacer::proxy
