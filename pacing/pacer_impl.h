#pragma once
// Pacer::Impl: the pacer's state, shared by pacer.cc and pacer_fleet.cc.
// Not for use outside pacing/.

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "metrics/seqlock_text.h"
#include "metrics/zeroed_array.h"
#include "pacing/baseline.h"
#include "pacing/evidence.h"
#include "pacing/number_pacing_table.h"
#include "pacing/pacer.h"
#include "pacing/route_watch.h"
#include "pacing/verdict.h"

namespace sippacer::pacing {

inline constexpr int kStates = 4;

struct Pacer::Impl {
  Impl(metrics::Store& s, Policy p, EventSink* k)
      : store(s),
        live(std::move(p)),
        sink(k),
        table(s.options().max_numbers),
        baselines(s),
        reasons_size(std::max<size_t>(8192, s.options().max_numbers / 16)),
        reasons(reasons_size) {
    published = live;
    flags = live;
    Derive();
  }
  // What follows from the live policy: one stepper per rule, the thresholds.
  void Derive() {
    steppers.clear();
    for (const Rule& r : live.rules) steppers.emplace_back(r.fraction);
    thresholds = ThresholdsFor(live);
  }
  // The reason text of a paced number ("" once the ring moved past it).
  std::string ReasonOf(const PacingEntry& e, metrics::E164 number) const {
    const int32_t slot = e.reason_slot.load(std::memory_order_relaxed);
    return slot < 0 ? "" : reasons[static_cast<size_t>(slot)].Read(number);
  }

  PacingEntry& EntryFor(metrics::NumberId id);
  void SetState(metrics::NumberId id, PacingEntry& e, NumberState to, absl::Time now, absl::Time until,
                const std::string& reason, const std::string& rule = "");
  // True and a token taken when the bucket at `cpm` allows a call now.
  bool TakeToken(PacingEntry& e, double cpm, absl::Time now, absl::Duration* wait);
  void Evaluate(metrics::NumberId id, PacingEntry& e, absl::Time now);
  void AddEvidence(metrics::NumberId id, PacingEntry& e, const metrics::CallOutcome& o);
  // Gives the entry's evidence set back: no evidence above zero.
  void DropEvidence(PacingEntry& e) {
    if (e.evidence != nullptr) evidence_pool.Give(e.evidence);
    e.evidence = nullptr;
  }
  void SetWatch(metrics::NumberId id, PacingEntry& e, bool watched, absl::Time now, const std::string& reason);
  bool Learning(int country_code) const {
    return country_code > 0 && country_code != live.home_country_code && live.baseline_days > 0 &&
           store.CountryDaysSeen(country_code) < static_cast<uint32_t>(live.baseline_days);
  }
  absl::Duration ShortestWindow() const;
  // Timed transitions and watch ends of one paced or watched number.
  void Review(uint32_t index, absl::Time now);
  // One rule-free step of evidence per call another node counted (pacer_fleet.cc).
  void AddFleetEvidence(metrics::NumberId id, PacingEntry& e, const metrics::CodeCounts& added, absl::Time now);

  metrics::Store& store;
  Policy live;  // SIP thread only
  EventSink* sink;
  PacingTable table;
  EvidencePool evidence_pool;  // the entries' evidence sets
  Baselines baselines;
  RouteWatch routes;
  std::vector<Stepper> steppers;  // one per rule
  Thresholds thresholds;
  absl::Time next_route_check = absl::InfinitePast();
  absl::flat_hash_set<uint32_t> paced_numbers;    // slots not healthy (SIP thread)
  absl::flat_hash_set<uint32_t> watched_numbers;  // slots a watch rule flagged
  std::vector<uint32_t> review;                   // this round of Tick's reviews
  size_t review_pos = 0;
  std::string why;            // Decision::why storage
  std::string adopting_from;  // the fleet node whose state SetState is adopting ("" = ours)
  size_t reasons_size;
  metrics::ZeroedArray<metrics::SeqlockText> reasons;  // reason texts, a ring
  size_t next_reason = 0;                              // SIP thread
  std::atomic<uint64_t> paced_total{0};
  std::array<std::atomic<uint64_t>, kStates> in_state{};
  std::atomic<uint64_t> watched_count{0};
  mutable absl::Mutex policy_mu;
  Policy published ABSL_GUARDED_BY(policy_mu);  // for other threads
  PolicyOrigin origin ABSL_GUARDED_BY(policy_mu);
  Policy flags;  // the policy built with, never changed
};

}  // namespace sippacer::pacing
