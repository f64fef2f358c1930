#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "metrics/store.h"
#include "metrics/zeroed_array.h"

namespace sippacer::metrics {
namespace {

// Resident bytes of this process now (Linux).
long ResidentBytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  const int n = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return n == 2 ? resident * sysconf(_SC_PAGESIZE) : -1;
}

TEST_CASE("ZeroedArray starts all zero and keeps what is written") {
  ZeroedArray<std::atomic<uint64_t>> a(1 << 20);
  CHECK(a[0].load() == 0);
  CHECK(a[(1 << 20) - 1].load() == 0);
  a[12345].store(7);
  CHECK(a[12345].load() == 7);
  CHECK(a[12346].load() == 0);
}

TEST_CASE("A store sized for a million numbers takes memory as numbers arrive, not at start") {
  const long before = ResidentBytes();
  REQUIRE(before > 0);
  StoreOptions o;
  o.max_numbers = 1'000'000;  // an index of 2^21 places: 24 MB if it were all written at start
  Store s(o);
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  for (E164 n = 15551230000; n < 15551230100; ++n) s.Touch(n, t);
  const long grown = ResidentBytes() - before;
  INFO("resident bytes grown: " << grown);
  CHECK(grown < 4 * 1024 * 1024);
  CHECK(s.Find(15551230042).has_value());
}

}  // namespace
}  // namespace sippacer::metrics
