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

void BM_RecordFinalKnownNumber(benchmark::State& state) {
  Store store(Options(1000));
  const NumberId id = store.Touch(15551230001, kT0);
  CallOutcome o;
  o.caller = 15551230001;
  o.callee = 15550001234;
  o.code = 603;
  o.final_at = kT0;
  for (auto _ : state) {
    store.RecordFinal(id, o);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_RecordFinalKnownNumber);

void BM_AttemptKnownNumber(benchmark::State& state) {
  Store store(Options(1000));
  for (auto _ : state) {
    const NumberId id = store.Touch(15551230001, kT0);
    store.RecordAttempt(id, 15550001234, kT0);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_AttemptKnownNumber);

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
  // Slot + its share of the 2x index (8-byte key + 4-byte slot per entry).
  state.counters["slot_bytes"] = static_cast<double>(sizeof(Slot));
  state.counters["index_bytes"] = 2 * 12;
}
BENCHMARK(BM_BytesPerNumber)->Iterations(1);

}  // namespace
}  // namespace sippacer::metrics
