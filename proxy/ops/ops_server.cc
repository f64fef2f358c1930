#include "proxy/ops/ops_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <fstream>
#include <set>
#include <vector>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "metrics/e164.h"
#include "metrics/json_writer.h"
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
constexpr auto kPromptIdleTimeout = std::chrono::minutes(10);  // a person typing
// At Stop, how long all connections together get to take what is queued for them.
constexpr absl::Duration kStopFlush = absl::Seconds(1);

class Session;

// Who is on the other end of a stats-socket connection (SO_PEERCRED):
// "uid=1000 pid=4242 (sippacer-ctl)", or "socket" if the kernel does not say.
std::string PeerOf(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred || cred.pid <= 0) {
    return "socket";
  }
  std::string who = absl::StrCat("uid=", cred.uid, " pid=", cred.pid);
  std::ifstream comm(absl::StrCat("/proc/", cred.pid, "/comm"));
  std::string name;
  if (std::getline(comm, name) && !name.empty()) absl::StrAppend(&who, " (", name, ")");
  return who;
}

}  // namespace

struct OpsServer::Impl : public pacing::EventSink, public std::enable_shared_from_this<OpsServer::Impl> {
  Impl(asio::io_context& io_context, OpsOptions o, OpsContext c)
      : io(io_context), options(std::move(o)), context(c), acceptor(io_context), accept_retry(io_context) {}

  void Accept();
  void OnStateChange(const pacing::StateChange& change) override;
  void OnWatchChange(const pacing::WatchChange& change) override;
  void OnRouteChange(const pacing::RouteChange& change) override;
  // Any thread: the log line, then every subscriber (on the ops thread).
  // An empty `line` is logged only.
  void Publish(std::string line, std::string log);
  // Says in the log which live settings (restored from --state_file) rule
  // instead of the flags.
  void LogPolicyAtStart();
  void Stop();
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
    v.fleet = context.fleet;
    return v;
  }

  asio::io_context& io;
  OpsOptions options;
  OpsContext context;
  local::acceptor acceptor;
  asio::steady_timer accept_retry;  // after a failed accept (no descriptor left)
  std::set<std::shared_ptr<Session>> subscribers;
  std::set<Session*> sessions;  // every open connection (ops thread)
  std::unique_ptr<MetricsHttp> metrics_http;
  // The socket file we bound, so Stop removes ours and never another's.
  bool bound = false;
  dev_t socket_dev = 0;
  ino_t socket_ino = 0;
  bool stopped = false;
};

namespace {

// One stats-socket connection. Requests are answered in order: the next
// line is read once the answer to this one is queued (a SIP-thread command
// answers later). Answers are written without blocking, what the client has
// not taken yet stays queued (bounded).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(local::socket socket, std::shared_ptr<OpsServer::Impl> server)
      : socket_(std::move(socket)), server_(std::move(server)), buffer_(kMaxLine), idle_(socket_.get_executor()) {}
  ~Session() { server_->sessions.erase(this); }

  void Start() {
    server_->sessions.insert(this);
    peer_ = PeerOf(socket_.native_handle());
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    ArmIdle();
    ReadLine();
  }

  bool subscribed() const { return subscribed_; }

  // One answer or event line.
  void Send(std::string line) {
    line.push_back('\n');
    SendRaw(std::move(line));
  }

  void Close() {
    if (closed_) return;
    const auto self = shared_from_this();  // alive to the end, whoever held it last
    closed_ = true;
    boost::system::error_code ec;
    idle_.cancel();
    socket_.close(ec);
    server_->subscribers.erase(self);
  }

