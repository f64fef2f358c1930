// What deciding on an INVITE and judging a final response cost on the SIP thread.

#include <benchmark/benchmark.h>

#include "pacing/number_pacing_table.h"
#include "pacing/pacer.h"

namespace sippacer::pacing {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

Policy BenchPolicy() {
  Policy p;
  p.rules = *ParseRules("603>=15%/15m:throttle,603>5%/4h:quarantine,480>10%/4h:throttle");
  return p;
}

void BM_DecideHealthyNumber(benchmark::State& state) {
  metrics::Store store{metrics::StoreOptions{}};
  Pacer pacer(store, BenchPolicy(), nullptr);
  absl::Time t = kT0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(pacer.OnInvite(15551230001, 15550001234, t));
    t += absl::Microseconds(1);
  }
}
BENCHMARK(BM_DecideHealthyNumber);

void BM_DecidePacedNumber(benchmark::State& state) {
  metrics::Store store{metrics::StoreOptions{}};
  Pacer pacer(store, BenchPolicy(), nullptr);
  absl::Time t = kT0;
  for (int i = 0; i < 40; ++i) {
    pacer.OnInvite(15551230001, 15550001234, t);
    metrics::CallOutcome o;
    o.caller = 15551230001;
    o.code = i % 5 == 0 ? 603 : 200;  // 20%: over the throttle line
    o.final_at = t;
    pacer.OnFinal(o);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(pacer.OnInvite(15551230001, 15550001234, t));
    t += absl::Microseconds(1);
  }
  state.SetLabel(std::string(StateName(pacer.State(15551230001).state)));
}
BENCHMARK(BM_DecidePacedNumber);

void BM_OnFinal(benchmark::State& state) {
  metrics::Store store{metrics::StoreOptions{}};
  Pacer pacer(store, BenchPolicy(), nullptr);
  pacer.OnInvite(15551230001, 15550001234, kT0);
  metrics::CallOutcome o;
  o.caller = 15551230001;
  o.code = 200;
  o.final_at = kT0;
  for (auto _ : state) pacer.OnFinal(o);
}
BENCHMARK(BM_OnFinal);

void BM_PacingBytesPerNumber(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(sizeof(PacingEntry));
  state.counters["pacing_entry_bytes"] = static_cast<double>(sizeof(PacingEntry));
}
BENCHMARK(BM_PacingBytesPerNumber)->Iterations(1);

}  // namespace
}  // namespace sippacer::pacing
