#include "proxy/ops/ops_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <set>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "metrics/e164.h"
#include "pacing/event_json.h"
#include "proxy/log.h"
#include "proxy/ops/command.h"
#include "proxy/ops/metrics_http.h"
#include "proxy/ops/render.h"

namespace sippacer::proxy {
namespace {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

constexpr size_t kMaxLine = 4096;
constexpr size_t kMaxPendingBytes = 4 << 20;  // per client; past that it is closed
constexpr auto kIdleTimeout = std::chrono::seconds(60);

class Session;

}  // namespace

struct OpsServer::Impl : public pacing::EventSink, public std::enable_shared_from_this<OpsServer::Impl> {
  Impl(asio::io_context& io_context, OpsOptions o, OpsContext c)
      : io(io_context), options(std::move(o)), context(c), acceptor(io_context), accept_retry(io_context) {}

  void Accept();
  void OnStateChange(const pacing::StateChange& change) override;
  void OnWatchChange(const pacing::WatchChange& change) override;
  void OnRouteChange(const pacing::RouteChange& change) override;
  // Ops thread: the log line, then every subscriber.
  void Publish(std::string line, std::string log);
  // What the stats socket and /metrics render from.
  OpsView View() const {
    OpsView v;
    v.store = context.store;
    v.pacer = context.pacer;
    v.relay = context.relay;
    v.cdr = context.cdr;
    v.started = context.started;
    v.default_country_code = options.default_country_code;
    v.trunks = context.trunks;
    return v;
  }

  asio::io_context& io;
  OpsOptions options;
  OpsContext context;
  local::acceptor acceptor;
  asio::steady_timer accept_retry;  // after a failed accept (no descriptor left)
  std::set<std::shared_ptr<Session>> subscribers;
  std::unique_ptr<MetricsHttp> metrics_http;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(local::socket socket, std::shared_ptr<OpsServer::Impl> server)
      : socket_(std::move(socket)), server_(std::move(server)), buffer_(kMaxLine), idle_(socket_.get_executor()) {}

  void Start() {
    ArmIdle();
    ReadLine();
  }

  void Send(std::string line) {
    if (closed_) return;
    pending_bytes_ += line.size() + 1;
    if (pending_bytes_ > kMaxPendingBytes) {
      Close();  // a client that does not read cannot make us hold its answers
      return;
    }
    out_.push_back(std::move(line) + "\n");
    if (out_.size() == 1) WriteNext();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    idle_.cancel();
    socket_.close(ec);
    server_->subscribers.erase(shared_from_this());
  }

 private:
  void ArmIdle() {
    if (subscribed_) return;
    idle_.expires_after(kIdleTimeout);
    idle_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->Close();
    });
  }

  void ReadLine() {
    asio::async_read_until(
        socket_, buffer_, '\n',
        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) { self->OnLine(ec, n); });
  }

  void OnLine(const boost::system::error_code& ec, size_t n) {
    if (closed_) return;
    if (ec == asio::error::not_found) {  // longer than kMaxLine
      Send(ErrorJson("line too long"));
      closed_after_write_ = true;
      return;
    }
    if (ec) {
      Close();
      return;
    }
    std::string line(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + n);
    buffer_.consume(n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    ArmIdle();
    CommandContext ctx;
    ctx.view = server_->View();
    ctx.pacer = server_->context.pacer;
    ctx.sip_queue = server_->context.sip_queue;
    asio::io_context& io = server_->io;
    ctx.post_to_ops = [&io](std::function<void()> fn) { asio::post(io, std::move(fn)); };
    std::weak_ptr<Session> weak = shared_from_this();
    const CommandKind kind = RunCommand(line, ctx, absl::Now(), [weak](std::string answer) {
      if (auto self = weak.lock()) self->Send(std::move(answer));
    });
    if (kind == CommandKind::kSubscribe) {
      subscribed_ = true;
      idle_.cancel();
      server_->subscribers.insert(shared_from_this());
    }
    ReadLine();
  }

  void WriteNext() {
    asio::async_write(socket_, asio::buffer(out_.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        if (ec) {
                          self->Close();
                          return;
                        }
                        self->pending_bytes_ -= self->out_.front().size();
                        self->out_.pop_front();
                        if (!self->out_.empty())
                          self->WriteNext();
                        else if (self->closed_after_write_)
                          self->Close();
                      });
  }

  local::socket socket_;
  std::shared_ptr<OpsServer::Impl> server_;
  asio::streambuf buffer_;
  asio::steady_timer idle_;
  std::deque<std::string> out_;
  size_t pending_bytes_ = 0;
  bool subscribed_ = false;
  bool closed_ = false;
  bool closed_after_write_ = false;
};

