#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pacing/pacer.h"
#include "proxy/state_file.h"

namespace sippacer::proxy {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

// A file of its own per test case, removed at the end.
struct TempPath {
  TempPath()
      : path(absl::StrCat(std::filesystem::temp_directory_path().string(), "/sippacer-state-", ::getpid(), "-",
                          ++counter, ".jsonl")) {}
  ~TempPath() {
    std::remove(path.c_str());
    std::remove((path + ".tmp").c_str());
  }
  static inline int counter = 0;
  std::string path;
};

struct World {
  explicit World(pacing::Policy flags = pacing::Policy())
      : store(metrics::StoreOptions{}), pacer(store, std::move(flags), nullptr) {}
  void Call(metrics::E164 caller, metrics::E164 callee, int code, absl::Time at) {
    pacer.OnInvite(caller, callee, at);
    metrics::CallOutcome o;
    o.caller = caller;
    o.callee = callee;
    o.code = code;
    o.final_at = at;
    pacer.OnFinal(o);
  }
  metrics::Store store;
  pacing::Pacer pacer;
};

TEST_CASE("numbers and country histories survive a save and a load", "[proxy]") {
  TempPath file;
  World before;
  // Two days of calls to +49: 25 a day, 5 of them declined.
  for (int day = 0; day < 2; ++day) {
    const absl::Time t = kT0 + absl::Hours(24 * day);
    for (int i = 0; i < 25; ++i) before.Call(15551230001, 4930123000 + i, i < 5 ? 603 : 200, t + absl::Seconds(i));
  }
  const absl::Time now = kT0 + absl::Hours(24) + absl::Minutes(1);
  REQUIRE(before.pacer.Quarantine(15551230002, absl::Hours(2), now).ok());
  REQUIRE(SaveState(file.path, before.store, before.pacer, now).ok());

  World after;
  auto restored = LoadState(file.path, after.store, after.pacer, now);
  REQUIRE(restored.ok());
  CHECK(restored->numbers == 2);
  CHECK(restored->countries == 1);
  const metrics::CountryHistory was = before.store.Country(49), is = after.store.Country(49);
  CHECK(is.days_seen == 2);
  REQUIRE(is.days.size() == was.days.size());
  for (size_t i = 0; i < is.days.size(); ++i) {
    CHECK(is.days[i].first == was.days[i].first);
    CHECK(is.days[i].second.attempts == 25);
    CHECK(is.days[i].second.of(metrics::Outcome::k603) == 5);
    CHECK(is.days[i].second.pre_ring_603 == 5);
  }
  CHECK(after.store.Snapshot(15551230001, now)->window.attempts == 25);
  CHECK(after.pacer.State(15551230002).state == pacing::NumberState::kQuarantined);
}

TEST_CASE("a policy set live survives a save and a load, unless its flag changed since", "[proxy]") {
  TempPath file;
  World before;
  {
    World unchanged;  // nothing set live: no policy line
    REQUIRE(SaveState(file.path, unchanged.store, unchanged.pacer, kT0).ok());
    std::ifstream in(file.path);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(all.find("policy") == std::string::npos);
  }
  auto live = pacing::ApplyPolicyUpdate(before.pacer.policy(), {"dry_run=yes", "number_cpm=2.5", "min_attempts=9"});
  REQUIRE(live.ok());
  before.pacer.SetPolicy(*live, pacing::PolicyOrigin{kT0, "uid=0 pid=42 (socat)"});
  REQUIRE(SaveState(file.path, before.store, before.pacer, kT0).ok());

  // Same flags: every live setting comes back, with who set it.
  World after;
  auto restored = LoadState(file.path, after.store, after.pacer, kT0);
  REQUIRE(restored.ok());
  CHECK(after.pacer.policy().dry_run);
  CHECK(after.pacer.policy().number_cpm == 2.5);
  CHECK(after.pacer.policy().min_attempts == 9);
  CHECK_FALSE(after.pacer.flag_policy().dry_run);
  CHECK(after.pacer.policy_origin().by == "uid=0 pid=42 (socat)");
  CHECK(after.pacer.policy_origin().at == kT0);
  CHECK(restored->policy_kept == std::vector<std::string>{"min_attempts=9 (--min_attempts=5)",
                                                          "number_cpm=2.5 (--number_cpm=0)",
                                                          "dry_run=true (--dry_run=false)"});
  CHECK(restored->policy_dropped.empty());
  // And it is saved again as set live.
  REQUIRE(SaveState(file.path, after.store, after.pacer, kT0).ok());
  World again;
  REQUIRE(LoadState(file.path, again.store, again.pacer, kT0).ok());
  CHECK(again.pacer.policy().dry_run);

  // --min_attempts edited on the command line since: that flag wins, the rest comes back.
  pacing::Policy edited;
  edited.min_attempts = 7;
  World later(edited);
  restored = LoadState(file.path, later.store, later.pacer, kT0);
  REQUIRE(restored.ok());
  CHECK(later.pacer.policy().min_attempts == 7);
  CHECK(later.pacer.policy().dry_run);
  REQUIRE(restored->policy_dropped.size() == 1);
  CHECK(restored->policy_dropped[0] ==
        "min_attempts=9 was set live over --min_attempts=5; --min_attempts=7 since: the flag wins");
}

TEST_CASE("a damaged policy line loads what it can", "[proxy]") {
  TempPath file;
  {
    std::ofstream out(file.path);
    out << "{\"policy\":{\"dry_run\":\"maybe\",\"colour\":\"red\",\"number_cpm\":\"3\"},\"flags\":7}\n";
  }
  World w;
  auto restored = LoadState(file.path, w.store, w.pacer, kT0);
  REQUIRE(restored.ok());
  CHECK(w.pacer.policy().number_cpm == 3);
  CHECK_FALSE(w.pacer.policy().dry_run);
  CHECK(restored->policy_dropped.size() == 2);
  CHECK(w.pacer.policy_origin().at == absl::InfinitePast());
}

TEST_CASE("a state file from before country lines still loads", "[proxy]") {
  TempPath file;
  {
    std::ofstream out(file.path);
    out << "{\"n\":15551230001,\"seen\":1800000000,\"pdd\":[0,0],\"b\":[]}\n";
  }
  World w;
  auto restored = LoadState(file.path, w.store, w.pacer, kT0);
  REQUIRE(restored.ok());
  CHECK(restored->numbers == 1);
  CHECK(restored->countries == 0);
}

TEST_CASE("a number's windows carry on across a restart to the second", "[proxy]") {
  TempPath file;
  World before;
  // Calls a minute apart from 0:00 to 0:19; 603+ on the last five.
  for (int i = 0; i < 20; ++i) {
    before.pacer.OnInvite(15551230001, 15550001234, kT0 + absl::Minutes(i));
    metrics::CallOutcome o;
    o.caller = 15551230001;
    o.callee = 15550001234;
    o.code = i < 15 ? 200 : 603;
    o.network_blocked = i >= 15;
    o.final_at = kT0 + absl::Minutes(i) + absl::Seconds(20);
    before.pacer.OnFinal(o);
  }
  const absl::Time saved = kT0 + absl::Minutes(20);
  REQUIRE(SaveState(file.path, before.store, before.pacer, saved).ok());
  World after;
  REQUIRE(LoadState(file.path, after.store, after.pacer, saved + absl::Minutes(1)).ok());
  const metrics::NumberId was = *before.store.Find(15551230001), is = *after.store.Find(15551230001);
  // The same counts in every window, whenever it is asked: not to a bucket's width.
  for (int at_s = 21 * 60; at_s < 4 * 3600 + 40 * 60; at_s += 37) {
    for (absl::Duration w : {absl::Minutes(15), absl::Hours(1), absl::Hours(4)}) {
      const metrics::CodeCounts a = before.store.Window(was, w, kT0 + absl::Seconds(at_s));
      const metrics::CodeCounts b = after.store.Window(is, w, kT0 + absl::Seconds(at_s));
      INFO("at " << at_s << " s, window " << absl::FormatDuration(w));
      REQUIRE(a.attempts == b.attempts);
      REQUIRE(a.of(metrics::Outcome::k2xx) == b.of(metrics::Outcome::k2xx));
      REQUIRE(a.of(metrics::Outcome::k603) == b.of(metrics::Outcome::k603));
      REQUIRE(a.network_blocked == b.network_blocked);
    }
  }
}

TEST_CASE("a state file of buckets only (before \"e\") still loads its counts", "[proxy]") {
  TempPath file;
  // Bucket 3,000,000 of 10 minutes: [epoch, attempts, paced, pre-ring 603, 603+, 17 outcomes].
  {
    std::ofstream out(file.path);
    out << "{\"n\":15551230001,\"seen\":1800000000,\"pdd\":[0,0],\"b\":[[3000000,7,0,2,0,5,0,0,0,0,0,0,0,0,0,0,0,0,2,0,"
           "0,0]]}\n";
  }
  World w;
  REQUIRE(LoadState(file.path, w.store, w.pacer, kT0 + absl::Minutes(30)).ok());
  const metrics::CodeCounts c = w.store.Window(*w.store.Find(15551230001), absl::Hours(1), kT0 + absl::Minutes(30));
  CHECK(c.attempts == 7);
  CHECK(c.of(metrics::Outcome::k2xx) == 5);
  CHECK(c.of(metrics::Outcome::k603) == 2);
  CHECK(c.pre_ring_603 == 2);
}

TEST_CASE("a line that is neither a number nor a country is refused", "[proxy]") {
  TempPath file;
  {
    std::ofstream out(file.path);
    out << "{\"country\":49,\"days\":1,\"d\":[]}\n{\"other\":1}\n";
  }
  World w;
  auto restored = LoadState(file.path, w.store, w.pacer, kT0);
  REQUIRE_FALSE(restored.ok());
  CHECK(restored.status().message().find("line 2") != absl::string_view::npos);
}

}  // namespace
}  // namespace sippacer::proxy
