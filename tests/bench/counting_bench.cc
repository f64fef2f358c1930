// What counting a carrier's answer costs on the SIP thread, what a stats
// reader pays for a full scan, and what a tracked number costs in memory.

#include <benchmark/benchmark.h>

#include "metrics/number_table.h"
#include "metrics/store.h"

namespace sippacer::metrics {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

StoreOptions Options(size_t max) {
  StoreOptions o;
  o.max_numbers = max;
  return o;
}

// A number calling every 10 s: 1,440 calls in its 4-hour history, so each
// new event also drops the one that left it (its log in a 4,096-event block).
constexpr absl::Duration kBusyEvery = absl::Seconds(10);

NumberId BusyNumber(Store& store, E164 caller, absl::Time* t) {
  NumberId id = store.Touch(caller, *t);
  for (int i = 0; i < 1440; ++i, *t += kBusyEvery) {
    store.RecordAttempt(id, 15550001234, *t);
    CallOutcome o;
    o.caller = caller;
    o.callee = 15550001234;
    o.code = i % 20 == 0 ? 603 : 200;
    o.final_at = *t;
    store.RecordFinal(id, o);
  }
  return id;
}

void BM_RecordFinalKnownNumber(benchmark::State& state) {
  Store store(Options(1000));
  absl::Time t = kT0;
  const NumberId id = BusyNumber(store, 15551230001, &t);
  CallOutcome o;
  o.caller = 15551230001;
  o.callee = 15550001234;
  o.code = 603;
  for (auto _ : state) {
    o.final_at = t;
    store.RecordFinal(id, o);
    t += kBusyEvery;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_RecordFinalKnownNumber);

void BM_AttemptKnownNumber(benchmark::State& state) {
  Store store(Options(1000));
  absl::Time t = kT0;
  BusyNumber(store, 15551230001, &t);
  for (auto _ : state) {
    const NumberId id = store.Touch(15551230001, t);
    store.RecordAttempt(id, 15550001234, t);
    t += kBusyEvery;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_AttemptKnownNumber);

// Only the number's own log: one event appended (and one dropped).
void BM_LogOneEvent(benchmark::State& state) {
  CallLogPool pool;
  CallLog log;
  int64_t t = absl::ToUnixSeconds(kT0);
  for (int i = 0; i < 2880; ++i, t += 5) AppendEvent(log, pool, CallEvent{t, CallEvent::Kind::kAttempt}, 4 * 3600);
  for (auto _ : state) {
    AppendEvent(log, pool, CallEvent{t, CallEvent::Kind::kAttempt}, 4 * 3600);
    t += 5;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_LogOneEvent);

// A rule's window on the SIP thread, the call after the last: the 15-minute
// and the 4-hour window of a number with 2,880 events, through its cursors.
void BM_WindowsOfBusyNumber(benchmark::State& state) {
  Store store(Options(1000));
  absl::Time t = kT0;
  const NumberId id = BusyNumber(store, 15551230001, &t);
  uint32_t seen = 0;
  for (auto _ : state) {
    store.RecordAttempt(id, 15550001234, t);
    seen += store.Window(id, absl::Minutes(15), t).attempts;
    seen += store.Window(id, absl::Hours(4), t).attempts;
    t += kBusyEvery;
  }
  benchmark::DoNotOptimize(seen);
}
BENCHMARK(BM_WindowsOfBusyNumber);

// The same two windows read by another thread (a stats reader): a walk.
void BM_WindowsOfBusyNumberReader(benchmark::State& state) {
  Store store(Options(1000));
  absl::Time t = kT0;
  BusyNumber(store, 15551230001, &t);
  uint32_t seen = 0;
  for (auto _ : state) {
    seen += store.LocalWindow(15551230001, absl::Minutes(15), t).attempts;
    seen += store.LocalWindow(15551230001, absl::Hours(4), t).attempts;
  }
  benchmark::DoNotOptimize(seen);
}
BENCHMARK(BM_WindowsOfBusyNumberReader);

// A flood of new numbers into a full table: every insert evicts.
void BM_NewNumberWithEviction(benchmark::State& state) {
  Store store(Options(100000));
  E164 n = 15550000000;
  for (int i = 0; i < 100000; ++i) store.Touch(n++, kT0);
  for (auto _ : state) {
    benchmark::DoNotOptimize(store.Touch(n++, kT0));
  }
  state.counters["evictions"] = static_cast<double>(store.evictions());
}
BENCHMARK(BM_NewNumberWithEviction);

void BM_SnapshotAllNumbers(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  Store store(Options(count));
  for (size_t i = 0; i < count; ++i) {
    const NumberId id = store.Touch(15550000000 + i, kT0);
    store.RecordAttempt(id, 15550001234, kT0);
  }
  uint64_t seen = 0;
  for (auto _ : state) {
    store.ForEachNumber(kT0, [&](const NumberSnapshot& s) { seen += s.window.attempts; });
  }
  benchmark::DoNotOptimize(seen);
  state.counters["numbers"] = static_cast<double>(count);
}
BENCHMARK(BM_SnapshotAllNumbers)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_BytesPerNumber(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(sizeof(Slot));
  // Slot (header and inline log) + its share of the 2x index (8-byte key +
  // 4-byte slot per entry); the pacing entry is in pacing_bench.
  state.counters["slot_bytes"] = static_cast<double>(sizeof(Slot));
  state.counters["index_bytes"] = 2 * 12;
  // A busy number's block: 1,440 calls (2,880 events) in its history.
  Store store(Options(1000));
  absl::Time t = kT0;
  BusyNumber(store, 15551230001, &t);
  state.counters["pool_bytes_after_1440_calls"] = static_cast<double>(store.log_block_bytes());
}
BENCHMARK(BM_BytesPerNumber)->Iterations(1);

}  // namespace
}  // namespace sippacer::metrics
