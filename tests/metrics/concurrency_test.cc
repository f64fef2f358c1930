// One writer (as the SIP thread) records into many numbers while readers (as
// the stats thread) take snapshots. Built with -fsanitize=thread by
// tests/run.sh; the invariants also catch torn reads in any build. Readers
// only count what they see (Catch2's assertions are not thread-safe); the
// main thread asserts once they are done.

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "metrics/store.h"

namespace sippacer::metrics {
namespace {

TEST_CASE("readers never see a torn window while the writer counts", "[metrics][tsan]") {
  StoreOptions o;
  o.max_numbers = 64;  // small: the writer also evicts and reuses slots
  Store store(o);
  std::atomic<bool> done{false};
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  std::thread writer([&] {
    for (int i = 0; i < 60000; ++i) {
      const E164 caller = 15550000000 + static_cast<E164>(i % 100);
      const absl::Time now = t0 + absl::Milliseconds(i * 10);
      const NumberId id = store.Touch(caller, now);
      store.RecordAttempt(id, 15551230000, now);
      CallOutcome out;
      out.caller = caller;
      out.code = i % 3 == 0 ? 603 : 200;
      out.final_at = now;
      store.RecordFinal(id, out);
    }
    done = true;
  });
  std::vector<std::thread> readers;
  std::atomic<uint64_t> snapshots{0}, torn{0}, foreign{0};
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        store.ForEachNumber(t0 + absl::Minutes(10), [&](const NumberSnapshot& s) {
          // Each call's attempt is recorded just before its final, inside a
          // seqlock each: a consistent snapshot has every final's attempt,
          // and at most the one attempt whose final is still coming.
          const uint32_t attempts = s.window.attempts, finals = s.window.finals();
          if (finals > attempts || attempts > finals + 1) torn.fetch_add(1, std::memory_order_relaxed);
          if (s.number < 15550000000u || s.number >= 15550000100u) foreign.fetch_add(1, std::memory_order_relaxed);
          snapshots.fetch_add(1, std::memory_order_relaxed);
        });
        (void)store.Snapshot(15550000007, t0 + absl::Minutes(10));
        (void)store.Pool(t0);
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  CHECK(snapshots.load() > 0);
  CHECK(torn.load() == 0);
  CHECK(foreign.load() == 0);
  CHECK(store.numbers_tracked() == 64);
}

}  // namespace
}  // namespace sippacer::metrics
