#pragma once
// MetricsHttp: GET /metrics in Prometheus text format 0.0.4, over plain
// Asio TCP (one request per connection, bounded request size).

#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proxy/ops/render.h"

namespace sippacer::proxy {

// The whole exposition, rendered from live values.
std::string RenderPrometheus(const OpsView& v, absl::Time now);

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
