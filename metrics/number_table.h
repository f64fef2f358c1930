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
#include "metrics/call_outcome.h"
#include "metrics/outcome.h"

namespace sippacer::metrics {

inline constexpr int kWindowBuckets = 25;  // history/24 each, plus the one filling

struct Bucket {
  std::atomic<uint32_t> epoch{0};  // bucket number since the Unix epoch
  std::atomic<uint16_t> attempts{0};
  std::atomic<uint16_t> paced{0};
  std::atomic<uint16_t> pre_ring_603{0};
  std::atomic<uint16_t> network_blocked{0};
  std::atomic<uint16_t> outcomes[kOutcomeCount] = {};
};

// Empties `b` first if it still holds a period other than `epoch`.
Bucket& ResetIfStale(Bucket& b, uint32_t epoch);

struct Slot {
  std::atomic<uint32_t> seq{0};
  std::atomic<uint32_t> generation{0};
  std::atomic<uint64_t> number{0};  // 0 = free
  std::atomic<int64_t> last_seen_s{0};
  std::atomic<uint32_t> pdd_count{0};
  std::atomic<uint64_t> pdd_sum_ms{0};
  std::atomic<int64_t> minute{0};  // the minute `minute_attempts` counts
  std::atomic<uint16_t> minute_attempts{0};
  std::atomic<uint16_t> prev_minute_attempts{0};
  std::atomic<int32_t> reason_index{-1};  // into Store's 603+ Reason texts
  Bucket buckets[kWindowBuckets];
  // Writer-only bookkeeping (never read by other threads).
  uint32_t lru_prev = UINT32_MAX;
  uint32_t lru_next = UINT32_MAX;
  bool pinned = false;
  bool in_lru = false;
};

class NumberTable {
 public:
  NumberTable(size_t max_numbers, absl::Duration bucket_width);
  ~NumberTable();

  // ---- writer ----
  // Finds or inserts; returns UINT32_MAX when every slot is pinned.
  uint32_t Touch(E164 number, absl::Time now, bool* inserted, uint64_t* evicted);
  void SetPinned(uint32_t index, bool pinned);
  Slot& slot(uint32_t index) const { return *SlotAt(index); }
  void BeginWrite(Slot& s) const;
  void EndWrite(Slot& s) const;
  // The bucket for `now`, emptied first if it still holds an older period.
  Bucket& CurrentBucket(Slot& s, absl::Time now) const;

  // ---- any thread ----
  uint32_t Find(E164 number) const;  // UINT32_MAX if absent
  uint32_t allocated() const { return allocated_.load(std::memory_order_acquire); }
  size_t size() const { return live_.load(std::memory_order_relaxed); }
  uint32_t EpochOf(absl::Time t) const;
  absl::Duration bucket_width() const { return width_; }
  // Sums buckets within the last `buckets` periods ending at `now`'s.
  void SumWindow(const Slot& s, uint32_t now_epoch, int buckets, CodeCounts* out) const;
  // Sums exactly the last `window` before `now`: whole buckets inside it,
  // and of the bucket it cuts, the share of that bucket's time it covers
  // (calls spread evenly over a bucket, rounded to whole calls).
  void SumExactWindow(const Slot& s, absl::Time now, absl::Duration window, CodeCounts* out) const;

  Slot* SlotAt(uint32_t index) const;

 private:
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
  std::vector<std::atomic<Slot*>> chunks_;
  std::atomic<uint32_t> allocated_{0};
  std::atomic<size_t> live_{0};
  // Index: keys and slots side by side, capacity a power of two >= 2x max.
  std::unique_ptr<std::atomic<uint64_t>[]> keys_;
  std::unique_ptr<std::atomic<uint32_t>[]> slots_;
  uint64_t mask_ = 0;
  std::vector<uint32_t> free_;  // writer-only
  uint32_t lru_head_ = UINT32_MAX;
  uint32_t lru_tail_ = UINT32_MAX;
};

}  // namespace sippacer::metrics