  // The server stops: `last` (if not empty) after what is queued, all of it
  // written until `deadline` at most, then the connection is closed.
  void StopNow(const std::string& last, absl::Time deadline) {
    if (closed_) return;
    if (!last.empty() && !close_after_write_) out_.push_back(last + "\n");
    const int fd = socket_.native_handle();
    while (!out_.empty()) {
      const std::string& front = out_.front();
      const ssize_t n = ::send(fd, front.data() + out_offset_, front.size() - out_offset_, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        out_offset_ += static_cast<size_t>(n);
        if (out_offset_ == front.size()) {
          out_.pop_front();
          out_offset_ = 0;
        }
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
        if (left_ms <= 0) break;
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, static_cast<int>(left_ms));
        continue;
      }
      break;  // the client went away
    }
    Close();
  }

 private:
  void ArmIdle() {
    if (subscribed_ || closed_) return;
    idle_.expires_after(prompt_ ? std::chrono::duration_cast<std::chrono::seconds>(kPromptIdleTimeout) : kIdleTimeout);
    idle_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->Close();
    });
  }

  void ReadLine() {
    if (closed_ || close_after_write_) return;
    asio::async_read_until(
        socket_, buffer_, '\n',
        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) { self->OnLine(ec, n); });
  }

  void OnLine(const boost::system::error_code& ec, size_t n) {
    if (closed_) return;
    if (ec == asio::error::not_found) {  // longer than kMaxLine
      Send(ErrorJson("line too long"));
      CloseAfterWrite();
      return;
    }
    if (ec == asio::error::eof) {
      // The client is done sending (echo ... | socat): answer what it sent,
      // a last line without its newline too, then close.
      eof_ = true;
      std::string rest(asio::buffers_begin(buffer_.data()), asio::buffers_end(buffer_.data()));
      buffer_.consume(buffer_.size());
      if (!absl::StripAsciiWhitespace(rest).empty()) {
        Handle(std::move(rest));
      } else {
        CloseAfterWrite();
      }
      return;
    }
    if (ec) {
      Close();
      return;
    }
    std::string line(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + n);
    buffer_.consume(n);
    Handle(std::move(line));
  }

  void Handle(std::string line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    ArmIdle();
    if (prompt_ && absl::StripAsciiWhitespace(line).empty()) {  // Enter alone: the prompt again
      Done();
      return;
    }
    CommandContext ctx;
    ctx.view = server_->View();
    ctx.pacer = server_->context.pacer;
    ctx.sip_queue = server_->context.sip_queue;
    ctx.fleet = server_->context.fleet;
    asio::io_context& io = server_->io;
    ctx.post_to_ops = [&io](std::function<void()> fn) { asio::post(io, std::move(fn)); };
    ctx.peer = peer_;
    // Weak: a command still queued for the SIP thread must not keep the server alive.
    std::weak_ptr<OpsServer::Impl> server = server_;
    ctx.publish = [server](std::string event, std::string log) {
      if (auto s = server.lock()) s->Publish(std::move(event), std::move(log));
    };
    std::weak_ptr<Session> weak = shared_from_this();
    awaiting_ = false;
    const CommandKind kind = RunCommand(line, ctx, absl::Now(), [weak](std::string answer) {
      auto self = weak.lock();
      if (!self) return;
      self->Send(std::move(answer));
      if (self->awaiting_) {
        self->awaiting_ = false;
        self->Done();
      }
    });
    switch (kind) {
      case CommandKind::kPending:
        awaiting_ = true;  // the answer continues
        return;
      case CommandKind::kQuit:
        CloseAfterWrite();
        return;
      case CommandKind::kPrompt:
        prompt_ = !prompt_;
        if (!prompt_) Send("{\"prompt\":false}");
        ArmIdle();
        break;
      case CommandKind::kSubscribe:
        subscribed_ = true;
        idle_.cancel();
        server_->subscribers.insert(shared_from_this());
        break;
      case CommandKind::kAnswered:
        break;
    }
    Done();
  }

  // The request is answered: the prompt (interactive), then the next line.
  void Done() {
    if (closed_) return;
    if (prompt_) SendRaw(ends_blank_ ? "> " : "\n> ");
    if (eof_) {
      CloseAfterWrite();
      return;
    }
    ReadLine();
  }

  void CloseAfterWrite() {
    close_after_write_ = true;
    if (out_.empty()) Close();
  }

  void SendRaw(std::string data) {
    if (closed_ || close_after_write_ || data.empty()) return;
    pending_bytes_ += data.size();
    if (pending_bytes_ > kMaxPendingBytes) {
      Close();  // a client that does not read cannot make us hold its answers
      return;
    }
    ends_blank_ = absl::EndsWith(data, "\n\n");
    out_.push_back(std::move(data));
    if (!writing_) Flush();
  }

  // Writes what the socket takes now; waits for room for the rest.
  void Flush() {
    while (!out_.empty()) {
      const std::string& front = out_.front();
      boost::system::error_code ec;
      const size_t n = socket_.write_some(asio::buffer(front.data() + out_offset_, front.size() - out_offset_), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        writing_ = true;
        socket_.async_wait(local::socket::wait_write, [self = shared_from_this()](const boost::system::error_code& e) {
          self->writing_ = false;
          if (self->closed_) return;
          if (e) {
            self->Close();
            return;
          }
          self->Flush();
        });
        return;
      }
      if (ec) {
        Close();
        return;
      }
      out_offset_ += n;
      pending_bytes_ -= n;
      if (out_offset_ == front.size()) {
        out_.pop_front();
        out_offset_ = 0;
      }
    }
    if (close_after_write_) Close();
  }

  local::socket socket_;
  std::shared_ptr<OpsServer::Impl> server_;
  asio::streambuf buffer_;
  asio::steady_timer idle_;
  std::string peer_ = "socket";
  std::deque<std::string> out_;
  size_t out_offset_ = 0;  // bytes of out_.front() already written
  size_t pending_bytes_ = 0;
  bool writing_ = false;   // waiting for the socket to take more
  bool awaiting_ = false;  // a SIP-thread command's answer is due
  bool subscribed_ = false;
  bool prompt_ = false;
  bool eof_ = false;
  bool ends_blank_ = false;  // what was sent last ends with an empty line
  bool closed_ = false;
  bool close_after_write_ = false;
};

