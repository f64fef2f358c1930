#include "proxy/config.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

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

}  // namespace

std::string HostPort::ToUrl(absl::string_view transport) const {
  const std::string h = absl::StrContains(host, ':') ? absl::StrCat("[", host, "]") : host;
  std::string url = absl::StrCat("sip:", h, ":", port);
  if (!transport.empty()) absl::StrAppend(&url, ";transport=", transport);
  return url;
}

std::string TrunkTarget::HostPortText() const {
  const std::string h = absl::StrContains(host, ':') ? absl::StrCat("[", host, "]") : host;
  return port == 0 ? h : absl::StrCat(h, ":", port);
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

absl::StatusOr<TrunkTarget> ParseTrunk(absl::string_view text) {
  TrunkTarget t;
  absl::string_view rest = absl::StripAsciiWhitespace(text);
  if (rest.empty()) return absl::InvalidArgumentError("is required (host[:port] or a SIP URI)");
  if (absl::ConsumePrefix(&rest, "sips:")) {
    return absl::InvalidArgumentError("TLS trunks (sips:) are not supported");
  }
  absl::ConsumePrefix(&rest, "sip:");
  if (const size_t at = rest.find('@'); at != absl::string_view::npos) rest = rest.substr(at + 1);
  std::vector<absl::string_view> params = absl::StrSplit(rest, ';');
  auto hp = ParseHostPort(params[0], false);
  if (!hp.ok()) return hp.status();
  t.host = hp->host;
  t.port = absl::StrContains(params[0], ':') && !absl::EndsWith(params[0], "]") ? hp->port : 0;
  if (absl::StartsWith(params[0], "[") && absl::StrContains(params[0], "]:")) t.port = hp->port;
  for (size_t i = 1; i < params.size(); ++i) {
    absl::string_view p = params[i];
    if (absl::ConsumePrefix(&p, "transport=")) {
      const std::string tr = absl::AsciiStrToLower(p);
      if (tr != "udp" && tr != "tcp") {
        return absl::InvalidArgumentError(absl::StrCat("transport '", p, "' is not udp or tcp"));
      }
      t.transport = tr;
    } else if (!p.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown URI parameter '", p, "'"));
    }
  }
  return t;
}

absl::StatusOr<std::vector<CallerIdSource>> ParseCallerIdOrder(absl::string_view text) {
  std::vector<CallerIdSource> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    const std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(item));
    if (s == "pai") out.push_back(CallerIdSource::kPai);
    else if (s == "rpid") out.push_back(CallerIdSource::kRpid);
    else if (s == "from") out.push_back(CallerIdSource::kFrom);
    else return absl::InvalidArgumentError(absl::StrCat("'", s, "' is not pai, rpid or from"));
  }
  if (out.empty()) return absl::InvalidArgumentError("name at least one of pai, rpid, from");
  return out;
}

absl::StatusOr<Config> BuildConfig(const FlagValues& f) {
  Config c;
  auto listen = ParseHostPort(f.listen, false);
  if (!listen.ok()) return FlagError("listen", listen.status().message());
  c.listen = *listen;
  if (f.trunk.empty()) return FlagError("trunk", "is required (host[:port] or a SIP URI)");
  auto trunk = ParseTrunk(f.trunk);
  if (!trunk.ok()) return FlagError("trunk", trunk.status().message());
  c.trunk = *trunk;
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
  if (f.default_country_code.empty() || f.default_country_code.size() > 3 ||
      !std::all_of(f.default_country_code.begin(), f.default_country_code.end(), absl::ascii_isdigit) ||
      f.default_country_code[0] == '0') {
    return FlagError("default_country_code", "must be 1 to 3 digits, not starting with 0 (e.g. 1, 44)");
  }
  c.default_country_code = f.default_country_code;
  if (!f.carriers.empty()) {
    if (::access(f.carriers.c_str(), R_OK) != 0) return FlagError("carriers", absl::StrCat("cannot read '", f.carriers, "'"));
    c.carriers_path = f.carriers;
  }
  c.timezone_name = f.timezone.empty() ? "localtime" : f.timezone;
  if (!absl::LoadTimeZone(c.timezone_name, &c.timezone)) {
    return FlagError("timezone", absl::StrCat("unknown time zone '", c.timezone_name, "'"));
  }
  auto rules = pacing::ParseRules(f.rules);
  if (!rules.ok()) return FlagError("rules", rules.status().message());
  c.policy.rules = *rules;
  if (f.min_attempts < 1 || f.min_attempts > 1'000'000) return FlagError("min_attempts", "must be 1..1000000");
  c.policy.min_attempts = static_cast<int>(f.min_attempts);
  if (!(f.number_cpm >= 0) || f.number_cpm > 100000) return FlagError("number_cpm", "must be 0 (off) to 100000");
  c.policy.number_cpm = f.number_cpm;
  if (!(f.throttled_cpm > 0) || f.throttled_cpm > 100000) return FlagError("throttled_cpm", "must be above 0 and at most 100000");
  c.policy.throttled_cpm = f.throttled_cpm;
  absl::Duration q;
  if (!absl::ParseDuration(f.quarantine_for, &q) || q < absl::ZeroDuration()) {
    return FlagError("quarantine_for", absl::StrCat("'", f.quarantine_for, "' is not a duration like 4h, 30m or 0"));
  }
  c.policy.quarantine_for = q;
  if (f.reject_code < 400 || f.reject_code > 699) return FlagError("reject_code", "must be a SIP final failure code 400..699");
  c.policy.reject_code = static_cast<int>(f.reject_code);
  c.policy.dry_run = f.dry_run;
  if (!(f.confidence >= 0) || f.confidence >= 1) return FlagError("confidence", "must be 0 (off) or a level below 1, e.g. 0.9");
  c.policy.confidence = f.confidence;
  c.policy.hour_guard = f.hour_guard;
  if (f.stats_socket.empty()) return FlagError("stats_socket", "must name a socket path");
  if (f.stats_socket.size() >= 108) return FlagError("stats_socket", "path is longer than a Unix socket allows (107)");
  if (auto s = CheckWritableDir(f.stats_socket); !s.ok()) return FlagError("stats_socket", s.message());
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
  if (f.max_numbers < 1 || f.max_numbers > 100'000'000) return FlagError("max_numbers", "must be 1..100000000");
  c.max_numbers = static_cast<size_t>(f.max_numbers);
  return c;
}

}  // namespace sippacer::proxy
