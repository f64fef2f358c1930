// FleetSync's push thread: this node's counts and state changes to Redis.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "metrics/changed_numbers.h"
#include "pacing/event_json.h"
#include "proxy/fleet/fleet_sync.h"
#include "proxy/log.h"

namespace sippacer::proxy::fleet {
namespace {

constexpr absl::Duration kRedisTimeout = absl::Seconds(2);
constexpr absl::Duration kReconnectEvery = absl::Seconds(1);
// Replies are read (and a batch published) every so many commands, so a
// full push of a large table never holds it all in memory at once.
constexpr size_t kCommandsPerRound = 2000;
// A node that has not pushed for this long leaves the nodes table.
constexpr absl::Duration kForgetNodeAfter = absl::Hours(24);

// Settles a state change against the one Redis holds, the same way for
// every node, and tells every node the result. A change made more than
// kConcurrent after the stored one replaces it, one made that long before
// it loses; in between the higher rank wins (fleet_wire.h), then the later
// change, then the greater node name.
//   KEYS[1] states hash; ARGV: number, entry, rank, at_ms, node, channel, concurrent_ms
constexpr char kSettleScript[] = R"lua(
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local take = true
if cur then
  local crank, cat, cnode = string.match(cur, '^(%-?%d+)|(%-?%d+)|([^|]*)|')
  if crank then
    crank = tonumber(crank); cat = tonumber(cat)
    local rank = tonumber(ARGV[3]); local at = tonumber(ARGV[4]); local conc = tonumber(ARGV[7])
    if at + conc < cat then take = false
    elseif at > cat + conc then take = true
    elseif rank ~= crank then take = rank > crank
    elseif at ~= cat then take = at > cat
    else take = ARGV[5] >= cnode end
  end
end
if take then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); cur = ARGV[2] end
redis.call('PUBLISH', ARGV[6], ARGV[1] .. ' ' .. cur)
if take then return 1 end
return 0
)lua";

// Keeps the newest setting of one policy key (then the greater node name)
// and tells every node which one stands.
//   KEYS[1] policy hash; ARGV: key, entry, at_ms, node, channel
constexpr char kSettlePolicyScript[] = R"lua(
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local take = true
if cur then
  local cnode, cat = string.match(cur, '^([^|]*)|(%-?%d+)|')
  if cat then
    cat = tonumber(cat); local at = tonumber(ARGV[3])
    if at ~= cat then take = at > cat else take = ARGV[4] >= cnode end
  end
end
if take then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); cur = ARGV[2] end
redis.call('PUBLISH', ARGV[5], cur)
if take then return 1 end
return 0
)lua";

int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }

std::string Field(absl::string_view node, uint32_t epoch) { return absl::StrCat(node, "/", epoch); }

// "KEY=VALUE" of each of `keys` in `policy`, as `set policy` takes them.
std::vector<std::string> SettingsOf(const std::vector<std::string>& keys, const pacing::Policy& policy) {
  std::vector<std::string> out;
  for (const pacing::PolicySetting& s : pacing::PolicySettings(policy)) {
    if (std::find(keys.begin(), keys.end(), s.key) != keys.end()) out.push_back(absl::StrCat(s.key, "=", s.text));
  }
  return out;
}

}  // namespace

FleetKeys::FleetKeys(const metrics::Store& store)
    : prefix(absl::StrCat("sippacer:", absl::ToInt64Seconds(store.bucket_width()), ":",
                          absl::ToInt64Seconds(store.group_bucket_width()), ":")) {}

std::string FleetKeys::Number(metrics::E164 n, uint32_t epoch) const {
  return absl::StrCat(prefix, "n:", n, ":", epoch);
}
std::string FleetKeys::Group(absl::string_view name, uint32_t epoch) const {
  return absl::StrCat(prefix, "g:", name, ":", epoch);
}

FleetSync::FleetSync(FleetOptions options, metrics::Store& store, pacing::Pacer& pacer, SipThreadQueue& sip_queue)
    : options_(std::move(options)),
      store_(store),
      pacer_(pacer),
      sip_queue_(sip_queue),
      keys_(store),
      own_batch_header_(absl::StrCat("node ", options_.node_id, " ")) {
  for (int g = 0; g < store_.group_count(); ++g) group_index_[store_.GroupName(g)] = g;
  absl::MutexLock lock(&status_mu_);
  status_.node_id = options_.node_id;
  status_.redis = options_.target.Text();
  status_.sync_interval = options_.sync_interval;
}

FleetSync::~FleetSync() { Stop(); }

