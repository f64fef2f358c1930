#pragma once
// A simulated pool for the detector's tests: numbers dialing a call a minute
// each over a few NANP area codes and three carriers, the carriers answering
// with a realistic mix of finals, and the default policy. Time is simulated
// second by second; the RNG is seeded, so every run is the same run.

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

namespace sippacer::pacing::detector_testing {

inline const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);  // 2027-01-15 08:00 UTC, a minute edge
inline constexpr int kAreaCodes[] = {212, 312, 415, 713, 305};
inline constexpr const char* kCarrierNames[] = {"alpha", "bravo", "charlie"};
inline constexpr int kCarriers = 3;
inline constexpr metrics::E164 kFirstCaller = 15550100000;

// A dialed NANP number, 1 AAA NXX XXXX, whose carrier is chosen by N: 2
// alpha, 3 bravo, 4 charlie (the carriers CSV below).
inline metrics::E164 Nanp(int area, int carrier, int line) {
  return 10'000'000'000ULL + static_cast<metrics::E164>(area) * 10'000'000ULL +
         static_cast<metrics::E164>(2 + carrier) * 1'000'000ULL + static_cast<metrics::E164>(line);
}
// The carrier index of a number Nanp() made; -1 for anything else.
inline int CarrierIndex(metrics::E164 callee) {
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

inline Mix Healthy(double pre603 = 0.005) {
  Mix m;
  m.pre603 = pre603;
  m.no_answer = 1 - m.Sum();
  return m;
}

// `m` with `field` at `share` and every other final scaled to the rest.
inline Mix WithShare(Mix m, double Mix::*field, double share) {
  const double others = m.Sum() - m.*field;
  const double scale = others > 0 ? (1 - share) / others : 0;
  for (double Mix::*f : {&Mix::blocked, &Mix::pre603, &Mix::post603, &Mix::busy, &Mix::answered, &Mix::no_answer}) {
    m.*f *= scale;
  }
  m.*field = share;
  return m;
}

inline Policy DefaultPolicy() {
  Policy p;
  p.rules = *ParseRules(kDefaultRules);
  return p;
}

class Pool {
 public:
  // `numbers` callers, each one call a minute, their pre-ring 603 rates
  // log-spread from 0.1% to 1.5% (0.52% on average).
  explicit Pool(int numbers, Policy policy = DefaultPolicy(), uint32_t seed = 20270115, size_t max_numbers = 1000)
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

  // From `onset` on, number `index`'s calls (those to carrier `only_carrier`
  // alone, if given) end in `field` with `share`; everyone else stays healthy.
  void Label(int index, absl::Time onset, double Mix::*field, double share, int only_carrier = -1) {
    mix = [this, index, onset, field, share, only_carrier](int i, metrics::E164 to, absl::Time t) {
      const Mix m = Healthy(pre603[static_cast<size_t>(i)]);
      const bool labelled = i == index && t >= onset && (only_carrier < 0 || CarrierIndex(to) == only_carrier);
      return labelled ? WithShare(m, field, share) : m;
    };
  }

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
  std::vector<double> pre603;                                     // each number's healthy pre-ring 603 rate
  std::function<metrics::E164(int i)> callee;                     // default: SpreadCallee
  std::function<Mix(int i, metrics::E164 to, absl::Time t)> mix;  // default: Healthy(pre603[i])
  std::vector<int> schedule[60];                                  // numbers by their second of the minute
  std::vector<int64_t> calls, pre_ring;                           // per number, since start
  metrics::CallOutcome last;
};

}  // namespace sippacer::pacing::detector_testing
