#pragma once
// Evidence: the sequential test behind every rule.
//
// A rule `603pre>=15%/1h:throttle` asks one question of a number: is its
// rate of CODE above the line (15%), or at what the same routes give every
// other number (the baseline p0, baseline.h)? Each of the number's calls
// adds its log-likelihood ratio for "rate p1" against "rate p0":
//
//   hit  (the call ended in CODE):  log(p1 / p0)            > 0
//   miss (any other final):         log((1 - p1) / (1 - p0)) < 0
//
// and the running sum, floored at 0, is a CUSUM. p1 is chosen so that the
// sum drifts down for a number at or under the line and up above it (the
// expected step is 0 at exactly the line), so "the evidence crossed h" means
// "above the line", and the line is what the operator wrote.
//
// The threshold h is designed, not tuned. For a number whose calls follow
// their baselines, the sum is a likelihood ratio, and Lorden's bound on the
// CUSUM (average run length >= e^h calls before a false alarm) gives, over
// a day of N calls and R rules, P(paced by chance) <= R * N * e^-h. So
//
//   h = ln(R * N / alpha),   N = 1,440 calls (a call a minute, all day)
//
// for --false_alarm_rate=alpha (default 1e-4: once in 10,000 number-days).
// Checking after every call is part of that bound: there is no
// optional-stopping or multiple-testing bonus left to take.

#include <array>
#include <cstdint>

namespace sippacer::pacing {

inline constexpr double kCallsPerDesignDay = 1440;

// The per-call steps of one rule at one baseline.
struct EvidenceSteps {
  bool usable = false;  // false when p0 is already at or over the line
  double p1 = 0;
  double hit = 0;   // log(p1/p0)
  double miss = 0;  // log((1-p1)/(1-p0))
};

// Steps for a rule whose line is `line` (0.15) on a route whose baseline is
// `p0`. Exact for any p0; Stepper caches them.
EvidenceSteps StepsFor(double line, double p0);

// StepsFor on a grid of baselines (log-spaced, rounded up so a call never
// gets more evidence than its exact baseline would give): no logarithms on
// the SIP thread.
class Stepper {
 public:
  explicit Stepper(double line = 0.5);
  const EvidenceSteps& At(double p0) const;

 private:
  static constexpr int kGrid = 512;
  std::array<EvidenceSteps, kGrid + 1> table_{};
};

// h = ln(rules * N / alpha).
double EvidenceThreshold(double false_alarm_rate, int rules);

}  // namespace sippacer::pacing