void FleetSync::Start() {
  push_thread_ = std::thread([this] { PushLoop(); });
  listen_thread_ = std::thread([this] { ListenLoop(); });
}

void FleetSync::Stop() {
  if (stop_.exchange(true)) return;
  wake_.notify_all();
  if (push_thread_.joinable()) push_thread_.join();
  if (listen_thread_.joinable()) listen_thread_.join();
  OutgoingState* s = nullptr;
  while (outgoing_.pop(s)) delete s;
  FleetPolicy* p = nullptr;
  while (outgoing_policy_.pop(p)) delete p;
}

void FleetSync::OnLocalPolicyChange(const pacing::Policy& before, const pacing::Policy& after, absl::Time at,
                                    const std::string& by) {
  auto* out = new FleetPolicy;
  out->node = options_.node_id;
  out->at_ms = Ms(at);
  out->by = by;
  out->settings = SettingsOf(pacing::ChangedPolicyKeys(before, after), after);
  for (const std::string& kv : out->settings) policy_at_[kv.substr(0, kv.find('='))] = {out->at_ms, out->node};
  if (out->settings.empty() || !outgoing_policy_.push(out)) {
    if (!out->settings.empty()) Warn("policy changes come faster than they reach redis: one dropped", "policy-queue");
    delete out;
  }
}

// The keys an operator set live on this node (they differ from its flags),
// again: after a reconnect Redis may have come back empty.
void FleetSync::QueueLivePolicy() {
  const pacing::PolicyOrigin origin = pacer_.policy_origin();
  if (origin.at == absl::InfinitePast()) return;
  FleetPolicy p;
  p.node = options_.node_id;
  p.at_ms = Ms(origin.at);
  p.by = origin.by;
  const pacing::Policy live = pacer_.policy();
  p.settings = SettingsOf(pacing::ChangedPolicyKeys(pacer_.flag_policy(), live), live);
  if (!p.settings.empty()) pending_policy_.insert(pending_policy_.begin(), std::move(p));
}

void FleetSync::Warn(absl::string_view what, absl::string_view key) { LogRateLimited("WARN", "fleet", what, key); }

void FleetSync::OnLocalStateChange(const pacing::StateChange& c) {
  if (!c.fleet_node.empty()) return;  // the fleet's own, adopted here
  auto* out = new OutgoingState;
  out->number = c.number;
  out->state.rank = RankOf(c.to, c.by_operator);
  out->state.at_ms = Ms(c.at);
  out->state.node = options_.node_id;
  out->state.state = c.to;
  out->state.since_ms = Ms(c.at);
  out->state.until_ms = c.until == absl::InfiniteFuture() ? -1 : Ms(c.until);
  out->state.reason = c.reason;
  if (!outgoing_.push(out)) {
    delete out;
    states_overflowed_.store(true, std::memory_order_relaxed);  // all states go again
  }
}

void FleetSync::AddPending(metrics::E164 number) {
  if (pending_.size() >= options_.max_pending && !pending_.contains(number)) {
    // Past the bound a change is not lost: every tracked number is pushed
    // once Redis is back.
    push_everything_ = true;
    absl::MutexLock lock(&status_mu_);
    ++status_.dropped;
    return;
  }
  pending_.insert(number);
}

void FleetSync::CollectChanged() {
  metrics::ChangedNumbers* changes = store_.changes();
  while (auto n = changes->Pop()) AddPending(*n);
  if (changes->TakeOverflow()) push_everything_ = true;  // counted by the ring
  OutgoingState* s = nullptr;
  while (outgoing_.pop(s)) {
    pending_states_[s->number] = s->state;
    delete s;
  }
  if (states_overflowed_.exchange(false)) QueueAllStates(absl::Now());
  FleetPolicy* p = nullptr;
  while (outgoing_policy_.pop(p)) {
    pending_policy_.push_back(std::move(*p));
    delete p;
  }
}

// Every state this node holds other than healthy, as it stands (after a
// reconnect: Redis may have come back empty).
void FleetSync::QueueAllStates(absl::Time now) {
  store_.ExportNumbers([&](const metrics::NumberRecord& r) {
    const pacing::NumberPacing p = pacer_.State(r.number);
    if (p.state == pacing::NumberState::kHealthy || pending_states_.contains(r.number)) return;
    FleetState s;
    s.state = p.state;
    s.since_ms = p.since == absl::InfinitePast() ? Ms(now) : Ms(p.since);
    s.at_ms = s.since_ms;
    s.until_ms = p.until == absl::InfiniteFuture() ? -1 : Ms(p.until);
    s.rank = RankOf(p.state, absl::StartsWith(p.reason, "operator:"));
    s.node = options_.node_id;
    s.reason = p.reason;
    pending_states_[r.number] = s;
  });
}

