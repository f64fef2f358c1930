#include "replay/replay.h"

#include <algorithm>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "metrics/dialing_plan.h"
#include "metrics/store.h"

namespace sippacer::replay {
namespace {

struct Step {
  absl::Time at;
  uint32_t call;  // index into the calls
  bool final;     // the carrier's answer (else the INVITE)
};

// Counts what the run does while passing every change on to the caller's sink.
class Tally : public pacing::EventSink {
 public:
  Tally(pacing::EventSink* next, ReplayTotals* totals) : next_(next), totals_(totals) {}
  void OnStateChange(const pacing::StateChange& c) override {
    if (c.to == pacing::NumberState::kThrottled || c.to == pacing::NumberState::kQuarantined) {
      if (!c.rule.empty()) rule_of_[c.number] = c.rule;
      if (ever_paced_.insert(c.number).second) ++totals_->numbers_paced_by_rule[c.rule.empty() ? "operator" : c.rule];
    }
    if (next_) next_->OnStateChange(c);
  }
  void OnWatchChange(const pacing::WatchChange& c) override {
    if (c.watched) watched_.insert(c.number);
    if (next_) next_->OnWatchChange(c);
  }
  void OnRouteChange(const pacing::RouteChange& c) override {
    ++totals_->route_events;
    if (next_) next_->OnRouteChange(c);
  }
  std::string RuleOf(metrics::E164 n) const {
    auto it = rule_of_.find(n);
    return it == rule_of_.end() ? "number_cpm" : it->second;
  }
  size_t ever_paced() const { return ever_paced_.size(); }
  size_t watched() const { return watched_.size(); }

