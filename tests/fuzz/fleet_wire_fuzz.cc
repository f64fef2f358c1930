// The fleet's texts (proxy/fleet/fleet_wire.h): what other nodes, or anyone
// with access to Redis, wrote there. The input goes to every parser: a count
// batch, a pacing state (and two, one on the first line: which replaces the
// other), a policy, counts, a node's status (node name on the first line,
// the status after it) and --redis. Errors are fine; a crash or UB is
// not. What one accepts, written again, reads back the same; a decoded
// batch applied to FleetCounts twice counts each call once.

#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "metrics/fleet_counts.h"
#include "proxy/fleet/fleet_wire.h"
#include "proxy/fleet/redis_target.h"
#include "tests/fuzz/fuzz_check.h"

namespace sippacer::proxy::fleet {
namespace {

constexpr int64_t kBucketS = 600;  // a number's bucket at the default --history
constexpr int kGroups = 4;

bool Same(const metrics::CodeCounts& a, const metrics::CodeCounts& b) {
  return a.attempts == b.attempts && a.paced == b.paced && a.pre_ring_603 == b.pre_ring_603 &&
         a.network_blocked == b.network_blocked && a.by_outcome == b.by_outcome;
}

bool Zero(const metrics::CodeCounts& c) { return Same(c, metrics::CodeCounts{}); }

void CheckCounts(absl::string_view text) {
  const auto c = DecodeCounts(text);
  if (!c) return;
  const std::string again = EncodeCounts(*c);
  const auto back = DecodeCounts(again);
  FUZZ_CHECK(back && Same(*back, *c));
  FUZZ_CHECK(EncodeCounts(*back) == again);
}

void CheckBatch(absl::string_view text) {
  const auto b = DecodeBatch(text);
  if (!b) return;
  FUZZ_CHECK(ValidNodeId(b->node));
  const auto back = DecodeBatch(EncodeBatch(*b));
  FUZZ_CHECK(back);
  FUZZ_CHECK(back->node == b->node && back->sent_ms == b->sent_ms);
  FUZZ_CHECK(back->numbers.size() == b->numbers.size());
  for (size_t i = 0; i < b->numbers.size(); ++i) {
    FUZZ_CHECK(b->numbers[i].number != 0);
    FUZZ_CHECK(back->numbers[i].number == b->numbers[i].number);
    FUZZ_CHECK(back->numbers[i].epoch == b->numbers[i].epoch);
    FUZZ_CHECK(Same(back->numbers[i].counts, b->numbers[i].counts));
  }
  FUZZ_CHECK(back->groups.size() == b->groups.size());
  for (size_t i = 0; i < b->groups.size(); ++i) {
    FUZZ_CHECK(!b->groups[i].group.empty());
    FUZZ_CHECK(back->groups[i].group == b->groups[i].group);
    FUZZ_CHECK(back->groups[i].epoch == b->groups[i].epoch);
    FUZZ_CHECK(Same(back->groups[i].counts, b->groups[i].counts));
  }
  FUZZ_CHECK(back->hours.size() == b->hours.size());
  for (size_t i = 0; i < b->hours.size(); ++i) {
    FUZZ_CHECK(b->hours[i].hour >= 0 && b->hours[i].hour < 24);
    FUZZ_CHECK(back->hours[i].hour == b->hours[i].hour);
    FUZZ_CHECK(Same(back->hours[i].counts, b->hours[i].counts));
  }

  // As the listener applies it (ApplyBatch), each line at a time when its
  // bucket is the current one: the same line again adds nothing.
  metrics::FleetCounts fleet(64, absl::Seconds(kBucketS), kGroups, 13, absl::Minutes(5));
  for (const auto& l : b->numbers) {
    const absl::Time now = absl::FromUnixSeconds(static_cast<int64_t>(l.epoch) * kBucketS + kBucketS / 2);
    const metrics::BucketCounts bucket = metrics::BucketOf(l.epoch, l.counts);
    fleet.SetNumber(b->node, l.number, bucket, now);
    FUZZ_CHECK(Zero(fleet.SetNumber(b->node, l.number, bucket, now)));
    fleet.NumberWindow(l.number, absl::Hours(4), now);
    size_t nodes = 0;
    for (const auto& [node, c] : fleet.ByNode(l.number, absl::Hours(4), now)) {
      FUZZ_CHECK(ValidNodeId(node));
      ++nodes;
    }
    FUZZ_CHECK(nodes <= 1);  // one node sent it all
  }
  for (const auto& l : b->groups) {
    const int group = static_cast<int>(l.group.size() % (kGroups + 1)) - 1;  // -1 too: ignored
    const absl::Time at = absl::FromUnixSeconds(static_cast<int64_t>(l.epoch) * 300 + 150);
    fleet.SetGroup(b->node, group, l.epoch, l.counts, at);
    fleet.GroupWindow(group, absl::Minutes(15), at);
  }
  for (const auto& l : b->hours) {
    fleet.SetHour(b->node, l.hour, l.counts);
    FUZZ_CHECK(fleet.Hour(l.hour).attempts == l.counts.attempts);
  }
  fleet.Prune(absl::FromUnixSeconds(b->sent_ms / 1000));
}

void CheckState(absl::string_view text) {
  const auto s = DecodeState(text);
  if (!s) return;
  FUZZ_CHECK(ValidNodeId(s->node));
  FUZZ_CHECK(s->since_ms >= 0 && s->until_ms >= -1);
  FUZZ_CHECK(s->reason.size() <= 512);
  const std::string again = EncodeState(*s);
  const auto back = DecodeState(again);
  FUZZ_CHECK(back);
  FUZZ_CHECK(back->rank == s->rank && back->at_ms == s->at_ms && back->node == s->node && back->state == s->state &&
             back->since_ms == s->since_ms && back->until_ms == s->until_ms && back->reason == s->reason);
  FUZZ_CHECK(EncodeState(*back) == again);
  // Heard again (a retry, an echo), a state replaces itself: nothing flips.
  FUZZ_CHECK(Supersedes(*s, *s));
}

// Two states of one number (the input's first line, and the rest): one of
// them replaces the other, and both only when they are the same change.
void CheckSupersedes(absl::string_view input) {
  const size_t nl = input.find('\n');
  if (nl == absl::string_view::npos) return;
  const auto a = DecodeState(input.substr(0, nl));
  const auto b = DecodeState(input.substr(nl + 1));
  if (!a || !b) return;
  const bool a_wins = Supersedes(*a, *b), b_wins = Supersedes(*b, *a);
  FUZZ_CHECK(a_wins || b_wins);
  if (a_wins && b_wins) FUZZ_CHECK(a->at_ms == b->at_ms && a->rank == b->rank && a->node == b->node);
}

void CheckPolicy(absl::string_view text) {
  const auto p = DecodePolicy(text);
  if (!p) return;
  FUZZ_CHECK(ValidNodeId(p->node));
  FUZZ_CHECK(!p->settings.empty() && p->settings.size() <= 64);
  for (const std::string& kv : p->settings) {
    FUZZ_CHECK(kv.find('=') != std::string::npos && kv.size() <= 1024);
    FUZZ_CHECK(kv.find_first_of("|\t") == std::string::npos);
  }
  FUZZ_CHECK(p->by.size() <= 256);
  const std::string again = EncodePolicy(*p);
  const auto back = DecodePolicy(again);
  FUZZ_CHECK(back);
  FUZZ_CHECK(back->node == p->node && back->at_ms == p->at_ms && back->settings == p->settings && back->by == p->by);
  FUZZ_CHECK(EncodePolicy(*back) == again);
}

bool Close(double a, double b) {
  if (a == b || (std::isnan(a) && std::isnan(b))) return true;
  return std::fabs(a - b) <= 1e-5 * std::fmax(std::fabs(a), std::fabs(b)) + 1e-300;
}

void CheckNodeStatus(absl::string_view input) {
  const size_t nl = input.find('\n');
  const absl::string_view node = nl == absl::string_view::npos ? absl::string_view() : input.substr(0, nl);
  const absl::string_view text = nl == absl::string_view::npos ? input : input.substr(nl + 1);
  const auto s = DecodeNodeStatus(node, text);
  if (!s) return;
  FUZZ_CHECK(s->node == node && ValidNodeId(s->node));
  FUZZ_CHECK(s->version.size() <= 64);
  // The rate is written with 6 significant digits: close, not equal.
  const auto back = DecodeNodeStatus(node, EncodeNodeStatus(*s));
  FUZZ_CHECK(back);
  FUZZ_CHECK(back->pushed_ms == s->pushed_ms && back->numbers == s->numbers && back->pending == s->pending &&
             back->version == s->version);
  FUZZ_CHECK(Close(back->calls_per_s, s->calls_per_s));
}

void CheckRedisTarget(absl::string_view text) {
  const auto t = ParseRedisTarget(text);
  if (!t.ok()) {
    FUZZ_CHECK(t.status().message().substr(0, 9) == "--redis: ");
    return;
  }
  FUZZ_CHECK(!t->host.empty() && t->host.find_first_of(" /@") == std::string::npos);
  FUZZ_CHECK(t->port >= 1 && t->port <= 65535);
  FUZZ_CHECK(t->db >= 0 && t->db <= 255);
  FUZZ_CHECK(t->password.empty());
  const auto back = ParseRedisTarget("redis://" + t->Text());
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->host == t->host && back->port == t->port && back->db == t->db);
}

}  // namespace
}  // namespace sippacer::proxy::fleet

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sippacer::proxy::fleet;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  CheckCounts(input);
  CheckBatch(input);
  CheckState(input);
  CheckSupersedes(input);
  CheckPolicy(input);
  CheckNodeStatus(input);
  CheckRedisTarget(input);
  return 0;
}
