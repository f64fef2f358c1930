#include <catch2/catch.hpp>

#include <cmath>
#include <utility>
#include <vector>

#include "pacing/evidence.h"

namespace sippacer::pacing {
namespace {

// Lines of the default rules and baselines from the floor (0.2%) to close
// under each line.
const std::vector<std::pair<double, double>>& Pairs() {
  static const auto* pairs = new std::vector<std::pair<double, double>>{
      {0.05, 0.002}, {0.05, 0.005}, {0.05, 0.01}, {0.05, 0.02},  {0.05, 0.04},  {0.15, 0.002},
      {0.15, 0.005}, {0.15, 0.03},  {0.15, 0.08}, {0.15, 0.12},  {0.30, 0.002}, {0.30, 0.08},
      {0.30, 0.2},   {0.50, 0.01},  {0.50, 0.4},  {0.01, 0.002}, {0.90, 0.5},   {0.15, 0.149},
  };
  return *pairs;
}

double Drift(double rate, const EvidenceSteps& s) { return rate * s.hit + (1 - rate) * s.miss; }

// E[exp(step)] for calls whose true rate is `p0`: at most 1 makes the
// likelihood ratio a supermartingale, which is what Lorden's bound needs.
double ExpectedRatio(double p0, const EvidenceSteps& s) { return p0 * std::exp(s.hit) + (1 - p0) * std::exp(s.miss); }

TEST_CASE("evidence steps drift to exactly zero at the line", "[pacing][evidence]") {
  for (const auto& [line, p0] : Pairs()) {
    INFO("line " << line << " p0 " << p0);
    const EvidenceSteps s = StepsFor(line, p0);
    REQUIRE(s.usable);
    CHECK(s.hit > 0);
    CHECK(s.miss < 0);
    CHECK(s.p1 > line);
    CHECK(s.p1 < 1);
    CHECK(s.hit == Approx(std::log(s.p1 / p0)).epsilon(1e-12));
    CHECK(s.miss == Approx(std::log((1 - s.p1) / (1 - p0))).epsilon(1e-12));
    // Zero drift at the line, relative to the size of the steps.
    CHECK(std::abs(Drift(line, s)) <= 1e-9 * (s.hit - s.miss));
    // Down at the baseline and anywhere under the line, up over it.
    CHECK(Drift(p0, s) < 0);
    CHECK(Drift((p0 + line) / 2, s) < 0);
    CHECK(Drift(line + (1 - line) / 10, s) > 0);
    // At the baseline the steps are a likelihood ratio: E[e^step] = 1.
    CHECK(ExpectedRatio(p0, s) == Approx(1).epsilon(1e-9));
  }
}

TEST_CASE("no evidence when the baseline is at or over the line", "[pacing][evidence]") {
  for (const auto& [line, p0] : std::vector<std::pair<double, double>>{
           {0.05, 0.05}, {0.05, 0.08}, {0.15, 0.15}, {0.15, 0.5}, {0.30, 0.99}, {0.05, 1.0}}) {
    INFO("line " << line << " p0 " << p0);
    const EvidenceSteps s = StepsFor(line, p0);
    CHECK_FALSE(s.usable);
    CHECK(s.hit == 0);
    CHECK(s.miss == 0);
    CHECK_FALSE(Stepper(line).At(p0).usable);
  }
  // A line of 100% can never be crossed.
  CHECK_FALSE(StepsFor(1.0, 0.01).usable);
}

TEST_CASE("the stepper rounds the baseline up: never more evidence for a hit", "[pacing][evidence]") {
  // Grid spacing of the table: 512 log steps from 1e-4 to 0.999.
  const double grid_ratio = std::pow(0.999 / 1e-4, 1.0 / 512);
  for (double line : {0.05, 0.15, 0.30, 0.50}) {
    const Stepper stepper(line);
    for (double p0 = 0.001; p0 < line; p0 *= 1.07) {
      INFO("line " << line << " p0 " << p0);
      const EvidenceSteps exact = StepsFor(line, p0);
      const EvidenceSteps& grid = stepper.At(p0);
      REQUIRE(exact.usable);
      if (!grid.usable) {
        // Only within one grid step of the line.
        CHECK(p0 * grid_ratio >= line);
        continue;
      }
      CHECK(grid.hit <= exact.hit + 1e-9);
      // Bracketed by the exact steps one grid step up.
      CHECK(grid.hit >= StepsFor(line, p0 * grid_ratio * (1 + 1e-9)).hit - 1e-12);
      // Close: within 3% while the baseline is well under the line.
      if (p0 <= line / 2) CHECK(grid.hit >= 0.97 * exact.hit);
      // Still a zero-drift test at the line (for its own, rounded baseline)...
      CHECK(std::abs(Drift(line, grid)) <= 1e-9 * (grid.hit - grid.miss));
      // ...and a supermartingale for calls at the true baseline, so the
      // designed false-alarm bound still holds.
      CHECK(ExpectedRatio(p0, grid) <= 1 + 1e-12);
    }
  }
}

TEST_CASE("the stepper clamps baselines outside its table", "[pacing][evidence]") {
  const Stepper stepper(0.15);
  // Under the table's first value (1e-4): the first entry, exact there.
  CHECK(stepper.At(0).hit == Approx(StepsFor(0.15, 1e-4).hit));
  CHECK(stepper.At(1e-7).hit == Approx(StepsFor(0.15, 1e-4).hit));
  CHECK(stepper.At(1e-4).hit == Approx(StepsFor(0.15, 1e-4).hit));
  CHECK_FALSE(stepper.At(2.0).usable);
}

TEST_CASE("the evidence threshold is ln(rules * 1440 / alpha)", "[pacing][evidence]") {
  CHECK(EvidenceThreshold(1e-4, 4) == Approx(std::log(5.76e7)));
  CHECK(EvidenceThreshold(1e-4, 4) == Approx(17.869).margin(1e-3));
  CHECK(EvidenceThreshold(1e-4, 1) == Approx(std::log(1.44e7)));
  CHECK(EvidenceThreshold(1e-4, 1) == Approx(16.483).margin(1e-3));
  CHECK(EvidenceThreshold(0.5, 2) == Approx(std::log(5760.0)));
  CHECK(EvidenceThreshold(1e-6, 8) == Approx(std::log(8 * 1440 / 1e-6)));
  // No rules counts as one (the log of 0 would be -inf).
  CHECK(EvidenceThreshold(1e-4, 0) == Approx(EvidenceThreshold(1e-4, 1)));
  // Ten times rarer false alarms cost ln(10) more evidence.
  CHECK(EvidenceThreshold(1e-5, 4) - EvidenceThreshold(1e-4, 4) == Approx(std::log(10.0)));
}

}  // namespace
}  // namespace sippacer::pacing
