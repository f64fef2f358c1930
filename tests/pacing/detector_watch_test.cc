// The detector on a simulated pool: watch rules flag without pacing, and a
// number's state and watch follow its slot through evictions.

#include <catch2/catch.hpp>

#include "tests/pacing/detector_pool.h"

namespace sippacer::pacing::detector_testing {
namespace {

TEST_CASE("a number whose 486s rise to 50% is watched, not paced", "[pacing][detector]") {
  Pool pool(60);
  const int busy = 7;
  const absl::Time onset = kT0 + absl::Hours(1);
  pool.Label(busy, onset, &Mix::busy, 0.50);
  pool.RunFor(absl::Hours(2));
  INFO(pool.Describe());
  const metrics::E164 n = pool.Caller(busy);
  std::optional<WatchChange> watched;
  for (const WatchChange& w : pool.events.watches) {
    CHECK(w.number == n);
    if (w.number == n && w.watched && !watched) watched = w;
  }
  REQUIRE(watched.has_value());
  INFO(watched->reason);
  CHECK(watched->at > onset);
  CHECK(watched->at - onset <= absl::Hours(1));
  CHECK(absl::StartsWith(watched->reason, "486 "));
  CHECK(absl::StrContains(watched->reason, "30% line"));
  const NumberPacing state = pool.pacer.State(n);
  CHECK(state.state == NumberState::kHealthy);
  CHECK(state.watched);
  CHECK(absl::StartsWith(state.watch_reason, "486 "));
  CHECK(pool.pacer.numbers_watched() == 1);
  CHECK(pool.events.states.empty());
}

TEST_CASE("State reads the right number while the table evicts", "[pacing][detector]") {
  Pool pool(0, DefaultPolicy(), 7, /*max_numbers=*/8);
  absl::Time t = kT0;
  const metrics::E164 bad = 15550200000;
  const Mix blocked = WithShare(Healthy(), &Mix::blocked, 1.0);
  for (int i = 0; i < 10 && pool.pacer.State(bad).state != NumberState::kQuarantined; ++i) {
    pool.Place(bad, Nanp(212, 0, i), blocked, t += absl::Seconds(30));
  }
  REQUIRE(pool.pacer.State(bad).state == NumberState::kQuarantined);
  const std::string reason = pool.pacer.State(bad).reason;
  // 200 numbers through 8 slots, some of them declined now and then.
  std::vector<metrics::E164> seen;
  for (int i = 0; i < 200; ++i) {
    const metrics::E164 n = 15550300000 + static_cast<metrics::E164>(i);
    for (int k = 0; k < 3; ++k) pool.Place(n, Nanp(312, k, i), Healthy(0.05), t += absl::Seconds(1));
    seen.push_back(n);
    pool.pacer.Tick(t);
    INFO("after " << n);
    const NumberPacing s = pool.pacer.State(n);
    CHECK(s.state == NumberState::kHealthy);
    CHECK(s.reason.empty());
    CHECK_FALSE(s.watched);
    CHECK(s.paced == 0);
    // The quarantined number is pinned: still there, still quarantined.
    const NumberPacing q = pool.pacer.State(bad);
    CHECK(q.state == NumberState::kQuarantined);
    CHECK(q.reason == reason);
  }
  CHECK(pool.store.numbers_tracked() == 8);
  CHECK(pool.store.evictions() == 200 - 7);
  CHECK(pool.store.Find(bad).has_value());
  // Evicted numbers read healthy (nothing tracked), never someone else's state.
  for (size_t i = 0; i + 7 < seen.size(); ++i) {
    CHECK_FALSE(pool.store.Find(seen[i]).has_value());
    CHECK(pool.pacer.State(seen[i]).state == NumberState::kHealthy);
  }
  CHECK(pool.Paced() == std::set<metrics::E164>{bad});
  // Its calls are still refused.
  const Decision d = pool.pacer.OnInvite(bad, Nanp(212, 0, 1), t += absl::Seconds(1));
  CHECK(d.refuse);
  CHECK(d.action == "quarantine");
}

TEST_CASE("evicting a watched number clears its watch", "[pacing][detector]") {
  Pool pool(0, DefaultPolicy(), 7, /*max_numbers=*/8);
  absl::Time t = kT0;
  const Mix busy = WithShare(Healthy(), &Mix::busy, 1.0);
  const metrics::E164 watched = 15550200000;
  for (int i = 0; i < 20 && !pool.pacer.State(watched).watched; ++i) {
    pool.Place(watched, Nanp(212, 0, i), busy, t += absl::Seconds(30));
  }
  REQUIRE(pool.pacer.State(watched).watched);
  REQUIRE(pool.pacer.numbers_watched() == 1);
  // Eight new numbers: the eighth takes the watched number's slot (the LRU tail).
  std::vector<metrics::E164> fresh;
  for (int i = 0; i < 8; ++i) {
    fresh.push_back(15550300000 + static_cast<metrics::E164>(i));
    pool.Place(fresh.back(), Nanp(312, 0, i), Healthy(0), t += absl::Seconds(1));
  }
  REQUIRE_FALSE(pool.store.Find(watched).has_value());
  CHECK_FALSE(pool.pacer.State(fresh.back()).watched);
  // Nothing tracked is watched now.
  CHECK(pool.pacer.numbers_watched() == 0);

  SECTION("the new number in the slot is never told it stopped being watched") {
    for (int k = 0; k < 150; ++k) pool.pacer.Tick(t += absl::Seconds(30));
    for (const WatchChange& w : pool.events.watches) {
      INFO(w.number << (w.watched ? " watched: " : " unwatched: ") << w.reason);
      CHECK(w.number == watched);
    }
    CHECK(pool.pacer.numbers_watched() == 0);
  }
  SECTION("the new number watched in its own right, then cleared, leaves no one counted") {
    // Background calls, so the pool's 486 rate is back far under 30%.
    const Mix answered = WithShare(Healthy(0), &Mix::answered, 1.0);
    for (int k = 0; k < 30; ++k) {
      for (size_t i = 0; i + 1 < fresh.size(); ++i)
        pool.Place(fresh[i], Nanp(415, 2, k), answered, t += absl::Seconds(1));
    }
    for (int i = 0; i < 20 && !pool.pacer.State(fresh.back()).watched; ++i) {
      pool.Place(fresh.back(), Nanp(312, 1, i), busy, t += absl::Seconds(30));
    }
    REQUIRE(pool.pacer.State(fresh.back()).watched);
    CHECK(pool.pacer.numbers_watched() == 1);
    // An hour and more later it calls cleanly again: its watch ends.
    for (int k = 0; k < 130; ++k) pool.pacer.Tick(t += absl::Seconds(30));
    for (int i = 0; i < 5; ++i) pool.Place(fresh.back(), Nanp(312, 1, i), answered, t += absl::Seconds(30));
    for (int k = 0; k < 20; ++k) pool.pacer.Tick(t += absl::Seconds(30));
    INFO("watch events: " << pool.events.watches.size());
    REQUIRE_FALSE(pool.pacer.State(fresh.back()).watched);
    CHECK(pool.pacer.numbers_watched() == 0);
  }
}

TEST_CASE("a watched number that stops calling is unwatched once its window passes", "[pacing][detector]") {
  Pool pool(40);
  const int busy = 7;
  const absl::Time onset = kT0 + absl::Hours(1), quiet = onset + absl::Minutes(40);
  pool.Label(busy, onset, &Mix::busy, 0.60);
  pool.RunFor(quiet - kT0);
  const metrics::E164 n = pool.Caller(busy);
  REQUIRE(pool.pacer.State(n).watched);
  // From now on the number dials nobody.
  auto& slot = pool.schedule[static_cast<size_t>(busy % 60)];
  slot.erase(std::remove(slot.begin(), slot.end(), busy), slot.end());
  // Three hours of silence: nothing of the 1h rule's window is left.
  pool.RunFor(absl::Hours(3));
  INFO(pool.Describe());
  const metrics::CodeCounts last_hour = pool.store.Window(*pool.store.Find(n), absl::Hours(1), pool.now);
  CHECK(last_hour.attempts == 0);
  CHECK_FALSE(pool.pacer.State(n).watched);
  CHECK(pool.pacer.numbers_watched() == 0);
  REQUIRE(pool.events.watches.size() >= 1);
  CHECK_FALSE(pool.events.watches.back().watched);
}

}  // namespace
}  // namespace sippacer::pacing::detector_testing
