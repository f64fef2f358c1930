// The pacer's side of a fleet (docs/fleet.md): other nodes' calls as
// evidence, and the fleet's settled state for a number.
#include <algorithm>
#include <array>
#include <vector>

#include "pacing/pacer.h"
#include "pacing/pacer_impl.h"

namespace sippacer::pacing {
namespace {

// Another node's calls come as counts, not calls: each category is replayed
// as calls of one representative code, enough for every rule's CODE.
constexpr std::array<int, metrics::kOutcomeCount> kRepresentative = {200, 300, 403, 404, 408, 410, 480, 486, 487,
                                                                     400, 500, 503, 502, 603, 607, 608, 600};
// A burst of another node's calls is replayed up to this many per number at
// once (a reconnect after an outage must not stall the SIP thread).
constexpr uint32_t kMostCallsAtOnce = 256;

int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }

// The calls in `added`, categories interleaved so that a run of hits and
// misses is spread as the calls were, not grouped.
std::vector<metrics::CallOutcome> Replay(metrics::E164 number, const metrics::CodeCounts& added, absl::Time now) {
  std::array<uint32_t, metrics::kOutcomeCount> left;
  for (int k = 0; k < metrics::kOutcomeCount; ++k) left[k] = added.by_outcome[k];
  // Of the 603s: first the 603+ (before ring), then the other pre-ring ones.
  const uint32_t declines = added.of(metrics::Outcome::k603);
  uint32_t blocked = std::min(added.network_blocked, declines);
  uint32_t pre_ring = std::min(added.pre_ring_603, declines);
  std::vector<metrics::CallOutcome> out;
  for (bool any = true; any && out.size() < kMostCallsAtOnce;) {
    any = false;
    for (int k = 0; k < metrics::kOutcomeCount && out.size() < kMostCallsAtOnce; ++k) {
      if (left[k] == 0) continue;
      --left[k];
      any = true;
      metrics::CallOutcome o;
      o.caller = number;
      o.code = kRepresentative[k];
      o.ringing_seen = true;
      o.final_at = now;
      if (k == static_cast<int>(metrics::Outcome::k603)) {
        if (blocked > 0) {
          --blocked;
          o.network_blocked = true;
        }
        if (pre_ring > 0) {
          --pre_ring;
          o.ringing_seen = false;
        }
      }
      out.push_back(o);
    }
  }
  return out;
}

}  // namespace

void Pacer::Impl::AddFleetEvidence(metrics::NumberId id, PacingEntry& e, const metrics::CodeCounts& added,
                                   absl::Time now) {
  for (const metrics::CallOutcome& o : Replay(store.NumberOf(id), added, now)) AddEvidence(id, e, o);
}

void Pacer::OnFleetCalls(metrics::E164 number, const metrics::CodeCounts& added, absl::Time now) {
  Impl& m = *impl_;
  if (added.finals() == 0) return;
  const std::optional<metrics::NumberId> id = m.store.Find(number);
  if (!id) return;
  PacingEntry& e = m.EntryFor(*id);
  m.AddFleetEvidence(*id, e, added, now);
  m.Evaluate(*id, e, now);
}

void Pacer::AdoptFleetState(metrics::E164 number, NumberState state, absl::Time since, absl::Time until,
                            const std::string& reason, const std::string& node, absl::Time now) {
  Impl& m = *impl_;
  const NumberPacing current = State(number);
  if (current.state == state && current.since != absl::InfinitePast() && Ms(current.since) == Ms(since) &&
      current.until == until) {
    return;  // ours, come back from Redis, or already taken
  }
  std::optional<metrics::NumberId> id = m.store.Find(number);
  if (!id) {
    if (state == NumberState::kHealthy) return;  // nothing to undo here
    const metrics::NumberId touched = m.store.Touch(number, now);
    if (!touched.valid()) return;  // every slot paced: counted by the Store
    id = touched;
  }
  m.adopting_from = node;
  m.SetState(*id, m.EntryFor(*id), state, since, until, reason);
  m.adopting_from.clear();
}

}  // namespace sippacer::pacing
