// FleetSync's listen thread, and the load before the first call: the other
// nodes' counts and the fleet's states, from Redis to this node.
#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "metrics/fleet_counts.h"
#include "pacing/event_json.h"
#include "pacing/policy.h"
#include "proxy/fleet/fleet_sync.h"
#include "proxy/log.h"

namespace sippacer::proxy::fleet {
namespace {

constexpr absl::Duration kRedisTimeout = absl::Seconds(2);
constexpr absl::Duration kReconnectEvery = absl::Seconds(1);
constexpr absl::Duration kPruneEvery = absl::Minutes(1);
constexpr absl::Duration kPollWait = absl::Milliseconds(200);
constexpr size_t kKeysPerScan = 500;
constexpr size_t kStatesPerTask = 256;

absl::Time FromMs(int64_t ms) { return absl::FromUnixMillis(ms); }

// "NODE/HOUR" -> (node, hour)
bool SplitField(absl::string_view field, absl::string_view* node, uint32_t* epoch) {
  const size_t slash = field.rfind('/');
  if (slash == absl::string_view::npos) return false;
  *node = field.substr(0, slash);
  return ValidNodeId(*node) && absl::SimpleAtoi(field.substr(slash + 1), epoch);
}

}  // namespace

void FleetSync::PostToSip(std::function<void()> task) {
  if (!sip_queue_.Post(std::move(task)))
    Warn("the SIP thread's fleet queue is full: an update waits for the next", "sip-queue");
}

bool FleetSync::FlushStates() {
  if (heard_states_.empty()) return true;
  auto task = [this, states = heard_states_] {
    const absl::Time now = absl::Now();
    for (const auto& [number, s] : states) {
      // What this node holds may be newer than what it hears (its own
      // change on its way to Redis, or one Redis settled after this
      // message): the same rule as Redis decides.
      const pacing::NumberPacing local = pacer_.State(number);
      if (local.since != absl::InfinitePast()) {
        FleetState held;
        held.rank = RankOf(local.state, absl::StartsWith(local.reason, "operator:"));
        held.at_ms = absl::ToUnixMillis(local.since);
        held.node = options_.node_id;
        if (!Supersedes(s, held)) continue;
      }
      pacer_.AdoptFleetState(number, s.state, FromMs(s.since_ms),
                             s.until_ms < 0 ? absl::InfiniteFuture() : FromMs(s.until_ms), s.reason, s.node, now);
    }
  };
  if (!sip_queue_.Post(std::move(task))) {
    // Kept, and tried again at the next turn: a state is never dropped.
    Warn("the SIP thread's fleet queue is full: states wait for the next turn", "sip-queue-states");
    return false;
  }
  heard_states_.clear();
  return true;
}

void FleetSync::ApplyState(metrics::E164 number, const FleetState& s, bool at_start) {
  const absl::Time since = FromMs(s.since_ms);
  const absl::Time until = s.until_ms < 0 ? absl::InfiniteFuture() : FromMs(s.until_ms);
  if (at_start) {
    // Before traffic, on the Store's writer thread: put it back as it was.
    if (s.state == pacing::NumberState::kHealthy) return;
    const metrics::NumberId id = store_.Touch(number, absl::Now());
    pacing::NumberPacing p;
    p.state = s.state;
    p.since = since;
    p.until = until;
    p.reason = s.reason;
    pacer_.Restore(id, p);
    return;
  }
  // Adopted on the SIP thread in batches (FlushStates): a reconnect or
  // another node's republish brings thousands at once, more than the
  // queue to the SIP thread holds one by one.
  heard_states_.emplace_back(number, s);
  if (heard_states_.size() >= kStatesPerTask) FlushStates();
  if (s.node != options_.node_id) {
    absl::MutexLock lock(&status_mu_);
    ++status_.states_taken;
  }
}

void FleetSync::ApplyPolicy(const FleetPolicy& p, bool at_start) {
  auto apply = [this, p, at_start]() {
    // Only the keys this message is the newest setting of (a message can
    // come late, or be this node's own back from Redis).
    std::vector<std::string> newer;
    for (const std::string& kv : p.settings) {
      const std::string key = kv.substr(0, kv.find('='));
      auto it = policy_at_.find(key);
      if (it != policy_at_.end() && std::pair(p.at_ms, p.node) <= it->second) continue;
      policy_at_[key] = {p.at_ms, p.node};
      newer.push_back(kv);
    }
    // This node's own setting is live here already (at start: from before it stopped, so taken).
    if (newer.empty() || (p.node == options_.node_id && !at_start)) return;
    const pacing::PolicyOrigin origin{absl::FromUnixMillis(p.at_ms), absl::StrCat("node ", p.node, ": ", p.by)};
    const pacing::Policy before = pacer_.policy();
    auto updated = pacing::ApplyPolicyUpdate(before, newer);
    if (!updated.ok()) {
      Warn(absl::StrCat("policy from node ", p.node, " not taken: ", updated.status().message()), "policy-bad");
      return;
    }
    if (pacing::ChangedPolicyKeys(before, *updated).empty()) return;
    pacer_.SetPolicy(*updated, origin);
    const std::string log = absl::StrCat("policy set by ", origin.by, ": ", pacing::PolicyChangeText(before, *updated));
    if (publish_) {
      publish_(pacing::PolicyEventJson({before, *updated, origin.at, origin.by}), log);
    } else {
      LogLine("INFO", "pacing", log);
    }
  };
  if (at_start) {
    apply();  // before traffic, on the thread that owns the pacer
  } else {
    PostToSip(std::move(apply));
  }
}

void FleetSync::ApplyBatch(const CountBatch& batch, absl::Time now) {
  metrics::FleetCounts& fleet = *store_.fleet();
  std::vector<std::pair<metrics::E164, metrics::CodeCounts>> calls;
  for (const auto& l : batch.numbers) {
    const metrics::CodeCounts added = fleet.SetNumber(batch.node, l.number, metrics::BucketOf(l.epoch, l.counts), now);
    if (added.finals() > 0) calls.emplace_back(l.number, added);
  }
  for (const auto& l : batch.groups) {
    if (auto it = group_index_.find(l.group); it != group_index_.end())
      fleet.SetGroup(batch.node, it->second, l.epoch, l.counts, now);
  }
  for (const auto& l : batch.hours) fleet.SetHour(batch.node, l.hour, l.counts);
  if (!calls.empty()) {
    PostToSip([this, calls = std::move(calls)] {
      const absl::Time t = absl::Now();
      for (const auto& [number, added] : calls) pacer_.OnFleetCalls(number, added, t);
    });
  }
}

absl::Status FleetSync::LoadAll(RedisLink& link, absl::Time now, bool at_start) {
  // States first: a node that starts must know every quarantine.
  auto states = link.Run({"HGETALL", keys_.States()});
  if (!states.ok()) return states.status();
  size_t paced = 0;
  for (size_t i = 0; i + 1 < states->elements.size(); i += 2) {
    metrics::E164 number = 0;
    const auto s = DecodeState(states->elements[i + 1].text);
    if (!absl::SimpleAtoi(states->elements[i].text, &number) || number == 0 || !s) continue;
    if (s->state != pacing::NumberState::kHealthy) ++paced;
    ApplyState(number, *s, at_start);
  }
  if (!at_start) FlushStates();
  // Policy keys set live anywhere in the fleet, oldest first.
  auto policy = link.Run({"HGETALL", keys_.Policy()});
  if (!policy.ok()) return policy.status();
  std::vector<FleetPolicy> settings;
  for (size_t i = 0; i + 1 < policy->elements.size(); i += 2) {
    if (auto p = DecodePolicy(policy->elements[i + 1].text)) settings.push_back(*std::move(p));
  }
  std::sort(settings.begin(), settings.end(), [](const auto& x, const auto& y) { return x.at_ms < y.at_ms; });
  for (const FleetPolicy& p : settings) ApplyPolicy(p, at_start);
  size_t numbers = 0;
  if (auto s = LoadCounts(link, now, at_start, &numbers); !s.ok()) return s;
  auto hours = link.Run({"HGETALL", keys_.Hours()});
  if (!hours.ok()) return hours.status();
  for (size_t i = 0; i + 1 < hours->elements.size(); i += 2) {
    absl::string_view node;
    uint32_t hour = 0;
    const auto counts = DecodeCounts(hours->elements[i + 1].text);
    if (!SplitField(hours->elements[i].text, &node, &hour) || !counts || node == options_.node_id) continue;
    store_.fleet()->SetHour(node, static_cast<int>(hour), *counts);
  }
  if (at_start || LogEnabled("DEBUG")) {
    LogLine(at_start ? "INFO" : "DEBUG", "fleet",
            absl::StrCat("read from redis ", options_.target.Text(), ": ", paced, " numbers paced, ", numbers,
                         " numbers' windows"));
  }
  return absl::OkStatus();
}

// Every number's and group's buckets in Redis: this node's own (at start:
// what it counted before it stopped) and the others'.
absl::Status FleetSync::LoadCounts(RedisLink& link, absl::Time now, bool at_start, size_t* numbers) {
  for (const std::string& prefix : {keys_.NumberPrefix(), keys_.GroupPrefix()}) {
    const bool number_keys = prefix == keys_.NumberPrefix();
    std::string cursor = "0";
    do {
      auto scan = link.Run({"SCAN", cursor, "MATCH", prefix + "*", "COUNT", absl::StrCat(kKeysPerScan)});
      if (!scan.ok()) return scan.status();
      if (scan->elements.size() != 2) return absl::DataLossError("redis: SCAN answered oddly");
      cursor = scan->elements[0].text;
      // "n:NUMBER:EPOCH" or "g:GROUP NAME:EPOCH" (a group's name may hold ':').
      struct Found {
        std::string name;
        uint32_t epoch = 0;
      };
      std::vector<Found> found;
      for (const RedisReply& key : scan->elements[1].elements) {
        absl::string_view rest = key.text;
        if (!absl::ConsumePrefix(&rest, prefix)) continue;
        const size_t colon = rest.rfind(':');
        Found f;
        if (colon == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(colon + 1), &f.epoch)) continue;
        f.name = std::string(rest.substr(0, colon));
        link.Append({"HGETALL", key.text});
        found.push_back(std::move(f));
      }
      std::vector<CountBatch> by_node;
      for (const Found& f : found) {
        auto fields = link.Next();
        if (!fields.ok()) return fields.status();
        metrics::E164 number = 0;
        if (number_keys && (!absl::SimpleAtoi(f.name, &number) || number == 0)) continue;
        auto group = group_index_.find(f.name);
        if (!number_keys && group == group_index_.end()) continue;
        for (size_t i = 0; i + 1 < fields->elements.size(); i += 2) {
          const std::string& node = fields->elements[i].text;
          const auto counts = DecodeCounts(fields->elements[i + 1].text);
          if (!ValidNodeId(node) || !counts) continue;
          if (node == options_.node_id) {
            if (at_start && number_keys) {
              metrics::NumberRecord own;
              own.number = number;
              own.last_seen_s = absl::ToUnixSeconds(now);
              own.buckets.push_back(metrics::BucketOf(f.epoch, *counts));
              store_.ImportNumber(own, now);
            }
            continue;
          }
          auto it = std::find_if(by_node.begin(), by_node.end(), [&](const CountBatch& b) { return b.node == node; });
          if (it == by_node.end()) {
            by_node.push_back(CountBatch{node, 0, {}, {}, {}});
            it = by_node.end() - 1;
          }
          if (number_keys) {
            it->numbers.push_back({number, f.epoch, *counts});
          } else {
            it->groups.push_back({f.name, f.epoch, *counts});
          }
        }
        if (number_keys) ++*numbers;
      }
      for (const CountBatch& batch : by_node) {
        if (at_start) {
          // Before traffic: windows only, no evidence (the pacer's evidence
          // starts afresh at a start, as it does alone).
          for (const auto& l : batch.numbers)
            store_.fleet()->SetNumber(batch.node, l.number, metrics::BucketOf(l.epoch, l.counts), now);
          for (const auto& l : batch.groups)
            store_.fleet()->SetGroup(batch.node, group_index_[l.group], l.epoch, l.counts, now);
        } else {
          ApplyBatch(batch, now);
        }
      }
    } while (cursor != "0" && !stop_.load());
  }
  return absl::OkStatus();
}

