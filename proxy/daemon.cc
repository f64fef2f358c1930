#include "proxy/daemon.h"

#include <netdb.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "metrics/store.h"
#include "pacing/pacer.h"
#include "proxy/cdr/cdr_writer.h"
#include "proxy/fleet/fleet_sync.h"
#include "proxy/log.h"
#include "proxy/ops/ops_server.h"
#include "proxy/state_file.h"
#include "proxy/relay_counters.h"
#include "proxy/sip/b2bua.h"
#include "proxy/sip/sip_thread_queue_impl.h"
#include "proxy/tcp/tcp_guard.h"

namespace sippacer::proxy {
namespace {

// How long SIGTERM waits for INVITEs still waiting on the trunk.
constexpr absl::Duration kDrainDeadline = absl::Seconds(8);
// How long SIGTERM then waits for the CANCELs and BYEs it sent to be answered.
constexpr absl::Duration kHangUpDeadline = absl::Seconds(4);

struct SipLoop {
  su_root_t* root = nullptr;
  B2bua* b2bua = nullptr;
  pacing::Pacer* pacer = nullptr;
  const metrics::Store* store = nullptr;
  uint64_t events_dropped = 0;  // as of the last tick
  su_timer_t* tick = nullptr;
  su_timer_t* reap = nullptr;
  su_timer_t* drain = nullptr;
  absl::Time drain_deadline = absl::InfiniteFuture();
  absl::Time hangup_deadline = absl::InfiniteFuture();
};

void OnTick(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
  auto* loop = reinterpret_cast<SipLoop*>(arg);
  loop->pacer->Tick(absl::Now());
  if (const uint64_t dropped = loop->store->events_dropped(); dropped != loop->events_dropped) {
    loop->events_dropped = dropped;
    LogRateLimited("WARN", "pacing",
                   "a number made more calls than its log holds inside the history: its oldest were dropped, so its "
                   "longest windows undercount (window_events_dropped)");
  }
}

// Ended calls are freed in small batches, ten times a second: per call it
// woke the loop thousands of times a second, once a second it stalled it.
void OnReap(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) { reinterpret_cast<SipLoop*>(arg)->b2bua->Reap(); }

// Stopping: first the INVITEs in flight get their answers (bounded); then
// what is left is cancelled or hung up, and the loop runs on until those
// CANCELs and BYEs are answered (bounded too), so sofia retransmits them.
void OnDrainCheck(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
  auto* loop = reinterpret_cast<SipLoop*>(arg);
  const absl::Time now = absl::Now();
  if (loop->hangup_deadline == absl::InfiniteFuture()) {
    const size_t pending = loop->b2bua->calls_in_setup();
    if (pending > 0 && now < loop->drain_deadline) return;
    if (pending > 0)
      LogLine("WARN", "relay", absl::StrCat("stopping with ", pending, " INVITEs unanswered: cancelling"));
    loop->b2bua->HangUpAll();
    loop->hangup_deadline = now + kHangUpDeadline;
  }
  const size_t unanswered = loop->b2bua->shutdown_requests_pending();
  if (unanswered == 0 || now >= loop->hangup_deadline) {
    if (unanswered > 0) {
      LogLine("WARN", "relay", absl::StrCat("stopping with ", unanswered, " CANCELs or BYEs unanswered"));
    }
    su_root_break(loop->root);
  }
}

// Sofia's own diagnostics go through our log format, at warning level.
// A condition sofia reports per packet (a full fd table, a flood) must not
// become a log write per packet on the SIP thread: rate-limited per kind
// (its format string).
void SofiaLog(void*, char const* fmt, va_list ap) {
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  LogRateLimited("WARN", "sofia", buf, fmt);
}

// More descriptors than the usual 1,024: every TCP dialer or attacker takes
// one. The soft limit goes up to the hard limit the system allows.
void RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
    LogLine("INFO", "daemon", absl::StrCat("file descriptor limit raised to ", rl.rlim_cur));
  }
}

