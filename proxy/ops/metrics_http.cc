#include "proxy/ops/metrics_http.h"

#include <memory>

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "proxy/config.h"

namespace sippacer::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr size_t kMaxRequest = 8192;

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
      Reply("200 OK", "text/plain; version=0.0.4; charset=utf-8", RenderPrometheus(view_, absl::Now()));
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