 private:
  pacing::EventSink* next_;
  ReplayTotals* totals_;
  absl::flat_hash_map<metrics::E164, std::string> rule_of_;
  absl::flat_hash_set<metrics::E164> ever_paced_, watched_;
};

}  // namespace

ReplayTotals Replay(std::vector<RecordedCall> calls, const flags::DecisionConfig& config, pacing::EventSink* sink) {
  ReplayTotals t;
  calls.erase(std::remove_if(calls.begin(), calls.end(), [](const RecordedCall& c) { return c.caller == 0; }),
              calls.end());
  std::stable_sort(calls.begin(), calls.end(),
                   [](const RecordedCall& a, const RecordedCall& b) { return a.ts < b.ts; });
  t.calls = calls.size();
  if (calls.empty()) return t;
  t.first = calls.front().ts;
  t.last = calls.back().ts;

  metrics::Store store(config.StoreOptions());
  Tally tally(sink, &t);
  pacing::Pacer pacer(store, config.policy, &tally);

  std::vector<Step> steps;
  steps.reserve(calls.size() * 2);
  for (uint32_t i = 0; i < calls.size(); ++i) steps.push_back({calls[i].ts, i, false});
  std::vector<bool> forwarded(calls.size(), false);
  // Finals join the timeline as their INVITEs are forwarded: a min-heap by time.
  auto later = [](const Step& a, const Step& b) { return a.at > b.at || (a.at == b.at && a.call > b.call); };
  std::vector<Step> finals;
  absl::flat_hash_set<metrics::E164> numbers;

  absl::Time next_tick = absl::FromUnixSeconds((absl::ToUnixMillis(t.first) + 999) / 1000);
  auto advance_to = [&](absl::Time at) {
    while (next_tick <= at) {
      pacer.Tick(next_tick);
      next_tick += absl::Seconds(1);
    }
  };
  auto play_final = [&](const Step& s) {
    const RecordedCall& c = calls[s.call];
    metrics::CallOutcome o;
    o.caller = c.caller;
    o.callee = c.callee;
    o.code = c.code;
    o.ringing_seen = !c.pre_ring;
    o.network_blocked = c.network_blocked;
    o.invite_at = c.ts;
    if (c.pdd_ms) o.first_ring_at = c.ts + absl::Milliseconds(*c.pdd_ms);
    o.final_at = s.at;
    o.reason_header = c.reason_header;
    pacer.OnFinal(o);
  };
  for (const Step& invite : steps) {
    while (!finals.empty() && finals.front().at <= invite.at) {
      std::pop_heap(finals.begin(), finals.end(), later);
      const Step f = finals.back();
      finals.pop_back();
      advance_to(f.at);
      play_final(f);
    }
    advance_to(invite.at);
    const RecordedCall& c = calls[invite.call];
    numbers.insert(c.caller);
    const pacing::Decision d = pacer.OnInvite(c.caller, c.callee, c.ts);
    if (d.refuse) {
      ++t.refused;
      ++t.refused_by_action[std::string(d.action)];
      ++t.refused_by_rule[d.state == pacing::NumberState::kHealthy ? "number_cpm" : tally.RuleOf(c.caller)];
      ++t.refused_by_carrier[store.CarrierOf(c.callee)];
      ++t.refused_by_country[absl::StrCat("+", metrics::CountryCodeOf(c.callee))];
      if (!d.dry_run) continue;
    }
    ++t.forwarded;
    if (c.refused) {
      ++t.recorded_refusals_forwarded;
      continue;
    }
    if (c.code <= 0) continue;
    finals.push_back({c.ts + absl::Milliseconds(std::max<int64_t>(0, c.setup_ms)), invite.call, true});
    std::push_heap(finals.begin(), finals.end(), later);
  }
  while (!finals.empty()) {
    std::pop_heap(finals.begin(), finals.end(), later);
    const Step f = finals.back();
    finals.pop_back();
    advance_to(f.at);
    play_final(f);
  }
  advance_to(next_tick);
  t.numbers = numbers.size();
  for (metrics::E164 n : numbers) ++t.numbers_by_state[std::string(pacing::StateName(pacer.State(n).state))];
  t.numbers_ever_paced = tally.ever_paced();
  t.numbers_watched = tally.watched();
  return t;
}

std::string SummaryTable(const ReplayTotals& t) {
  std::string out;
  auto line = [&out](const std::string& s) { absl::StrAppend(&out, s, "\n"); };
  auto tf = [](absl::Time x) { return absl::FormatTime("%Y-%m-%d %H:%M", x, absl::UTCTimeZone()); };
  line(absl::StrFormat("calls %zu from %zu numbers, %s to %s UTC", t.calls, t.numbers, tf(t.first), tf(t.last)));
  line(absl::StrFormat("forwarded %zu, refused %zu (%.2f%%)", t.forwarded, t.refused,
                       t.calls ? 100.0 * t.refused / t.calls : 0.0));
  if (t.recorded_refusals_forwarded > 0) {
    line(absl::StrFormat("refused in the record but forwarded by this policy (no answer to replay): %zu",
                         t.recorded_refusals_forwarded));
  }
  std::string states = "numbers at the end:";
  for (const char* s : {"healthy", "throttled", "quarantined", "probation"}) {
    auto it = t.numbers_by_state.find(s);
    absl::StrAppend(&states, " ", s, " ", it == t.numbers_by_state.end() ? 0 : it->second);
  }
  line(states);
  line(absl::StrFormat("numbers ever paced %zu, watched %zu; route events %zu", t.numbers_ever_paced, t.numbers_watched,
                       t.route_events));
  auto table = [&](const char* title, const std::map<std::string, size_t>& m) {
    if (m.empty()) return;
    line(title);
    for (const auto& [key, n] : m) line(absl::StrFormat("  %-44s %8zu", key, n));
  };
  table("numbers first paced, by rule:", t.numbers_paced_by_rule);
  table("refused calls, by action:", t.refused_by_action);
  table("refused calls, by rule:", t.refused_by_rule);
  table("refused calls, by carrier:", t.refused_by_carrier);
  table("refused calls, by country:", t.refused_by_country);
  return out;
}

}  // namespace sippacer::replay
