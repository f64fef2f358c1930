// The detector as a whole, on simulated traffic: a pool of numbers dialing
// a call a minute each over a few NANP area codes and three carriers, the
// carriers answering with a realistic mix of finals, and the default policy.
// Time is simulated second by second; the RNG is seeded, so every run is
// the same run.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "metrics/store.h"
#include "pacing/pacer.h"

namespace sippacer::pacing {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);  // 2027-01-15 08:00 UTC, a minute edge
constexpr int kAreaCodes[] = {212, 312, 415, 713, 305};
constexpr const char* kCarrierNames[] = {"alpha", "bravo", "charlie"};
constexpr int kCarriers = 3;
constexpr metrics::E164 kFirstCaller = 15550100000;

// A dialed NANP number, 1 AAA NXX XXXX, whose carrier is chosen by N: 2
// alpha, 3 bravo, 4 charlie (the carriers CSV below).
metrics::E164 Nanp(int area, int carrier, int line) {
  return 10'000'000'000ULL + static_cast<metrics::E164>(area) * 10'000'000ULL +
         static_cast<metrics::E164>(2 + carrier) * 1'000'000ULL + static_cast<metrics::E164>(line);
}
// The carrier index of a number Nanp() made; -1 for anything else.
int CarrierIndex(metrics::E164 callee) {
  if (callee < 10'000'000'000ULL || callee >= 20'000'000'000ULL) return -1;
  const int n = static_cast<int>((callee / 1'000'000) % 10) - 2;
  return n >= 0 && n < kCarriers ? n : -1;
}

