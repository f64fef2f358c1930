// sippacer: the daemon. Reads and validates flags, then runs the SIP thread
// (this one, su_root) and the ops thread (Boost.Asio: stats socket,
// Prometheus, signals) until SIGTERM.
//
// Exit codes: 0 stopped (SIGTERM, SIGINT) or --help/--version; 2 refused at
// start, with one line naming the flag (a bad value, an address in use, a
// file it cannot write); 1 any other failure.

#include <sofia-sip/su_config.h>
// su_config.h first: it defines what sofia_features.h uses.
#include <sofia-sip/sofia_features.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "flags/command_line.h"
#include "flags/decision_flags.h"
#include "proxy/cdr/cdr_postgres.h"
#include "proxy/config.h"
#include "proxy/daemon.h"
#include "proxy/log.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:5060", "dialer-facing SIP address (UDP and TCP)");
ABSL_FLAG(std::string, trunk, "",
          "carrier trunk(s): host[:port] or a SIP URI (sips: for TLS), several comma-separated in failover order");
ABSL_FLAG(std::string, trunks_file, "",
          "instead of --trunk: a file of trunks, one a line: name uri [priority=N] [weight=N] [max_calls=N] "
          "[max_cps=X] (docs/trunks.md)");
ABSL_FLAG(std::string, trunk_listen, "", "separate local address for the trunk leg");
ABSL_FLAG(std::string, trunk_auth_user, "", "digest user for trunks that challenge (401/407)");
ABSL_FLAG(std::string, trunk_auth_password_file, "", "file whose first line is the digest password");
ABSL_FLAG(std::string, allow, "127.0.0.0/8", "CIDRs allowed to send new INVITEs");
ABSL_FLAG(std::string, caller_id, "pai,from", "where the originating number is read: pai, rpid, from");
ABSL_FLAG(std::string, pass_headers, "",
          "headers passed between the legs besides the default list, by name ('P-' is a prefix); docs/headers.md");
ABSL_FLAG(std::string, no_number, "forward",
          "a call whose caller ID is no number: forward (counted in the totals, no number to pace) or refuse "
          "(the pacing refusal code)");
ABSL_FLAG(std::string, refer, "relay", "in-dialog REFER: relay (to the other leg, NOTIFYs back) or refuse (405)");
ABSL_FLAG(std::string, strip_headers, "",
          "headers of the default list never passed between the legs, by name or prefix");
ABSL_FLAG(std::string, tcp_idle_timeout, "2m",
          "a TCP connection with no message and no transaction for this long is closed");
ABSL_FLAG(int32_t, tcp_max_connections, 4096,
          "inbound TCP connections at most (lowered to fit the file limit); the largest sources lose their newest");
ABSL_FLAG(int32_t, tcp_max_per_source, 64, "inbound TCP connections one IP address may hold; its newest are closed");
ABSL_FLAG(std::string, trunk_timeout, "32s",
          "an INVITE with no answer at all from a trunk target for this long goes to the next target or trunk "
          "(SIP Timer B, 64*T1; also sofia's other 64*T1 timers)");
ABSL_FLAG(std::string, timer_j, "",
          "an answered BYE (or other non-INVITE request) over UDP is kept this long to answer its retransmission "
          "again (SIP Timer J, 1s to 64s; default 64*T1, that is --trunk_timeout); patched sofia-sip only");
ABSL_FLAG(std::string, dns_resolv_conf, "",
          "resolv.conf for trunk names (RFC 3263: NAPTR, SRV, A); sofia's extra 'port N' line sets the DNS port");