void FleetSync::PushLoop() {
  absl::Time next_push = absl::Now();
  bool last_round = false;
  while (!last_round) {
    {
      std::unique_lock<std::mutex> lock(wake_mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_.load(); });
    }
    last_round = stop_.load();
    CollectChanged();
    const absl::Time now = absl::Now();
    if (now < next_push && !last_round) continue;
    next_push = now + options_.sync_interval;
    if (push_link_ == nullptr && now >= next_connect_) {
      auto link = RedisLink::Connect(options_.target, kRedisTimeout);
      if (!link.ok()) {
        next_connect_ = now + kReconnectEvery;
        Warn(absl::StrCat("redis unreachable, deciding on this node's counts alone: ", link.status().message()),
             "push-connect");
        continue;
      }
      push_link_ = *std::move(link);
      push_everything_ = true;  // Redis may have restarted empty
      QueueAllStates(now);
      QueueLivePolicy();
      LogLine("INFO", "fleet",
              absl::StrCat("pushing to redis ", options_.target.Text(), " as ", options_.node_id, " (keys ",
                           keys_.prefix, "*)"));
    }
    if (push_link_ == nullptr) continue;
    const absl::Status s = PushOnce(now, push_everything_);
    absl::MutexLock lock(&status_mu_);
    status_.pending = pending_.size();
    if (!s.ok()) {
      push_link_.reset();
      status_.pushing = false;
      ++status_.push_failures;
      ++status_.outages;
      Warn(absl::StrCat("redis push failed, counts wait here: ", s.message()), "push-failed");
      continue;
    }
    status_.pushing = true;
    status_.last_push = now;
    ++status_.pushes;
  }
}

