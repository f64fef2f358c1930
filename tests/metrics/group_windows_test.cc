#include "metrics/group_windows.h"

#include <catch2/catch.hpp>

namespace sippacer::metrics {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST_CASE("the writer's remembered bucket is BucketOf's, whichever way time moves", "[metrics]") {
  GroupWindows g(2, 13, absl::Minutes(5));
  // Forward within a period and across periods, back a period (a clock
  // stepped back), far ahead, and to the same second again.
  for (int64_t offset_s : {0, 1, 299, 300, 301, 900, 599, -1, 86400 * 30, 86400 * 30, 5, 4}) {
    const absl::Time t = kT0 + absl::Seconds(offset_s);
    const GroupWindows::Bucket want = g.BucketOf(t);
    const GroupWindows::Bucket got = g.WriterBucketOf(t);
    INFO("offset " << offset_s << " s");
    CHECK(got.epoch == want.epoch);
    CHECK(got.index == want.index);
  }
}

TEST_CASE("counts land in the bucket of their period", "[metrics]") {
  GroupWindows g(1, 13, absl::Minutes(5));
  g.AddAttempt(0, g.WriterBucketOf(kT0));
  g.AddAttempt(0, g.WriterBucketOf(kT0 + absl::Minutes(5)));
  g.AddAttempt(0, g.WriterBucketOf(kT0 + absl::Minutes(5) + absl::Seconds(1)));
  const absl::Time now = kT0 + absl::Minutes(6);
  CHECK(g.Sum(0, absl::Minutes(5), now).attempts == 2);
  CHECK(g.Sum(0, absl::Minutes(10), now).attempts == 3);
}

}  // namespace
}  // namespace sippacer::metrics