// True when a live daemon answers on `path` (then we must not steal it).
bool SocketInUse(const std::string& path) {
  asio::io_context probe;
  local::socket s(probe);
  boost::system::error_code ec;
  s.connect(local::endpoint(path), ec);
  return !ec;
}

}  // namespace

void OpsServer::Impl::Accept() {
  acceptor.async_accept([self = shared_from_this()](const boost::system::error_code& ec, local::socket socket) {
    if (ec) {
      // Out of descriptors, the client stays queued: try again in a moment,
      // not at once (that would spin the ops thread).
      if (ec != asio::error::operation_aborted) {
        self->accept_retry.expires_after(std::chrono::milliseconds(100));
        self->accept_retry.async_wait([self](const boost::system::error_code& e) {
          if (!e) self->Accept();
        });
      }
      return;
    }
    std::make_shared<Session>(std::move(socket), self)->Start();
    self->Accept();
  });
}

void OpsServer::Impl::OnStateChange(const pacing::StateChange& change) {
  // SIP thread: format here (state changes are rare); the log write and the
  // subscribers are served on the ops thread, so a slow stderr never blocks SIP.
  std::string line = RenderEvent(change);
  std::string log = absl::StrCat(metrics::FormatE164(change.number), " ", pacing::StateName(change.from), " -> ",
                                 pacing::StateName(change.to), ": ", change.reason);
  asio::post(io, [self = shared_from_this(), line = std::move(line), log = std::move(log)] {
    LogLine("INFO", "pacing", log);
    for (const auto& s : std::set<std::shared_ptr<Session>>(self->subscribers)) s->Send(line);
  });
}

void OpsServer::Impl::OnWatchChange(const pacing::WatchChange& change) {
  Publish(pacing::WatchEventJson(change), absl::StrCat(metrics::FormatE164(change.number),
                                                       change.watched ? " watch: " : " watch ended: ", change.reason));
}

void OpsServer::Impl::OnRouteChange(const pacing::RouteChange& change) {
  Publish(pacing::RouteEventJson(change),
          absl::StrCat(change.route, change.elevated ? " elevated: " : " normal again: ", change.reason));
}

void OpsServer::Impl::Publish(std::string line, std::string log) {
  asio::post(io, [self = shared_from_this(), line = std::move(line), log = std::move(log)] {
    LogLine("INFO", "pacing", log);
    for (const auto& s : std::set<std::shared_ptr<Session>>(self->subscribers)) s->Send(line);
  });
}

OpsServer::OpsServer(asio::io_context& io, OpsOptions options, OpsContext context)
    : impl_(std::make_shared<Impl>(io, std::move(options), context)) {}

OpsServer::~OpsServer() {
  // A subscriber and the server hold each other (the session reads from it,
  // it streams to the session): break the cycle, or both outlive us.
  impl_->subscribers.clear();
}

absl::Status OpsServer::Start() {
  const std::string& path = impl_->options.stats_socket;
  if (SocketInUse(path)) {
    return absl::AlreadyExistsError(absl::StrCat("--stats_socket: another process answers on ", path));
  }
  ::unlink(path.c_str());  // a stale socket file from a previous run
  boost::system::error_code ec;
  impl_->acceptor.open(local(), ec);
  if (!ec) impl_->acceptor.bind(local::endpoint(path), ec);
  if (!ec) impl_->acceptor.listen(64, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("--stats_socket: cannot listen on ", path, ": ", ec.message()));
  ::chmod(path.c_str(), 0660);
  impl_->Accept();
  if (!impl_->options.metrics_listen.empty()) {
    impl_->metrics_http = std::make_unique<MetricsHttp>(impl_->io, impl_->View());
    if (auto s = impl_->metrics_http->Listen(impl_->options.metrics_listen); !s.ok()) return s;
  }
  LogLine(
      "INFO", "ops",
      absl::StrCat(
          "stats socket ", path,
          impl_->options.metrics_listen.empty() ? "" : absl::StrCat("; /metrics on ", impl_->options.metrics_listen)));
  return absl::OkStatus();
}

pacing::EventSink* OpsServer::event_sink() { return impl_.get(); }

}  // namespace sippacer::proxy
