#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

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
  World() : store(metrics::StoreOptions{}), pacer(store, pacing::Policy(), nullptr) {}
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
