#include "proxy/state_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "metrics/json_writer.h"
#include "pacing/event_json.h"
#include "proxy/ctl/json_value.h"

namespace sippacer::proxy {
namespace {

pacing::NumberState StateFromName(const std::string& s) {
  if (s == "throttled") return pacing::NumberState::kThrottled;
  if (s == "quarantined") return pacing::NumberState::kQuarantined;
  if (s == "probation") return pacing::NumberState::kProbation;
  return pacing::NumberState::kHealthy;
}

// A saved number back into its type: a value out of the type's range (a
// damaged or hostile file) is clamped to it, never cast into undefined
// behaviour; not-a-number is 0.
template <typename T>
T Clamped(double x) {
  if (!(x == x)) return 0;
  if (x <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
  if (x >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(x);
}

int64_t Num(const JsonValue& v, absl::string_view key) {
  const JsonValue* f = v.Get(key);
  return f ? Clamped<int64_t>(f->number) : 0;
}

std::string NumberLine(const metrics::NumberRecord& r, const pacing::NumberPacing& p) {
  metrics::JsonWriter w;
  w.BeginObject().Key("n").Uint(r.number).Key("seen").Int(r.last_seen_s);
  w.Key("pdd").BeginArray().Uint(r.pdd_count).Uint(r.pdd_sum_ms).EndArray();
  if (p.state != pacing::NumberState::kHealthy) {
    w.Key("state").String(pacing::StateName(p.state));
    w.Key("since").Int(p.since == absl::InfinitePast() ? 0 : absl::ToUnixMillis(p.since));
    w.Key("until").Int(p.until == absl::InfiniteFuture() ? -1 : absl::ToUnixMillis(p.until));
    w.Key("reason").String(p.reason);
    w.Key("paced").Uint(p.paced);
  }
  w.Key("b").BeginArray();
  for (const auto& b : r.buckets) {
    w.BeginArray().Uint(b.epoch).Uint(b.attempts).Uint(b.paced).Uint(b.pre_ring_603).Uint(b.network_blocked);
    for (uint16_t o : b.outcomes) w.Uint(o);
    w.EndArray();
  }
  w.EndArray();
  // The calls themselves, to the second: pairs of (seconds after the one
  // before, metrics::EventCode). "b" stays for a daemon that predates "e".
  w.Key("e").BeginArray();
  int64_t previous = 0;
  for (const metrics::CallEvent& e : r.events) {
    w.Int(e.at_s - previous).Int(metrics::EventCode(e));
    previous = e.at_s;
  }
  w.EndArray().EndObject();
  return w.Take();
}

// A day of a country's counts: [utc_day, attempts, pre_ring_603, network_blocked, outcomes...].
constexpr size_t kCountryDayFields = 4 + metrics::kOutcomeCount;

std::string CountryLine(const metrics::CountryHistory& h) {
  metrics::JsonWriter w;
  w.BeginObject().Key("country").Int(h.country_code).Key("days").Uint(h.days_seen);
  w.Key("d").BeginArray();
  for (const auto& [day, c] : h.days) {
    w.BeginArray().Uint(day).Uint(c.attempts).Uint(c.pre_ring_603).Uint(c.network_blocked);
    for (uint32_t o : c.by_outcome) w.Uint(o);
    w.EndArray();
  }
  w.EndArray().EndObject();
  return w.Take();
}

void LoadNumber(const JsonValue& v, metrics::Store& store, pacing::Pacer& pacer, absl::Time now) {
  metrics::NumberRecord r;
  r.number = Clamped<metrics::E164>(v.Get("n")->number);
  r.last_seen_s = Num(v, "seen");
  if (const JsonValue* pdd = v.Get("pdd"); pdd && pdd->items.size() == 2) {
    r.pdd_count = Clamped<uint32_t>(pdd->items[0].number);
    r.pdd_sum_ms = Clamped<uint64_t>(pdd->items[1].number);
  }
  if (const JsonValue* b = v.Get("b")) {
    for (const JsonValue& item : b->items) {
      if (item.items.size() != 5 + metrics::kOutcomeCount) continue;
      metrics::NumberRecord::BucketRecord br;
      br.epoch = Clamped<uint32_t>(item.items[0].number);
      br.attempts = Clamped<uint16_t>(item.items[1].number);
      br.paced = Clamped<uint16_t>(item.items[2].number);
      br.pre_ring_603 = Clamped<uint16_t>(item.items[3].number);
      br.network_blocked = Clamped<uint16_t>(item.items[4].number);
      for (int k = 0; k < metrics::kOutcomeCount; ++k) br.outcomes[k] = Clamped<uint16_t>(item.items[5 + k].number);
      r.buckets.push_back(br);
    }
  }
  if (const JsonValue* e = v.Get("e")) {
    int64_t at = 0;
    for (size_t i = 0; i + 1 < e->items.size(); i += 2) {
      // The first is a Unix time (past 2038), the rest steps from it.
      const double x = e->items[i].number;
      at = i == 0 ? std::clamp<int64_t>(Clamped<int64_t>(x), 0, int64_t{1} << 40) : at + Clamped<int32_t>(x);
      r.events.push_back(metrics::EventOfCode(at, Clamped<uint8_t>(e->items[i + 1].number)));
    }
  }
  const metrics::NumberId id = store.ImportNumber(r, now);
  if (const JsonValue* st = v.Get("state")) {
    pacing::NumberPacing p;
    p.state = StateFromName(st->text);
    p.since = absl::FromUnixMillis(Num(v, "since"));
    const int64_t until = Num(v, "until");
    p.until = until < 0 ? absl::InfiniteFuture() : absl::FromUnixMillis(until);
    if (const JsonValue* reason = v.Get("reason")) p.reason = reason->text;
    p.paced = static_cast<uint64_t>(Num(v, "paced"));
    pacer.Restore(id, p);
  }
}

// The keys set live, each with the flag's value then; "" when none differ.
std::string PolicyLine(const pacing::Pacer& pacer) {
  const std::vector<pacing::PolicySetting> live = pacing::PolicySettings(pacer.policy());
  const std::vector<pacing::PolicySetting> flags = pacing::PolicySettings(pacer.flag_policy());
  std::vector<size_t> differ;
  for (size_t i = 0; i < live.size() && i < flags.size(); ++i) {
    if (live[i].text != flags[i].text) differ.push_back(i);
  }
  if (differ.empty()) return "";
  metrics::JsonWriter w;
  w.BeginObject().Key("policy").BeginObject();
  for (size_t i : differ) w.Key(live[i].key).String(live[i].text);
  w.EndObject().Key("flags").BeginObject();
  for (size_t i : differ) w.Key(flags[i].key).String(flags[i].text);
  w.EndObject();
  const pacing::PolicyOrigin origin = pacer.policy_origin();
  if (origin.at != absl::InfinitePast()) w.Key("at").Int(absl::ToUnixMillis(origin.at)).Key("by").String(origin.by);
  w.EndObject();
  return w.Take();
}

// Puts the saved live settings back over the flags the pacer was built
// with, key by key; a key whose flag changed since it was set live keeps
// the flag (the command line was edited after: the newer intent wins).
void LoadPolicy(const JsonValue& v, pacing::Pacer& pacer, RestoredState& restored) {
  const JsonValue* saved = v.Get("policy");
  const JsonValue* flags_then = v.Get("flags");
  const std::vector<pacing::PolicySetting> flags = pacing::PolicySettings(pacer.flag_policy());
  pacing::Policy merged = pacer.policy();
  bool any = false;
  for (const auto& [key, value] : saved->fields) {
    const std::string live = absl::StrCat(key, "=", value.text);
    auto flag = std::find_if(flags.begin(), flags.end(), [&key = key](const auto& f) { return f.key == key; });
    if (flag == flags.end()) {
      restored.policy_dropped.push_back(absl::StrCat(live, ": no such setting"));
      continue;
    }
    const JsonValue* then = flags_then != nullptr ? flags_then->Get(key) : nullptr;
    if (then != nullptr && then->text != flag->text) {
      restored.policy_dropped.push_back(absl::StrCat(live, " was set live over --", key, "=", then->text, "; --", key,
                                                     "=", flag->text, " since: the flag wins"));
      continue;
    }
    auto next = pacing::ApplyPolicyUpdate(merged, {live});
    if (!next.ok()) {
      restored.policy_dropped.push_back(absl::StrCat(live, ": ", next.status().message()));
      continue;
    }
    if (pacing::ChangedPolicyKeys(merged, *next).empty()) continue;  // the flag's value already
    merged = *std::move(next);
    any = true;
    restored.policy_kept.push_back(absl::StrCat(live, " (--", key, "=", flag->text, ")"));
  }
  if (!any) return;
  pacing::PolicyOrigin origin;
  if (v.Get("at") != nullptr) origin.at = absl::FromUnixMillis(Num(v, "at"));
  if (const JsonValue* by = v.Get("by")) origin.by = by->text;
  pacer.SetPolicy(std::move(merged), std::move(origin));
}

void LoadCountry(const JsonValue& v, metrics::Store& store) {
  metrics::CountryHistory h;
  h.country_code = static_cast<int>(std::clamp<int64_t>(Num(v, "country"), 0, 999));
  h.days_seen = static_cast<uint32_t>(std::clamp<int64_t>(Num(v, "days"), 0, 100000));
  if (const JsonValue* d = v.Get("d")) {
    for (const JsonValue& item : d->items) {
      if (item.items.size() != kCountryDayFields) continue;
      metrics::CodeCounts c;
      c.attempts = Clamped<uint32_t>(item.items[1].number);
      c.pre_ring_603 = Clamped<uint32_t>(item.items[2].number);
      c.network_blocked = Clamped<uint32_t>(item.items[3].number);
      for (int k = 0; k < metrics::kOutcomeCount; ++k) c.by_outcome[k] = Clamped<uint32_t>(item.items[4 + k].number);
      h.days.emplace_back(Clamped<uint32_t>(item.items[0].number), c);
    }
  }
  store.ImportCountry(h);
}

}  // namespace

absl::Status SaveState(const std::string& path, const metrics::Store& store, const pacing::Pacer& pacer,
                       absl::Time now) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr)
    return absl::UnavailableError(absl::StrCat("--state_file: cannot write ", tmp, ": ", std::strerror(errno)));
  bool ok = true;
  auto write = [&](std::string line) {
    line.push_back('\n');
    ok = ok && std::fwrite(line.data(), 1, line.size(), f) == line.size();
  };
  if (std::string policy = PolicyLine(pacer); !policy.empty()) write(std::move(policy));
  store.ExportNumbers([&](const metrics::NumberRecord& r) { write(NumberLine(r, pacer.State(r.number))); });
  store.ExportCountries([&](const metrics::CountryHistory& h) { write(CountryLine(h)); });
  ok = std::fflush(f) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("--state_file: cannot write ", path, ": ", std::strerror(errno)));
  }
  (void)now;
  return absl::OkStatus();
}

absl::StatusOr<RestoredState> LoadState(const std::string& path, metrics::Store& store, pacing::Pacer& pacer,
                                        absl::Time now) {
  std::ifstream in(path);
  if (!in) return RestoredState{};  // first start
  RestoredState restored;
  size_t line_no = 0;
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    auto v = ParseJson(line);
    if (v.ok() && v->Get("n") != nullptr) {
      LoadNumber(*v, store, pacer, now);
      ++restored.numbers;
    } else if (v.ok() && v->Get("country") != nullptr) {
      LoadCountry(*v, store);
      ++restored.countries;
    } else if (v.ok() && v->Get("policy") != nullptr) {
      LoadPolicy(*v, pacer, restored);
    } else {
      return absl::DataLossError(
          absl::StrCat("--state_file: ", path, " line ", line_no, " is not a saved policy, number or country"));
    }
  }
  return restored;
}

}  // namespace sippacer::proxy
