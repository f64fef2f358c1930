#include "metrics/number_table.h"

#include <algorithm>

namespace sippacer::metrics {
namespace {

constexpr uint32_t kNone = UINT32_MAX;

// A power of two at least twice the numbers, so probes stay short.
uint64_t IndexCapacity(size_t max_numbers) {
  uint64_t cap = 1024;
  while (cap < 2 * static_cast<uint64_t>(max_numbers)) cap <<= 1;
  return cap;
}

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser: numbers are sequential, spread them
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

template <typename T>
void Bump(std::atomic<T>& a, T by = 1) {
  a.store(static_cast<T>(a.load(std::memory_order_relaxed) + by), std::memory_order_relaxed);
}

}  // namespace

NumberTable::NumberTable(size_t max_numbers, absl::Duration history, absl::Duration bucket_width)
    : max_numbers_(max_numbers),
      width_(bucket_width),
      history_s_(std::max<int64_t>(1, absl::ToInt64Seconds(history))),
      chunks_(max_numbers / kChunk + 1),
      mask_(IndexCapacity(max_numbers) - 1),
      keys_(mask_ + 1),
      slots_(mask_ + 1) {}

NumberTable::~NumberTable() {
  for (auto& c : chunks_) delete[] c.load(std::memory_order_relaxed);
}

Slot* NumberTable::SlotAt(uint32_t index) const {
  Slot* chunk = chunks_[index / kChunk].load(std::memory_order_acquire);
  return chunk + (index % kChunk);
}

uint32_t NumberTable::EpochOf(absl::Time t) const {
  return static_cast<uint32_t>(absl::ToUnixSeconds(t) / absl::ToInt64Seconds(width_));
}

void NumberTable::BeginWrite(Slot& s) const {
  s.seq.store(s.seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void NumberTable::EndWrite(Slot& s) const {
  s.seq.store(s.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void NumberTable::SumWindow(const Slot& s, absl::Time now, absl::Duration window, CodeCounts* out) const {
  SumLog(s.log, absl::ToUnixSeconds(now), absl::ToInt64Seconds(window), out);
}

void NumberTable::CountWindow(Slot& s, absl::Time now, absl::Duration window, CodeCounts* out) const {
  metrics::CountWindow(s.log, absl::ToUnixSeconds(now), absl::ToInt64Seconds(window), out);
}

void NumberTable::ReplaceLog(Slot& s, const std::vector<CallEvent>& events) {
  ResetLog(s.log, pool_);
  for (const CallEvent& e : events) AppendEvent(s.log, pool_, e, history_s_);
}

uint32_t NumberTable::IndexFind(E164 number) const {
  for (uint64_t i = Mix(number) & mask_, probes = 0; probes <= mask_; i = (i + 1) & mask_, ++probes) {
    const uint64_t k = keys_[i].load(std::memory_order_acquire);
    if (k == 0) return kNone;
    if (k == number) return slots_[i].load(std::memory_order_relaxed);
  }
  return kNone;
}

void NumberTable::IndexInsert(E164 number, uint32_t slot) {
  uint64_t i = Mix(number) & mask_;
  while (keys_[i].load(std::memory_order_relaxed) != 0) i = (i + 1) & mask_;
  slots_[i].store(slot, std::memory_order_relaxed);
  keys_[i].store(number, std::memory_order_release);
}

void NumberTable::IndexErase(E164 number) {
  uint64_t i = Mix(number) & mask_;
  while (keys_[i].load(std::memory_order_relaxed) != number) {
    if (keys_[i].load(std::memory_order_relaxed) == 0) return;
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion: pull later entries of the probe run into the gap.
  for (uint64_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    const uint64_t k = keys_[j].load(std::memory_order_relaxed);
    if (k == 0) break;
    const uint64_t home = Mix(k) & mask_;
    const bool movable = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
    if (movable) {
      slots_[i].store(slots_[j].load(std::memory_order_relaxed), std::memory_order_relaxed);
      keys_[i].store(k, std::memory_order_release);
      i = j;
    }
  }
  keys_[i].store(0, std::memory_order_release);
}

uint32_t NumberTable::Find(E164 number) const {
  if (number == 0) return kNone;
  return IndexFind(number);
}

void NumberTable::LruUnlink(uint32_t index) {
  Slot& s = slot(index);
  if (!s.in_lru) return;
  if (s.lru_prev != kNone)
    slot(s.lru_prev).lru_next = s.lru_next;
  else
    lru_head_ = s.lru_next;
  if (s.lru_next != kNone)
    slot(s.lru_next).lru_prev = s.lru_prev;
  else
    lru_tail_ = s.lru_prev;
  s.lru_prev = s.lru_next = kNone;
  s.in_lru = false;
}

void NumberTable::LruPushFront(uint32_t index) {
  Slot& s = slot(index);
  s.lru_prev = kNone;
  s.lru_next = lru_head_;
  if (lru_head_ != kNone) slot(lru_head_).lru_prev = index;
  lru_head_ = index;
  if (lru_tail_ == kNone) lru_tail_ = index;
  s.in_lru = true;
}

uint32_t NumberTable::TouchOpen(E164 number, absl::Time now, bool* inserted, uint64_t* evicted) {
  *inserted = false;
  uint32_t index = IndexFind(number);
  if (index == kNone) {
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else if (allocated_.load(std::memory_order_relaxed) < max_numbers_) {
      index = allocated_.load(std::memory_order_relaxed);
      if (index % kChunk == 0 && chunks_[index / kChunk].load(std::memory_order_relaxed) == nullptr) {
        chunks_[index / kChunk].store(new Slot[kChunk], std::memory_order_release);
      }
      allocated_.store(index + 1, std::memory_order_release);
    } else {
      if (lru_tail_ == kNone) return kNone;  // every number is pinned
      index = lru_tail_;
      LruUnlink(index);
      IndexErase(slot(index).number.load(std::memory_order_relaxed));
      live_.fetch_sub(1, std::memory_order_relaxed);
      ++*evicted;
    }
    Slot& s = slot(index);
    BeginWrite(s);
    s.number.store(number, std::memory_order_relaxed);
    Bump(s.generation);
    s.pdd_count.store(0, std::memory_order_relaxed);
    s.pdd_sum_ms.store(0, std::memory_order_relaxed);
    s.minute.store(0, std::memory_order_relaxed);
    s.minute_attempts.store(0, std::memory_order_relaxed);
    s.prev_minute_attempts.store(0, std::memory_order_relaxed);
    s.reason_index.store(-1, std::memory_order_relaxed);
    ResetLog(s.log, pool_);
    s.last_seen_s.store(static_cast<uint32_t>(absl::ToUnixSeconds(now)), std::memory_order_relaxed);
    // Left open: Touch closes the write after the caller's own reset.
    s.pinned = false;
    IndexInsert(number, index);
    live_.fetch_add(1, std::memory_order_relaxed);
    *inserted = true;
  } else {
    slot(index).last_seen_s.store(static_cast<uint32_t>(absl::ToUnixSeconds(now)), std::memory_order_relaxed);
  }
  Slot& s = slot(index);
  if (!s.pinned) {
    LruUnlink(index);
    LruPushFront(index);
  }
  return index;
}

void NumberTable::SetPinned(uint32_t index, bool pinned) {
  Slot& s = slot(index);
  if (s.pinned == pinned) return;
  s.pinned = pinned;
  if (pinned)
    LruUnlink(index);
  else
    LruPushFront(index);
}

}  // namespace sippacer::metrics
