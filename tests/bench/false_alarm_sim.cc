// The false-alarm design, measured: healthy numbers at pool-typical rates,
// dialing a call a minute around the clock for many days through the real
// Store and Pacer with the default policy. Prints how many number-days
// ended with the number paced. The design says fewer than 1 in 10,000.
//
//   build/tests/bench/false_alarm_sim [numbers=200] [days=50] [seed=1]
//
// A benchmark, not a test: 200 numbers x 50 days is 14.4 M calls.

#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include "pacing/pacer.h"

namespace {

using sippacer::metrics::CallOutcome;
using sippacer::metrics::E164;

struct Count : sippacer::pacing::EventSink {
  void OnStateChange(const sippacer::pacing::StateChange& c) override {
    if (c.to == sippacer::pacing::NumberState::kThrottled || c.to == sippacer::pacing::NumberState::kQuarantined) {
      ++paced;
      std::printf("paced: +%llu %s\n", static_cast<unsigned long long>(c.number), c.reason.c_str());
    }
  }
  int paced = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const int numbers = argc > 1 ? std::atoi(argv[1]) : 200;
  const int days = argc > 2 ? std::atoi(argv[2]) : 50;
  std::mt19937_64 rng(argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1);
  std::uniform_real_distribution<double> u(0, 1);

  sippacer::metrics::StoreOptions options;
  options.max_numbers = static_cast<size_t>(numbers) * 2;
  sippacer::metrics::Store store(options);
  sippacer::pacing::Policy policy;
  policy.rules = *sippacer::pacing::ParseRules(sippacer::pacing::kDefaultRules);
  Count count;
  sippacer::pacing::Pacer pacer(store, policy, &count);

  // Each number's own pre-ring 603 rate: 0.1% to 0.8%, pool-typical.
  std::vector<double> pre603(static_cast<size_t>(numbers));
  for (double& p : pre603) p = 0.001 + 0.007 * u(rng);
  const absl::Time start = absl::FromUnixSeconds(1'800'000'000);
  const int minutes = days * 24 * 60;
  for (int m = 0; m < minutes; ++m) {
    const absl::Time minute = start + absl::Minutes(m);
    for (int n = 0; n < numbers; ++n) {
      const E164 caller = 15550000000 + static_cast<E164>(n);
      const E164 callee = 12125550000 + static_cast<E164>(rng() % 10000) + 10000 * static_cast<E164>(rng() % 50);
      const absl::Time at = minute + absl::Milliseconds(static_cast<int64_t>(rng() % 59000));
      if (pacer.OnInvite(caller, callee, at).refuse) continue;
      CallOutcome o;
      o.caller = caller;
      o.callee = callee;
      const double r = u(rng);
      const double p = pre603[static_cast<size_t>(n)];
      o.ringing_seen = true;
      if (r < p) {
        o.code = 603, o.ringing_seen = false;
      } else if (r < p + 0.025) {
        o.code = 603;  // a person declining, after ring
      } else if (r < p + 0.105) {
        o.code = 486;
      } else if (r < p + 0.505) {
        o.code = 200;
      } else {
        o.code = 480;
      }
      o.final_at = at + absl::Seconds(1);
      pacer.OnFinal(o);
    }
    for (int s = 0; s < 60; s += 10) pacer.Tick(minute + absl::Seconds(s));
  }
  const double number_days = static_cast<double>(numbers) * days;
  std::printf(
      "%d numbers x %d days = %.0f number-days, %d calls each a day: %d paced (%.2g per number-day; "
      "designed: under 1e-4)\n",
      numbers, days, number_days, 24 * 60, count.paced, count.paced / number_days);
  return 0;
}
