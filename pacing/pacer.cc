#include "pacing/pacer.h"

#include <array>

#include "absl/container/flat_hash_set.h"
#include "metrics/seqlock_text.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "pacing/number_pacing_table.h"
#include "pacing/rule_match.h"
#include "pacing/verdict.h"

namespace sippacer::pacing {
namespace {

constexpr int kStates = 4;
// A quarantine "until released" still tells the dialer when to ask again.
constexpr absl::Duration kIndefiniteRetry = absl::Hours(1);

int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }

}  // namespace

absl::string_view StateName(NumberState s) {
  switch (s) {
    case NumberState::kHealthy: return "healthy";
    case NumberState::kThrottled: return "throttled";
    case NumberState::kQuarantined: return "quarantined";
    case NumberState::kProbation: return "probation";
  }
  return "?";
}

struct Pacer::Impl {
  Impl(metrics::Store& s, Policy p, EventSink* k)
      : store(s), live(std::move(p)), sink(k), table(s.options().max_numbers),
        reasons_size(std::max<size_t>(8192, s.options().max_numbers / 16)),
        reasons(new metrics::SeqlockText[reasons_size]) {
    published = live;
  }
  // The reason text of a paced number ("" once the ring moved past it).
  std::string ReasonOf(const PacingEntry& e, metrics::E164 number) const {
    const int32_t slot = e.reason_slot.load(std::memory_order_relaxed);
    return slot < 0 ? "" : reasons[static_cast<size_t>(slot)].Read(number);
  }

  PacingEntry& EntryFor(metrics::NumberId id);
  void SetState(metrics::NumberId id, PacingEntry& e, NumberState to, absl::Time now,
                absl::Time until, const std::string& reason);
  // True and a token taken when the bucket at `cpm` allows a call now.
  bool TakeToken(PacingEntry& e, double cpm, absl::Time now, absl::Duration* wait);
  void Evaluate(metrics::NumberId id, PacingEntry& e, absl::Time now);
  absl::Duration ShortestWindow() const;

  metrics::Store& store;
  Policy live;  // SIP thread only
  EventSink* sink;
  PacingTable table;
  absl::flat_hash_set<uint32_t> paced_numbers;  // slots not healthy (SIP thread)
  std::string why;                              // Decision::why storage
  size_t reasons_size;
  std::unique_ptr<metrics::SeqlockText[]> reasons;  // reason texts, a ring
  size_t next_reason = 0;                           // SIP thread
  std::atomic<uint64_t> paced_total{0};
  std::array<std::atomic<uint64_t>, kStates> in_state{};
  mutable absl::Mutex policy_mu;
  Policy published ABSL_GUARDED_BY(policy_mu);  // for other threads
};

