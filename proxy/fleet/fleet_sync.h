#pragma once
// FleetSync: several sippacer nodes sharing one view of every number
// through Redis (docs/fleet.md).
//
// The SIP thread never waits on Redis. It counts locally as always; the
// Store reports each number whose counts changed, and the Pacer each state
// change it made. Two threads of this class do the rest:
//
//  * push (fleet_push.cc): every --sync_interval, this node's counts of the
//    changed numbers (per bucket, absolute values), of the route groups and
//    of the hours go to Redis in one pipeline with TTLs that match the
//    history, and to the other nodes on a channel; state changes go through
//    a script that settles concurrent ones the same way for everyone. While
//    Redis is away the changed numbers wait (bounded; past the bound the
//    whole table is pushed once it is back), so no count is lost.
//  * listen (fleet_listen.cc): the other nodes' counts go into the Store's
//    FleetCounts (so windows are fleet-wide) and, as evidence, to the Pacer;
//    the settled states to the Pacer. Both through a queue to the SIP thread.
//
// Before the first call, LoadAtStart reads the fleet's states and windows.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "metrics/store.h"
#include "pacing/pacer.h"
#include "proxy/fleet/fleet_wire.h"
#include "proxy/fleet/redis_link.h"
#include "proxy/sip_thread_queue.h"

namespace sippacer::proxy::fleet {

struct FleetOptions {
  RedisTarget target;
  std::string node_id;
  absl::Duration sync_interval = absl::Seconds(1);
  size_t max_pending = 100'000;  // changed numbers waiting for Redis
  std::string version;
};

// Where everything lives in Redis. The bucket widths are part of the
// prefix: nodes with a different --history never mix their buckets.
struct FleetKeys {
  explicit FleetKeys(const metrics::Store& store);
  std::string prefix;  // "sippacer:600:300:"
  // One key per number (or group) and bucket, fields by node: each key
  // expires on its own once its bucket has left every window.
  std::string Number(metrics::E164 n, uint32_t epoch) const;
  std::string NumberPrefix() const { return prefix + "n:"; }
  std::string Group(absl::string_view name, uint32_t epoch) const;
  std::string GroupPrefix() const { return prefix + "g:"; }
  std::string Hours() const { return prefix + "hours"; }
  std::string States() const { return prefix + "states"; }
  std::string Nodes() const { return prefix + "nodes"; }
  std::string CountsChannel() const { return prefix + "counts"; }
  std::string StatesChannel() const { return prefix + "statechanges"; }
  std::string Policy() const { return prefix + "policy"; }
  std::string PolicyChannel() const { return prefix + "policychanges"; }
};

// What `show info`, `show nodes` and Prometheus say about the fleet.
struct FleetStatus {
  std::string node_id;
  std::string redis;
  bool pushing = false;    // the push link is up
  bool listening = false;  // the listen link is up and subscribed
  bool degraded() const { return !pushing || !listening; }
  absl::Time last_push = absl::InfinitePast();
  absl::Duration sync_interval;
  uint64_t pushes = 0;
  uint64_t push_failures = 0;
  uint64_t pending = 0;  // changed numbers not in Redis yet
  uint64_t dropped = 0;  // changes past the bound (pushed later by a full push)
  uint64_t states_sent = 0;
  uint64_t states_taken = 0;   // other nodes' states adopted here
  uint64_t batches_heard = 0;  // other nodes' count batches
  uint64_t outages = 0;        // times a link to Redis was lost
  std::vector<NodeStatus> nodes;
};

class FleetSync {
 public:
  // `sip_queue`: a queue to the SIP thread of its own (this class is its
  // only producer).
  FleetSync(FleetOptions options, metrics::Store& store, pacing::Pacer& pacer, SipThreadQueue& sip_queue);
  ~FleetSync();

  // Before traffic, on the thread that owns the Store's writer side: the
  // fleet's states and every window Redis holds. Redis away is not an
  // error (the node starts degraded and catches up); a wrong password is.
  absl::Status LoadAtStart(absl::Time now);
  void Start();
  void Stop();  // pushes what is pending first (bounded)

