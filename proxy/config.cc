#include "proxy/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "proxy/fleet/fleet_wire.h"

namespace sippacer::proxy {
namespace {

absl::Status FlagError(absl::string_view flag, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", why));
}

absl::StatusOr<int> ParsePort(absl::string_view text) {
  int port = 0;
  if (!absl::SimpleAtoi(text, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port '", text, "' is not 1..65535"));
  }
  return port;
}

bool IsHostname(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != ':') return false;
  }
  return true;
}

// The directory part of `path` must exist and be writable by us.
absl::Status CheckWritableDir(absl::string_view path) {
  std::string dir(path);
  const size_t slash = dir.rfind('/');
  dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("directory '", dir, "' is not writable"));
  }
  return absl::OkStatus();
}

// The stats socket's directory is made when missing (one level, 0755), as
// the default /run/sippacer is outside a service's RuntimeDirectory.
absl::Status MakeSocketDir(absl::string_view path) {
  std::string dir(path);
  const size_t slash = dir.rfind('/');
  dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
  if (::access(dir.c_str(), F_OK) != 0 && ::mkdir(dir.c_str(), 0755) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("directory '", dir, "' is missing and cannot be made (", std::strerror(errno), ")"));
  }
  return CheckWritableDir(path);
}

}  // namespace

std::string HostPort::ToUrl(absl::string_view transport) const {
  const std::string h = absl::StrContains(host, ':') ? absl::StrCat("[", host, "]") : host;
  std::string url = absl::StrCat("sip:", h, ":", port);
  if (!transport.empty()) absl::StrAppend(&url, ";transport=", transport);
  return url;
}

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text, bool port_required) {
  HostPort hp;
  absl::string_view host = text, port;
  if (absl::StartsWith(text, "[")) {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("unclosed '['");
    host = text.substr(1, close - 1);
    absl::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return absl::InvalidArgumentError("expected ':' after ']'");
      port = rest.substr(1);
    }
  } else if (const size_t colon = text.rfind(':'); colon != absl::string_view::npos) {
    if (text.find(':') != colon) return absl::InvalidArgumentError("IPv6 addresses go in brackets: [::1]:5060");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (!IsHostname(host)) return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not host:port"));
  hp.host = std::string(host);
  if (port.empty()) {
    if (port_required) return absl::InvalidArgumentError(absl::StrCat("'", text, "' has no port"));
  } else {
    auto p = ParsePort(port);
    if (!p.ok()) return p.status();
    hp.port = *p;
  }
  return hp;
}

absl::StatusOr<std::vector<CallerIdSource>> ParseCallerIdOrder(absl::string_view text) {
  std::vector<CallerIdSource> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    const std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(item));
    if (s == "pai")
      out.push_back(CallerIdSource::kPai);
    else if (s == "rpid")
      out.push_back(CallerIdSource::kRpid);
    else if (s == "from")
      out.push_back(CallerIdSource::kFrom);
    else
      return absl::InvalidArgumentError(absl::StrCat("'", s, "' is not pai, rpid or from"));
  }
  if (out.empty()) return absl::InvalidArgumentError("name at least one of pai, rpid, from");
  return out;
}

// --redis and the flags that go with it (docs/fleet.md).
static absl::Status BuildFleetConfig(const FlagValues& f, Config* c) {
  if (f.redis.empty()) {
    for (auto [flag, value] :
         {std::pair{"redis_password_file", &f.redis_password_file}, std::pair{"node_id", &f.node_id}}) {
      if (!value->empty()) return FlagError(flag, "needs --redis");
    }
    return absl::OkStatus();
  }
  auto target = fleet::ParseRedisTarget(f.redis);
  if (!target.ok()) return FlagError("redis", absl::StripPrefix(target.status().message(), "--redis: "));
  if (!f.redis_password_file.empty()) {
    std::ifstream in(f.redis_password_file);
    if (!in) return FlagError("redis_password_file", "cannot be read");
    std::getline(in, target->password);
    if (!target->password.empty() && target->password.back() == '\r') target->password.pop_back();
    if (target->password.empty()) return FlagError("redis_password_file", "first line is empty");
  }
  if (!c->state_file.empty()) {
    return FlagError("state_file", "not with --redis: a fleet's windows and states live in Redis");
  }
  c->node_id = f.node_id;
  if (c->node_id.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) c->node_id = host;
    c->node_id = c->node_id.substr(0, c->node_id.find('.'));
  }
  if (!fleet::ValidNodeId(c->node_id)) {
    return FlagError("node_id", absl::StrCat("'", c->node_id, "': letters, digits, '.', '_' and '-', up to 64"));
  }
  if (!absl::ParseDuration(f.sync_interval, &c->sync_interval) || c->sync_interval < absl::Milliseconds(100) ||
      c->sync_interval > absl::Seconds(60)) {
    return FlagError("sync_interval", absl::StrCat("'", f.sync_interval, "' is not a duration from 100ms to 60s"));
  }
  if (f.fleet_queue < 1000 || f.fleet_queue > 10000000) {
    return FlagError("fleet_queue", absl::StrCat(f.fleet_queue, " is not from 1000 to 10000000"));
  }
  c->fleet_queue = static_cast<size_t>(f.fleet_queue);
  c->redis = *std::move(target);
  return absl::OkStatus();
}