// Why an address cannot be bound, found by trying it ("Address already in
// use"): sofia's failed bind only says that it failed. Empty when the
// address binds now or is not numeric.
std::string BindProblem(const HostPort& address, bool udp_too) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  if (::getaddrinfo(address.host.c_str(), std::to_string(address.port).c_str(), &hints, &found) != 0) return "";
  std::string why;
  const int types[] = {SOCK_STREAM, SOCK_DGRAM};
  for (size_t i = 0; i < (udp_too ? 2u : 1u); ++i) {
    const int type = types[i];
    const int fd = ::socket(found->ai_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int one = 1;
    if (type == SOCK_STREAM) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0 && why.empty()) why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return why;
}

// The SIP transports' failure, with the reason the address cannot be had.
std::string TransportProblem(const Config& config, absl::string_view message) {
  std::string why;
  if (absl::StartsWith(message, "--listen:")) {
    why = BindProblem(config.listen, true);
  } else if (absl::StartsWith(message, "--trunk_listen:") && config.trunk_listen) {
    why = BindProblem(*config.trunk_listen, true);
  } else if (absl::StartsWith(message, "--tls_listen:")) {
    why = BindProblem(config.tls_listen ? *config.tls_listen : HostPort{config.listen.host, 5061}, false);
  }
  return why.empty() ? std::string(message) : absl::StrCat(message, ": ", why);
}

// A start that cannot go on: one line. 2 when it names a flag (a value, or
// what it names: an address in use, a file it cannot write), 1 otherwise.
int Refused(absl::string_view message) {
  LogRefusal(message);
  return absl::StartsWith(message, "--") ? 2 : 1;
}

// Hands pacing events to the ops server once it exists, and the changes
// of state this node made to the fleet.
class ForwardingSink : public pacing::EventSink {
 public:
  explicit ForwardingSink(OpsServer** ops) : ops_(ops) {}
  void set_fleet(fleet::FleetSync* fleet) { fleet_ = fleet; }
  void OnStateChange(const pacing::StateChange& change) override {
    if (fleet_ != nullptr) fleet_->OnLocalStateChange(change);
    if (*ops_ != nullptr) (*ops_)->event_sink()->OnStateChange(change);
  }
  void OnWatchChange(const pacing::WatchChange& change) override {
    if (*ops_ != nullptr) (*ops_)->event_sink()->OnWatchChange(change);
  }
  void OnRouteChange(const pacing::RouteChange& change) override {
    if (*ops_ != nullptr) (*ops_)->event_sink()->OnRouteChange(change);
  }

 private:
  OpsServer** ops_;
  fleet::FleetSync* fleet_ = nullptr;
};

}  // namespace

