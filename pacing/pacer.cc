#include "pacing/pacer.h"

#include <algorithm>
#include <array>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "metrics/seqlock_text.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "pacing/baseline.h"
#include "pacing/evidence.h"
#include "pacing/number_pacing_table.h"
#include "pacing/rule_match.h"
#include "pacing/pacer_impl.h"
#include "pacing/verdict.h"

namespace sippacer::pacing {
namespace {

constexpr absl::Duration kRouteEvery = absl::Seconds(10);
// Paced or watched numbers reviewed per tick (a round of 100,000 takes 25 s).
constexpr size_t kTickBudget = 4096;
// A quarantine "until released" still tells the dialer when to ask again.
constexpr absl::Duration kIndefiniteRetry = absl::Hours(1);

int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }

}  // namespace

absl::string_view StateName(NumberState s) {
  switch (s) {
    case NumberState::kHealthy:
      return "healthy";
    case NumberState::kThrottled:
      return "throttled";
    case NumberState::kQuarantined:
      return "quarantined";
    case NumberState::kProbation:
      return "probation";
  }
  return "?";
}

const EvidenceSet& NoEvidence() {
  static const EvidenceSet kNone;
  return kNone;
}

PacingEntry& Pacer::Impl::EntryFor(metrics::NumberId id) {
  PacingEntry& e = table.At(id.index);
  if (e.generation.load(std::memory_order_relaxed) != id.generation) {
    // The slot holds a new number: start it healthy, with a full bucket.
    // The number it held before leaves the watch list with it.
    if (e.watched.load(std::memory_order_relaxed) != 0 && watched_numbers.erase(id.index) > 0) {
      watched_count.fetch_sub(1, std::memory_order_relaxed);
    }
    e.seq.store(e.seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    e.generation.store(id.generation, std::memory_order_relaxed);
    e.state.store(static_cast<uint8_t>(NumberState::kHealthy), std::memory_order_relaxed);
    e.since_ms.store(0, std::memory_order_relaxed);
    e.until_ms.store(INT64_MAX, std::memory_order_relaxed);
    e.paced.store(0, std::memory_order_relaxed);
    e.reason_slot.store(-1, std::memory_order_relaxed);
    e.watched.store(0, std::memory_order_relaxed);
    e.watch_reason_slot.store(-1, std::memory_order_relaxed);
    e.seq.store(e.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    e.tokens = -1;  // filled on first use
    e.refill_ms = 0;
    DropEvidence(e);
  }
  return e;
}

absl::Duration Pacer::Impl::ShortestWindow() const {
  absl::Duration d = absl::InfiniteDuration();
  for (const Rule& r : live.rules) {
    if (r.action != RuleAction::kWatch) d = std::min(d, r.window);
  }
  return d == absl::InfiniteDuration() ? absl::Minutes(15) : d;
}

bool Pacer::Impl::TakeToken(PacingEntry& e, double cpm, absl::Time now, absl::Duration* wait) {
  // Capacity: strict spacing for slow rates, a 10-second burst for fast ones.
  const double capacity = std::max(1.0, cpm / 6.0);
  const double per_ms = cpm / 60000.0;
  const int64_t now_ms = Ms(now);
  if (e.tokens < 0) {
    e.tokens = capacity;
  } else {
    e.tokens = std::min(capacity, e.tokens + static_cast<double>(now_ms - e.refill_ms) * per_ms);
  }
  e.refill_ms = now_ms;
  if (e.tokens >= 1.0) {
    e.tokens -= 1.0;
    return true;
  }
  *wait = absl::Milliseconds(static_cast<int64_t>((1.0 - e.tokens) / per_ms) + 1);
  return false;
}

void Pacer::Impl::SetState(metrics::NumberId id, PacingEntry& e, NumberState to, absl::Time now, absl::Time until,
                           const std::string& reason, const std::string& rule) {
  const auto from = static_cast<NumberState>(e.state.load(std::memory_order_relaxed));
  const metrics::E164 number = store.NumberOf(id);
  const auto slot = static_cast<int32_t>(next_reason++ % reasons_size);
  reasons[static_cast<size_t>(slot)].Write(number, reason);
  e.seq.store(e.seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  e.state.store(static_cast<uint8_t>(to), std::memory_order_relaxed);
  e.since_ms.store(Ms(now), std::memory_order_relaxed);
  e.until_ms.store(until == absl::InfiniteFuture() ? INT64_MAX : Ms(until), std::memory_order_relaxed);
  e.reason_slot.store(slot, std::memory_order_relaxed);
  e.seq.store(e.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  // A throttled or probation number starts with an empty bucket: slow at once.
  e.tokens = to == NumberState::kHealthy ? -1 : 0;
  e.refill_ms = Ms(now);
  // Probation and a release start from no evidence: what condemned the
  // number before is not evidence against it now.
  if (to == NumberState::kProbation || to == NumberState::kHealthy) DropEvidence(e);
  if (from != to) {
    in_state[static_cast<int>(from)].fetch_sub(1, std::memory_order_relaxed);
    in_state[static_cast<int>(to)].fetch_add(1, std::memory_order_relaxed);
  }
  const bool paced = to != NumberState::kHealthy;
  store.SetPinned(id, paced);
  if (paced)
    paced_numbers.insert(id.index);
  else
    paced_numbers.erase(id.index);
  if (sink != nullptr && from != to) {
    StateChange change;
    change.number = number;
    change.from = from;
    change.to = to;
    change.at = now;
    change.reason = reason;
    change.rule = rule;
    change.until = until;
    change.by_operator = absl::StartsWith(reason, "operator:");
    change.fleet_node = adopting_from;
    sink->OnStateChange(change);
  }
}

void Pacer::Impl::SetWatch(metrics::NumberId id, PacingEntry& e, bool watched, absl::Time now,
                           const std::string& reason) {
  const metrics::E164 number = store.NumberOf(id);
  const auto slot = static_cast<int32_t>(next_reason++ % reasons_size);
  reasons[static_cast<size_t>(slot)].Write(number, reason);
  e.seq.store(e.seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  e.watched.store(watched ? 1 : 0, std::memory_order_relaxed);
  e.watch_since_ms.store(Ms(now), std::memory_order_relaxed);
  e.watch_reason_slot.store(slot, std::memory_order_relaxed);
  e.seq.store(e.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  if (watched) {
    watched_numbers.insert(id.index);
    watched_count.fetch_add(1, std::memory_order_relaxed);
  } else {
    watched_numbers.erase(id.index);
    watched_count.fetch_sub(1, std::memory_order_relaxed);
  }
  if (sink != nullptr) sink->OnWatchChange(WatchChange{number, watched, now, reason});
}

namespace {

// One call's step on one run of evidence: drop the run if it began longer
// ago than the window (so a window means what the rule says), then add the
// step; a CUSUM floors at zero.
void Step(RuleEvidence& ev, bool hit, const EvidenceSteps& step, double p0, absl::Time now, absl::Duration window) {
  if (ev.sum <= 0 || now - absl::FromUnixSeconds(ev.since_s) > window) {
    ev = RuleEvidence{};
    if (!hit) return;
    ev.since_s = static_cast<uint32_t>(absl::ToUnixSeconds(now));
  }
  ev.sum += static_cast<float>(hit ? step.hit : step.miss);
  ev.calls = static_cast<uint16_t>(std::min<int>(UINT16_MAX, ev.calls + 1));
  if (hit) ev.hits = static_cast<uint16_t>(std::min<int>(UINT16_MAX, ev.hits + 1));
  ev.baseline = static_cast<float>(p0);
  if (ev.sum <= 0) ev = RuleEvidence{};
}

bool Active(const RuleEvidence& ev) { return ev.sum > 0; }

// The slot of `group` in the number's per-carrier evidence; a new carrier
// takes a free slot, or the one with the least evidence.
CarrierEvidence& SlotFor(EvidenceSet& set, int group) {
  CarrierEvidence* weakest = nullptr;
  float weakest_sum = 0;
  for (CarrierEvidence& c : set.by_carrier) {
    if (c.group == group) return c;
    float most = -1;  // a free slot goes first
    if (c.group >= 0) {
      most = 0;
      for (const RuleEvidence& ev : c.evidence) most = std::max(most, ev.sum);
    }
    if (weakest == nullptr || most < weakest_sum) {
      weakest = &c;
      weakest_sum = most;
    }
  }
  *weakest = CarrierEvidence{};
  weakest->group = group;
  return *weakest;
}

}  // namespace

void Pacer::Impl::AddEvidence(metrics::NumberId id, PacingEntry& e, const metrics::CallOutcome& o) {
  const metrics::Route route = store.RouteOf(o.callee);
  // A new market's calls are counted, but judge no number until the
  // country has a baseline of its own.
  if (Learning(route.country_code)) return;
  const absl::Time now = o.final_at;
  if (e.evidence == nullptr) {
    // No evidence yet, and a call no rule counts against the number: every
    // rule's CUSUM stays at zero.
    const size_t rules = std::min(live.rules.size(), kMaxRules);
    if (std::none_of(live.rules.begin(), live.rules.begin() + static_cast<ptrdiff_t>(rules),
                     [&o](const Rule& r) { return RuleMatches(r, o); })) {
      return;
    }
    e.evidence = evidence_pool.Take();
  }
  EvidenceSet& set = *e.evidence;
  CarrierEvidence* carrier = route.carrier_known ? &SlotFor(set, route.carrier) : nullptr;
  std::optional<OwnCounts> own;
  for (size_t i = 0; i < live.rules.size() && i < kMaxRules; ++i) {
    const Rule& rule = live.rules[i];
    const int ci = carrier != nullptr ? CarrierRuleIndex(live.rules, i) : -1;
    RuleEvidence* per_carrier = ci >= 0 ? &carrier->evidence[ci] : nullptr;
    const bool hit = RuleMatches(rule, o);
    // A CUSUM at zero stays there on a miss: most calls cost nothing here.
    if (!hit && !Active(set.rules[i]) && !(per_carrier && Active(*per_carrier))) continue;
    if (!own) own = OwnCounts{store.Window(id, kRouteWindow, now), store.Window(id, store.options().history, now)};
    const double p0 = baselines.For(rule, route, *own, now, live.hour_guard);
    const EvidenceSteps& step = steppers[i].At(p0);
    if (!step.usable) continue;  // the route itself is over the line
    Step(set.rules[i], hit, step, p0, now, rule.window);
    if (per_carrier) Step(*per_carrier, hit, step, p0, now, rule.window);
  }
  const bool any = std::any_of(std::begin(set.rules), std::end(set.rules), Active) ||
                   std::any_of(std::begin(set.by_carrier), std::end(set.by_carrier), [](const CarrierEvidence& c) {
                     return std::any_of(std::begin(c.evidence), std::end(c.evidence), Active);
                   });
  if (!any) DropEvidence(e);
}

void Pacer::Impl::Evaluate(metrics::NumberId id, PacingEntry& e, absl::Time now) {
  if (!e.watched.load(std::memory_order_relaxed)) {
    const Verdict w = Judge(store, live, thresholds, id, e, now, /*watch=*/true);
    if (w.fired) SetWatch(id, e, true, now, w.reason);
  }
  const auto state = static_cast<NumberState>(e.state.load(std::memory_order_relaxed));
  if (state == NumberState::kQuarantined) return;
  Verdict v = Judge(store, live, thresholds, id, e, now, /*watch=*/false);
  if (!v.fired) return;
  if (v.action == RuleAction::kQuarantine || state == NumberState::kProbation) {
    const absl::Time until =
        live.quarantine_for == absl::ZeroDuration() ? absl::InfiniteFuture() : now + live.quarantine_for;
    SetState(id, e, NumberState::kQuarantined, now, until, v.reason, live.rules[v.rule].text);
  } else if (state == NumberState::kHealthy) {
    SetState(id, e, NumberState::kThrottled, now, absl::InfiniteFuture(), v.reason, live.rules[v.rule].text);
  }
}

Pacer::Pacer(metrics::Store& store, Policy policy, EventSink* sink)
    : impl_(std::make_unique<Impl>(store, std::move(policy), sink)) {}
Pacer::~Pacer() = default;

Decision Pacer::OnInvite(metrics::E164 caller, metrics::E164 callee, absl::Time now) {
  Impl& m = *impl_;
  Decision d;
  d.dry_run = m.live.dry_run;
  const metrics::NumberId id = caller != 0 ? m.store.Touch(caller, now) : metrics::NumberId{};
  if (!id.valid()) {
    // No number to pace (no usable caller ID, or a table full of paced
    // numbers): never block the call on it, but count its attempt.
    m.store.RecordAttempt(id, callee, now);
    return d;
  }
  PacingEntry& e = m.EntryFor(id);
  auto state = static_cast<NumberState>(e.state.load(std::memory_order_relaxed));
  if (state == NumberState::kQuarantined) {
    const int64_t until = e.until_ms.load(std::memory_order_relaxed);
    if (until != INT64_MAX && Ms(now) >= until) {
      m.SetState(id, e, NumberState::kProbation, now, absl::InfiniteFuture(), "quarantine over: probation");
      state = NumberState::kProbation;
    }
  }
  d.state = state;
  absl::Duration wait;
  if (state == NumberState::kQuarantined) {
    const int64_t until = e.until_ms.load(std::memory_order_relaxed);
    d.refuse = true;
    d.action = "quarantine";
    d.retry_after = until == INT64_MAX ? kIndefiniteRetry : absl::Milliseconds(until - Ms(now));
  } else if (state != NumberState::kHealthy) {
    if (!m.TakeToken(e, m.live.throttled_cpm, now, &wait)) {
      d.refuse = true;
      d.action = "throttle";
      d.retry_after = wait;
    }
  } else if (m.live.number_cpm > 0 && !m.TakeToken(e, m.live.number_cpm, now, &wait)) {
    d.refuse = true;
    d.action = "throttle";
    d.retry_after = wait;
  }
  if (d.refuse) {
    m.store.RecordPaced(id, now);
    e.paced.store(e.paced.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    m.paced_total.fetch_add(1, std::memory_order_relaxed);
    m.why =
        state == NumberState::kHealthy ? absl::StrCat("over --number_cpm ", m.live.number_cpm) : m.ReasonOf(e, caller);
    d.why = m.why;
  }
  if (!d.refuse || d.dry_run) m.store.RecordAttempt(id, callee, now);
  return d;
}

void Pacer::OnFinal(const metrics::CallOutcome& outcome) {
  Impl& m = *impl_;
  const auto found = outcome.caller != 0 ? m.store.Find(outcome.caller) : std::nullopt;
  if (!found) {
    // No number to judge (no usable caller ID, or no longer tracked): the
    // answer still counts in the totals, carriers, countries and codes.
    m.store.RecordFinal(metrics::NumberId{}, outcome);
    return;
  }
  const metrics::NumberId id = *found;
  m.store.RecordFinal(id, outcome);
  PacingEntry& e = m.EntryFor(id);
  m.AddEvidence(id, e, outcome);
  m.Evaluate(id, e, outcome.final_at);
}

void Pacer::Impl::Review(uint32_t index, absl::Time now) {
  PacingEntry& e = table.At(index);
  const metrics::NumberId id{index, e.generation.load(std::memory_order_relaxed)};
  if (!store.IsCurrent(id)) {
    if (watched_numbers.erase(index) > 0) watched_count.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  const auto state = static_cast<NumberState>(e.state.load(std::memory_order_relaxed));
  const absl::Time since = absl::FromUnixMillis(e.since_ms.load(std::memory_order_relaxed));
  const int64_t until = e.until_ms.load(std::memory_order_relaxed);
  if (state == NumberState::kQuarantined) {
    if (until != INT64_MAX && Ms(now) >= until) {
      SetState(id, e, NumberState::kProbation, now, absl::InfiniteFuture(), "quarantine over: probation");
    }
  } else if (state != NumberState::kHealthy && now - since >= ShortestWindow() &&
             Recovered(store, live, thresholds, id, e, now)) {
    // Throttled or on probation for the shortest window, and neither the
    // evidence nor any window's rate is over a line any more.
    SetState(id, e, NumberState::kHealthy, now, absl::InfiniteFuture(),
             state == NumberState::kProbation ? "probation passed" : "recovered: under every line");
  }
  if (e.watched.load(std::memory_order_relaxed) == 0) return;
  const absl::Time watch_since = absl::FromUnixMillis(e.watch_since_ms.load(std::memory_order_relaxed));
  for (size_t i = 0; i < live.rules.size() && i < kMaxRules; ++i) {
    const Rule& rule = live.rules[i];
    if (rule.action != RuleAction::kWatch || now - watch_since < rule.window) continue;
    if (RuleCleared(store, live, thresholds, i, id, e, now)) {
      const metrics::CodeCounts c = store.Window(id, rule.window, now);
      const double rate = c.attempts ? static_cast<double>(RuleHits(rule, c)) / c.attempts : 0;
      SetWatch(id, e, false, now,
               absl::StrFormat("%s %.1f%% in the last %s, under the line", RuleCodeName(rule), rate * 100,
                               absl::FormatDuration(rule.window)));
      return;
    }
  }
}

void Pacer::Tick(absl::Time now) {
  Impl& m = *impl_;
  // Paced and watched numbers are reviewed round-robin, at most kTickBudget
  // a tick, so a tick costs the same with 100 or 100,000 of them; the list is
  // refilled (its capacity reused) once a round is done.
  if (m.review_pos >= m.review.size()) {
    m.review.clear();
    m.review.insert(m.review.end(), m.paced_numbers.begin(), m.paced_numbers.end());
    for (uint32_t index : m.watched_numbers) {
      if (!m.paced_numbers.contains(index)) m.review.push_back(index);
    }
    m.review_pos = 0;
  }
  const size_t end = std::min(m.review.size(), m.review_pos + kTickBudget);
  for (; m.review_pos < end; ++m.review_pos) m.Review(m.review[m.review_pos], now);
  if (now >= m.next_route_check) {
    m.next_route_check = now + kRouteEvery;
    for (const RouteChange& c : m.routes.Evaluate(m.store, m.baselines, now)) {
      if (m.sink != nullptr) m.sink->OnRouteChange(c);
    }
  }
}

absl::StatusOr<OperatorAction> Pacer::Quarantine(metrics::E164 number, std::optional<absl::Duration> duration,
                                                 absl::Time now) {
  Impl& m = *impl_;
  OperatorAction a;
  a.tracked = m.store.Find(number).has_value();
  a.before = State(number).state;
  const metrics::NumberId id = m.store.Touch(number, now);
  if (!id.valid()) return absl::ResourceExhaustedError("every tracked number is paced; raise --max_numbers");
  const absl::Duration d = duration.value_or(m.live.quarantine_for);
  const absl::Time until = d == absl::ZeroDuration() ? absl::InfiniteFuture() : now + d;
  m.SetState(
      id, m.EntryFor(id), NumberState::kQuarantined, now, until,
      d == absl::ZeroDuration() ? "operator: until released" : absl::StrCat("operator: for ", absl::FormatDuration(d)));
  a.changed = true;
  a.after = State(number);
  return a;
}

absl::StatusOr<OperatorAction> Pacer::Release(metrics::E164 number, absl::Time now) {
  Impl& m = *impl_;
  OperatorAction a;
  // Find, not Touch: releasing a number never seen must not start tracking it.
  const std::optional<metrics::NumberId> id = m.store.Find(number);
  a.tracked = id.has_value();
  a.after = State(number);
  a.before = a.after.state;
  if (!id || a.before == NumberState::kHealthy) return a;
  m.SetState(*id, m.EntryFor(*id), NumberState::kHealthy, now, absl::InfiniteFuture(), "operator: released");
  a.changed = true;
  a.after = State(number);
  return a;
}

void Pacer::Restore(metrics::NumberId id, const NumberPacing& saved) {
  Impl& m = *impl_;
  if (!m.store.IsCurrent(id) || saved.state == NumberState::kHealthy) return;
  PacingEntry& e = m.EntryFor(id);
  EventSink* sink = m.sink;
  m.sink = nullptr;  // a restart is not a change of state
  const absl::Time since = saved.since == absl::InfinitePast() ? absl::UnixEpoch() : saved.since;
  m.SetState(id, e, saved.state, since, saved.until, saved.reason);
  m.sink = sink;
  e.paced.store(static_cast<uint32_t>(saved.paced), std::memory_order_relaxed);
}

void Pacer::SetPolicy(Policy policy, PolicyOrigin origin) {
  impl_->live = policy;
  impl_->Derive();
  absl::MutexLock lock(&impl_->policy_mu);
  impl_->published = std::move(policy);
  impl_->origin = std::move(origin);
}

const Policy& Pacer::flag_policy() const { return impl_->flags; }

PolicyOrigin Pacer::policy_origin() const {
  absl::MutexLock lock(&impl_->policy_mu);
  return impl_->origin;
}

Policy Pacer::policy() const {
  absl::MutexLock lock(&impl_->policy_mu);
  return impl_->published;
}

NumberPacing Pacer::State(metrics::E164 number) const {
  NumberPacing out;
  const auto id = impl_->store.Find(number);
  if (!id) return out;
  const PacingEntry* e = impl_->table.Find(id->index);
  if (e == nullptr) return out;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint32_t s1 = e->seq.load(std::memory_order_acquire);
    if (s1 & 1) continue;
    const uint32_t gen = e->generation.load(std::memory_order_relaxed);
    const auto state = static_cast<NumberState>(e->state.load(std::memory_order_relaxed));
    const int64_t since = e->since_ms.load(std::memory_order_relaxed);
    const int64_t until = e->until_ms.load(std::memory_order_relaxed);
    const uint32_t paced = e->paced.load(std::memory_order_relaxed);
    const int32_t reason_slot = e->reason_slot.load(std::memory_order_relaxed);
    const bool watched = e->watched.load(std::memory_order_relaxed) != 0;
    const int32_t watch_slot = e->watch_reason_slot.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (e->seq.load(std::memory_order_relaxed) != s1) continue;
    if (gen != id->generation) return out;  // never paced since it arrived
    // The index may have moved this slot to another number while we read
    // (eviction, backward-shift delete): trust it only if it is still ours.
    if (impl_->store.NumberOf(*id) != number) return out;
    out.watched = watched;
    if (watched && watch_slot >= 0) out.watch_reason = impl_->reasons[static_cast<size_t>(watch_slot)].Read(number);
    out.state = state;
    out.since = since ? absl::FromUnixMillis(since) : absl::InfinitePast();
    out.until = until == INT64_MAX ? absl::InfiniteFuture() : absl::FromUnixMillis(until);
    out.paced = paced;
    if (reason_slot >= 0) out.reason = impl_->reasons[static_cast<size_t>(reason_slot)].Read(number);
    return out;
  }
  return out;
}

uint64_t Pacer::numbers_watched() const { return impl_->watched_count.load(std::memory_order_relaxed); }

std::vector<RouteStatus> Pacer::ElevatedRoutes() const { return impl_->routes.Elevated(); }

bool Pacer::CountryLearning(int country_code) const {
  const Policy p = policy();
  return country_code > 0 && country_code != p.home_country_code && p.baseline_days > 0 &&
         impl_->store.CountryDaysSeen(country_code) < static_cast<uint32_t>(p.baseline_days);
}

uint64_t Pacer::paced_total() const { return impl_->paced_total.load(std::memory_order_relaxed); }

uint64_t Pacer::numbers_in_state(NumberState s) const {
  if (s == NumberState::kHealthy) {
    const uint64_t tracked = impl_->store.numbers_tracked();
    uint64_t paced = 0;
    for (int i = 1; i < kStates; ++i) paced += impl_->in_state[i].load(std::memory_order_relaxed);
    return tracked > paced ? tracked - paced : 0;
  }
  return impl_->in_state[static_cast<int>(s)].load(std::memory_order_relaxed);
}

std::vector<RuleCheck> Pacer::Explain(metrics::E164 number, absl::Time now) const {
  const Impl& m = *impl_;
  const auto id = m.store.Find(number);
  if (!id) return {};
  const PacingEntry* e = m.table.Find(id->index);
  if (e == nullptr || e->generation.load(std::memory_order_relaxed) != id->generation) {
    // Never judged yet: every rule with empty evidence.
    PacingEntry empty;
    return ExplainRules(m.store, m.live, m.thresholds, *id, empty, now);
  }
  return ExplainRules(m.store, m.live, m.thresholds, *id, *e, now);
}

}  // namespace sippacer::pacing
