// The fleet's texts in Redis (proxy/fleet/fleet_wire.h) and --redis.
#include <catch2/catch.hpp>

#include <string>

#include "proxy/fleet/fleet_wire.h"
#include "proxy/fleet/redis_target.h"

namespace sippacer::proxy::fleet {
namespace {

using metrics::CodeCounts;
using metrics::Outcome;
using pacing::NumberState;

CodeCounts Sample(uint32_t base) {
  CodeCounts c;
  c.attempts = base + 100;
  c.paced = base + 3;
  c.pre_ring_603 = base + 7;
  c.network_blocked = base + 2;
  for (int k = 0; k < metrics::kOutcomeCount; ++k) c.by_outcome[k] = base + static_cast<uint32_t>(k);
  return c;
}

bool Same(const CodeCounts& a, const CodeCounts& b) {
  return a.attempts == b.attempts && a.paced == b.paced && a.pre_ring_603 == b.pre_ring_603 &&
         a.network_blocked == b.network_blocked && a.by_outcome == b.by_outcome;
}

TEST_CASE("fleet wire: counts read back as written", "[proxy][fleet]") {
  const CodeCounts c = Sample(5);
  const std::string text = EncodeCounts(c);
  CHECK(text.rfind("105,8,12,7,5,6,", 0) == 0);
  const auto back = DecodeCounts(text);
  REQUIRE(back);
  CHECK(Same(*back, c));
  CHECK(Same(*DecodeCounts(EncodeCounts(CodeCounts{})), CodeCounts{}));
  // The largest counts survive.
  CodeCounts big;
  big.attempts = UINT32_MAX;
  big.by_outcome[static_cast<int>(Outcome::k603)] = UINT32_MAX;
  CHECK(Same(*DecodeCounts(EncodeCounts(big)), big));
}

TEST_CASE("fleet wire: counts of the wrong shape are refused", "[proxy][fleet]") {
  const std::string good = EncodeCounts(Sample(1));
  CHECK(DecodeCounts(good));
  CHECK_FALSE(DecodeCounts(""));
  CHECK_FALSE(DecodeCounts(good + ",1"));                      // a field too many
  CHECK_FALSE(DecodeCounts(good.substr(0, good.rfind(','))));  // one too few
  CHECK_FALSE(DecodeCounts("1,2,3"));
  std::string word = good;
  word.replace(0, 3, "abc");
  CHECK_FALSE(DecodeCounts(word));
  CHECK_FALSE(DecodeCounts("-1" + good.substr(3)));          // negative
  CHECK_FALSE(DecodeCounts("4294967296" + good.substr(3)));  // over 32 bits
  CHECK_FALSE(DecodeCounts(good + ","));                     // empty last field
  CHECK_FALSE(DecodeCounts("1.5" + good.substr(3)));
}

TEST_CASE("fleet wire: buckets clamp to 16 bits, and read back", "[proxy][fleet]") {
  CodeCounts c = Sample(0);
  c.attempts = 70000;
  const metrics::NumberRecord::BucketRecord b = metrics::BucketOf(42, c);
  CHECK(b.epoch == 42);
  CHECK(b.attempts == UINT16_MAX);
  CHECK(b.pre_ring_603 == 7);
  const CodeCounts back = metrics::CountsOf(b);
  CHECK(back.attempts == UINT16_MAX);
  CHECK(back.by_outcome == c.by_outcome);
}

CountBatch SampleBatch() {
  CountBatch b;
  b.node = "edge-a";
  b.sent_ms = 1'800'000'000'123;
  b.numbers.push_back({15551230001, 3'000'000, Sample(1)});
  b.numbers.push_back({4930123456, 3'000'001, Sample(2)});
  b.groups.push_back({"pool", 6'000'000, Sample(3)});
  b.groups.push_back({"carrier:Big Telco Inc", 6'000'001, Sample(4)});  // a name with spaces
  b.groups.push_back({"country:+49", 6'000'001, Sample(5)});
  b.hours.push_back({0, Sample(6)});
  b.hours.push_back({23, Sample(7)});
  return b;
}

TEST_CASE("fleet wire: a batch reads back as written", "[proxy][fleet]") {
  const CountBatch b = SampleBatch();
  const std::string text = EncodeBatch(b);
  CHECK(text.rfind("node edge-a 1800000000123\n", 0) == 0);
  const auto back = DecodeBatch(text);
  REQUIRE(back);
  CHECK(back->node == "edge-a");
  CHECK(back->sent_ms == b.sent_ms);
  REQUIRE(back->numbers.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(back->numbers[i].number == b.numbers[i].number);
    CHECK(back->numbers[i].epoch == b.numbers[i].epoch);
    CHECK(Same(back->numbers[i].counts, b.numbers[i].counts));
  }
  REQUIRE(back->groups.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(back->groups[i].group == b.groups[i].group);
    CHECK(back->groups[i].epoch == b.groups[i].epoch);
    CHECK(Same(back->groups[i].counts, b.groups[i].counts));
  }
  REQUIRE(back->hours.size() == 2);
  CHECK(back->hours[0].hour == 0);
  CHECK(back->hours[1].hour == 23);
  CHECK(Same(back->hours[1].counts, Sample(7)));
  // Nothing but the header: an empty batch.
  const auto empty = DecodeBatch("node edge-b 5\n");
  REQUIRE(empty);
  CHECK(empty->numbers.empty());
  CHECK(empty->groups.empty());
  CHECK(empty->hours.empty());
}

TEST_CASE("fleet wire: a batch's bad lines are skipped, the good ones kept", "[proxy][fleet]") {
  const std::string counts = EncodeCounts(Sample(1));
  const std::string text =
      "node edge-a 17\n"
      "n 15551230001 3000000 " +
      counts +
      "\n"
      "x 15551230001 3000000 " +
      counts + "\n" +                            // unknown kind
      "n 0 3000000 " + counts + "\n" +           // number 0
      "n abc 3000000 " + counts + "\n" +         // not a number
      "n 15551230001 -1 " + counts + "\n" +      // bad epoch
      "n 15551230001 3000000 1,2,3\n" +          // short counts
      "n 15551230001 3000000\n" +                // no counts
      "n15551230001 3000000 " + counts + "\n" +  // no space after the kind
      "g pool " + counts + "\n" +                // no epoch
      "h 24 " + counts + "\n" +                  // no such hour
      "h -1 " + counts + "\n" +                  //
      "h x " + counts + "\n" +                   //
      "n\n"
      "\n"
      "g carrier:alpha 6000000 " +
      counts +
      "\n"
      "h 7 " +
      counts + "\n";
  const auto b = DecodeBatch(text);
  REQUIRE(b);
  REQUIRE(b->numbers.size() == 1);
  CHECK(b->numbers[0].number == 15551230001);
  REQUIRE(b->groups.size() == 1);
  CHECK(b->groups[0].group == "carrier:alpha");
  REQUIRE(b->hours.size() == 1);
  CHECK(b->hours[0].hour == 7);
}

TEST_CASE("fleet wire: a batch without a node's header is refused", "[proxy][fleet]") {
  const std::string body = "n 15551230001 3000000 " + EncodeCounts(Sample(1)) + "\n";
  CHECK_FALSE(DecodeBatch(""));
  CHECK_FALSE(DecodeBatch("\n\n"));
  CHECK_FALSE(DecodeBatch(body));
  CHECK_FALSE(DecodeBatch("nodes edge-a 1\n" + body));
  CHECK_FALSE(DecodeBatch("node edge-a\n" + body));
  CHECK_FALSE(DecodeBatch("node edge-a x\n" + body));
  CHECK_FALSE(DecodeBatch("node edge-a 1 2\n" + body));
  CHECK_FALSE(DecodeBatch("node edge/a 1\n" + body));
  CHECK_FALSE(DecodeBatch("node  1\n" + body));
  CHECK_FALSE(DecodeBatch("node " + std::string(65, 'a') + " 1\n" + body));
  CHECK(DecodeBatch("node " + std::string(64, 'a') + " 1\n" + body));
}

TEST_CASE("fleet wire: a state reads back as written, its reason as it was", "[proxy][fleet]") {
  FleetState s;
  s.rank = RankOf(NumberState::kQuarantined, false);
  s.at_ms = 1'800'000'000'500;
  s.node = "edge-b";
  s.state = NumberState::kQuarantined;
  s.since_ms = 1'800'000'000'000;
  s.until_ms = 1'800'001'800'000;
  s.reason = "603pre 60.0% of 20 calls | rule 603pre>=40%/10m:quarantine|x";
  const std::string text = EncodeState(s);
  CHECK(text.rfind("3|1800000000500|edge-b|quarantined|1800000000000|1800001800000|603pre", 0) == 0);
  const auto back = DecodeState(text);
  REQUIRE(back);
  CHECK(back->rank == s.rank);
  CHECK(back->at_ms == s.at_ms);
  CHECK(back->node == s.node);
  CHECK(back->state == s.state);
  CHECK(back->since_ms == s.since_ms);
  CHECK(back->until_ms == s.until_ms);
  CHECK(back->reason == s.reason);

  // No end, an empty reason, every state.
  for (NumberState st :
       {NumberState::kHealthy, NumberState::kThrottled, NumberState::kQuarantined, NumberState::kProbation}) {
    FleetState t;
    t.node = "n1";
    t.state = st;
    const auto r = DecodeState(EncodeState(t));
    REQUIRE(r);
    CHECK(r->state == st);
    CHECK(r->until_ms == -1);
    CHECK(r->reason.empty());
    CHECK(StateFromName(pacing::StateName(st)) == st);
  }
  // A reason is kept to 512 bytes.
  s.reason = std::string(600, 'r');
  CHECK(DecodeState(EncodeState(s))->reason.size() == 512);
}

TEST_CASE("fleet wire: bad states are refused", "[proxy][fleet]") {
  CHECK_FALSE(DecodeState(""));
  CHECK_FALSE(DecodeState("3|1|edge-b|quarantined|0|-1"));     // six fields
  CHECK(DecodeState("3|1|edge-b|quarantined|0|-1|"));          // seven
  CHECK_FALSE(DecodeState("x|1|edge-b|quarantined|0|-1|r"));   // rank
  CHECK_FALSE(DecodeState("3|x|edge-b|quarantined|0|-1|r"));   // at
  CHECK_FALSE(DecodeState("3|1|edge b|quarantined|0|-1|r"));   // node
  CHECK_FALSE(DecodeState("3|1||quarantined|0|-1|r"));         // no node
  CHECK_FALSE(DecodeState("3|1|edge-b|banned|0|-1|r"));        // state
  CHECK_FALSE(DecodeState("3|1|edge-b|quarantined|-5|-1|r"));  // since
  CHECK_FALSE(DecodeState("3|1|edge-b|quarantined|0|-2|r"));   // until
  CHECK_FALSE(DecodeState("3|1|edge-b|quarantined|0|1.5|r"));  // until
  CHECK_FALSE(StateFromName("Quarantined"));
}

TEST_CASE("fleet wire: a policy reads back as written", "[proxy][fleet]") {
  FleetPolicy p;
  p.node = "edge-a";
  p.at_ms = 1'800'000'000'777;
  p.settings = {"number_cpm=6", "rules=603>=20%/10m:throttle,603pre>=40%/10m:quarantine"};
  p.by = "uid=1000(alice) pid=42 | via ctl";
  const std::string text = EncodePolicy(p);
  CHECK(text ==
        "edge-a|1800000000777|number_cpm=6\trules=603>=20%/10m:throttle,603pre>=40%/10m:quarantine|"
        "uid=1000(alice) pid=42 | via ctl");
  const auto back = DecodePolicy(text);
  REQUIRE(back);
  CHECK(back->node == p.node);
  CHECK(back->at_ms == p.at_ms);
  CHECK(back->settings == p.settings);
  CHECK(back->by == p.by);
  // Who set it is kept to 256 bytes.
  p.by = std::string(300, 'b');
  CHECK(DecodePolicy(EncodePolicy(p))->by.size() == 256);
}

TEST_CASE("fleet wire: bad policies are refused", "[proxy][fleet]") {
  CHECK(DecodePolicy("edge-a|1|number_cpm=6|"));
  CHECK_FALSE(DecodePolicy(""));
  CHECK_FALSE(DecodePolicy("edge-a|1|number_cpm=6"));   // three fields
  CHECK_FALSE(DecodePolicy("edge a|1|number_cpm=6|"));  // node
  CHECK_FALSE(DecodePolicy("edge-a|x|number_cpm=6|"));  // at
  CHECK_FALSE(DecodePolicy("edge-a|1||"));              // no setting
  CHECK_FALSE(DecodePolicy("edge-a|1|\t\t|"));
  CHECK_FALSE(DecodePolicy("edge-a|1|number_cpm|"));  // no '='
  CHECK_FALSE(DecodePolicy("edge-a|1|number_cpm=6\tdry_run|"));
  CHECK_FALSE(DecodePolicy("edge-a|1|k=" + std::string(1030, 'v') + "|"));  // a setting over 1024 bytes
  std::string many;
  for (int i = 0; i < 65; ++i) many += "k=v\t";
  CHECK_FALSE(DecodePolicy("edge-a|1|" + many + "|"));  // over 64 settings
  many.clear();
  for (int i = 0; i < 64; ++i) many += "k=v\t";
  CHECK(DecodePolicy("edge-a|1|" + many + "|"));
}

TEST_CASE("fleet wire: ranks order the transitions of a number", "[proxy][fleet]") {
  const int op_quarantine = RankOf(NumberState::kQuarantined, true);
  const int op_release = RankOf(NumberState::kHealthy, true);
  const int quarantine = RankOf(NumberState::kQuarantined, false);
  const int throttle = RankOf(NumberState::kThrottled, false);
  const int probation = RankOf(NumberState::kProbation, false);
  const int healthy = RankOf(NumberState::kHealthy, false);
  // Between two operators' commands neither outranks the other: the later
  // one stands (settled by AT_MS, as on one node).
  CHECK(op_quarantine == op_release);
  CHECK(op_release > quarantine);
  CHECK(quarantine > throttle);
  CHECK(throttle > probation);
  CHECK(probation > healthy);
}

FleetState At(int64_t at_ms, NumberState to, bool by_operator, const char* node) {
  FleetState s;
  s.rank = RankOf(to, by_operator);
  s.at_ms = at_ms;
  s.node = node;
  s.state = to;
  s.since_ms = at_ms;
  return s;
}

TEST_CASE("fleet wire: which of two changes of a number stands", "[proxy][fleet]") {
  const int64_t t = 1'800'000'000'000;
  const FleetState quarantine = At(t, NumberState::kQuarantined, false, "edge-a");
  // Within 2 s of each other, the higher rank, whichever came first.
  CHECK(Supersedes(At(t + 1500, NumberState::kThrottled, false, "edge-b"), quarantine) == false);
  CHECK(Supersedes(quarantine, At(t + 1500, NumberState::kThrottled, false, "edge-b")));
  CHECK(Supersedes(At(t - 1500, NumberState::kHealthy, true, "edge-b"), quarantine));  // an operator's release
  CHECK(Supersedes(At(t + 2000, NumberState::kProbation, false, "edge-b"), quarantine) == false);  // 2 s: concurrent
  // Further apart, the later one, whatever its rank.
  CHECK(Supersedes(At(t + 2001, NumberState::kProbation, false, "edge-b"), quarantine));
  CHECK(Supersedes(At(t - 2001, NumberState::kHealthy, true, "edge-b"), quarantine) == false);
  // The same rank: the later one; at the same time, the greater node name.
  CHECK(Supersedes(At(t + 1, NumberState::kQuarantined, false, "edge-0"), quarantine));
  CHECK(Supersedes(At(t - 1, NumberState::kQuarantined, false, "edge-z"), quarantine) == false);
  CHECK(Supersedes(At(t, NumberState::kQuarantined, false, "edge-b"), quarantine));
  CHECK(Supersedes(quarantine, At(t, NumberState::kQuarantined, false, "edge-b")) == false);
  // Two operators' commands: the later one stands.
  const FleetState release = At(t + 500, NumberState::kHealthy, true, "edge-b");
  CHECK(Supersedes(release, At(t, NumberState::kQuarantined, true, "edge-a")));
  CHECK(Supersedes(At(t, NumberState::kQuarantined, true, "edge-a"), release) == false);
  // Heard again, a change replaces itself (nothing flips).
  CHECK(Supersedes(quarantine, quarantine));
  // Any AT_MS Redis may hold compares without overflow.
  const FleetState last = At(INT64_MAX, NumberState::kHealthy, false, "edge-a");
  const FleetState first = At(INT64_MIN, NumberState::kQuarantined, true, "edge-a");
  CHECK(Supersedes(last, first));
  CHECK(Supersedes(first, last) == false);
  CHECK(Supersedes(last, last));
  CHECK(Supersedes(first, first));
}

TEST_CASE("fleet wire: node ids", "[proxy][fleet]") {
  for (const char* ok : {"edge-1", "a", "edge_b.example", "A-Z.0_9", "0"}) {
    INFO(ok);
    CHECK(ValidNodeId(ok));
  }
  CHECK(ValidNodeId(std::string(64, 'n')));
  CHECK_FALSE(ValidNodeId(std::string(65, 'n')));
  for (const char* bad : {"", "edge 1", "edge/1", "edge|1", "edge:1", "edge\n", "é"}) {
    INFO(bad);
    CHECK_FALSE(ValidNodeId(bad));
  }
}

TEST_CASE("fleet wire: --redis addresses", "[proxy][fleet]") {
  auto t = ParseRedisTarget("10.0.0.5:6380");
  REQUIRE(t.ok());
  CHECK(t->host == "10.0.0.5");
  CHECK(t->port == 6380);
  CHECK(t->db == 0);
  CHECK(t->Text() == "10.0.0.5:6380");

  t = ParseRedisTarget("redis://cache.internal");
  REQUIRE(t.ok());
  CHECK(t->host == "cache.internal");
  CHECK(t->port == 6379);
  CHECK(t->db == 0);

  t = ParseRedisTarget("redis://cache:6380/2");
  REQUIRE(t.ok());
  CHECK(t->host == "cache");
  CHECK(t->port == 6380);
  CHECK(t->db == 2);
  CHECK(t->Text() == "cache:6380/2");

  t = ParseRedisTarget("redis://cache/");
  REQUIRE(t.ok());
  CHECK(t->db == 0);

  for (const char* bad : {
           "redis://user:secret@cache:6379",  // a password in the address
           "redis://:secret@cache",           //
           "cache:0",                         // bad ports
           "cache:65536",                     //
           "cache:http",                      //
           "cache:",                          //
           "redis://cache:99999",             //
           "cache",                           // no port without the scheme
           "",                                //
           ":6379",                           // no host
           "redis://",                        //
           "redis://cache/x",                 // bad databases
           "redis://cache/256",               //
           "redis://cache/-1",                //
           "ca che:6379",                     // bad hosts
           "user@cache:6379",                 //
       }) {
    INFO(bad);
    auto r = ParseRedisTarget(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().rfind("--redis: ", 0) == 0);
  }
  // The refusal of a password says where it goes instead.
  CHECK(ParseRedisTarget("redis://u:p@cache").status().message().find("--redis_password_file") != std::string::npos);
}

TEST_CASE("fleet wire: a node's status reads back as written", "[proxy][fleet]") {
  NodeStatus s;
  s.node = "edge-c";
  s.pushed_ms = 1'800'000'000'250;
  s.calls_per_s = 12.5;
  s.numbers = 123456;
  s.pending = 7;
  s.version = "0.1.0|dev";
  const std::string text = EncodeNodeStatus(s);
  CHECK(text == "1800000000250|12.5|123456|7|0.1.0|dev");
  const auto back = DecodeNodeStatus("edge-c", text);
  REQUIRE(back);
  CHECK(back->node == "edge-c");
  CHECK(back->pushed_ms == s.pushed_ms);
  CHECK(back->calls_per_s == 12.5);
  CHECK(back->numbers == s.numbers);
  CHECK(back->pending == s.pending);
  CHECK(back->version == s.version);

  CHECK_FALSE(DecodeNodeStatus("edge c", text));  // the hash field is the node's id
  CHECK_FALSE(DecodeNodeStatus("edge-c", "1|2|3|4"));
  CHECK_FALSE(DecodeNodeStatus("edge-c", "x|2|3|4|v"));
  CHECK_FALSE(DecodeNodeStatus("edge-c", "1|fast|3|4|v"));
  CHECK_FALSE(DecodeNodeStatus("edge-c", "1|2|-3|4|v"));
  CHECK_FALSE(DecodeNodeStatus("edge-c", "1|2|3|x|v"));
  const auto empty_version = DecodeNodeStatus("edge-c", "1|0|0|0|");
  REQUIRE(empty_version);
  CHECK(empty_version->version.empty());
}

}  // namespace
}  // namespace sippacer::proxy::fleet
