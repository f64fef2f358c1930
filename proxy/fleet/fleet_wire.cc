#include "proxy/fleet/fleet_wire.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace sippacer::proxy::fleet {
namespace {

constexpr int kCountFields = 4 + metrics::kOutcomeCount;

}  // namespace

bool ValidNodeId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

std::string EncodeCounts(const metrics::CodeCounts& c) {
  std::string out = absl::StrCat(c.attempts, ",", c.paced, ",", c.pre_ring_603, ",", c.network_blocked);
  for (uint32_t v : c.by_outcome) absl::StrAppend(&out, ",", v);
  return out;
}

std::optional<metrics::CodeCounts> DecodeCounts(absl::string_view text) {
  std::vector<absl::string_view> f = absl::StrSplit(text, ',');
  if (f.size() != kCountFields) return std::nullopt;
  uint32_t v[kCountFields];
  for (int i = 0; i < kCountFields; ++i) {
    if (!absl::SimpleAtoi(f[i], &v[i])) return std::nullopt;
  }
  metrics::CodeCounts c;
  c.attempts = v[0];
  c.paced = v[1];
  c.pre_ring_603 = v[2];
  c.network_blocked = v[3];
  for (int k = 0; k < metrics::kOutcomeCount; ++k) c.by_outcome[k] = v[4 + k];
  return c;
}

std::string EncodeBatch(const CountBatch& b) {
  std::string out = absl::StrCat("node ", b.node, " ", b.sent_ms, "\n");
  for (const auto& l : b.numbers)
    absl::StrAppend(&out, "n ", l.number, " ", l.epoch, " ", EncodeCounts(l.counts), "\n");
  for (const auto& l : b.groups) absl::StrAppend(&out, "g ", l.group, " ", l.epoch, " ", EncodeCounts(l.counts), "\n");
  for (const auto& l : b.hours) absl::StrAppend(&out, "h ", l.hour, " ", EncodeCounts(l.counts), "\n");
  return out;
}

std::optional<CountBatch> DecodeBatch(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.empty()) return std::nullopt;
  std::vector<absl::string_view> head = absl::StrSplit(lines[0], ' ');
  CountBatch b;
  if (head.size() != 3 || head[0] != "node" || !ValidNodeId(head[1]) || !absl::SimpleAtoi(head[2], &b.sent_ms)) {
    return std::nullopt;
  }
  b.node = std::string(head[1]);
  for (size_t i = 1; i < lines.size(); ++i) {
    const absl::string_view line = lines[i];
    if (line.size() < 2 || line[1] != ' ') continue;
    // The counts and the epoch are the last two words: a group's name may
    // have spaces of its own (a carrier's name).
    const size_t last = line.rfind(' ');
    if (last == absl::string_view::npos || last < 2) continue;
    const auto counts = DecodeCounts(line.substr(last + 1));
    if (!counts) continue;
    absl::string_view rest = line.substr(2, last - 2);
    if (line[0] == 'h') {
      int hour = -1;
      if (absl::SimpleAtoi(rest, &hour) && hour >= 0 && hour < 24) b.hours.push_back({hour, *counts});
      continue;
    }
    const size_t mid = rest.rfind(' ');
    if (mid == absl::string_view::npos) continue;
    uint32_t epoch = 0;
    if (!absl::SimpleAtoi(rest.substr(mid + 1), &epoch)) continue;
    const absl::string_view key = rest.substr(0, mid);
    if (line[0] == 'n') {
      metrics::E164 number = 0;
      if (absl::SimpleAtoi(key, &number) && number != 0) b.numbers.push_back({number, epoch, *counts});
    } else if (line[0] == 'g' && !key.empty()) {
      b.groups.push_back({std::string(key), epoch, *counts});
    }
  }
  return b;
}

int RankOf(pacing::NumberState to, bool by_operator) {
  using pacing::NumberState;
  int rank = 0;
  switch (to) {
    case NumberState::kHealthy:
      rank = 0;
      break;
    case NumberState::kProbation:
      rank = 1;
      break;
    case NumberState::kThrottled:
      rank = 2;
      break;
    case NumberState::kQuarantined:
      rank = 3;
      break;
  }
  // An operator's command outranks any rule's: a release made while a rule
  // elsewhere quarantined stands. Between two operators' commands the later
  // one stands, as it would on one node.
  return by_operator ? 10 : rank;
}

