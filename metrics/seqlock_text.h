#pragma once
// SeqlockText: a short string one thread writes and others read without a
// lock (a reader retries while a write is in progress). Used for the texts
// that go with a number: the carrier's 603+ Reason, a pacing decision's why.
// Longer texts are cut at kBytes.

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace sippacer::metrics {

class SeqlockText {
 public:
  static constexpr size_t kBytes = 240;

  // Writer only. `owner` tags whose text it is (a number), so a reader can
  // tell when the slot was reused for another.
  void Write(uint64_t owner, absl::string_view text) {
    seq_.store(seq_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    char buf[kBytes] = {};
    const size_t n = std::min(text.size(), kBytes);
    std::memcpy(buf, text.data(), n);
    for (size_t w = 0; w < kWords; ++w) {
      uint64_t word;
      std::memcpy(&word, buf + w * 8, 8);
      words_[w].store(word, std::memory_order_relaxed);
    }
    length_.store(static_cast<uint32_t>(n), std::memory_order_relaxed);
    owner_.store(owner, std::memory_order_relaxed);
    seq_.store(seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Any thread. "" when the text belongs to another owner now.
  std::string Read(uint64_t owner) const {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const uint32_t s1 = seq_.load(std::memory_order_acquire);
      if (s1 & 1) continue;
      char buf[kBytes];
      for (size_t w = 0; w < kWords; ++w) {
        const uint64_t word = words_[w].load(std::memory_order_relaxed);
        std::memcpy(buf + w * 8, &word, 8);
      }
      const uint32_t len = length_.load(std::memory_order_relaxed);
      const uint64_t who = owner_.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) != s1) continue;
      if (who != owner) return "";
      return std::string(buf, std::min<size_t>(len, kBytes));
    }
    return "";
  }

 private:
  static constexpr size_t kWords = kBytes / 8;
  std::atomic<uint32_t> seq_{0};
  std::atomic<uint64_t> owner_{0};
  std::atomic<uint32_t> length_{0};
  std::atomic<uint64_t> words_[kWords] = {};
};

}  // namespace sippacer::metrics
