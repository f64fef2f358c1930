#include "proxy/sip/trunk_group.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "proxy/config.h"

namespace sippacer::proxy {

std::string TrunkSpec::HostPortText() const {
  const std::string h = absl::StrContains(host, ':') ? absl::StrCat("[", host, "]") : host;
  return port == 0 ? h : absl::StrCat(h, ":", port);
}

std::string TrunkSpec::UriHostPart() const {
  return transport.empty() ? HostPortText() : absl::StrCat(HostPortText(), ";transport=", transport);
}

absl::StatusOr<TrunkSpec> TrunkGroup::ParseUri(absl::string_view text) {
  TrunkSpec t;
  absl::string_view rest = absl::StripAsciiWhitespace(text);
  if (rest.empty()) return absl::InvalidArgumentError("is required (host[:port] or a SIP URI)");
  t.uri = std::string(rest);
  bool scheme = true;
  if (absl::ConsumePrefix(&rest, "sips:")) {
    t.transport = "tls";
  } else {
    scheme = absl::ConsumePrefix(&rest, "sip:");
  }
  if (const size_t at = rest.find('@'); at != absl::string_view::npos) {
    // The user part of a trunk URI is replaced by the dialed number.
    if (!scheme) return absl::InvalidArgumentError(absl::StrCat("'", text, "': a user@ needs sip: or sips:"));
    rest = rest.substr(at + 1);
  }
  std::vector<absl::string_view> params = absl::StrSplit(rest, ';');
  auto hp = ParseHostPort(params[0], false);
  if (!hp.ok()) return hp.status();
  t.host = hp->host;
  // ParseHostPort fills in 5060; a trunk without a port is left to DNS.
  const bool bracketed = absl::StartsWith(params[0], "[");
  t.port = (bracketed ? absl::StrContains(params[0], "]:") : absl::StrContains(params[0], ':')) ? hp->port : 0;
  for (size_t i = 1; i < params.size(); ++i) {
    absl::string_view p = params[i];
    if (absl::ConsumePrefix(&p, "transport=")) {
      const std::string tr = absl::AsciiStrToLower(p);
      if (tr != "udp" && tr != "tcp" && tr != "tls") {
        return absl::InvalidArgumentError(absl::StrCat("transport '", p, "' is not udp, tcp or tls"));
      }
      if (t.transport == "tls" && tr != "tls") return absl::InvalidArgumentError("a sips: URI is TLS only");
      t.transport = tr;
    } else if (!p.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown URI parameter '", p, "'"));
    }
  }
  t.name = t.HostPortText();
  return t;
}

absl::StatusOr<std::vector<TrunkSpec>> TrunkGroup::ParseList(absl::string_view text) {
  std::vector<TrunkSpec> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    auto spec = ParseUri(item);
    if (!spec.ok()) return spec.status();
    spec->priority = static_cast<int>(out.size()) + 1;  // in the order given
    for (const TrunkSpec& other : out) {
      // Named by address: twice would be one series twice in /metrics.
      if (other.name == spec->name)
        return absl::InvalidArgumentError(absl::StrCat("trunk ", spec->name, " given twice"));
    }
    out.push_back(*std::move(spec));
  }
  if (out.empty()) return absl::InvalidArgumentError("is required (host[:port] or a SIP URI)");
  if (out.size() > kMaxTrunks) return absl::InvalidArgumentError(absl::StrCat("more than ", kMaxTrunks, " trunks"));
  return out;
}

