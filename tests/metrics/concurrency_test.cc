// One writer (as the SIP thread) records into many numbers while readers (as
// the stats thread) take snapshots. Built with -fsanitize=thread by
// tests/run.sh; the invariants also catch torn reads in any build. Readers
// only count what they see (Catch2's assertions are not thread-safe); the
// main thread asserts once they are done.

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "metrics/changed_numbers.h"
#include "metrics/fleet_counts.h"
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

TEST_CASE("readers never see a torn log while busy numbers' logs grow, move and shrink", "[metrics][tsan]") {
  StoreOptions o;
  o.max_numbers = 64;
  o.history = absl::Hours(1);
  Store store(o);
  std::atomic<bool> done{false};
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  // Four numbers, 4,000 calls each in 40 s (8,000 events: every block size
  // up to 8,192), then two hours later a few calls each (back inline).
  std::thread writer([&] {
    for (int i = 0; i < 16'400; ++i) {
      const E164 caller = 15550000000 + static_cast<E164>(i % 4);
      const absl::Time now = i < 16'000 ? t0 + absl::Milliseconds(i * 10) / 4 : t0 + absl::Hours(2) + absl::Seconds(i);
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
  std::atomic<uint64_t> snapshots{0}, torn{0};
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      const absl::Time at = r == 0 ? t0 + absl::Minutes(1) : t0 + absl::Hours(3);
      do {  // at least once: a fast writer may be done before a reader starts
        store.ForEachNumber(at, [&](const NumberSnapshot& s) {
          const uint32_t attempts = s.window.attempts, finals = s.window.finals();
          if (finals > attempts || attempts > finals + 1) torn.fetch_add(1, std::memory_order_relaxed);
          snapshots.fetch_add(1, std::memory_order_relaxed);
        });
      } while (!done);
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  CHECK(snapshots.load() > 0);
  CHECK(torn.load() == 0);
  CHECK(store.events_dropped() == 0);
  CHECK(store.log_block_bytes() > 4 * 8192 * 4);  // the four grew to 8,192 events
}

}  // namespace
}  // namespace sippacer::metrics

namespace sippacer::metrics {
namespace {

// The fleet: the listener thread writes other nodes' counts while the SIP
// thread (Store::Window) and the stats thread (ByNode, Snapshot) read them,
// and the sync thread drains the changed numbers the SIP thread reports.
TEST_CASE("fleet counts: one listener writes, the SIP and stats threads read", "[metrics][tsan][fleet]") {
  StoreOptions o;
  o.max_numbers = 256;  // every number stays: the sums must only grow
  Store store(o);
  store.EnableFleet();
  FleetCounts& fleet = *store.fleet();
  std::atomic<bool> done{false};
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  const uint32_t epoch = static_cast<uint32_t>(absl::ToUnixSeconds(t0) / absl::ToInt64Seconds(store.bucket_width()));
  std::thread listener([&] {
    for (int i = 0; i < 20000; ++i) {
      NumberRecord::BucketRecord b;
      b.epoch = epoch;
      b.attempts = static_cast<uint16_t>(i / 100 + 1);
      b.outcomes[0] = b.attempts;
      fleet.SetNumber(i % 2 ? "edge-b" : "edge-c", 15550000000 + static_cast<E164>(i % 100), b, t0);
      CodeCounts g;
      g.attempts = static_cast<uint32_t>(i);
      fleet.SetGroup("edge-b", Store::kPoolGroup, static_cast<uint32_t>(absl::ToUnixSeconds(t0) / 300), g, t0);
      if (i % 1000 == 0) fleet.Prune(t0);
    }
    done = true;
  });
  std::atomic<uint64_t> drained{0};
  std::thread sync([&] {
    while (!done) {
      while (store.changes()->Pop()) drained.fetch_add(1);
    }
  });
  std::atomic<uint64_t> reads{0}, backwards{0};
  std::thread stats([&] {
    while (!done) {
      for (const auto& [node, c] : fleet.ByNode(15550000001, absl::Hours(4), t0)) reads.fetch_add(c.attempts > 0);
      if (auto s = store.Snapshot(15550000002, t0)) reads.fetch_add(1);
    }
  });
  // The SIP thread: counts its own calls and reads fleet-wide windows.
  uint32_t last = 0;
  for (int i = 0; !done || i < 2000; ++i) {
    const E164 caller = 15550000000 + static_cast<E164>(i % 100);
    const NumberId id = store.Touch(caller, t0);
    store.RecordAttempt(id, 15551230000, t0);
    const CodeCounts w = store.Window(id, absl::Hours(4), t0);
    if (caller == 15550000001) {
      if (w.attempts < last) backwards.fetch_add(1);
      last = w.attempts;
    }
    store.GroupWindow(Store::kPoolGroup, absl::Hours(1), t0);
  }
  listener.join();
  sync.join();
  stats.join();
  CHECK(backwards == 0);  // another node's count only grows, and so does the sum
  CHECK(fleet.NumberWindow(15550000001, absl::Hours(4), t0).attempts > 0);
}

}  // namespace
}  // namespace sippacer::metrics
