#pragma once
// NumberTable: the per-number rolling windows behind Store.
//
// Slots live in pointer-stable chunks allocated as numbers arrive (up to
// max_numbers). One writer, the SIP thread, updates a slot inside its
// seqlock; readers on other threads copy a slot and retry if the sequence
// moved, so they never see a torn window. Every shared word is an atomic
// (relaxed) so the protocol is visible to TSan.
//
// Lookup by number is a linear-probing index of atomic keys, written only by
// the writer; deletion shifts entries back (no tombstones, so a flood of new
// numbers cannot degrade probes). A reader racing a shift may briefly miss a
// number; it never sees a wrong one, because it checks the slot's number.
//
// Eviction: an intrusive LRU list of unpinned slots (writer-only fields);
// the tail is reused when the table is full.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "metrics/call_log.h"
#include "metrics/call_outcome.h"
#include "metrics/outcome.h"
#include "metrics/zeroed_array.h"

namespace sippacer::metrics {

struct Slot {
  std::atomic<uint32_t> seq{0};
  std::atomic<uint32_t> generation{0};
  std::atomic<uint64_t> number{0};  // 0 = free
  std::atomic<uint64_t> pdd_sum_ms{0};
  std::atomic<uint32_t> last_seen_s{0};  // Unix seconds (to 2106)
  std::atomic<uint32_t> pdd_count{0};
  std::atomic<int32_t> minute{0};         // the minute `minute_attempts` counts, since the epoch
  std::atomic<int32_t> reason_index{-1};  // into Store's 603+ Reason texts
  std::atomic<uint16_t> minute_attempts{0};
  std::atomic<uint16_t> prev_minute_attempts{0};
  // Writer-only bookkeeping (never read by other threads).
  bool pinned = false;
  bool in_lru = false;
  uint32_t lru_prev = UINT32_MAX;
  uint32_t lru_next = UINT32_MAX;
  CallLog log;  // the number's calls in the history
};

class NumberTable {
 public:
  // `history`: how long a number's calls are kept; `bucket_width`: the
  // period of EpochOf (the buckets of exported windows).
  NumberTable(size_t max_numbers, absl::Duration history, absl::Duration bucket_width);
  ~NumberTable();

  // ---- writer ----
  // Finds or inserts; returns UINT32_MAX when every slot is pinned. A new
  // number's slot is emptied, and `on_insert(index)` empties what the
  // caller keeps beside it, in the same write.
  template <typename OnInsert>
  uint32_t Touch(E164 number, absl::Time now, bool* inserted, uint64_t* evicted, OnInsert&& on_insert) {
    const uint32_t index = TouchOpen(number, now, inserted, evicted);
    if (*inserted) {
      on_insert(index);
      EndWrite(slot(index));
    }
    return index;
  }
  uint32_t Touch(E164 number, absl::Time now, bool* inserted, uint64_t* evicted) {
    return Touch(number, now, inserted, evicted, [](uint32_t) {});
  }
  void SetPinned(uint32_t index, bool pinned);
  Slot& slot(uint32_t index) const { return *SlotAt(index); }
  void BeginWrite(Slot& s) const;
  void EndWrite(Slot& s) const;
  // Logs `e` (inside the slot's write). False when the log was full and
  // its oldest event made room.
  bool Log(Slot& s, const CallEvent& e) { return AppendEvent(s.log, pool_, e, history_s_); }
  // Replaces the slot's events by `events` (oldest first; inside a write).
  void ReplaceLog(Slot& s, const std::vector<CallEvent>& events);
  uint64_t log_block_bytes() const { return pool_.bytes(); }

  // ---- any thread ----
  uint32_t Find(E164 number) const;  // UINT32_MAX if absent
  uint32_t allocated() const { return allocated_.load(std::memory_order_acquire); }
  size_t size() const { return live_.load(std::memory_order_relaxed); }
  uint32_t EpochOf(absl::Time t) const;
  absl::Duration bucket_width() const { return width_; }
  // Counts of exactly the last `window` before `now`, to the second.
  void SumWindow(const Slot& s, absl::Time now, absl::Duration window, CodeCounts* out) const;
  // The same on the writer's thread, through the log's cursors (which it
  // moves on: a cache of the writer's, hence const).
  void CountWindow(Slot& s, absl::Time now, absl::Duration window, CodeCounts* out) const;

  Slot* SlotAt(uint32_t index) const;

 private:
  // Touch, leaving a new number's slot open for writing.
  uint32_t TouchOpen(E164 number, absl::Time now, bool* inserted, uint64_t* evicted);
  uint32_t IndexFind(E164 number) const;
  void IndexInsert(E164 number, uint32_t slot);
  void IndexErase(E164 number);
  void LruUnlink(uint32_t index);
  void LruPushFront(uint32_t index);

  // Small chunks: a new one is allocated on the SIP thread as numbers
  // arrive, so it must stay well under a megabyte.
  static constexpr uint32_t kChunk = 256;
  const size_t max_numbers_;
  const absl::Duration width_;
  const int64_t history_s_;
  CallLogPool pool_;  // writer-only but for its byte count
  std::vector<std::atomic<Slot*>> chunks_;
  std::atomic<uint32_t> allocated_{0};
  std::atomic<size_t> live_{0};
  // Index: keys and slots side by side, capacity a power of two >= 2x max.
  // A key of 0 is an empty place; a place's slot is written before its key,
  // so the zero pages of a ZeroedArray need no filling.
  const uint64_t mask_;
  ZeroedArray<std::atomic<uint64_t>> keys_;
  ZeroedArray<std::atomic<uint32_t>> slots_;
  std::vector<uint32_t> free_;  // writer-only
  uint32_t lru_head_ = UINT32_MAX;
  uint32_t lru_tail_ = UINT32_MAX;
};

}  // namespace sippacer::metrics