PacingEntry& Pacer::Impl::EntryFor(metrics::NumberId id) {
  PacingEntry& e = table.At(id.index);
  if (e.generation.load(std::memory_order_relaxed) != id.generation) {
    // The slot holds a new number: start it healthy, with a full bucket.
    e.seq.store(e.seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    e.generation.store(id.generation, std::memory_order_relaxed);
    e.state.store(static_cast<uint8_t>(NumberState::kHealthy), std::memory_order_relaxed);
    e.since_ms.store(0, std::memory_order_relaxed);
    e.until_ms.store(INT64_MAX, std::memory_order_relaxed);
    e.paced.store(0, std::memory_order_relaxed);
    e.reason_slot.store(-1, std::memory_order_relaxed);
    e.seq.store(e.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    e.tokens = -1;  // filled on first use
    e.refill_ms = 0;
    e.probation_attempts = 0;
    std::fill(std::begin(e.probation_hits), std::end(e.probation_hits), 0);
  }
  return e;
}

absl::Duration Pacer::Impl::ShortestWindow() const {
  absl::Duration d = absl::Minutes(15);
  for (size_t i = 0; i < live.rules.size(); ++i) d = i == 0 ? live.rules[i].window : std::min(d, live.rules[i].window);
  return d;
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

void Pacer::Impl::SetState(metrics::NumberId id, PacingEntry& e, NumberState to, absl::Time now,
                           absl::Time until, const std::string& reason) {
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
  e.probation_attempts = 0;
  std::fill(std::begin(e.probation_hits), std::end(e.probation_hits), 0);
  if (from != to) {
    in_state[static_cast<int>(from)].fetch_sub(1, std::memory_order_relaxed);
    in_state[static_cast<int>(to)].fetch_add(1, std::memory_order_relaxed);
  }
  const bool paced = to != NumberState::kHealthy;
  store.SetPinned(id, paced);
  if (paced) paced_numbers.insert(id.index); else paced_numbers.erase(id.index);
  if (sink != nullptr && from != to) {
    StateChange change;
    change.number = number;
    change.from = from;
    change.to = to;
    change.at = now;
    change.reason = reason;
    sink->OnStateChange(change);
  }
}

void Pacer::Impl::Evaluate(metrics::NumberId id, PacingEntry& e, absl::Time now) {
  const auto state = static_cast<NumberState>(e.state.load(std::memory_order_relaxed));
  if (state == NumberState::kQuarantined) return;
  Verdict v = Judge(store, live, id, e, now);
  if (!v.fired) return;
  if (v.action == RuleAction::kQuarantine || state == NumberState::kProbation) {
    const absl::Time until = live.quarantine_for == absl::ZeroDuration() ? absl::InfiniteFuture()
                                                                         : now + live.quarantine_for;
    SetState(id, e, NumberState::kQuarantined, now, until, v.reason);
  } else if (state == NumberState::kHealthy) {
    SetState(id, e, NumberState::kThrottled, now, absl::InfiniteFuture(), v.reason);
  }
}

Pacer::Pacer(metrics::Store& store, Policy policy, EventSink* sink)
    : impl_(std::make_unique<Impl>(store, std::move(policy), sink)) {}
Pacer::~Pacer() = default;

Decision Pacer::OnInvite(metrics::E164 caller, metrics::E164 callee, absl::Time now) {
  Impl& m = *impl_;
  Decision d;
  d.dry_run = m.live.dry_run;
  const metrics::NumberId id = m.store.Touch(caller, now);
  if (!id.valid()) return d;  // table full of paced numbers: never block a call on it
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
    m.why = state == NumberState::kHealthy
                ? absl::StrCat("over --number_cpm ", m.live.number_cpm)
                : m.ReasonOf(e, caller);
    d.why = m.why;
  }
  if (!d.refuse || d.dry_run) {
    m.store.RecordAttempt(id, callee, now);
    if (state == NumberState::kProbation) ++e.probation_attempts;
  }
  return d;
}

void Pacer::OnFinal(const metrics::CallOutcome& outcome) {
  Impl& m = *impl_;
  const auto found = m.store.Find(outcome.caller);
  if (!found) return;
  const metrics::NumberId id = *found;
  m.store.RecordFinal(id, outcome);
  PacingEntry& e = m.EntryFor(id);
  if (static_cast<NumberState>(e.state.load(std::memory_order_relaxed)) == NumberState::kProbation) {
    for (size_t i = 0; i < m.live.rules.size() && i < kMaxRules; ++i) {
      if (RuleMatchesCode(m.live.rules[i], outcome.code, outcome.network_blocked)) ++e.probation_hits[i];
    }
  }
  m.Evaluate(id, e, outcome.final_at);
}

void Pacer::Tick(absl::Time now) {
  Impl& m = *impl_;
  std::vector<uint32_t> slots(m.paced_numbers.begin(), m.paced_numbers.end());
  for (uint32_t index : slots) {
    PacingEntry& e = m.table.At(index);
    const metrics::NumberId id{index, e.generation.load(std::memory_order_relaxed)};
    if (!m.store.IsCurrent(id)) continue;
    const auto state = static_cast<NumberState>(e.state.load(std::memory_order_relaxed));
    const absl::Time since = absl::FromUnixMillis(e.since_ms.load(std::memory_order_relaxed));
    const int64_t until = e.until_ms.load(std::memory_order_relaxed);
    if (state == NumberState::kQuarantined) {
      if (until != INT64_MAX && Ms(now) >= until) {
        m.SetState(id, e, NumberState::kProbation, now, absl::InfiniteFuture(), "quarantine over: probation");
      }
    } else if (now - since >= m.ShortestWindow()) {
      // Throttled: back to healthy once no rule fires on its windows.
      // Probation: healthy after a clean shortest-window period.
      const Verdict v = Judge(m.store, m.live, id, e, now);
      if (!v.fired) {
        m.SetState(id, e, NumberState::kHealthy, now, absl::InfiniteFuture(),
                   state == NumberState::kProbation ? "probation passed" : "recovered: no rule fires");
      }
    }
  }
}

absl::StatusOr<NumberPacing> Pacer::Quarantine(metrics::E164 number, std::optional<absl::Duration> duration,
                                               absl::Time now) {
  Impl& m = *impl_;
  const metrics::NumberId id = m.store.Touch(number, now);
  if (!id.valid()) return absl::ResourceExhaustedError("every tracked number is paced; raise --max_numbers");
  const absl::Duration d = duration.value_or(m.live.quarantine_for);
  const absl::Time until = d == absl::ZeroDuration() ? absl::InfiniteFuture() : now + d;
  m.SetState(id, m.EntryFor(id), NumberState::kQuarantined, now, until,
             d == absl::ZeroDuration() ? "operator: until released"
                                       : absl::StrCat("operator: for ", absl::FormatDuration(d)));
  return State(number);
}

absl::StatusOr<NumberPacing> Pacer::Release(metrics::E164 number, absl::Time now) {
  Impl& m = *impl_;
  const metrics::NumberId id = m.store.Touch(number, now);
  if (!id.valid()) return absl::ResourceExhaustedError("every tracked number is paced; raise --max_numbers");
  m.SetState(id, m.EntryFor(id), NumberState::kHealthy, now, absl::InfiniteFuture(), "operator: released");
  return State(number);
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

void Pacer::SetPolicy(Policy policy) {
  impl_->live = policy;
  absl::MutexLock lock(&impl_->policy_mu);
  impl_->published = std::move(policy);
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
    std::atomic_thread_fence(std::memory_order_acquire);
    if (e->seq.load(std::memory_order_relaxed) != s1) continue;
    if (gen != id->generation) return out;  // never paced since it arrived
    out.state = state;
    out.since = since ? absl::FromUnixMillis(since) : absl::InfinitePast();
    out.until = until == INT64_MAX ? absl::InfiniteFuture() : absl::FromUnixMillis(until);
    out.paced = paced;
    if (reason_slot >= 0) out.reason = impl_->reasons[static_cast<size_t>(reason_slot)].Read(number);
    return out;
  }
  return out;
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

}  // namespace sippacer::pacing