absl::Status FleetSync::PushOnce(absl::Time now, bool everything) {
  RedisLink& link = *push_link_;
  const std::string ttl = absl::StrCat(absl::ToInt64Seconds(store_.options().history + 3 * store_.bucket_width()));
  size_t queued = 0;
  CountBatch batch{options_.node_id, Ms(now), {}, {}, {}};
  // Reads the replies of what was queued; publishes the batch so far.
  auto flush = [&]() -> absl::Status {
    if (!batch.numbers.empty() || !batch.groups.empty() || !batch.hours.empty()) {
      link.Append({"PUBLISH", keys_.CountsChannel(), EncodeBatch(batch)});
      ++queued;
      batch.numbers.clear();
      batch.groups.clear();
      batch.hours.clear();
    }
    for (; queued > 0; --queued) {
      auto r = link.Next();
      if (!r.ok()) return r.status();
      if (r->kind == RedisReply::Kind::kError) Warn(absl::StrCat("redis refused a command: ", r->text), "refused");
    }
    return absl::OkStatus();
  };
  auto push_number = [&](const metrics::NumberRecord& r) {
    uint32_t newest = 0;
    for (const auto& b : r.buckets) newest = std::max(newest, b.epoch);
    for (const auto& b : r.buckets) {
      // Only the bucket filling now (and the one before, for a final that
      // came in at the turn) can have changed since the last push.
      if (!everything && b.epoch + 1 < newest) continue;
      const std::string key = keys_.Number(r.number, b.epoch);
      link.Append({"HSET", key, options_.node_id, EncodeCounts(metrics::CountsOf(b))});
      link.Append({"EXPIRE", key, ttl});
      queued += 2;
      batch.numbers.push_back({r.number, b.epoch, metrics::CountsOf(b)});
    }
  };
  absl::Status status;
  if (everything) {
    store_.ExportNumbers([&](const metrics::NumberRecord& r) {
      if (!status.ok()) return;
      push_number(r);
      if (queued >= kCommandsPerRound) status = flush();
    });
  } else {
    for (metrics::E164 n : pending_) {
      if (auto r = store_.ExportNumber(n)) push_number(*r);
      if (queued >= kCommandsPerRound && !(status = flush()).ok()) break;
    }
  }
  if (!status.ok()) return status;

  std::vector<int> groups = store_.ActiveGroups();
  groups.push_back(metrics::Store::kPoolGroup);
  for (int g : groups) {
    std::vector<std::pair<uint32_t, metrics::CodeCounts>> buckets;
    store_.ExportGroup(g, [&](uint32_t epoch, const metrics::CodeCounts& c) { buckets.emplace_back(epoch, c); });
    if (buckets.empty()) continue;
    const uint32_t newest = buckets.back().first;
    const std::string name = store_.GroupName(g);
    for (const auto& [epoch, c] : buckets) {
      if (!everything && epoch + 1 < newest) continue;
      const std::string key = keys_.Group(name, epoch);
      link.Append({"HSET", key, options_.node_id, EncodeCounts(c)});
      link.Append({"EXPIRE", key, ttl});
      queued += 2;
      batch.groups.push_back({name, epoch, c});
    }
  }
  std::vector<std::string> hours = {"HSET", keys_.Hours()};
  const std::vector<metrics::GroupSnapshot> by_hour = store_.Hours();
  for (int h = 0; h < 24; ++h) {
    const metrics::CodeCounts& c = by_hour[static_cast<size_t>(h)].counts;
    if (c.attempts == 0 && c.finals() == 0) continue;
    hours.push_back(Field(options_.node_id, static_cast<uint32_t>(h)));
    hours.push_back(EncodeCounts(c));
    batch.hours.push_back({h, c});
  }
  if (hours.size() > 2) {
    link.Append(hours);
    ++queued;
  }
  if (auto s = flush(); !s.ok()) return s;

  // State changes, each settled by the script (which also announces it).
  const std::string conc = absl::StrCat(absl::ToInt64Milliseconds(kConcurrent));
  for (const auto& [number, s] : pending_states_) {
    link.Append({"EVAL", kSettleScript, "1", keys_.States(), absl::StrCat(number), EncodeState(s), absl::StrCat(s.rank),
                 absl::StrCat(s.at_ms), s.node, keys_.StatesChannel(), conc});
    ++queued;
  }
  const uint64_t states = pending_states_.size();
  // Live policy keys: each kept in the policy hash for nodes that start
  // later, and announced to the nodes up now.
  for (const FleetPolicy& p : pending_policy_) {
    for (const std::string& kv : p.settings) {
      FleetPolicy one = p;
      one.settings = {kv};
      link.Append({"EVAL", kSettlePolicyScript, "1", keys_.Policy(), kv.substr(0, kv.find('=')), EncodePolicy(one),
                   absl::StrCat(p.at_ms), p.node, keys_.PolicyChannel()});
      ++queued;
    }
  }
  if (auto s = flush(); !s.ok()) return s;

  // This node's line in the nodes table, and everyone's.
  const uint64_t attempts = store_.Totals().attempts;
  if (last_rate_at_ != absl::InfinitePast() && now > last_rate_at_) {
    calls_per_s_ = static_cast<double>(attempts - last_attempts_) / absl::ToDoubleSeconds(now - last_rate_at_);
  }
  last_attempts_ = attempts;
  last_rate_at_ = now;
  NodeStatus self{options_.node_id, Ms(now), calls_per_s_, store_.numbers_tracked(), 0, options_.version};
  link.Append({"HSET", keys_.Nodes(), options_.node_id, EncodeNodeStatus(self)});
  auto set = link.Next();
  if (!set.ok()) return set.status();
  auto all = link.Run({"HGETALL", keys_.Nodes()});
  if (!all.ok()) return all.status();
  std::vector<NodeStatus> nodes;
  for (size_t i = 0; i + 1 < all->elements.size(); i += 2) {
    auto n = DecodeNodeStatus(all->elements[i].text, all->elements[i + 1].text);
    if (!n) continue;
    if (now - absl::FromUnixMillis(n->pushed_ms) > kForgetNodeAfter) {
      // Gone for a day: its counts have expired, its lines go too.
      std::vector<std::string> hdel = {"HDEL", keys_.Hours()};
      for (uint32_t h = 0; h < 24; ++h) hdel.push_back(Field(n->node, h));
      if (auto r = link.Run(hdel); !r.ok()) return r.status();
      if (auto r = link.Run({"HDEL", keys_.Nodes(), n->node}); !r.ok()) return r.status();
      continue;
    }
    nodes.push_back(*std::move(n));
  }
  std::sort(nodes.begin(), nodes.end(), [](const NodeStatus& a, const NodeStatus& b) { return a.node < b.node; });

  pending_.clear();
  pending_states_.clear();
  pending_policy_.clear();
  push_everything_ = false;
  absl::MutexLock lock(&status_mu_);
  status_.states_sent += states;
  status_.nodes = std::move(nodes);
  return absl::OkStatus();
}

FleetStatus FleetSync::Status() const {
  absl::MutexLock lock(&status_mu_);
  FleetStatus s = status_;
  s.dropped += store_.changes() != nullptr ? store_.changes()->dropped() : 0;
  return s;
}

}  // namespace sippacer::proxy::fleet