int RunDaemon(const Config& config) {
  // Signals are taken by the ops thread's signal_set only.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  RaiseFileLimit();
  su_init();
  su_log_redirect(nullptr, SofiaLog, nullptr);
  su_log_set_level(nullptr, 1);
  su_root_t* root = su_root_create(nullptr);
  if (root == nullptr) return Refused("cannot create the SIP event loop");

  auto store = std::make_unique<metrics::Store>(config.decision.StoreOptions());
  RelayCounters counters;
  EventfdSipThreadQueue sip_queue;
  if (auto s = sip_queue.Attach(root); !s.ok()) return Refused(s.message());

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::unique_ptr<CdrWriter> cdr;
  if (!config.cdr_file.empty() || !config.cdr_postgres.empty()) {
    auto started = CdrWriter::Start(CdrOptions{config.cdr_file, config.cdr_postgres});
    if (!started.ok()) return Refused(started.status().message());
    cdr = *std::move(started);
  }

  // The pacer needs the ops server's event sink, and the ops server reads
  // the pacer: build the server with a pacer slot filled right after.
  OpsContext ops_context;
  ops_context.store = store.get();
  ops_context.relay = &counters;
  ops_context.sip_queue = &sip_queue;
  ops_context.cdr = cdr.get();
  ops_context.started = absl::Now();
  OpsServer* ops_ptr = nullptr;
  // The fleet: its own queue to the SIP thread (one producer each).
  std::unique_ptr<EventfdSipThreadQueue> fleet_queue;
  std::unique_ptr<fleet::FleetSync> fleet;
  std::unique_ptr<pacing::Pacer> pacer;
  if (config.redis) {
    store->EnableFleet();
    fleet_queue = std::make_unique<EventfdSipThreadQueue>();
    if (auto s = fleet_queue->Attach(root); !s.ok()) return Refused(s.message());
  }
  fleet::FleetSync* fleet_ptr = nullptr;
  auto pacer_sink = std::make_unique<ForwardingSink>(&ops_ptr);
  pacer = std::make_unique<pacing::Pacer>(*store, config.policy, pacer_sink.get());
  if (config.redis) {
    fleet = std::make_unique<fleet::FleetSync>(
        fleet::FleetOptions{*config.redis, config.node_id, config.sync_interval, config.fleet_queue, SIPPACER_VERSION},
        *store, *pacer, *fleet_queue);
    fleet_ptr = fleet.get();
    pacer_sink->set_fleet(fleet_ptr);
  }
  ops_context.pacer = pacer.get();
  ops_context.fleet = fleet_ptr;
  // Built (not started) before the ops server, which reads its trunk counters.
  auto b2bua = std::make_unique<B2bua>(root, config, *store, *pacer, counters, cdr.get());
  ops_context.trunks = &b2bua->trunks();
  OpsServer ops(io, OpsOptions{config.stats_socket, config.metrics_listen, config.default_country_code}, ops_context);
  ops_ptr = &ops;
  if (fleet)
    fleet->set_publish([&ops](std::string event, std::string log) { ops.Publish(std::move(event), std::move(log)); });
  if (auto s = ops.Start(); !s.ok()) return Refused(s.message());

  if (!config.state_file.empty()) {
    auto restored = LoadState(config.state_file, *store, *pacer, absl::Now());
    if (!restored.ok()) return Refused(restored.status().message());
    LogLine("INFO", "daemon",
            absl::StrCat("restored ", restored->numbers, " numbers and ", restored->countries,
                         " country histories from ", config.state_file));
    for (const std::string& note : restored->policy_dropped) LogLine("INFO", "pacing", note);
  }
  // Saved from the ops thread through the lock-free readers, never on the SIP thread.
  boost::asio::steady_timer state_timer(io);
  std::function<void(const boost::system::error_code&)> save_state = [&](const boost::system::error_code& ec) {
    if (ec || config.state_file.empty()) return;
    if (auto s = SaveState(config.state_file, *store, *pacer, absl::Now()); !s.ok()) {
      LogLine("WARN", "daemon", s.message());
    }
    state_timer.expires_after(absl::ToChronoMilliseconds(kStateSaveEvery));
    state_timer.async_wait(save_state);
  };
  if (!config.state_file.empty()) {
    state_timer.expires_after(absl::ToChronoMilliseconds(kStateSaveEvery));
    state_timer.async_wait(save_state);
  }

  if (fleet) {
    // Every quarantine the fleet holds is known before the first call.
    if (auto s = fleet->LoadAtStart(absl::Now()); !s.ok()) {
      return Refused(
          absl::StrCat(config.redis->password.empty() ? "--redis: " : "--redis_password_file: ", s.message()));
    }
    fleet->Start();
  }
  if (auto s = b2bua->Start(); !s.ok()) return Refused(TransportProblem(config, s.message()));

  // The TCP guard: caps and silent connections, from the ops thread.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  TcpLimits tcp_limits;
  tcp_limits.max_total = TcpCapForFileLimit(config.tcp_max_connections, files.rlim_cur);
  tcp_limits.max_per_source = config.tcp_max_per_source;
  tcp_limits.silent_after = config.tcp_idle_timeout;
  if (tcp_limits.max_total < config.tcp_max_connections) {
    LogLine("WARN", "tcp",
            absl::StrCat("--tcp_max_connections lowered to ", tcp_limits.max_total, " to fit the file limit (",
                         files.rlim_cur, ")"));
  }
  std::vector<int> tcp_ports = {config.listen.port};
  if (config.trunk_listen) tcp_ports.push_back(config.trunk_listen->port);
  std::vector<std::string> trunk_peers;
  for (const TrunkSpec& t : config.trunks) trunk_peers.push_back(t.HostPortText());
  TcpGuard tcp_guard(tcp_ports, std::move(trunk_peers), tcp_limits, counters);
  boost::asio::steady_timer tcp_timer(io);
  std::function<void(const boost::system::error_code&)> guard_tcp = [&](const boost::system::error_code& ec) {
    if (ec) return;
    tcp_timer.expires_after(absl::ToChronoMilliseconds(tcp_guard.Sweep(absl::Now())));
    tcp_timer.async_wait(guard_tcp);
  };
  tcp_timer.expires_after(std::chrono::seconds(1));
  tcp_timer.async_wait(guard_tcp);

  SipLoop loop;
  loop.root = root;
  loop.b2bua = b2bua.get();
  loop.pacer = pacer.get();
  loop.store = store.get();
  loop.tick = su_timer_create(su_root_task(root), 1000);
  su_timer_set_for_ever(loop.tick, OnTick, reinterpret_cast<su_timer_arg_t*>(&loop));
  loop.drain = su_timer_create(su_root_task(root), 100);
  loop.reap = su_timer_create(su_root_task(root), 100);
  su_timer_set_for_ever(loop.reap, OnReap, reinterpret_cast<su_timer_arg_t*>(&loop));

  boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                             int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      LogLine("INFO", "daemon", "SIGHUP: reopening the CDR file");
      if (cdr) cdr->Reopen();
      signals.async_wait(on_signal);
      return;
    }
    LogLine("INFO", "daemon", "stopping: finishing INVITEs in flight");
    sip_queue.Post([&loop] {
      loop.b2bua->BeginShutdown();
      loop.drain_deadline = absl::Now() + kDrainDeadline;
      su_timer_set_for_ever(loop.drain, OnDrainCheck, reinterpret_cast<su_timer_arg_t*>(&loop));
    });
  };
  signals.async_wait(on_signal);
  std::thread ops_thread([&io, set] {
    // This thread alone takes the signals, through the signal_set.
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    io.run();
  });

  // Up: the lines held since the start are written, and all from now on.
  LogStarted();
  LogLine("INFO", "daemon",
          absl::StrCat("sippacer ", SIPPACER_VERSION, " started (sofia-sip: ", SIPPACER_SOFIA_BUILD, ")"));
  su_root_run(root);

  work.reset();
  io.stop();
  ops_thread.join();
  ops.Stop();  // subscribers hear "stopping" and the socket file goes now, not after the CDR flush
  su_timer_destroy(loop.tick);
  su_timer_destroy(loop.drain);
  su_timer_destroy(loop.reap);
  b2bua.reset();
  if (!config.state_file.empty()) {
    // The SIP thread has stopped: this is the final, complete state.
    if (auto s = SaveState(config.state_file, *store, *pacer, absl::Now()); !s.ok())
      LogLine("ERROR", "daemon", s.message());
    else
      LogLine("INFO", "daemon", absl::StrCat("state saved to ", config.state_file));
  }
  if (fleet) fleet->Stop();  // the last counts and states go to Redis
  if (cdr) cdr->Stop(absl::Seconds(10));
  fleet.reset();
  pacer.reset();
  if (fleet_queue) fleet_queue->Detach();
  sip_queue.Detach();
  su_root_destroy(root);
  su_deinit();
  LogLine("INFO", "daemon", "stopped");
  return 0;
}

}  // namespace sippacer::proxy
