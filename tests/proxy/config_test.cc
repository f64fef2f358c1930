#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "proxy/config.h"

namespace sippacer::proxy {
namespace {

FlagValues Defaults() {
  FlagValues f;
  f.listen = "127.0.0.1:5060";
  f.trunk = "carrier.example.net";
  f.allow = "127.0.0.0/8";
  f.caller_id = "pai,from";
  f.decision.default_country_code = "1";
  f.decision.timezone = "UTC";
  f.decision.rules = "603>=15%/15m:throttle,603>5%/4h:quarantine,480>10%/4h:throttle";
  f.decision.min_attempts = 20;
  f.decision.quarantine_for = "4h";
  f.stats_socket = "/tmp/sippacer-test.sock";
  return f;
}

TEST_CASE("the defaults make a valid config", "[proxy]") {
  auto c = BuildConfig(Defaults());
  REQUIRE(c.ok());
  REQUIRE(c->trunks.size() == 1);
  CHECK(c->trunks[0].host == "carrier.example.net");
  CHECK(c->trunks[0].port == 0);
  CHECK(c->policy.rules.size() == 3);
  CHECK(c->policy.quarantine_for == absl::Hours(4));
  CHECK(c->caller_id.size() == 2);
}

TEST_CASE("Timer J follows 64*T1 unless set, and only the patched sofia-sip sets it apart", "[proxy]") {
  auto c = BuildConfig(Defaults());
  REQUIRE(c.ok());
  CHECK_FALSE(c->timer_j.has_value());
  FlagValues f = Defaults();
  f.timer_j = "5s";
  c = BuildConfig(f);
  if (std::string(SIPPACER_SOFIA_BUILD) == "patched") {
    REQUIRE(c.ok());
    CHECK(c->timer_j == absl::Seconds(5));
  } else {
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().rfind("--timer_j:", 0) == 0);
  }
}

TEST_CASE("each bad flag is named in the error", "[proxy]") {
  struct Case {
    void (*mutate)(FlagValues&);
    const char* flag;
  };
  const Case cases[] = {
      {[](FlagValues& f) { f.trunk = ""; }, "--trunk:"},
      {[](FlagValues& f) { f.trunks_file = "/nonexistent/trunks"; }, "--trunks_file:"},
      {[](FlagValues& f) { f.listen = "127.0.0.1:0"; }, "--listen:"},
      {[](FlagValues& f) { f.allow = "300.1.1.1/8"; }, "--allow:"},
      {[](FlagValues& f) { f.caller_id = "contact"; }, "--caller_id:"},
      {[](FlagValues& f) { f.decision.default_country_code = "1a"; }, "--default_country_code:"},
      {[](FlagValues& f) { f.decision.timezone = "Nowhere/Land"; }, "--timezone:"},
      {[](FlagValues& f) { f.decision.rules = "603>=15%/15m"; }, "--rules:"},
      {[](FlagValues& f) { f.decision.min_attempts = 0; }, "--min_attempts:"},
      {[](FlagValues& f) { f.decision.number_cpm = -1; }, "--number_cpm:"},
      {[](FlagValues& f) { f.decision.throttled_cpm = 0; }, "--throttled_cpm:"},
      {[](FlagValues& f) { f.decision.quarantine_for = "-1h"; }, "--quarantine_for:"},
      {[](FlagValues& f) { f.decision.reject_code = 302; }, "--reject_code:"},
      {[](FlagValues& f) { f.decision.confidence = 1.5; }, "--confidence:"},
      {[](FlagValues& f) { f.decision.false_alarm_rate = 0; }, "--false_alarm_rate:"},
      {[](FlagValues& f) { f.decision.false_alarm_rate = 1; }, "--false_alarm_rate:"},
      {[](FlagValues& f) { f.decision.baseline_days = -1; }, "--baseline_days:"},
      {[](FlagValues& f) { f.decision.rules = "603pre>=15%/1h:panic"; }, "--rules:"},
      {[](FlagValues& f) { f.stats_socket = std::string(200, 'x'); }, "--stats_socket:"},
      {[](FlagValues& f) { f.metrics_listen = "9100"; }, "--metrics_listen:"},
      {[](FlagValues& f) { f.cdr_file = "/no/such/dir/cdr"; }, "--cdr_file:"},
      {[](FlagValues& f) { f.decision.max_numbers = 0; }, "--max_numbers:"},
      {[](FlagValues& f) { f.trunk_listen = "127.0.0.1:5060"; }, "--trunk_listen:"},
      {[](FlagValues& f) { f.trunk_auth_user = "bob"; }, "--trunk_auth_password_file:"},
      {[](FlagValues& f) { f.timer_j = "500ms"; }, "--timer_j:"},
      {[](FlagValues& f) { f.timer_j = "65s"; }, "--timer_j:"},
      {[](FlagValues& f) { f.timer_j = "soon"; }, "--timer_j:"},
  };
  for (const Case& c : cases) {
    FlagValues f = Defaults();
    c.mutate(f);
    auto config = BuildConfig(f);
    INFO(c.flag);
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().message().rfind(c.flag, 0) == 0);
  }
}

