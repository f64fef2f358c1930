// sippacer: the daemon. Reads and validates flags, then runs the SIP thread
// (this one, su_root) and the ops thread (Boost.Asio: stats socket,
// Prometheus, signals) until SIGTERM.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "proxy/config.h"
#include "proxy/daemon.h"
#include "proxy/flag_check.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:5060", "dialer-facing SIP address (UDP and TCP)");
ABSL_FLAG(std::string, trunk, "", "carrier trunk, host[:port] or a SIP URI (required)");
ABSL_FLAG(std::string, trunk_listen, "", "separate local address for the trunk leg");
ABSL_FLAG(std::string, trunk_auth_user, "", "digest user for trunks that challenge (401/407)");
ABSL_FLAG(std::string, trunk_auth_password_file, "", "file whose first line is the digest password");
ABSL_FLAG(std::string, allow, "127.0.0.0/8", "CIDRs allowed to send new INVITEs");
ABSL_FLAG(std::string, caller_id, "pai,from", "where the originating number is read: pai, rpid, from");
ABSL_FLAG(std::string, default_country_code, "1", "prefix for national numbers when normalising to E.164");
ABSL_FLAG(std::string, carriers, "", "CSV prefix,carrier naming the terminating carrier of a dialed number");
ABSL_FLAG(std::string, timezone, "localtime", "time zone for hour-of-day statistics");
ABSL_FLAG(std::string, rules, "603>=15%/15m:throttle,603>5%/4h:quarantine,480>10%/4h:throttle",
          "pacing rules: CODE OP PERCENT%/WINDOW:ACTION, comma-separated");
ABSL_FLAG(std::string, min_attempts, "20", "a rule never fires on fewer attempts in its window");
ABSL_FLAG(std::string, number_cpm, "0", "velocity cap for every number, calls per minute (0 = none)");
ABSL_FLAG(std::string, throttled_cpm, "2", "velocity of a throttled number, calls per minute");
ABSL_FLAG(std::string, quarantine_for, "4h", "how long a quarantine lasts before probation; 0 = until released");
ABSL_FLAG(std::string, reject_code, "503", "response to an INVITE refused by pacing");
ABSL_FLAG(std::string, confidence, "0.90",
          "a rule fires only when the Wilson lower bound of the rate at this confidence passes it (0 = off)");
ABSL_FLAG(bool, hour_guard, true, "spare a number whose rate only follows the whole pool's at this hour");
ABSL_FLAG(bool, dry_run, false, "decide, count and report, but forward every call");
ABSL_FLAG(std::string, stats_socket, "/tmp/sippacer.sock", "Unix stream socket for the stats protocol");
ABSL_FLAG(std::string, metrics_listen, "", "host:port serving Prometheus text at /metrics (empty = off)");
ABSL_FLAG(std::string, cdr_file, "", "append one JSON line per call (empty = off)");
ABSL_FLAG(std::string, cdr_postgres, "", "libpq connection string for CDRs (empty = off)");
ABSL_FLAG(std::string, state_file, "", "counters and number states survive restarts (empty = off)");
ABSL_FLAG(std::string, max_numbers, "1000000", "bound on tracked numbers; idle healthy numbers are evicted first");

namespace {

int Fail(absl::string_view message) {
  std::fprintf(stderr, "sippacer: %.*s\n", static_cast<int>(message.size()), message.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "sippacer --trunk=HOST[:PORT] [flags]\n"
      "Inline SIP B2BUA that paces caller-ID numbers by the carriers' final responses.");
  // Unknown flags exit 2 with one line, like every other flag problem.
  if (auto unknown = sippacer::proxy::FindUnknownFlag(argc, argv); !unknown.ok()) {
    return Fail(unknown.message());
  }
  absl::ParseCommandLine(argc, argv);

  sippacer::proxy::FlagValues f;
  f.listen = absl::GetFlag(FLAGS_listen);
  f.trunk = absl::GetFlag(FLAGS_trunk);
  f.trunk_listen = absl::GetFlag(FLAGS_trunk_listen);
  f.trunk_auth_user = absl::GetFlag(FLAGS_trunk_auth_user);
  f.trunk_auth_password_file = absl::GetFlag(FLAGS_trunk_auth_password_file);
  f.allow = absl::GetFlag(FLAGS_allow);
  f.caller_id = absl::GetFlag(FLAGS_caller_id);
  f.default_country_code = absl::GetFlag(FLAGS_default_country_code);
  f.carriers = absl::GetFlag(FLAGS_carriers);
  f.timezone = absl::GetFlag(FLAGS_timezone);
  f.rules = absl::GetFlag(FLAGS_rules);
  f.quarantine_for = absl::GetFlag(FLAGS_quarantine_for);
  f.dry_run = absl::GetFlag(FLAGS_dry_run);
  f.hour_guard = absl::GetFlag(FLAGS_hour_guard);
  f.stats_socket = absl::GetFlag(FLAGS_stats_socket);
  f.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  f.cdr_file = absl::GetFlag(FLAGS_cdr_file);
  f.cdr_postgres = absl::GetFlag(FLAGS_cdr_postgres);
  f.state_file = absl::GetFlag(FLAGS_state_file);
  using sippacer::proxy::ParseNumberFlag;
  if (auto s = ParseNumberFlag("min_attempts", absl::GetFlag(FLAGS_min_attempts), &f.min_attempts); !s.ok()) return Fail(s.message());
  if (auto s = ParseNumberFlag("number_cpm", absl::GetFlag(FLAGS_number_cpm), &f.number_cpm); !s.ok()) return Fail(s.message());
  if (auto s = ParseNumberFlag("throttled_cpm", absl::GetFlag(FLAGS_throttled_cpm), &f.throttled_cpm); !s.ok()) return Fail(s.message());
  if (auto s = ParseNumberFlag("confidence", absl::GetFlag(FLAGS_confidence), &f.confidence); !s.ok()) return Fail(s.message());
  if (auto s = ParseNumberFlag("reject_code", absl::GetFlag(FLAGS_reject_code), &f.reject_code); !s.ok()) return Fail(s.message());
  if (auto s = ParseNumberFlag("max_numbers", absl::GetFlag(FLAGS_max_numbers), &f.max_numbers); !s.ok()) return Fail(s.message());

  auto config = sippacer::proxy::BuildConfig(f);
  if (!config.ok()) return Fail(config.status().message());
  return sippacer::proxy::RunDaemon(*config);
}