  // SIP thread, never blocks: a change of state this node made.
  void OnLocalStateChange(const pacing::StateChange& change);
  // SIP thread, never blocks: policy keys an operator set live here
  // (`set policy`); every node takes them.
  void OnLocalPolicyChange(const pacing::Policy& before, const pacing::Policy& after, absl::Time at,
                           const std::string& by);
  // Before Start: where a policy change that came from another node is
  // announced (the log and the stats socket's subscribers).
  void set_publish(std::function<void(std::string event, std::string log)> publish) { publish_ = std::move(publish); }

  FleetStatus Status() const;
  const FleetOptions& options() const { return options_; }

 private:
  struct OutgoingState {
    metrics::E164 number = 0;
    FleetState state;
  };
  // push thread (fleet_push.cc)
  void PushLoop();
  absl::Status PushOnce(absl::Time now, bool everything);
  void CollectChanged();
  void AddPending(metrics::E164 number);
  void QueueAllStates(absl::Time now);
  // listen thread (fleet_listen.cc)
  void ListenLoop();
  absl::Status OpenSubscription();  // the listen link, subscribed
  absl::Status Subscribe();         // and everything read again (a reconnect)
  absl::Status LoadAll(RedisLink& link, absl::Time now, bool at_start);
  absl::Status LoadCounts(RedisLink& link, absl::Time now, bool at_start, size_t* numbers);
  void ApplyBatch(const CountBatch& batch, absl::Time now);
  void ApplyState(metrics::E164 number, const FleetState& s, bool at_start);
  bool FlushStates();  // false: the SIP thread's queue was full (kept for later)
  void ApplyPolicy(const FleetPolicy& p, bool at_start);
  void QueueLivePolicy();
  void PostToSip(std::function<void()> task);
  void Warn(absl::string_view what, absl::string_view key);

  const FleetOptions options_;
  metrics::Store& store_;
  pacing::Pacer& pacer_;
  SipThreadQueue& sip_queue_;
  const FleetKeys keys_;
  absl::flat_hash_map<std::string, int> group_index_;  // "carrier:alpha" -> Store group

  std::atomic<bool> stop_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;
  std::thread push_thread_;
  std::thread listen_thread_;

  // SIP thread -> push thread
  boost::lockfree::spsc_queue<OutgoingState*, boost::lockfree::capacity<8192>> outgoing_;
  std::atomic<bool> states_overflowed_{false};
  boost::lockfree::spsc_queue<FleetPolicy*, boost::lockfree::capacity<64>> outgoing_policy_;
  std::function<void(std::string, std::string)> publish_;
  // SIP thread: per policy key, the newest setting taken here (at_ms, node),
  // so a late message never undoes a newer setting.
  absl::flat_hash_map<std::string, std::pair<int64_t, std::string>> policy_at_;

  // push thread only
  std::unique_ptr<RedisLink> push_link_;
  absl::flat_hash_set<metrics::E164> pending_;
  absl::flat_hash_map<metrics::E164, FleetState> pending_states_;
  std::vector<FleetPolicy> pending_policy_;
  bool push_everything_ = true;
  uint64_t last_attempts_ = 0;
  absl::Time last_rate_at_ = absl::InfinitePast();
  double calls_per_s_ = 0;
  absl::Time next_connect_ = absl::InfinitePast();

  // listen thread only
  std::unique_ptr<RedisLink> listen_link_;
  std::vector<std::pair<metrics::E164, FleetState>> heard_states_;  // to adopt, next task
  const std::string own_batch_header_;                              // "node NAME ": this node's batches
  absl::Time next_prune_ = absl::InfinitePast();

  mutable absl::Mutex status_mu_;
  FleetStatus status_ ABSL_GUARDED_BY(status_mu_);
};

}  // namespace sippacer::proxy::fleet