TEST_CASE("each bad fleet flag is named in the error", "[proxy][fleet]") {
  struct Case {
    void (*mutate)(FlagValues&);
    const char* flag;
  };
  const Case cases[] = {
      {[](FlagValues& f) { f.redis = "cache"; }, "--redis:"},
      {[](FlagValues& f) { f.redis = "cache:0"; }, "--redis:"},
      {[](FlagValues& f) { f.redis = "redis://user:secret@cache"; }, "--redis:"},
      {[](FlagValues& f) { f.redis = "redis://cache/300"; }, "--redis:"},
      {[](FlagValues& f) { f.node_id = "edge-a"; }, "--node_id:"},
      {[](FlagValues& f) { f.redis_password_file = "/etc/hostname"; }, "--redis_password_file:"},
      {[](FlagValues& f) {
         f.redis = "127.0.0.1:6379";
         f.redis_password_file = "/nonexistent/redis-password";
       },
       "--redis_password_file:"},
      {[](FlagValues& f) {
         f.redis = "127.0.0.1:6379";
         f.state_file = "/tmp/sippacer-config-test.state";
       },
       "--state_file:"},
      {[](FlagValues& f) {
         f.redis = "127.0.0.1:6379";
         f.node_id = "edge a";
       },
       "--node_id:"},
      {[](FlagValues& f) {
         f.redis = "127.0.0.1:6379";
         f.node_id = std::string(65, 'n');
       },
       "--node_id:"},
      {[](FlagValues& f) {
         f.redis = "127.0.0.1:6379";
         f.sync_interval = "50ms";
       },
       "--sync_interval:"},
      {[](FlagValues& f) {
         f.redis = "127.0.0.1:6379";
         f.sync_interval = "61s";
       },
       "--sync_interval:"},
      {[](FlagValues& f) {
         f.redis = "127.0.0.1:6379";
         f.sync_interval = "often";
       },
       "--sync_interval:"},
      {[](FlagValues& f) {
         f.redis = "127.0.0.1:6379";
         f.fleet_queue = 999;
       },
       "--fleet_queue:"},
      {[](FlagValues& f) {
         f.redis = "127.0.0.1:6379";
         f.fleet_queue = 10000001;
       },
       "--fleet_queue:"},
  };
  for (const Case& c : cases) {
    FlagValues f = Defaults();
    c.mutate(f);
    auto config = BuildConfig(f);
    INFO(c.flag);
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().message().rfind(c.flag, 0) == 0);
  }
}

TEST_CASE("a fleet config is filled from its flags", "[proxy][fleet]") {
  SECTION("alone: no fleet") {
    auto c = BuildConfig(Defaults());
    REQUIRE(c.ok());
    CHECK_FALSE(c->redis);
  }
  SECTION("--redis, --node_id, --sync_interval, --fleet_queue") {
    FlagValues f = Defaults();
    f.redis = "redis://cache.internal:6380/2";
    f.node_id = "edge-a";
    f.sync_interval = "250ms";
    f.fleet_queue = 1000;
    auto c = BuildConfig(f);
    REQUIRE(c.ok());
    REQUIRE(c->redis);
    CHECK(c->redis->host == "cache.internal");
    CHECK(c->redis->port == 6380);
    CHECK(c->redis->db == 2);
    CHECK(c->redis->password.empty());
    CHECK(c->node_id == "edge-a");
    CHECK(c->sync_interval == absl::Milliseconds(250));
    CHECK(c->fleet_queue == 1000);
  }
  SECTION("the defaults: 1s, 100000, the host's name") {
    FlagValues f = Defaults();
    f.redis = "127.0.0.1:6379";
    auto c = BuildConfig(f);
    // The host's name as it is may not be a node id (then the error says so).
    if (c.ok()) {
      CHECK_FALSE(c->node_id.empty());
      CHECK(c->node_id.find('.') == std::string::npos);
      CHECK(c->sync_interval == absl::Seconds(1));
      CHECK(c->fleet_queue == 100000);
      CHECK(c->redis->Text() == "127.0.0.1:6379");
    } else {
      CHECK(c.status().message().rfind("--node_id:", 0) == 0);
    }
  }
  SECTION("the password from its file's first line") {
    const std::string path = "/tmp/sippacer-config-test-redis-password." + std::to_string(::getpid());
    {
      std::ofstream out(path);
      out << "s3cret\r\nsecond line\n";
    }
    FlagValues f = Defaults();
    f.redis = "127.0.0.1:6379";
    f.node_id = "edge-a";
    f.redis_password_file = path;
    auto c = BuildConfig(f);
    std::remove(path.c_str());
    REQUIRE(c.ok());
    CHECK(c->redis->password == "s3cret");
  }
}

}  // namespace
}  // namespace sippacer::proxy
