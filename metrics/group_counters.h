#pragma once
// GroupCounters: since-start counts for one carrier, country, hour or the
// whole pool. Written by the SIP thread, read anywhere; relaxed atomics (a
// reader may see a final without its attempt for an instant, never garbage).

#include <atomic>
#include <cstdint>

#include "metrics/call_outcome.h"
#include "metrics/outcome.h"

namespace sippacer::metrics {

struct GroupCounters {
  std::atomic<uint64_t> attempts{0};
  std::atomic<uint64_t> paced{0};
  std::atomic<uint64_t> pre_ring_603{0};
  std::atomic<uint64_t> network_blocked{0};
  std::atomic<uint64_t> outcomes[kOutcomeCount] = {};

  void AddAttempt() { Inc(attempts); }
  void AddPaced() { Inc(paced); }
  void AddFinal(const FinalMark& m) {
    Inc(outcomes[static_cast<int>(m.outcome)]);
    if (m.pre_ring_603) Inc(pre_ring_603);
    if (m.network_blocked) Inc(network_blocked);
  }
  CodeCounts Read() const {
    CodeCounts c;
    c.attempts = static_cast<uint32_t>(attempts.load(std::memory_order_relaxed));
    c.paced = static_cast<uint32_t>(paced.load(std::memory_order_relaxed));
    c.pre_ring_603 = static_cast<uint32_t>(pre_ring_603.load(std::memory_order_relaxed));
    c.network_blocked = static_cast<uint32_t>(network_blocked.load(std::memory_order_relaxed));
    for (int i = 0; i < kOutcomeCount; ++i)
      c.by_outcome[i] = static_cast<uint32_t>(outcomes[i].load(std::memory_order_relaxed));
    return c;
  }

 private:
  static void Inc(std::atomic<uint64_t>& a) {
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

}  // namespace sippacer::metrics