absl::StatusOr<Config> BuildConfig(const FlagValues& f) {
  Config c;
  auto listen = ParseHostPort(f.listen, false);
  if (!listen.ok()) return FlagError("listen", listen.status().message());
  c.listen = *listen;
  if (f.trunk.empty() == f.trunks_file.empty()) {
    return FlagError(f.trunk.empty() ? "trunk" : "trunks_file",
                     f.trunk.empty() ? "is required (host[:port] or a SIP URI, or --trunks_file)"
                                     : "--trunk and --trunks_file are alternatives; give one");
  }
  if (!f.trunk.empty()) {
    auto trunks = TrunkGroup::ParseList(f.trunk);
    if (!trunks.ok()) return FlagError("trunk", trunks.status().message());
    c.trunks = *std::move(trunks);
  } else {
    std::ifstream in(f.trunks_file);
    if (!in) return FlagError("trunks_file", "cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    auto trunks = TrunkGroup::ParseFile(text.str());
    if (!trunks.ok()) return FlagError("trunks_file", trunks.status().message());
    c.trunks = *std::move(trunks);
  }
  if (!f.trunk_listen.empty()) {
    auto tl = ParseHostPort(f.trunk_listen, true);
    if (!tl.ok()) return FlagError("trunk_listen", tl.status().message());
    if (tl->host == c.listen.host && tl->port == c.listen.port) {
      return FlagError("trunk_listen", "is the same address as --listen; leave it empty instead");
    }
    c.trunk_listen = *tl;
  }
  if (f.trunk_auth_user.empty() != f.trunk_auth_password_file.empty()) {
    return FlagError(f.trunk_auth_user.empty() ? "trunk_auth_user" : "trunk_auth_password_file",
                     "--trunk_auth_user and --trunk_auth_password_file go together");
  }
  if (!f.trunk_auth_password_file.empty()) {
    std::ifstream in(f.trunk_auth_password_file);
    if (!in) return FlagError("trunk_auth_password_file", "cannot be read");
    std::getline(in, c.trunk_auth_password);
    if (!c.trunk_auth_password.empty() && c.trunk_auth_password.back() == '\r') c.trunk_auth_password.pop_back();
    if (c.trunk_auth_password.empty()) return FlagError("trunk_auth_password_file", "first line is empty");
    c.trunk_auth_user = f.trunk_auth_user;
  }
  auto allow = CidrList::Parse(f.allow);
  if (!allow.ok()) return FlagError("allow", allow.status().message());
  c.allow = *allow;
  auto order = ParseCallerIdOrder(f.caller_id);
  if (!order.ok()) return FlagError("caller_id", order.status().message());
  c.caller_id = *order;
  if (auto p = HeaderPolicy::Parse(f.pass_headers, ""); !p.ok()) return FlagError("pass_headers", p.status().message());
  if (auto p = HeaderPolicy::Parse("", f.strip_headers); !p.ok()) {
    return FlagError("strip_headers", p.status().message());
  }
  c.headers = *HeaderPolicy::Parse(f.pass_headers, f.strip_headers);
  if (f.refer == "relay") {
    c.refer = Config::Refer::kRelay;
  } else if (f.refer == "refuse") {
    c.refer = Config::Refer::kRefuse;
  } else {
    return FlagError("refer", "must be relay or refuse");
  }
  if (f.no_number != "forward" && f.no_number != "refuse") return FlagError("no_number", "must be forward or refuse");
  c.refuse_no_number = f.no_number == "refuse";
  if (!absl::ParseDuration(f.tcp_idle_timeout, &c.tcp_idle_timeout) || c.tcp_idle_timeout < absl::Seconds(1) ||
      c.tcp_idle_timeout > absl::Hours(24)) {
    return FlagError("tcp_idle_timeout", absl::StrCat("'", f.tcp_idle_timeout, "' is not a duration from 1s to 24h"));
  }
  if (!absl::ParseDuration(f.ring_timeout, &c.ring_timeout) || c.ring_timeout < absl::Seconds(1) ||
      c.ring_timeout > absl::Hours(1)) {
    return FlagError("ring_timeout", absl::StrCat("'", f.ring_timeout, "' is not a duration from 1s to 1h"));
  }
  if (!absl::ParseDuration(f.trunk_timeout, &c.trunk_timeout) || c.trunk_timeout < absl::Seconds(2) ||
      c.trunk_timeout > absl::Seconds(64)) {
    return FlagError("trunk_timeout", absl::StrCat("'", f.trunk_timeout, "' is not a duration from 2s to 64s"));
  }
  if (!f.timer_j.empty()) {
    absl::Duration j;
    if (!absl::ParseDuration(f.timer_j, &j) || j < absl::Seconds(1) || j > absl::Seconds(64)) {
      return FlagError("timer_j", absl::StrCat("'", f.timer_j, "' is not a duration from 1s to 64s"));
    }
    // Only the patched sofia-sip (third_party/sofia-sip, patch 0014) sets
    // Timer J apart from the other 64*T1 timers.
    if (std::string_view(SIPPACER_SOFIA_BUILD) != "patched") {
      return FlagError("timer_j", "needs sofia-sip with sippacer's patches (this build uses the stock package)");
    }
    c.timer_j = j;
  }
  const bool any_tls = std::any_of(c.trunks.begin(), c.trunks.end(), [](const TrunkSpec& t) { return t.tls(); });
  if (any_tls) {
    auto tl = ParseHostPort(f.tls_listen.empty() ? absl::StrCat(c.listen.host, ":5061") : f.tls_listen, true);
    if (!tl.ok()) return FlagError("tls_listen", tl.status().message());
    c.tls_listen = *tl;
    if (f.tls_cert.empty() != f.tls_key.empty()) {
      return FlagError(f.tls_cert.empty() ? "tls_cert" : "tls_key", "--tls_cert and --tls_key go together");
    }
    for (auto [flag, path] : {std::pair{"tls_cert", &f.tls_cert}, std::pair{"tls_key", &f.tls_key}}) {
      if (!path->empty() && !std::ifstream(*path)) return FlagError(flag, absl::StrCat("cannot read ", *path));
    }
    if (f.tls_verify && (f.tls_ca.empty() || !std::ifstream(f.tls_ca))) {
      return FlagError("tls_ca", absl::StrCat("cannot read '", f.tls_ca,
                                              "': the carrier's certificate is verified against it "
                                              "(or --tls_verify=false)"));
    }
    c.tls_cert = f.tls_cert;
    c.tls_key = f.tls_key;
    c.tls_ca = f.tls_ca;
    c.tls_verify = f.tls_verify;
  }
  if (!f.dns_resolv_conf.empty()) {
    std::ifstream in(f.dns_resolv_conf);
    if (!in) return FlagError("dns_resolv_conf", "cannot be read");
    c.dns_resolv_conf = f.dns_resolv_conf;
  }
  if (f.tcp_max_connections < 1 || f.tcp_max_connections > 1000000) {
    return FlagError("tcp_max_connections", absl::StrCat(f.tcp_max_connections, " is not from 1 to 1000000"));
  }
  c.tcp_max_connections = static_cast<size_t>(f.tcp_max_connections);
  if (f.tcp_max_per_source < 1 || f.tcp_max_per_source > f.tcp_max_connections) {
    return FlagError("tcp_max_per_source",
                     absl::StrCat(f.tcp_max_per_source, " is not from 1 to --tcp_max_connections"));
  }
  c.tcp_max_per_source = static_cast<size_t>(f.tcp_max_per_source);

  auto decision = flags::BuildDecisionConfig(f.decision);
  if (!decision.ok()) return decision.status();
  c.decision = *decision;
  c.default_country_code = decision->default_country_code;
  c.carriers_path = decision->carriers_path;
  c.timezone_name = decision->timezone_name;
  c.timezone = decision->timezone;
  c.policy = decision->policy;
  c.max_numbers = decision->max_numbers;
  if (f.stats_socket.empty()) return FlagError("stats_socket", "must name a socket path");
  if (f.stats_socket.size() >= 108) return FlagError("stats_socket", "path is longer than a Unix socket allows (107)");
  if (auto s = MakeSocketDir(f.stats_socket); !s.ok()) return FlagError("stats_socket", s.message());
  c.stats_socket = f.stats_socket;
  if (!f.metrics_listen.empty()) {
    auto m = ParseHostPort(f.metrics_listen, true);
    if (!m.ok()) return FlagError("metrics_listen", m.status().message());
    c.metrics_listen = f.metrics_listen;
  }
  if (!f.cdr_file.empty()) {
    if (auto s = CheckWritableDir(f.cdr_file); !s.ok()) return FlagError("cdr_file", s.message());
    c.cdr_file = f.cdr_file;
  }
  c.cdr_postgres = f.cdr_postgres;
  if (!f.state_file.empty()) {
    if (auto s = CheckWritableDir(f.state_file); !s.ok()) return FlagError("state_file", s.message());
    c.state_file = f.state_file;
  }
  if (auto s = BuildFleetConfig(f, &c); !s.ok()) return s;
  return c;
}

}  // namespace sippacer::proxy