absl::StatusOr<std::vector<TrunkSpec>> TrunkGroup::ParseFile(absl::string_view contents) {
  std::vector<TrunkSpec> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_no;
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> words = absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.empty()) continue;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": ", why));
    };
    if (words.size() < 2) return bad("expected: name uri [priority=N] [weight=N] [max_calls=N] [max_cps=X]");
    auto spec = ParseUri(words[1]);
    if (!spec.ok()) return bad(spec.status().message());
    spec->name = std::string(words[0]);
    for (const TrunkSpec& other : out) {
      if (other.name == spec->name) return bad(absl::StrCat("trunk '", spec->name, "' named twice"));
    }
    for (size_t i = 2; i < words.size(); ++i) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(words[i], absl::MaxSplits('=', 1));
      int n = 0;
      double x = 0;
      if (kv.first == "priority" && absl::SimpleAtoi(kv.second, &n) && n >= 0) {
        spec->priority = n;
      } else if (kv.first == "weight" && absl::SimpleAtoi(kv.second, &n) && n >= 1) {
        spec->weight = n;
      } else if (kv.first == "max_calls" && absl::SimpleAtoi(kv.second, &n) && n >= 0) {
        spec->max_calls = n;
      } else if (kv.first == "max_cps" && absl::SimpleAtod(kv.second, &x) && x >= 0 && std::isfinite(x)) {
        spec->max_cps = x;
      } else {
        return bad(absl::StrCat("'", words[i], "' is not priority=N, weight=N (1 or more), max_calls=N or max_cps=X"));
      }
    }
    out.push_back(*std::move(spec));
  }
  if (out.empty()) return absl::InvalidArgumentError("no trunk in the file");
  if (out.size() > kMaxTrunks) return absl::InvalidArgumentError(absl::StrCat("more than ", kMaxTrunks, " trunks"));
  return out;
}

TrunkGroup::TrunkGroup(std::vector<TrunkSpec> specs) : specs_(std::move(specs)), buckets_(specs_.size()) {
  for (size_t i = 0; i < specs_.size(); ++i) stats_.push_back(std::make_unique<TrunkStats>());
}

bool TrunkGroup::HasToken(int i, absl::Time now) {
  const double rate = specs_[i].max_cps;
  if (rate <= 0) return true;
  Bucket& b = buckets_[i];
  // A second's worth of burst at most (and at least one call).
  const double capacity = std::max(1.0, rate);
  if (b.at == absl::InfinitePast()) {
    b.tokens = capacity;
  } else {
    b.tokens = std::min(capacity, b.tokens + absl::ToDoubleSeconds(now - b.at) * rate);
  }
  b.at = now;
  return b.tokens >= 1.0;
}

TrunkGroup::Pick TrunkGroup::Next(uint64_t tried, absl::Time now, uint64_t random) {
  Pick pick;
  // Priorities from best to worst; within one, the trunks under their limits.
  std::vector<int> order;
  for (size_t i = 0; i < specs_.size(); ++i) {
    if ((tried >> i & 1) == 0) order.push_back(static_cast<int>(i));
  }
  std::stable_sort(order.begin(), order.end(),
                   [this](int a, int b) { return specs_[a].priority < specs_[b].priority; });
  std::vector<int> open, kept_off_calls, kept_off_cps;
  for (size_t at = 0; at < order.size() && open.empty();) {
    const int priority = specs_[order[at]].priority;
    for (; at < order.size() && specs_[order[at]].priority == priority; ++at) {
      const int i = order[at];
      const TrunkSpec& s = specs_[i];
      if (s.max_calls > 0 && stats_[i]->calls_active.Get() >= static_cast<uint64_t>(s.max_calls)) {
        kept_off_calls.push_back(i);
      } else if (!HasToken(i, now)) {
        kept_off_cps.push_back(i);
      } else {
        open.push_back(i);
      }
    }
  }
  // Counted whether the call went to a worse priority or was refused: how
  // often a trunk's limit turned calls away from it.
  for (int i : kept_off_calls) stats_[i]->refused_max_calls.Add();
  for (int i : kept_off_cps) stats_[i]->refused_max_cps.Add();
  if (open.empty()) {
    pick.limited = !kept_off_calls.empty() || !kept_off_cps.empty();
    return pick;
  }
  uint64_t total = 0;
  for (int i : open) total += static_cast<uint64_t>(specs_[i].weight);
  uint64_t r = random % total;
  pick.trunk = open.back();
  for (int i : open) {
    if (r < static_cast<uint64_t>(specs_[i].weight)) {
      pick.trunk = i;
      break;
    }
    r -= static_cast<uint64_t>(specs_[i].weight);
  }
  if (specs_[pick.trunk].max_cps > 0) buckets_[pick.trunk].tokens -= 1.0;
  stats_[pick.trunk]->attempts.Add();
  stats_[pick.trunk]->calls_active.Add();
  return pick;
}

void TrunkGroup::Release(int trunk) {
  if (trunk < 0 || static_cast<size_t>(trunk) >= stats_.size()) return;
  if (stats_[trunk]->calls_active.Get() > 0) stats_[trunk]->calls_active.Add(-1);
}

}  // namespace sippacer::proxy
