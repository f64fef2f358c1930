#pragma once
// PacingEntry: one number's pacing state, indexed like the Store's slots.
//
// The SIP thread writes an entry inside its seqlock; the stats thread reads a
// consistent copy. Token-bucket and probation counters are writer-only. The
// reason text lives in a ring shared by all numbers (only paced numbers have
// one), which keeps an entry small.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "metrics/seqlock_text.h"
#include "metrics/slot_array.h"
#include "pacing/rule_match.h"

namespace sippacer::pacing {

// One rule's running evidence on one number (evidence.h): the CUSUM, when
// its current run began, the calls and hits in it, and the last baseline.
struct RuleEvidence {
  float sum = 0;
  uint32_t since_s = 0;  // Unix seconds
  uint16_t calls = 0;
  uint16_t hits = 0;
  float baseline = 0;
};

// A carrier labels a number on its own: for the rules on carrier codes
// (603pre, 603+, 608) the evidence is also kept per terminating carrier, for
// the last few carriers the number reached, so a number one carrier of three
// drops is not diluted by the calls the others complete.
inline constexpr int kCarrierSlots = 3;
struct CarrierEvidence {
  int32_t group = -1;  // Store route group of the carrier; -1 = free
  RuleEvidence evidence[kMaxCarrierRules];
};

// A number's evidence on every rule. Most numbers have none (every CUSUM
// at zero: Step empties a run that falls to zero), so an entry points to a
// set only while some evidence is above zero; sets come from a pool.
struct EvidenceSet {
  RuleEvidence rules[kMaxRules];
  CarrierEvidence by_carrier[kCarrierSlots];
};

// The empty set, for an entry without one.
const EvidenceSet& NoEvidence();

// Sets handed out and taken back on the SIP thread, allocated 64 at a time.
class EvidencePool {
 public:
  EvidencePool() = default;
  EvidencePool(const EvidencePool&) = delete;
  EvidencePool& operator=(const EvidencePool&) = delete;
  EvidenceSet* Take() {
    if (free_.empty()) {
      chunks_.push_back(std::make_unique<EvidenceSet[]>(kSetsPerChunk));
      for (size_t i = 0; i < kSetsPerChunk; ++i) free_.push_back(&chunks_.back()[i]);
    }
    EvidenceSet* set = free_.back();
    free_.pop_back();
    *set = EvidenceSet{};
    return set;
  }
  void Give(EvidenceSet* set) { free_.push_back(set); }
  size_t in_use() const { return chunks_.size() * kSetsPerChunk - free_.size(); }

 private:
  static constexpr size_t kSetsPerChunk = 64;  // about 21 KB
  std::vector<std::unique_ptr<EvidenceSet[]>> chunks_;
  std::vector<EvidenceSet*> free_;
};

struct PacingEntry {
  // Largest first: no padding between fields.
  std::atomic<uint32_t> seq{0};
  std::atomic<uint32_t> generation{0};  // the Store slot generation it belongs to
  std::atomic<int64_t> since_ms{0};
  std::atomic<int64_t> until_ms{INT64_MAX};
  std::atomic<int64_t> watch_since_ms{0};
  std::atomic<uint32_t> paced{0};
  std::atomic<int32_t> reason_slot{-1};  // into Pacer's ring of reason texts
  std::atomic<int32_t> watch_reason_slot{-1};
  std::atomic<uint8_t> state{0};
  std::atomic<uint8_t> watched{0};  // a watch rule fired (not paced)
  // Writer-only.
  double tokens = 0;
  int64_t refill_ms = 0;
  EvidenceSet* evidence = nullptr;  // nullptr: none above zero

  const EvidenceSet& Evidence() const { return evidence ? *evidence : NoEvidence(); }
};

// Indexed like the Store's slots, in chunks, so entries never move.
using PacingTable = metrics::SlotArray<PacingEntry>;

}  // namespace sippacer::pacing