bool Supersedes(const FleetState& incoming, const FleetState& stored) {
  // As times, not sums of int64: AT_MS comes from Redis and may be any
  // int64 (INT64_MAX + 2000 overflowed; tests/fuzz/regressions/fleet_wire).
  const absl::Time in = absl::FromUnixMillis(incoming.at_ms), held = absl::FromUnixMillis(stored.at_ms);
  if (in + kConcurrent < held) return false;
  if (in > held + kConcurrent) return true;
  if (incoming.rank != stored.rank) return incoming.rank > stored.rank;
  if (incoming.at_ms != stored.at_ms) return incoming.at_ms > stored.at_ms;
  return incoming.node >= stored.node;
}

std::optional<pacing::NumberState> StateFromName(absl::string_view name) {
  for (auto s : {pacing::NumberState::kHealthy, pacing::NumberState::kThrottled, pacing::NumberState::kQuarantined,
                 pacing::NumberState::kProbation}) {
    if (pacing::StateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string EncodeState(const FleetState& s) {
  return absl::StrCat(s.rank, "|", s.at_ms, "|", s.node, "|", pacing::StateName(s.state), "|", s.since_ms, "|",
                      s.until_ms, "|", s.reason);
}

std::optional<FleetState> DecodeState(absl::string_view text) {
  std::vector<absl::string_view> f = absl::StrSplit(text, absl::MaxSplits('|', 6));
  if (f.size() != 7) return std::nullopt;
  FleetState s;
  const auto state = StateFromName(f[3]);
  if (!absl::SimpleAtoi(f[0], &s.rank) || !absl::SimpleAtoi(f[1], &s.at_ms) || !ValidNodeId(f[2]) || !state ||
      !absl::SimpleAtoi(f[4], &s.since_ms) || !absl::SimpleAtoi(f[5], &s.until_ms) || s.since_ms < 0 ||
      s.until_ms < -1) {
    return std::nullopt;
  }
  s.node = std::string(f[2]);
  s.state = *state;
  s.reason = std::string(f[6].substr(0, 512));
  return s;
}

std::string EncodePolicy(const FleetPolicy& p) {
  return absl::StrCat(p.node, "|", p.at_ms, "|", absl::StrJoin(p.settings, "\t"), "|", p.by);
}

std::optional<FleetPolicy> DecodePolicy(absl::string_view text) {
  std::vector<absl::string_view> f = absl::StrSplit(text, absl::MaxSplits('|', 3));
  FleetPolicy p;
  if (f.size() != 4 || !ValidNodeId(f[0]) || !absl::SimpleAtoi(f[1], &p.at_ms)) return std::nullopt;
  p.node = std::string(f[0]);
  for (absl::string_view kv : absl::StrSplit(f[2], '\t', absl::SkipEmpty())) {
    if (kv.find('=') == absl::string_view::npos || kv.size() > 1024) return std::nullopt;
    p.settings.emplace_back(kv);
  }
  if (p.settings.empty() || p.settings.size() > 64) return std::nullopt;
  p.by = std::string(f[3].substr(0, 256));
  return p;
}

std::string EncodeNodeStatus(const NodeStatus& s) {
  return absl::StrCat(s.pushed_ms, "|", s.calls_per_s, "|", s.numbers, "|", s.pending, "|", s.version);
}

std::optional<NodeStatus> DecodeNodeStatus(absl::string_view node, absl::string_view text) {
  std::vector<absl::string_view> f = absl::StrSplit(text, absl::MaxSplits('|', 4));
  NodeStatus s;
  if (f.size() != 5 || !ValidNodeId(node) || !absl::SimpleAtoi(f[0], &s.pushed_ms) ||
      !absl::SimpleAtod(f[1], &s.calls_per_s) || !absl::SimpleAtoi(f[2], &s.numbers) ||
      !absl::SimpleAtoi(f[3], &s.pending)) {
    return std::nullopt;
  }
  s.node = std::string(node);
  s.version = std::string(f[4].substr(0, 64));
  return s;
}

}  // namespace sippacer::proxy::fleet