// True when a live daemon answers on `path` (then we must not steal it).
bool SocketInUse(const std::string& path) {
  asio::io_context probe;
  local::socket s(probe);
  boost::system::error_code ec;
  s.connect(local::endpoint(path), ec);
  return !ec;
}

std::string StoppingEvent(absl::Time at) {
  metrics::JsonWriter w;
  w.BeginObject().Key("event").String("stopping").Key("at").String(pacing::EventTime(at)).EndObject();
  return w.Take();
}

}  // namespace

void OpsServer::Impl::Accept() {
  acceptor.async_accept([self = shared_from_this()](const boost::system::error_code& ec, local::socket socket) {
    if (ec) {
      // Out of descriptors, the client stays queued: try again in a moment,
      // not at once (that would spin the ops thread).
      if (ec != asio::error::operation_aborted && !self->stopped) {
        self->accept_retry.expires_after(std::chrono::milliseconds(100));
        self->accept_retry.async_wait([self](const boost::system::error_code& e) {
          if (!e && !self->stopped) self->Accept();
        });
      }
      return;
    }
    if (self->stopped) return;
    std::make_shared<Session>(std::move(socket), self)->Start();
    self->Accept();
  });
}

void OpsServer::Impl::OnStateChange(const pacing::StateChange& change) {
  // SIP thread: format here (state changes are rare); the log write and the
  // subscribers are served on the ops thread, so a slow stderr never blocks SIP.
  Publish(RenderEvent(change),
          absl::StrCat(metrics::FormatE164(change.number), " ", pacing::StateName(change.from), " -> ",
                       pacing::StateName(change.to), ": ", change.reason,
                       change.fleet_node.empty() ? "" : absl::StrCat(" (node ", change.fleet_node, ")")));
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
    if (line.empty()) return;
    for (const auto& s : std::set<std::shared_ptr<Session>>(self->subscribers)) s->Send(line);
  });
}

void OpsServer::Impl::LogPolicyAtStart() {
  if (context.pacer == nullptr) return;
  const std::vector<pacing::PolicySetting> live = pacing::PolicySettings(context.pacer->policy());
  const std::vector<pacing::PolicySetting> flags = pacing::PolicySettings(context.pacer->flag_policy());
  std::string differ;
  for (size_t i = 0; i < live.size() && i < flags.size(); ++i) {
    if (live[i].text == flags[i].text) continue;
    absl::StrAppend(&differ, differ.empty() ? "" : ", ", live[i].key, "=", live[i].text, " (--", flags[i].key, "=",
                    flags[i].text, ")");
  }
  if (differ.empty()) return;
  const pacing::PolicyOrigin origin = context.pacer->policy_origin();
  LogLine(
      "WARN", "pacing",
      absl::StrCat(
          "policy: settings made live (kept in the state file, or in the fleet's Redis) override the flags: ", differ,
          origin.at == absl::InfinitePast() ? "" : absl::StrCat("; last set ", IsoTime(origin.at), " by ", origin.by),
          ". `set policy KEY=VALUE` with the flag's value goes back to it"));
}

void OpsServer::Impl::Stop() {
  if (stopped) return;
  stopped = true;
  boost::system::error_code ec;
  accept_retry.cancel();
  acceptor.close(ec);
  const std::string& path = options.stats_socket;
  struct stat st {};
  if (bound && ::lstat(path.c_str(), &st) == 0 && st.st_dev == socket_dev && st.st_ino == socket_ino) {
    ::unlink(path.c_str());
  }
  const std::string last = StoppingEvent(absl::Now());
  const absl::Time deadline = absl::Now() + kStopFlush;
  std::vector<std::shared_ptr<Session>> open;
  for (Session* s : sessions) {
    if (auto alive = s->weak_from_this().lock()) open.push_back(std::move(alive));
  }
  for (const auto& s : open) s->StopNow(s->subscribed() ? last : "", deadline);
  subscribers.clear();
}

OpsServer::OpsServer(asio::io_context& io, OpsOptions options, OpsContext context)
    : impl_(std::make_shared<Impl>(io, std::move(options), context)) {}

OpsServer::~OpsServer() {
  // Also breaks the cycle of a subscriber and the server holding each other
  // (the session reads from it, it streams to the session).
  Stop();
}

void OpsServer::Stop() { impl_->Stop(); }

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
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    impl_->bound = true;
    impl_->socket_dev = st.st_dev;
    impl_->socket_ino = st.st_ino;
  }
  ::chmod(path.c_str(), 0660);
  impl_->Accept();
  // Runs when the ops thread starts serving, after --state_file was loaded.
  asio::post(impl_->io, [impl = impl_] { impl->LogPolicyAtStart(); });
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

void OpsServer::Publish(std::string event, std::string log) { impl_->Publish(std::move(event), std::move(log)); }

}  // namespace sippacer::proxy
