#pragma once
// SlotArray<T>: per-slot state kept beside a NumberTable, indexed like its
// slots, in pointer-stable chunks allocated as slots are first used.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sippacer::metrics {

template <typename T>
class SlotArray {
 public:
  explicit SlotArray(size_t max_slots) : chunks_(max_slots / kChunk + 1) {}
  ~SlotArray() {
    for (auto& c : chunks_) delete[] c.load(std::memory_order_relaxed);
  }
  SlotArray(const SlotArray&) = delete;
  SlotArray& operator=(const SlotArray&) = delete;

  // Writer: allocates the chunk on first use.
  T& At(uint32_t index) {
    std::atomic<T*>& chunk = chunks_[index / kChunk];
    T* p = chunk.load(std::memory_order_relaxed);
    if (p == nullptr) {
      p = new T[kChunk];
      chunk.store(p, std::memory_order_release);
    }
    return p[index % kChunk];
  }
  // Reader: nullptr while the chunk does not exist.
  const T* Find(uint32_t index) const {
    if (index / kChunk >= chunks_.size()) return nullptr;
    const T* p = chunks_[index / kChunk].load(std::memory_order_acquire);
    return p ? p + (index % kChunk) : nullptr;
  }

 private:
  // Small chunks: one is allocated on a writer thread as numbers arrive.
  static constexpr uint32_t kChunk = 256;
  std::vector<std::atomic<T*>> chunks_;
};

}  // namespace sippacer::metrics