// "prefix,carrier" lines for every area code, in a file of this process's own.
class CarriersCsv {
 public:
  CarriersCsv() {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             absl::StrCat("sippacer_detector_carriers_", getpid(), "_", counter++, ".csv"))
                .string();
    std::ofstream out(path_);
    out << "# prefix,carrier\n";
    for (int area : kAreaCodes) {
      for (int c = 0; c < kCarriers; ++c) out << "+1" << area << (2 + c) << "," << kCarrierNames[c] << "\n";
    }
  }
  ~CarriersCsv() { std::remove(path_.c_str()); }
  CarriersCsv(const CarriersCsv&) = delete;
  CarriersCsv& operator=(const CarriersCsv&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Recorder : EventSink {
  void OnStateChange(const StateChange& c) override { states.push_back(c); }
  void OnWatchChange(const WatchChange& c) override { watches.push_back(c); }
  void OnRouteChange(const RouteChange& c) override { routes.push_back(c); }
  std::vector<StateChange> states;
  std::vector<WatchChange> watches;
  std::vector<RouteChange> routes;
};

// The chance of each final for one call. Healthy() sums to 1.
struct Mix {
  double blocked = 0;      // 603+ Network Blocked (pre-ring)
  double pre603 = 0.005;   // 603 before any 18x
  double post603 = 0.025;  // 603 after ringing
  double busy = 0.08;      // 486
  double answered = 0.40;  // 200
  double no_answer = 0;    // 480 after ringing
  double Sum() const { return blocked + pre603 + post603 + busy + answered + no_answer; }
};

Mix Healthy(double pre603 = 0.005) {
  Mix m;
  m.pre603 = pre603;
  m.no_answer = 1 - m.Sum();
  return m;
}

// `m` with `field` at `share` and every other final scaled to the rest.
Mix WithShare(Mix m, double Mix::*field, double share) {
  const double others = m.Sum() - m.*field;
  const double scale = others > 0 ? (1 - share) / others : 0;
  for (double Mix::*f : {&Mix::blocked, &Mix::pre603, &Mix::post603, &Mix::busy, &Mix::answered, &Mix::no_answer}) {
    m.*f *= scale;
  }
  m.*field = share;
  return m;
}

Policy DefaultPolicy() {
  Policy p;
  p.rules = *ParseRules(kDefaultRules);
  return p;
}

class Pool {
 public:
  // `numbers` callers, each one call a minute, their pre-ring 603 rates
  // log-spread from 0.1% to 1.5% (0.52% on average).
  explicit Pool(int numbers, Policy policy = DefaultPolicy(), uint32_t seed = 20270115,
                size_t max_numbers = 1000)
      : store(Options(csv.path(), max_numbers)), pacer(store, std::move(policy), &events), rng(seed) {
    for (int i = 0; i < numbers; ++i) {
      pre603.push_back(numbers > 1 ? 0.001 * std::pow(15.0, static_cast<double>(i) / (numbers - 1)) : 0.005);
      schedule[static_cast<size_t>(i % 60)].push_back(i);
    }
    calls.assign(pre603.size(), 0);
    pre_ring.assign(pre603.size(), 0);
  }

  static metrics::StoreOptions Options(const std::string& carriers, size_t max_numbers) {
    metrics::StoreOptions o;
    o.max_numbers = max_numbers;
    o.history = absl::Hours(4);
    o.carriers_csv_path = carriers;
    return o;
  }

  metrics::E164 Caller(int i) const { return kFirstCaller + static_cast<metrics::E164>(i); }
  int numbers() const { return static_cast<int>(pre603.size()); }

  // Simulates `d` more: every number dials at its second of each minute,
  // and the pacer ticks every second.
  void RunFor(absl::Duration d) {
    const absl::Time end = now + d;
    for (; now < end; now += absl::Seconds(1)) {
      for (int i : schedule[static_cast<size_t>(absl::ToUnixSeconds(now) % 60)]) Dial(i);
      pacer.Tick(now);
    }
  }

  // One call from number i (its callee and mix from the hooks).
  void Dial(int i) {
    const metrics::E164 to = callee ? callee(i) : SpreadCallee();
    const Mix m = mix ? mix(i, to, now) : Healthy(pre603[static_cast<size_t>(i)]);
    const metrics::CallOutcome* o = Place(Caller(i), to, m, now);
    if (o != nullptr) {
      ++calls[static_cast<size_t>(i)];
      if (o->code == 603 && !o->ringing_seen) ++pre_ring[static_cast<size_t>(i)];
    }
  }

  // One call from any number: the INVITE, and the final drawn from `m` if
  // the pacer forwarded it. Returns the final, or nullptr when refused.
  const metrics::CallOutcome* Place(metrics::E164 from, metrics::E164 to, const Mix& m, absl::Time at) {
    const Decision d = pacer.OnInvite(from, to, at);
    if (d.refuse && !d.dry_run) return nullptr;
    last = metrics::CallOutcome{};
    last.caller = from;
    last.callee = to;
    last.invite_at = at - absl::Seconds(5);
    last.final_at = at;
    double u = std::uniform_real_distribution<double>(0, m.Sum())(rng);
    if ((u -= m.blocked) < 0) {
      last.code = 603;
      last.network_blocked = true;
      last.reason_header = "SIP;cause=603;text=\"Network Blocked\"";
    } else if ((u -= m.pre603) < 0) {
      last.code = 603;
    } else if ((u -= m.post603) < 0) {
      last.code = 603;
      last.ringing_seen = true;
    } else if ((u -= m.busy) < 0) {
      last.code = 486;
    } else if ((u -= m.answered) < 0) {
      last.code = 200;
      last.ringing_seen = true;
    } else {
      last.code = 480;
      last.ringing_seen = true;
    }
    if (last.ringing_seen) last.first_ring_at = at - absl::Seconds(3);
    pacer.OnFinal(last);
    return &last;
  }

  metrics::E164 SpreadCallee() {
    const int area = kAreaCodes[std::uniform_int_distribution<int>(0, 4)(rng)];
    const int carrier = std::uniform_int_distribution<int>(0, kCarriers - 1)(rng);
    return Nanp(area, carrier, std::uniform_int_distribution<int>(0, 999'999)(rng));
  }

  // Numbers that left healthy at any time.
  std::set<metrics::E164> Paced() const {
    std::set<metrics::E164> out;
    for (const StateChange& c : events.states) {
      if (c.to != NumberState::kHealthy) out.insert(c.number);
    }
    return out;
  }
  std::optional<StateChange> FirstPaced(metrics::E164 number) const {
    for (const StateChange& c : events.states) {
      if (c.number == number && c.to != NumberState::kHealthy) return c;
    }
    return std::nullopt;
  }
  std::string Describe() const {
    std::string out;
    for (const StateChange& c : events.states) {
      absl::StrAppend(&out, c.number, " ", StateName(c.from), "->", StateName(c.to), " at +",
                      absl::FormatDuration(c.at - kT0), ": ", c.reason, "\n");
    }
    return out;
  }

  CarriersCsv csv;  // before the store, which reads it
  metrics::Store store;
  Recorder events;
  Pacer pacer;
  std::mt19937 rng;
  absl::Time now = kT0;
  std::vector<double> pre603;                           // each number's healthy pre-ring 603 rate
  std::function<metrics::E164(int i)> callee;           // default: SpreadCallee
  std::function<Mix(int i, metrics::E164 to, absl::Time t)> mix;  // default: Healthy(pre603[i])
  std::vector<int> schedule[60];                        // numbers by their second of the minute
  std::vector<int64_t> calls, pre_ring;                 // per number, since start
  metrics::CallOutcome last;
};

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
  pool.mix = [&](int i, metrics::E164, absl::Time t) {
    const Mix m = Healthy(pool.pre603[static_cast<size_t>(i)]);
    return i == bad && t >= onset ? WithShare(m, &Mix::pre603, 0.70) : m;
  };
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
  pool.mix = [&](int i, metrics::E164 to, absl::Time t) {
    const Mix m = Healthy(pool.pre603[static_cast<size_t>(i)]);
    return i == bad && t >= onset && CarrierIndex(to) == 1 ? WithShare(m, &Mix::pre603, 0.60) : m;
  };
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
  SECTION("every call to one carrier blocked") {
    pool.mix = [&](int i, metrics::E164 to, absl::Time t) {
      const Mix m = Healthy(pool.pre603[static_cast<size_t>(i)]);
      return i == bad && t >= onset && CarrierIndex(to) == 2 ? WithShare(m, &Mix::blocked, 1.0) : m;
    };
  }
  SECTION("a fifth of its calls blocked") {
    pool.mix = [&](int i, metrics::E164, absl::Time t) {
      const Mix m = Healthy(pool.pre603[static_cast<size_t>(i)]);
      return i == bad && t >= onset ? WithShare(m, &Mix::blocked, 0.20) : m;
    };
  }
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

TEST_CASE("a carrier blocking everyone paces no number and raises a route event", "[pacing][detector]") {
  Pool pool(100);
  const absl::Time onset = kT0 + absl::Hours(1), end = onset + absl::Hours(1);
  pool.mix = [&](int i, metrics::E164 to, absl::Time t) {
    const Mix m = Healthy(pool.pre603[static_cast<size_t>(i)]);
    return t >= onset && t < end && CarrierIndex(to) == 0 ? WithShare(m, &Mix::pre603, 0.25) : m;
  };
  pool.RunFor(absl::Hours(2) + absl::Minutes(45));
  INFO(pool.Describe());
  CHECK(pool.Paced().empty());
  CHECK(pool.pacer.paced_total() == 0);

  std::optional<RouteChange> up, down;
  for (const RouteChange& c : pool.events.routes) {
    INFO(c.route << " " << c.code << " " << c.elevated << " at +" << absl::FormatDuration(c.at - kT0) << ": "
                 << c.reason);
    CHECK(c.route == "carrier:alpha");
    if (c.route != "carrier:alpha" || c.code != "603pre") continue;
    (c.elevated ? up : down) = c;
  }
  REQUIRE(up.has_value());
  CHECK(up->at > onset);
  CHECK(up->at - onset <= absl::Minutes(10));
  // Normal again once the 30-minute window forgets the hour.
  REQUIRE(down.has_value());
  CHECK(down->at > end);
  CHECK(down->at - end <= absl::Minutes(35));
}

TEST_CASE("a learning country's calls are no evidence until it has a baseline", "[pacing][detector]") {
  const metrics::E164 kGerman = 49'301'234'000;  // +49 30 1234xxx
  const int german_dialer = 0, nanp_dialer = 1;
  auto setup = [&](Pool& pool) {
    pool.callee = [&pool, kGerman](int i) {
      return i == german_dialer ? kGerman + static_cast<metrics::E164>(std::uniform_int_distribution<int>(0, 999)(pool.rng))
                                : pool.SpreadCallee();
    };
    pool.mix = [&pool](int i, metrics::E164, absl::Time) {
      return i == german_dialer || i == nanp_dialer ? WithShare(Healthy(), &Mix::pre603, 1.0)
                                                    : Healthy(pool.pre603[static_cast<size_t>(i)]);
    };
  };

  SECTION("a new market: +49 has no days of history") {
    Pool pool(100);
    setup(pool);
    pool.RunFor(absl::Minutes(45));
    INFO(pool.Describe());
    CHECK(pool.store.CountryDaysSeen(49) == 1);  // today, once it carried 20 calls
    CHECK(pool.pacer.CountryLearning(49));
    CHECK_FALSE(pool.pacer.CountryLearning(1));
    CHECK(pool.calls[german_dialer] == 45);
    CHECK(pool.pre_ring[german_dialer] == 45);
    CHECK(pool.pacer.State(pool.Caller(german_dialer)).state == NumberState::kHealthy);
    CHECK_FALSE(pool.FirstPaced(pool.Caller(german_dialer)).has_value());
    // The same pattern to +1 numbers is paced at once.
    const auto nanp = pool.FirstPaced(pool.Caller(nanp_dialer));
    REQUIRE(nanp.has_value());
    CHECK(nanp->at - kT0 <= absl::Minutes(10));
    CHECK(pool.Paced() == std::set<metrics::E164>{pool.Caller(nanp_dialer)});
  }

  SECTION("a saved history of 5 days") {
    Pool pool(100);
    metrics::CountryHistory h;
    h.country_code = 49;
    h.days_seen = 5;
    pool.store.ImportCountry(h);
    setup(pool);
    CHECK_FALSE(pool.pacer.CountryLearning(49));
    pool.RunFor(absl::Minutes(45));
    INFO(pool.Describe());
    const auto german = pool.FirstPaced(pool.Caller(german_dialer));
    REQUIRE(german.has_value());
    CHECK(german->at - kT0 <= absl::Minutes(10));
    CHECK(pool.Paced() == std::set<metrics::E164>{pool.Caller(german_dialer), pool.Caller(nanp_dialer)});
  }

  SECTION("5 days of traffic to +49") {
    Pool pool(0);
    const metrics::E164 other = 15550109999, german = 15550100042;
    for (int day = 0; day < 5; ++day) {
      for (int i = 0; i < 25; ++i) {
        const absl::Time t = kT0 + absl::Hours(24 * day) + absl::Minutes(i);
        pool.Place(other, kGerman + static_cast<metrics::E164>(i), Healthy(), t);
      }
      CHECK(pool.store.CountryDaysSeen(49) == static_cast<uint32_t>(day + 1));
      CHECK(pool.pacer.CountryLearning(49) == (day < 4));
    }
    const absl::Time day5 = kT0 + absl::Hours(24 * 5);
    for (int i = 0; i < 10; ++i) {
      pool.Place(german, kGerman + 500, WithShare(Healthy(), &Mix::pre603, 1.0), day5 + absl::Minutes(i));
    }
    INFO(pool.Describe());
    CHECK(pool.pacer.State(german).state != NumberState::kHealthy);
    CHECK(pool.pacer.State(other).state == NumberState::kHealthy);
  }
}

TEST_CASE("a number whose 486s rise to 50% is watched, not paced", "[pacing][detector]") {
  Pool pool(60);
  const int busy = 7;
  const absl::Time onset = kT0 + absl::Hours(1);
  pool.mix = [&](int i, metrics::E164, absl::Time t) {
    const Mix m = Healthy(pool.pre603[static_cast<size_t>(i)]);
    return i == busy && t >= onset ? WithShare(m, &Mix::busy, 0.50) : m;
  };
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

TEST_CASE("a number whose every call is 603+ is quarantined naming 603+, on a clean pool",
          "[pacing][detector]") {
  // A clean pool: pre-ring 603 at 0.1%, so the 603pre baseline is near the
  // 0.2% floor of the 603+ one. Every 603+ is a 603pre too: the 603pre>5%
  // and 603+>=5% rules gain evidence on the same calls, and both are over
  // the threshold by the fifth call (--min_attempts). The number is one a
  // carrier's analytics blocked, and its reason must say so.
  Pool pool(100);
  for (double& r : pool.pre603) r = 0.001;
  const int bad = 12;
  const absl::Time onset = kT0 + absl::Hours(1);
  pool.mix = [&](int i, metrics::E164, absl::Time t) {
    const Mix m = Healthy(pool.pre603[static_cast<size_t>(i)]);
    return i == bad && t >= onset ? WithShare(m, &Mix::blocked, 1.0) : m;
  };
  pool.RunFor(absl::Hours(1) + absl::Minutes(20));
  INFO(pool.Describe());
  const auto first = pool.FirstPaced(pool.Caller(bad));
  REQUIRE(first.has_value());
  CHECK(first->to == NumberState::kQuarantined);
  CHECK(first->rule == "603+>=5%/4h:quarantine");
  CHECK(absl::StartsWith(first->reason, "603+ "));
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
      for (size_t i = 0; i + 1 < fresh.size(); ++i) pool.Place(fresh[i], Nanp(415, 2, k), answered, t += absl::Seconds(1));
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

TEST_CASE("a watched number that stops calling is unwatched once its window passes",
          "[pacing][detector]") {
  Pool pool(40);
  const int busy = 7;
  const absl::Time onset = kT0 + absl::Hours(1), quiet = onset + absl::Minutes(40);
  pool.mix = [&](int i, metrics::E164, absl::Time t) {
    const Mix m = Healthy(pool.pre603[static_cast<size_t>(i)]);
    return i == busy && t >= onset ? WithShare(m, &Mix::busy, 0.60) : m;
  };
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

TEST_CASE("the first route check after many new routes reads the pool's counts intact",
          "[pacing][detector]") {
  // 30 area codes seen for the first time in one route check: the
  // baselines' cache of group counts grows while the check runs. (Area 220
  // is in no carrier's prefixes, so only its area stands out.)
  Pool pool(0);
  const absl::Time t = kT0 + absl::Minutes(1);
  const Mix answered = WithShare(Healthy(0), &Mix::answered, 1.0);
  const Mix unanswered = WithShare(Healthy(0), &Mix::no_answer, 1.0);
  for (int a = 0; a < 30; ++a) {
    const int area = 201 + a;
    for (int i = 0; i < 45; ++i) {
      pool.Place(15550400000 + static_cast<metrics::E164>(i), Nanp(area, 0, i), area == 220 ? unanswered : answered,
                 t);
    }
  }
  pool.pacer.Tick(t);
  std::string routes;
  for (const RouteChange& c : pool.events.routes) absl::StrAppend(&routes, c.route, " ", c.code, ": ", c.reason, "\n");
  INFO(routes);
  REQUIRE(pool.events.routes.size() == 1);
  CHECK(pool.events.routes[0].route == "area:220");
  CHECK(pool.events.routes[0].code == "480");
  CHECK(pool.events.routes[0].elevated);
}

}  // namespace
}  // namespace sippacer::pacing
