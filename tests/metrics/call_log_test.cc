#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <random>

#include "metrics/call_log.h"

namespace sippacer::metrics {
namespace {

constexpr int64_t kT0 = 1'800'000'000;

CallEvent Attempt(int64_t at) { return CallEvent{at, CallEvent::Kind::kAttempt}; }
CallEvent Final(int64_t at, Outcome o, bool pre_ring = false, bool blocked = false) {
  return CallEvent{at, CallEvent::Kind::kFinal, o, pre_ring, blocked};
}

// What a window holds, counted from a plain list of what was appended.
CodeCounts Expected(const std::deque<CallEvent>& events, int64_t now, int64_t window) {
  CodeCounts c;
  for (const CallEvent& e : events) {
    if (e.at_s <= now && now - e.at_s < window) AddEvent(e, &c);
  }
  return c;
}

bool Same(const CodeCounts& a, const CodeCounts& b) {
  return a.attempts == b.attempts && a.paced == b.paced && a.pre_ring_603 == b.pre_ring_603 &&
         a.network_blocked == b.network_blocked && a.by_outcome == b.by_outcome;
}

TEST_CASE("call log: an event reads back as it was packed", "[metrics]") {
  const CallEvent e = Final(kT0 + 90, Outcome::k603, true, true);
  const CallEvent back = UnpackEvent(PackEvent(e, kT0), kT0);
  CHECK(back.at_s == kT0 + 90);
  CHECK(back.kind == CallEvent::Kind::kFinal);
  CHECK(back.outcome == Outcome::k603);
  CHECK(back.pre_ring_603);
  CHECK(back.network_blocked);
  CHECK(UnpackEvent(PackEvent(Attempt(kT0), kT0), kT0).kind == CallEvent::Kind::kAttempt);
  CHECK(UnpackEvent(PackEvent(CallEvent{kT0, CallEvent::Kind::kPaced}, kT0), kT0).kind == CallEvent::Kind::kPaced);
}

TEST_CASE("call log: windows read exactly what a plain list holds, walked and through cursors", "[metrics]") {
  // A number's day: quiet, then busy (its log grows through every block
  // size to the largest), then quiet again (it gives the blocks back).
  CallLogPool pool;
  CallLog log;
  std::deque<CallEvent> truth;
  const int64_t keep = 4 * 3600;
  std::mt19937 rng(7);
  int64_t t = kT0;
  const int64_t windows[] = {60, 900, 1800, 3600, keep, 7 * 24 * 3600};
  for (int step = 0; step < 60'000; ++step) {
    const int phase = step / 20'000;                 // 0 quiet, 1 busy, 2 quiet
    t += phase == 1 ? rng() % 2 : 30 + rng() % 300;  // busy: a call or two a second
    const CallEvent e = rng() % 2 ? Attempt(t) : Final(t, static_cast<Outcome>(rng() % kOutcomeCount), rng() % 7 == 0);
    AppendEvent(log, pool, e, keep);
    truth.push_back(e);
    while (!truth.empty() && t - truth.front().at_s >= keep) truth.pop_front();
    while (truth.size() > static_cast<size_t>(kMaxLogEvents)) truth.pop_front();
    if (step % 7 == 0) {
      const int64_t window = windows[rng() % std::size(windows)];
      const int64_t now = t + static_cast<int64_t>(rng() % 5);
      CodeCounts through_cursor, walked;
      CountWindow(log, now, window, &through_cursor);
      SumLog(log, now, window, &walked);
      const CodeCounts want = Expected(truth, now, window);
      INFO("step " << step << " window " << window << " events " << truth.size());
      REQUIRE(Same(walked, want));
      REQUIRE(Same(through_cursor, want));
    }
  }
  // Quiet again (about 75 events in 4 hours): back from 16,384 to at most 8 times that.
  REQUIRE(log.block.load() != nullptr);
  CHECK(log.block.load()->capacity <= 8 * log.count.load());
}

TEST_CASE("call log: a full log drops its oldest event, and cursors follow", "[metrics]") {
  CallLogPool pool;
  CallLog log;
  int kept = 0;
  for (int i = 0; i < kMaxLogEvents + 100; ++i) kept += AppendEvent(log, pool, Attempt(kT0 + i / 10), 86400);
  CHECK(kept == kMaxLogEvents);
  CodeCounts c;
  CountWindow(log, kT0 + 10'000, 86400, &c);
  CHECK(c.attempts == kMaxLogEvents);
  for (int i = 0; i < 50; ++i) AppendEvent(log, pool, Final(kT0 + 10'000, Outcome::k603), 86400);
  CodeCounts after;
  CountWindow(log, kT0 + 10'000, 86400, &after);
  CHECK(after.attempts == kMaxLogEvents - 50);
  CHECK(after.of(Outcome::k603) == 50);
}

TEST_CASE("call log: a paced number's refusals never push its calls out", "[metrics]") {
  CallLogPool pool;
  CallLog log;
  for (int i = 0; i < kMaxLogEvents; ++i) AppendEvent(log, pool, Attempt(kT0 + i / 10), 86400);
  // Its dialer retries fast: a full log drops the refusals.
  for (int i = 0; i < 1000; ++i) {
    CHECK_FALSE(AppendEvent(log, pool, CallEvent{kT0 + 2000, CallEvent::Kind::kPaced}, 86400));
  }
  CodeCounts c;
  CountWindow(log, kT0 + 2000, 86400, &c);
  CHECK(c.attempts == kMaxLogEvents);
  CHECK(c.paced == 0);
}

TEST_CASE("call log: a number never quiet for 400 days keeps its history past the offsets' end", "[metrics]") {
  CallLogPool pool;
  CallLog log;
  // A call every 30 minutes, an hour's history: the log never empties.
  int64_t t = kT0;
  for (int i = 0; i < 400 * 48; ++i, t += 1800) AppendEvent(log, pool, Final(t, Outcome::k486), 3600);
  t -= 1800;
  CodeCounts c;
  SumLog(log, t, 3600, &c);
  CHECK(c.of(Outcome::k486) == 2);
  const std::vector<CallEvent> events = Events(log);
  REQUIRE(events.size() == 2);
  CHECK(events[0].at_s == t - 1800);
  CHECK(events[1].at_s == t);
}

TEST_CASE("call log: a clock stepped back counts at the newest second", "[metrics]") {
  CallLogPool pool;
  CallLog log;
  AppendEvent(log, pool, Attempt(kT0 + 100), 3600);
  AppendEvent(log, pool, Attempt(kT0 + 40), 3600);  // 60 s back
  const std::vector<CallEvent> events = Events(log);
  REQUIRE(events.size() == 2);
  CHECK(events[1].at_s == kT0 + 100);
  CodeCounts c;
  SumLog(log, kT0 + 100, 1, &c);
  CHECK(c.attempts == 2);
}

TEST_CASE("call log: a number silent for longer than the history starts afresh", "[metrics]") {
  CallLogPool pool;
  CallLog log;
  for (int i = 0; i < 500; ++i) AppendEvent(log, pool, Attempt(kT0 + i), 3600);
  const int64_t later = kT0 + 400LL * 24 * 3600;  // past what an event's offset can say
  AppendEvent(log, pool, Final(later, Outcome::k480), 3600);
  CodeCounts c;
  CountWindow(log, later, 3600, &c);
  CHECK(c.attempts == 0);
  CHECK(c.of(Outcome::k480) == 1);
  CHECK(log.base_s.load() == static_cast<uint32_t>(later));
}

}  // namespace
}  // namespace sippacer::metrics
