#pragma once
// MetricsHttp: GET /metrics in Prometheus text format 0.0.4, over plain
// Asio TCP (one request per connection, bounded request size).

#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proxy/ops/render.h"

namespace sippacer::proxy {

// ProcessStats: the process's own resources for the standard process_*
// metrics, read from /proc/self by ReadProcessStats at each scrape, on the
// ops thread (a few small reads; never on the SIP thread).
struct ProcessStats {
  bool ok = false;         // false where /proc cannot be read: the metrics are left out
  double cpu_seconds = 0;  // user + system
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  int64_t open_fds = -1;    // -1: unknown (no descriptor left to list them)
  uint64_t max_fds = 0;     // the soft RLIMIT_NOFILE
  double start_time_s = 0;  // Unix time the process started; 0: unknown
};
ProcessStats ReadProcessStats();

// The whole exposition, rendered from live values (and `process`, when ok).
std::string RenderPrometheus(const OpsView& v, absl::Time now, const ProcessStats& process = {});

class MetricsHttp {
 public:
  MetricsHttp(boost::asio::io_context& io, OpsView view);
  absl::Status Listen(const std::string& host_port);

 private:
  void Accept();
  boost::asio::io_context& io_;
  OpsView view_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;  // after a failed accept (no descriptor left)
};

}  // namespace sippacer::proxy