ABSL_FLAG(std::string, tls_listen, "", "our TLS address toward TLS trunks (default: --listen's host, port 5061)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate sippacer shows TLS trunks (optional; with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "/etc/ssl/certs/ca-certificates.crt", "PEM CAs a TLS trunk's certificate must chain to");
ABSL_FLAG(bool, tls_verify, true, "verify TLS trunks' certificates against --tls_ca (false: accept any)");
ABSL_FLAG(std::string, ring_timeout, "185s",
          "a call ringing this long without an answer is CANCELled toward the trunk; the dialer gets 408");
ABSL_FLAG(std::string, stats_socket, "/run/sippacer/sippacer.sock", "Unix stream socket for the stats protocol");
ABSL_FLAG(std::string, metrics_listen, "", "host:port serving Prometheus text at /metrics (empty = off)");
ABSL_FLAG(std::string, cdr_file, "", "append one JSON line per call (empty = off)");
ABSL_FLAG(std::string, cdr_postgres, "", "libpq connection string for CDRs (empty = off)");
ABSL_FLAG(std::string, state_file, "", "counters and number states survive restarts (empty = off)");
ABSL_FLAG(std::string, redis, "",
          "share windows and states with the other nodes of a fleet through this Redis: HOST:PORT or "
          "redis://HOST[:PORT][/DB] (empty = a single node)");
ABSL_FLAG(std::string, redis_password_file, "", "file whose first line is the Redis password (AUTH)");
ABSL_FLAG(std::string, node_id, "", "this node's name in the fleet (default: the host name)");
ABSL_FLAG(std::string, sync_interval, "1s", "how often counts and states go to Redis");
ABSL_FLAG(int32_t, fleet_queue, 100000, "changed numbers kept while Redis is away (past it: a full push later)");
ABSL_FLAG(std::string, log_level, "info", "lines below this level are not logged: error, warn, info or debug");
ABSL_FLAG(std::string, log_target, "stderr",
          "where log lines go: stderr (with a UTC timestamp each) or syslog (syslog(3), journald: facility "
          "daemon, priority by level)");

namespace {

// --help: every flag is in exactly one group (the flags test checks).
const std::vector<sippacer::flags::FlagGroup>& FlagGroups() {
  static const auto* groups = new std::vector<sippacer::flags::FlagGroup>{
      {"Relay",
       {"listen", "allow", "caller_id", "no_number", "pass_headers", "strip_headers", "refer", "ring_timeout",
        "tcp_idle_timeout", "tcp_max_connections", "tcp_max_per_source", "timer_j"}},
      {"Trunks and TLS",
       {"trunk", "trunks_file", "trunk_listen", "trunk_auth_user", "trunk_auth_password_file", "trunk_timeout",
        "dns_resolv_conf", "tls_listen", "tls_cert", "tls_key", "tls_ca", "tls_verify"}},
      {"Pacing (the same in sippacer-replay)",
       {"rules", "min_attempts", "false_alarm_rate", "baseline_days", "confidence", "hour_guard", "number_cpm",
        "throttled_cpm", "quarantine_for", "reject_code", "dry_run", "default_country_code", "carriers", "timezone",
        "max_numbers"}},
      {"Stats", {"stats_socket", "metrics_listen"}},
      {"CDR", {"cdr_file", "cdr_postgres"}},
      {"State", {"state_file"}},
      {"Fleet", {"redis", "redis_password_file", "node_id", "sync_interval", "fleet_queue"}},
      {"Logging", {"log_level", "log_target"}},
  };
  return *groups;
}

constexpr char kHelpFooter[] =
    "Also: --flagfile=FILE (flags from FILE, one --name=value a line, '#' comments),\n"
    "--helpfull (every flag, Abseil's own too), --version. In detail: docs/flags.md.\n"
    "Exit codes: 0 stopped by SIGTERM or SIGINT; 2 refused at start, with one line\n"
    "naming the flag (a bad value, an address in use, a file it cannot write);\n"
    "1 any other failure.\n";

// The CMake build type when the build says it, else what the compiler knows.
constexpr char kBuildType[] =
#if defined(SIPPACER_BUILD_TYPE)
    SIPPACER_BUILD_TYPE;
#elif defined(__SANITIZE_ADDRESS__)
    "Asan";
#elif defined(__SANITIZE_THREAD__)
    "Tsan";
#elif !defined(NDEBUG)
    "Debug (assertions on)";
#else
    "optimized (NDEBUG)";
#endif

std::string VersionText() {
  return absl::StrCat("sippacer ", SIPPACER_VERSION, "\nbuild: ", kBuildType, "\nsofia-sip: ", SIPPACER_SOFIA_BUILD,
                      " (", sofia_sip_name_version, ")\nlibpq: ", sippacer::proxy::LibpqVersion(),
                      "\nallocator: ", SIPPACER_ALLOCATOR, "\n");
}

// One line naming the flag, exit 2.
int Refuse(absl::string_view message) {
  sippacer::proxy::LogRefusal(message);
  sippacer::proxy::StopLog();
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "sippacer --trunk=HOST[:PORT] [flags]\n"
      "Inline SIP B2BUA that paces caller-ID numbers by the carriers' final responses.");
  sippacer::flags::SetUsageConfig(VersionText);
  // Every flag problem exits 2 with one line; Abseil would exit 1 with several.
  auto command_line = sippacer::flags::CheckCommandLine(argc, argv);
  if (!command_line.ok()) return Refuse(command_line.status().message());
  if (sippacer::flags::AnswerUsageRequest(*command_line, FlagGroups(), kHelpFooter, VersionText)) return 0;
  absl::ParseCommandLine(argc, argv);

  sippacer::proxy::LogOptions log;
  if (auto level = sippacer::proxy::ParseLogLevel(absl::GetFlag(FLAGS_log_level))) {
    log.level = *level;
  } else {
    return Refuse(
        absl::StrCat("--log_level: '", absl::GetFlag(FLAGS_log_level), "' is not error, warn, info or debug"));
  }
  if (auto target = sippacer::proxy::ParseLogTarget(absl::GetFlag(FLAGS_log_target))) {
    log.target = *target;
  } else {
    return Refuse(absl::StrCat("--log_target: '", absl::GetFlag(FLAGS_log_target), "' is not stderr or syslog"));
  }
  sippacer::proxy::StartLog(log);

  sippacer::proxy::FlagValues f;
  f.listen = absl::GetFlag(FLAGS_listen);
  f.trunk = absl::GetFlag(FLAGS_trunk);
  f.trunks_file = absl::GetFlag(FLAGS_trunks_file);
  f.trunk_listen = absl::GetFlag(FLAGS_trunk_listen);
  f.trunk_auth_user = absl::GetFlag(FLAGS_trunk_auth_user);
  f.trunk_auth_password_file = absl::GetFlag(FLAGS_trunk_auth_password_file);
  f.allow = absl::GetFlag(FLAGS_allow);
  f.caller_id = absl::GetFlag(FLAGS_caller_id);
  f.pass_headers = absl::GetFlag(FLAGS_pass_headers);
  f.strip_headers = absl::GetFlag(FLAGS_strip_headers);
  f.refer = absl::GetFlag(FLAGS_refer);
  f.no_number = absl::GetFlag(FLAGS_no_number);
  f.tcp_idle_timeout = absl::GetFlag(FLAGS_tcp_idle_timeout);
  f.ring_timeout = absl::GetFlag(FLAGS_ring_timeout);
  f.trunk_timeout = absl::GetFlag(FLAGS_trunk_timeout);
  f.timer_j = absl::GetFlag(FLAGS_timer_j);
  f.dns_resolv_conf = absl::GetFlag(FLAGS_dns_resolv_conf);
  f.tls_listen = absl::GetFlag(FLAGS_tls_listen);
  f.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  f.tls_key = absl::GetFlag(FLAGS_tls_key);
  f.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  f.tls_verify = absl::GetFlag(FLAGS_tls_verify);
  f.tcp_max_connections = absl::GetFlag(FLAGS_tcp_max_connections);
  f.tcp_max_per_source = absl::GetFlag(FLAGS_tcp_max_per_source);
  f.stats_socket = absl::GetFlag(FLAGS_stats_socket);
  f.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  f.cdr_file = absl::GetFlag(FLAGS_cdr_file);
  f.cdr_postgres = absl::GetFlag(FLAGS_cdr_postgres);
  f.state_file = absl::GetFlag(FLAGS_state_file);
  f.redis = absl::GetFlag(FLAGS_redis);
  f.redis_password_file = absl::GetFlag(FLAGS_redis_password_file);
  f.node_id = absl::GetFlag(FLAGS_node_id);
  f.sync_interval = absl::GetFlag(FLAGS_sync_interval);
  f.fleet_queue = absl::GetFlag(FLAGS_fleet_queue);
  auto decision = sippacer::flags::ReadDecisionFlags();
  if (!decision.ok()) return Refuse(decision.status().message());
  f.decision = *std::move(decision);

  auto config = sippacer::proxy::BuildConfig(f);
  if (!config.ok()) return Refuse(config.status().message());
  const int code = sippacer::proxy::RunDaemon(*config);
  sippacer::proxy::StopLog();
  return code;
}