absl::Status FleetSync::LoadAtStart(absl::Time now) {
  auto link = RedisLink::Connect(options_.target, kRedisTimeout);
  if (!link.ok()) {
    if (link.status().code() == absl::StatusCode::kPermissionDenied) return link.status();
    LogLine("WARN", "fleet",
            absl::StrCat("starting without the fleet's windows and states (degraded): ", link.status().message()));
    return absl::OkStatus();
  }
  // Subscribed before reading: what changes meanwhile waits on the channel
  // for the listen thread, which then needs no second full read.
  if (!OpenSubscription().ok()) listen_link_.reset();
  if (auto s = LoadAll(**link, now, /*at_start=*/true); !s.ok()) {
    LogLine("WARN", "fleet", absl::StrCat("starting with part of the fleet's windows and states: ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status FleetSync::OpenSubscription() {
  auto link = RedisLink::Connect(options_.target, kRedisTimeout);
  if (!link.ok()) return link.status();
  (*link)->Append({"SUBSCRIBE", keys_.CountsChannel(), keys_.StatesChannel(), keys_.PolicyChannel()});
  for (int i = 0; i < 3; ++i) {
    auto r = (*link)->Next();
    if (!r.ok()) return r.status();
  }
  listen_link_ = *std::move(link);
  return absl::OkStatus();
}

absl::Status FleetSync::Subscribe() {
  if (auto s = OpenSubscription(); !s.ok()) return s;
  // Subscribed first, then read everything: what changes meanwhile arrives
  // on the channel after it.
  auto loader = RedisLink::Connect(options_.target, kRedisTimeout);
  if (!loader.ok()) return loader.status();
  return LoadAll(**loader, absl::Now(), /*at_start=*/false);
}

void FleetSync::ListenLoop() {
  absl::Time next_connect = absl::InfinitePast();
  if (listen_link_ != nullptr) {  // opened by LoadAtStart
    absl::MutexLock lock(&status_mu_);
    status_.listening = true;
  }
  while (!stop_.load()) {
    const absl::Time now = absl::Now();
    if (listen_link_ == nullptr) {
      if (now < next_connect) {
        std::unique_lock<std::mutex> lock(wake_mu_);
        wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_.load(); });
        continue;
      }
      next_connect = now + kReconnectEvery;
      if (auto s = Subscribe(); !s.ok()) {
        listen_link_.reset();
        Warn(absl::StrCat("redis unreachable, not hearing the other nodes: ", s.message()), "listen-connect");
        continue;
      }
      absl::MutexLock lock(&status_mu_);
      status_.listening = true;
    }
    if (now >= next_prune_) {
      store_.fleet()->Prune(now);
      next_prune_ = now + kPruneEvery;
    }
    // States heard wait at most one poll for the SIP thread.
    auto r = listen_link_->Poll(heard_states_.empty() ? kPollWait : absl::Milliseconds(20));
    if (r.ok() && r->kind == RedisReply::Kind::kNil) FlushStates();
    if (!r.ok()) {
      listen_link_.reset();
      Warn(absl::StrCat("redis link lost, not hearing the other nodes: ", r.status().message()), "listen-lost");
      absl::MutexLock lock(&status_mu_);
      status_.listening = false;
      continue;
    }
    if (r->kind != RedisReply::Kind::kArray || r->elements.size() != 3 || r->elements[0].text != "message") continue;
    const std::string& channel = r->elements[1].text;
    const std::string& payload = r->elements[2].text;
    if (channel == keys_.CountsChannel()) {
      if (absl::StartsWith(payload, own_batch_header_)) continue;  // our own, back from Redis
      auto batch = DecodeBatch(payload);
      if (!batch || batch->node == options_.node_id) continue;
      ApplyBatch(*batch, absl::Now());
      absl::MutexLock lock(&status_mu_);
      ++status_.batches_heard;
    } else if (channel == keys_.PolicyChannel()) {
      if (auto p = DecodePolicy(payload)) ApplyPolicy(*p, false);
    } else if (channel == keys_.StatesChannel()) {
      const size_t space = payload.find(' ');
      metrics::E164 number = 0;
      if (space == std::string::npos || !absl::SimpleAtoi(absl::string_view(payload).substr(0, space), &number))
        continue;
      if (auto s = DecodeState(absl::string_view(payload).substr(space + 1)); s && number != 0) {
        ApplyState(number, *s, false);
      }
    }
  }
}

}  // namespace sippacer::proxy::fleet
