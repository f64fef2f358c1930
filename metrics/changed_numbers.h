#pragma once
// ChangedNumbers: the numbers whose counts changed, from the SIP thread to
// the fleet's sync thread (docs/fleet.md).
//
// A fixed ring, one producer and one consumer, no locks and no allocation
// after construction. A full ring drops the number and says so: the sync
// thread then pushes every tracked number once, so a change is delayed,
// never lost.
//
// Example:
//   changes.Push(number);                    // SIP thread, on every count
//   while (auto n = changes.Pop()) ...;      // sync thread

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "metrics/call_outcome.h"

namespace sippacer::metrics {

class ChangedNumbers {
 public:
  explicit ChangedNumbers(uint32_t capacity_pow2 = 1u << 16)
      : mask_(capacity_pow2 - 1), ring_(new std::atomic<E164>[capacity_pow2]) {}

  // Producer. False (and counted) when the ring is full.
  bool Push(E164 number) {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_.load(std::memory_order_acquire) > mask_) {
      overflowed_.store(true, std::memory_order_relaxed);
      dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return false;
    }
    ring_[head & mask_].store(number, std::memory_order_relaxed);
    head_.store(head + 1, std::memory_order_release);
    return true;
  }
  // Consumer.
  std::optional<E164> Pop() {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_.load(std::memory_order_acquire)) return std::nullopt;
    const E164 n = ring_[tail & mask_].load(std::memory_order_relaxed);
    tail_.store(tail + 1, std::memory_order_release);
    return n;
  }
  // Consumer: true once after the ring dropped a number (push them all).
  bool TakeOverflow() { return overflowed_.exchange(false, std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  const uint64_t mask_;
  std::unique_ptr<std::atomic<E164>[]> ring_;
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  std::atomic<bool> overflowed_{false};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace sippacer::metrics
