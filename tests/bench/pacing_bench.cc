// What deciding on an INVITE and judging a final response cost on the SIP thread.

#include <benchmark/benchmark.h>

#include "metrics/number_table.h"
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

// Decisions at a call every 10 s: a number's log in steady state (each
// attempt appended drops the one that left the 4-hour history).
constexpr absl::Duration kEvery = absl::Seconds(10);

void BM_DecideHealthyNumber(benchmark::State& state) {
  metrics::Store store{metrics::StoreOptions{}};
  Pacer pacer(store, BenchPolicy(), nullptr);
  absl::Time t = kT0;
  for (int i = 0; i < 1440; ++i, t += kEvery) pacer.OnInvite(15551230001, 15550001234, t);
  for (auto _ : state) {
    benchmark::DoNotOptimize(pacer.OnInvite(15551230001, 15550001234, t));
    t += kEvery;
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
  metrics::CallOutcome o;
  o.caller = 15551230001;
  o.code = 200;
  o.final_at = kT0;
  for (int i = 0; i < 1440; ++i, o.final_at += kEvery) {
    pacer.OnInvite(15551230001, 15550001234, o.final_at);
    pacer.OnFinal(o);
  }
  for (auto _ : state) {
    pacer.OnFinal(o);
    o.final_at += kEvery;
  }
}
BENCHMARK(BM_OnFinal);

// A healthy number whose every 20th call a rule counts (a 480, under the
// 480 rule's 10% line): the evidence steps, through the number's windows,
// 1,440 calls in its history. The mean over the calls.
void BM_OnFinalWithRuleHits(benchmark::State& state) {
  metrics::Store store{metrics::StoreOptions{}};
  Pacer pacer(store, BenchPolicy(), nullptr);
  metrics::CallOutcome o;
  o.caller = 15551230001;
  o.final_at = kT0;
  int i = 0;
  auto call = [&] {
    pacer.OnInvite(15551230001, 15550001234, o.final_at);
    o.code = i++ % 20 == 0 ? 480 : 200;
    pacer.OnFinal(o);
    o.final_at += kEvery;
  };
  for (int k = 0; k < 1440; ++k) call();
  for (auto _ : state) call();
  state.SetLabel(std::string(StateName(pacer.State(15551230001).state)));
}
BENCHMARK(BM_OnFinalWithRuleHits);

void BM_PacingBytesPerNumber(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(sizeof(PacingEntry));
  state.counters["pacing_entry_bytes"] = static_cast<double>(sizeof(PacingEntry));
  state.counters["evidence_set_bytes"] = static_cast<double>(sizeof(EvidenceSet));  // while it has evidence
  state.counters["tracked_number_bytes"] = static_cast<double>(sizeof(PacingEntry) + sizeof(metrics::Slot) + 2 * 12);
}
BENCHMARK(BM_PacingBytesPerNumber)->Iterations(1);

}  // namespace
}  // namespace sippacer::pacing
