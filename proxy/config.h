#pragma once
// Config: every command-line flag of docs/flags.md, validated once at start.
//
// main.cc copies the raw flag values into FlagValues; BuildConfig checks each
// one and returns the first problem as "--flag: why", which main prints as a
// single line before exiting 2. Nothing here reads flags or the environment,
// so every rule is unit-tested.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flags/decision_flags.h"
#include "pacing/policy.h"
#include "proxy/fleet/redis_target.h"
#include "proxy/sip/header_policy.h"
#include "proxy/sip/cidr.h"
#include "proxy/sip/trunk_group.h"

namespace sippacer::proxy {

struct HostPort {
  std::string host;  // IPv6 without brackets
  int port = 5060;
  std::string ToUrl(absl::string_view transport = "") const;  // "sip:127.0.0.1:5060"
};

enum class CallerIdSource { kPai, kRpid, kFrom };

struct FlagValues {
  std::string listen, trunk, trunks_file, trunk_listen, trunk_auth_user, trunk_auth_password_file;
  std::string allow, caller_id;
  std::string pass_headers, strip_headers;
  std::string tcp_idle_timeout = "2m";
  std::string ring_timeout = "185s";
  std::string trunk_timeout = "32s";
  std::string timer_j;  // "": 64*T1, that is --trunk_timeout
  std::string dns_resolv_conf;
  std::string tls_listen, tls_cert, tls_key, tls_ca = "/etc/ssl/certs/ca-certificates.crt";
  bool tls_verify = true;
  std::string refer = "relay";
  std::string no_number = "forward";
  int tcp_max_connections = 4096;
  int tcp_max_per_source = 64;
  flags::DecisionFlagValues decision;  // the flags shared with sippacer-replay
  std::string stats_socket, metrics_listen, cdr_file, cdr_postgres, state_file;
  // The fleet (docs/fleet.md).
  std::string redis, redis_password_file, node_id;  // node_id "": the host name
  std::string sync_interval = "1s";
  int fleet_queue = 100000;
};

struct Config {
  HostPort listen;
  std::optional<HostPort> trunk_listen;
  std::vector<TrunkSpec> trunks;  // --trunk or --trunks_file, in order
  std::string trunk_auth_user;
  std::string trunk_auth_password;  // never logged or shown
  CidrList allow;
  absl::Duration tcp_idle_timeout = absl::Minutes(2);
  size_t tcp_max_connections = 4096;
  size_t tcp_max_per_source = 64;
  absl::Duration ring_timeout = absl::Seconds(185);  // SIP Timer C: after a 1xx, no final for this long
  absl::Duration trunk_timeout = absl::Seconds(32);  // SIP Timer B (64*T1): no answer at all from a trunk target
  // SIP Timer J: an answered non-INVITE request (BYE ...) over UDP is kept to
  // answer its retransmission again. Unset: 64*T1 (trunk_timeout), RFC 3261's.
  std::optional<absl::Duration> timer_j;
  std::string dns_resolv_conf;  // sofia's resolver; "" = /etc/resolv.conf
  // TLS toward trunks (sips: or ;transport=tls), when one is configured.
  std::optional<HostPort> tls_listen;  // our TLS address (Via, Contact)
  std::string tls_cert, tls_key;       // our client certificate, optional (PEM files)
  std::string tls_ca;                  // CAs the carrier's certificate must chain to (PEM)
  bool tls_verify = true;              // false: any certificate is accepted
  std::vector<CallerIdSource> caller_id;
  HeaderPolicy headers;  // what crosses between the legs (--pass_headers, --strip_headers)
  enum class Refer { kRelay, kRefuse };
  Refer refer = Refer::kRelay;
  // A call whose caller ID is not a number (no header in --caller_id gives
  // one): forwarded and counted in the totals only, or refused.
  bool refuse_no_number = false;   // in-dialog REFER: passed to the other leg, or answered 405
  flags::DecisionConfig decision;  // also copied into the fields below
  std::string default_country_code;
  std::string carriers_path;
  std::string timezone_name;
  absl::TimeZone timezone;
  pacing::Policy policy;
  std::string stats_socket, metrics_listen, cdr_file, cdr_postgres, state_file;
  size_t max_numbers = 1'000'000;
  // The fleet: several nodes sharing windows and states through Redis.
  std::optional<fleet::RedisTarget> redis;  // with its password (never logged or shown)
  std::string node_id;
  absl::Duration sync_interval = absl::Seconds(1);
  size_t fleet_queue = 100000;
};

absl::StatusOr<Config> BuildConfig(const FlagValues& flags);

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text, bool port_required);
absl::StatusOr<std::vector<CallerIdSource>> ParseCallerIdOrder(absl::string_view text);

}  // namespace sippacer::proxy
