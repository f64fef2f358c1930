#pragma once
// OpsServer: the stats socket (docs/stats-socket.md) and the Prometheus endpoint, served
// by the ops thread's io_context.
//
// Read commands are answered on the ops thread from lock-free reads of the
// Store and Pacer. Commands that change pacing (set policy, quarantine,
// release) run on the SIP thread through SipThreadQueue; their answer comes
// back to the ops thread. A connection's requests are answered one after the
// other, in order. A client cannot stall anything: lines are bounded, output
// per client is bounded, idle clients are closed.
//
// Stop (or the destructor) ends every connection: subscribers get a last
// {"event":"stopping"} line, answers already queued are written (within a
// second in all), and the socket file is removed.

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "metrics/store.h"
#include "pacing/pacer.h"
#include "proxy/relay_counters.h"
#include "proxy/sip_thread_queue.h"

namespace sippacer::proxy {

class CdrWriter;
class TrunkGroup;
namespace fleet {
class FleetSync;
}

struct OpsOptions {
  std::string stats_socket;
  std::string metrics_listen;  // "" = off
  std::string default_country_code = "1";
};

struct OpsContext {
  const metrics::Store* store = nullptr;
  pacing::Pacer* pacer = nullptr;  // reads only from the ops thread; writes via sip_queue
  const RelayCounters* relay = nullptr;
  SipThreadQueue* sip_queue = nullptr;
  const CdrWriter* cdr = nullptr;  // may be null
  absl::Time started;
  const TrunkGroup* trunks = nullptr;  // counters read lock-free; may be null
  fleet::FleetSync* fleet = nullptr;   // --redis only
};

class OpsServer {
 public:
  OpsServer(boost::asio::io_context& io, OpsOptions options, OpsContext context);
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  absl::Status Start();             // binds the socket and the Prometheus listener
  pacing::EventSink* event_sink();  // called on the SIP thread
  // Logs `log` and streams `event` to every subscriber; any thread.
  void Publish(std::string event, std::string log);
  // Ends the connections and removes the socket file. Call on the ops thread,
  // or once the io_context has stopped; the destructor calls it too.
  void Stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace sippacer::proxy
