#include "pacing/evidence.h"

#include <algorithm>
#include <cmath>

namespace sippacer::pacing {
namespace {

constexpr double kMinP0 = 1e-4;
constexpr double kMaxP0 = 0.999;

// Expected step at rate `p` for the test of p1 against p0.
double Drift(double p, double p0, double p1) { return p * std::log(p1 / p0) + (1 - p) * std::log((1 - p1) / (1 - p0)); }

double GridValue(int i, int grid) { return kMinP0 * std::pow(kMaxP0 / kMinP0, static_cast<double>(i) / grid); }

}  // namespace

EvidenceSteps StepsFor(double line, double p0) {
  EvidenceSteps s;
  p0 = std::clamp(p0, kMinP0, kMaxP0);
  if (!(line > p0) || line >= 1) return s;
  // Drift(line) falls from >0 (p1 just over p0) to -inf (p1 -> 1) as p1
  // grows past the line; find its zero by bisection.
  double lo = line, hi = 1 - 1e-9;
  if (Drift(line, p0, lo) <= 0) return s;
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    (Drift(line, p0, mid) > 0 ? lo : hi) = mid;
  }
  s.usable = true;
  s.p1 = lo;
  s.hit = std::log(s.p1 / p0);
  s.miss = std::log((1 - s.p1) / (1 - p0));
  return s;
}

Stepper::Stepper(double line) {
  for (int i = 0; i <= kGrid; ++i) table_[static_cast<size_t>(i)] = StepsFor(line, GridValue(i, kGrid));
}

const EvidenceSteps& Stepper::At(double p0) const {
  p0 = std::clamp(p0, kMinP0, kMaxP0);
  const double x = std::log(p0 / kMinP0) / std::log(kMaxP0 / kMinP0) * kGrid;
  const int i = std::clamp(static_cast<int>(std::ceil(x - 1e-9)), 0, kGrid);
  return table_[static_cast<size_t>(i)];
}

double EvidenceThreshold(double false_alarm_rate, int rules) {
  return std::log(std::max(1, rules) * kCallsPerDesignDay / false_alarm_rate);
}

}  // namespace sippacer::pacing
