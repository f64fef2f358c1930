// The detector on a simulated pool: healthy numbers are not paced (the
// false-alarm design, measured), labelled ones are, and soon.

#include <catch2/catch.hpp>

#include "tests/pacing/detector_pool.h"

namespace sippacer::pacing::detector_testing {
namespace {

TEST_CASE("healthy numbers are never paced: the false-alarm design, measured", "[pacing][detector]") {
  Pool pool(100);
  // Five numbers at 1.5%, three times the pool's rate.
  const int kHigh = 5;
  for (int i = 0; i < kHigh; ++i) pool.pre603[static_cast<size_t>(i)] = 0.015;
  pool.RunFor(absl::Hours(12));
  INFO(pool.Describe());

  REQUIRE(pool.Paced().empty());
  CHECK(pool.events.states.empty());
  CHECK(pool.pacer.paced_total() == 0);
  CHECK(pool.pacer.numbers_in_state(NumberState::kHealthy) == 100);
  // The 486 watch line (30%) is far over 8%: nobody is watched either.
  CHECK(pool.events.watches.empty());
  CHECK(pool.pacer.numbers_watched() == 0);

  // The traffic was what it claims: 72,000 calls, ~0.6% pre-ring 603.
  const metrics::CodeCounts total = pool.store.Totals();
  CHECK(total.attempts == 100 * 12 * 60);
  const double pool_rate = static_cast<double>(total.pre_ring_603) / total.attempts;
  CHECK(pool_rate > 0.004);
  CHECK(pool_rate < 0.008);
  int64_t high_calls = 0, high_hits = 0;
  for (size_t i = 0; i < kHigh; ++i) {
    high_calls += pool.calls[i];
    high_hits += pool.pre_ring[i];
    CHECK(pool.pacer.State(pool.Caller(static_cast<int>(i))).state == NumberState::kHealthy);
  }
  INFO("pool " << pool_rate << ", the five high numbers " << static_cast<double>(high_hits) / high_calls);
  CHECK(static_cast<double>(high_hits) / high_calls > 2.0 * pool_rate);
}

TEST_CASE("a number whose pre-ring 603s jump to 70% is paced within 15 minutes", "[pacing][detector]") {
  Pool pool(100);
  const int bad = 37;
  const absl::Time onset = kT0 + absl::Hours(1);
  pool.Label(bad, onset, &Mix::pre603, 0.70);
  pool.RunFor(absl::Hours(1) + absl::Minutes(20));
  INFO(pool.Describe());
  const auto first = pool.FirstPaced(pool.Caller(bad));
  REQUIRE(first.has_value());
  INFO("paced after " << absl::FormatDuration(first->at - onset));
  CHECK(first->at > onset);
  CHECK(first->at - onset <= absl::Minutes(15));
  CHECK(absl::StrContains(first->reason, "603pre"));
  CHECK(pool.pacer.State(pool.Caller(bad)).state != NumberState::kHealthy);
  CHECK(pool.Paced() == std::set<metrics::E164>{pool.Caller(bad)});
}

TEST_CASE("a number blocked by one carrier of three is paced within an hour", "[pacing][detector]") {
  Pool pool(100);
  const int bad = 61;
  const absl::Time onset = kT0 + absl::Hours(1);
  pool.Label(bad, onset, &Mix::pre603, 0.60, /*only_carrier=*/1);
  pool.RunFor(absl::Hours(2) + absl::Minutes(5));
  INFO(pool.Describe());
  REQUIRE(pool.store.CarrierOf(Nanp(212, 1, 1234)) == "bravo");
  const auto first = pool.FirstPaced(pool.Caller(bad));
  REQUIRE(first.has_value());
  INFO("paced after " << absl::FormatDuration(first->at - onset));
  CHECK(first->at > onset);
  CHECK(first->at - onset <= absl::Minutes(60));
  CHECK(pool.Paced() == std::set<metrics::E164>{pool.Caller(bad)});
  // The evidence that condemned it is its calls to that carrier alone.
  INFO(first->reason);
  CHECK(first->reason.find(" calls to bravo in ") != std::string::npos);
}

TEST_CASE("a stream of 603+ Network Blocked quarantines the number, naming 603+", "[pacing][detector]") {
  Pool pool(100);
  const int bad = 12;
  const absl::Time onset = kT0 + absl::Hours(1);
  SECTION("every call to one carrier blocked") { pool.Label(bad, onset, &Mix::blocked, 1.0, /*only_carrier=*/2); }
  SECTION("a fifth of its calls blocked") { pool.Label(bad, onset, &Mix::blocked, 0.20); }
  pool.RunFor(absl::Hours(2));
  INFO(pool.Describe());
  const auto first = pool.FirstPaced(pool.Caller(bad));
  REQUIRE(first.has_value());
  CHECK(first->to == NumberState::kQuarantined);
  CHECK(first->rule == "603+>=5%/4h:quarantine");
  CHECK(absl::StartsWith(first->reason, "603+ "));
  CHECK(pool.pacer.State(pool.Caller(bad)).state == NumberState::kQuarantined);
  CHECK(absl::StartsWith(pool.pacer.State(pool.Caller(bad)).reason, "603+ "));
  CHECK(pool.Paced() == std::set<metrics::E164>{pool.Caller(bad)});
}

TEST_CASE("a number whose every call is 603+ is quarantined naming 603+, on a clean pool", "[pacing][detector]") {
  // A clean pool: pre-ring 603 at 0.1%, so the 603pre baseline is near the
  // 0.2% floor of the 603+ one. Every 603+ is a 603pre too: the 603pre>5%
  // and 603+>=5% rules gain evidence on the same calls, and both are over
  // the threshold by the fifth call (--min_attempts). The number is one a
  // carrier's analytics blocked, and its reason must say so.
  Pool pool(100);
  for (double& r : pool.pre603) r = 0.001;
  const int bad = 12;
  const absl::Time onset = kT0 + absl::Hours(1);
  pool.Label(bad, onset, &Mix::blocked, 1.0);
  pool.RunFor(absl::Hours(1) + absl::Minutes(20));
  INFO(pool.Describe());
  const auto first = pool.FirstPaced(pool.Caller(bad));
  REQUIRE(first.has_value());
  CHECK(first->to == NumberState::kQuarantined);
  CHECK(first->rule == "603+>=5%/4h:quarantine");
  CHECK(absl::StartsWith(first->reason, "603+ "));
}

}  // namespace
}  // namespace sippacer::pacing::detector_testing
