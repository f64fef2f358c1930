// The stats socket's and Prometheus' view of the fleet (docs/fleet.md).
#include "absl/strings/str_cat.h"
#include "metrics/fleet_counts.h"
#include "proxy/fleet/fleet_sync.h"
#include "proxy/ops/render.h"

namespace sippacer::proxy {
namespace {

// A node that has not pushed for this long is shown stale.
constexpr absl::Duration kStaleAfter = absl::Seconds(10);

void WriteCounts(metrics::JsonWriter& w, const metrics::CodeCounts& c) {
  w.Key("attempts").Uint(c.attempts);
  WriteCodes(w, "codes", c);
  w.Key("pre_ring_603").Uint(c.pre_ring_603);
  w.Key("network_blocked").Uint(c.network_blocked);
  w.Key("paced").Uint(c.paced);
}

}  // namespace

void WriteFleetInfo(metrics::JsonWriter& w, const OpsView& v, absl::Time now) {
  if (v.fleet == nullptr) return;
  const fleet::FleetStatus s = v.fleet->Status();
  w.Key("fleet").BeginObject();
  w.Key("node_id").String(s.node_id);
  w.Key("redis").String(s.redis);
  w.Key("degraded").Bool(s.degraded());
  w.Key("pushing").Bool(s.pushing).Key("listening").Bool(s.listening);
  if (s.last_push != absl::InfinitePast()) w.Key("last_push_ago_s").Double(absl::ToDoubleSeconds(now - s.last_push));
  w.Key("nodes").Uint(s.nodes.size());
  w.Key("pending_numbers").Uint(s.pending).Key("changes_dropped").Uint(s.dropped);
  w.Key("pushes").Uint(s.pushes).Key("push_failures").Uint(s.push_failures).Key("outages").Uint(s.outages);
  w.Key("states_sent").Uint(s.states_sent).Key("states_taken").Uint(s.states_taken);
  w.Key("batches_heard").Uint(s.batches_heard);
  w.Key("numbers_from_others").Uint(v.store->fleet() ? v.store->fleet()->numbers() : 0);
  w.EndObject();
}

std::string RenderNodes(const OpsView& v, absl::Time now) {
  if (v.fleet == nullptr) return ErrorJson("not in a fleet: start with --redis");
  const fleet::FleetStatus s = v.fleet->Status();
  metrics::JsonWriter w;
  w.BeginObject();
  w.Key("node_id").String(s.node_id);
  w.Key("redis").String(s.redis);
  w.Key("degraded").Bool(s.degraded());
  w.Key("nodes").BeginArray();
  for (const fleet::NodeStatus& n : s.nodes) {
    const absl::Duration lag = now - absl::FromUnixMillis(n.pushed_ms);
    w.BeginObject();
    w.Key("node").String(n.node);
    w.Key("self").Bool(n.node == s.node_id);
    w.Key("last_sync").String(IsoTime(absl::FromUnixMillis(n.pushed_ms)));
    w.Key("lag_s").Double(absl::ToDoubleSeconds(lag));
    w.Key("stale").Bool(lag > std::max(kStaleAfter, 3 * s.sync_interval));
    w.Key("calls_per_s").Double(n.calls_per_s);
    w.Key("numbers").Uint(n.numbers);
    w.Key("version").String(n.version);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

void WriteNumberByNode(metrics::JsonWriter& w, const OpsView& v, metrics::E164 number, absl::Time now) {
  if (v.fleet == nullptr || v.store->fleet() == nullptr) return;
  const absl::Duration window = v.store->options().history;
  w.Key("by_node").BeginArray();
  w.BeginObject();
  w.Key("node").String(v.fleet->options().node_id);
  WriteCounts(w, v.store->LocalWindow(number, window, now));
  w.EndObject();
  for (const auto& [node, counts] : v.store->fleet()->ByNode(number, window, now)) {
    w.BeginObject();
    w.Key("node").String(node);
    WriteCounts(w, counts);
    w.EndObject();
  }
  w.EndArray();
}

void FleetMetrics(std::string& out, const OpsView& v, absl::Time now) {
  if (v.fleet == nullptr) return;
  const fleet::FleetStatus s = v.fleet->Status();
  auto line = [&](absl::string_view name, absl::string_view type, absl::string_view help, double value) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, " ", value, "\n");
  };
  line("sippacer_fleet_degraded", "gauge",
       "1 while this node cannot push to or hear from Redis (it decides on its own counts).", s.degraded() ? 1 : 0);
  line("sippacer_fleet_nodes", "gauge", "Nodes in the fleet's table in Redis, this one included.",
       static_cast<double>(s.nodes.size()));
  line("sippacer_fleet_pending_numbers", "gauge", "Numbers whose changed counts wait to be pushed.",
       static_cast<double>(s.pending));
  line("sippacer_fleet_changes_dropped_total", "counter",
       "Changes past the --fleet_queue bound (pushed later by a push of every number).",
       static_cast<double>(s.dropped));
  line("sippacer_fleet_pushes_total", "counter", "Pushes to Redis that succeeded.", static_cast<double>(s.pushes));
  line("sippacer_fleet_outages_total", "counter", "Times a link to Redis was lost.", static_cast<double>(s.outages));
  line("sippacer_fleet_states_sent_total", "counter", "State changes of this node sent to the fleet.",
       static_cast<double>(s.states_sent));
  line("sippacer_fleet_states_taken_total", "counter", "Other nodes' state changes adopted here.",
       static_cast<double>(s.states_taken));
  if (s.last_push != absl::InfinitePast()) {
    line("sippacer_fleet_sync_age_seconds", "gauge", "Seconds since the last successful push to Redis.",
         absl::ToDoubleSeconds(now - s.last_push));
  }
}

}  // namespace sippacer::proxy
