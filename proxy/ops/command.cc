#include "proxy/ops/command.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "metrics/e164.h"
#include "pacing/event_json.h"
#include "proxy/fleet/fleet_sync.h"

namespace sippacer::proxy {
namespace {

// Runs `work` on the SIP thread, then `reply(result)` on the ops thread.
CommandKind OnSipThread(const CommandContext& ctx, std::function<std::string()> work,
                        std::function<void(std::string)> reply) {
  auto post_back = ctx.post_to_ops;
  const bool queued = ctx.sip_queue->Post([work = std::move(work), post_back, reply]() mutable {
    std::string answer = work();
    post_back([reply = std::move(reply), answer = std::move(answer)]() { reply(answer); });
  });
  if (!queued) {
    reply(ErrorJson("busy: the SIP thread's command queue is full, try again"));
    return CommandKind::kAnswered;
  }
  return CommandKind::kPending;
}

// Takes "format=csv" / "format=json" out of the words; "" when absent.
absl::StatusOr<std::string> TakeFormat(std::vector<std::string>& w) {
  std::string format;
  for (auto it = w.begin() + 1; it != w.end();) {
    if (absl::StartsWithIgnoreCase(*it, "format=")) {
      format = absl::AsciiStrToLower(it->substr(7));
      if (format != "csv" && format != "json") return absl::InvalidArgumentError("format is csv or json");
      it = w.erase(it);
    } else {
      ++it;
    }
  }
  return format;
}

// The requests with a CSV form, after "show".
const std::set<std::string>& CsvRequests() {
  static const auto* requests =
      new std::set<std::string>{"numbers", "carriers", "countries", "areas", "trunks", "hours"};
  return *requests;
}

}  // namespace

std::vector<std::string> SplitWords(absl::string_view line) {
  return absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
}

CommandKind RunCommand(absl::string_view line, const CommandContext& ctx, absl::Time now,
                       std::function<void(std::string)> reply) {
  std::vector<std::string> w = SplitWords(absl::StripAsciiWhitespace(line));
  for (size_t i = 0; i < w.size() && i < 2; ++i) absl::AsciiStrToLower(&w[i]);
  auto answer = [&](std::string s) {
    reply(std::move(s));
    return CommandKind::kAnswered;
  };
  auto number_arg = [&](const std::string& text) -> std::optional<metrics::E164> {
    return metrics::NormalizeE164(text, ctx.view.default_country_code);
  };
  if (w.empty()) return answer(ErrorJson("empty request; try help"));
  auto format = TakeFormat(w);
  if (!format.ok()) return answer(ErrorJson(format.status().message()));
  const bool csv = *format == "csv";
  const OpsView& v = ctx.view;
  if (w[0] == "help") {
    if (csv) return answer(ErrorJson("help is text, or JSON with format=json"));
    return answer(*format == "json" ? RenderHelp() : RenderHelpText());
  }
  if (w[0] == "quit") return CommandKind::kQuit;
  if (w[0] == "prompt") return CommandKind::kPrompt;
  if (csv && !(w[0] == "show" && w.size() >= 2 && CsvRequests().count(w[1]) > 0)) {
    return answer(ErrorJson("format=csv is for show numbers, carriers, countries, areas, trunks and hours"));
  }
  if (w[0] == "subscribe") {
    reply("{\"subscribed\":true}");
    return CommandKind::kSubscribe;
  }
  if (w[0] == "show" && w.size() >= 2) {
    const std::string& what = w[1];
    if (what == "info") return answer(RenderInfo(v, now));
    if (what == "codes") return answer(RenderCodes(v, now));
    if (what == "nodes") return answer(RenderNodes(v, now));
    if (what == "carriers") return answer(csv ? RenderCarriersCsv(v) : RenderCarriers(v));
    if (what == "countries") return answer(csv ? RenderCountriesCsv(v) : RenderCountries(v));
    if (what == "areas") return answer(csv ? RenderAreasCsv(v) : RenderAreas(v));
    if (what == "trunks") return answer(csv ? RenderTrunksCsv(v) : RenderTrunks(v));
    if (what == "hours") return answer(csv ? RenderHoursCsv(v) : RenderGroups("hours", "hour", v.store->Hours()));
    if (what == "policy") {
      return answer(RenderPolicyState(v.pacer->policy(), v.pacer->flag_policy(), v.pacer->policy_origin(), nullptr));
    }
    if (what == "numbers") {
      const std::vector<std::string> args(w.begin() + 2, w.end());
      return answer(csv ? RenderNumbersCsv(v, args, now) : RenderNumbers(v, args, now));
    }
    if (what == "number") {
      // Numbers come in any common format, spaces included: "+1 (555) 123-0001".
      const std::string text = absl::StrJoin(w.begin() + 2, w.end(), " ");
      if (text.empty()) return answer(ErrorJson("usage: show number NUM"));
      auto n = number_arg(text);
      if (!n) return answer(ErrorJson(absl::StrCat("'", text, "' is not a phone number")));
      // The rules' evidence is the SIP thread's: only Explain runs there,
      // the answer is written back on the ops thread.
      const pacing::Pacer* pacer = ctx.pacer;
      const metrics::E164 number = *n;
      auto post_back = ctx.post_to_ops;
      const bool queued = ctx.sip_queue->Post([v, number, now, pacer, post_back, reply]() mutable {
        post_back([v, number, now, reply = std::move(reply), rules = pacer->Explain(number, now)]() {
          reply(RenderNumber(v, number, now, rules));
        });
      });
      if (!queued) return answer(ErrorJson("busy: the SIP thread's command queue is full, try again"));
      return CommandKind::kPending;
    }
  }
  if (w[0] == "set" && w.size() >= 2 && w[1] == "policy") {
    std::vector<std::string> updates(w.begin() + 2, w.end());
    // Checked here for a prompt error; applied on the SIP thread to the
    // policy live there, so two operators' changes to different keys both hold.
    if (auto checked = pacing::ApplyPolicyUpdate(v.pacer->policy(), updates); !checked.ok()) {
      return answer(ErrorJson(checked.status().message()));
    }
    pacing::Pacer* pacer = ctx.pacer;
    return OnSipThread(
        ctx,
        [pacer, updates = std::move(updates), by = ctx.peer, publish = ctx.publish, fleet = ctx.fleet]() {
          const pacing::Policy before = pacer->policy();
          auto updated = pacing::ApplyPolicyUpdate(before, updates);
          if (!updated.ok()) return ErrorJson(updated.status().message());
          const std::vector<std::string> changed = pacing::ChangedPolicyKeys(before, *updated);
          if (!changed.empty()) {
            const absl::Time at = absl::Now();
            pacer->SetPolicy(*updated, pacing::PolicyOrigin{at, by});
            if (fleet != nullptr) fleet->OnLocalPolicyChange(before, *updated, at, by);
            if (publish) {
              publish(pacing::PolicyEventJson({before, *updated, at, by}),
                      absl::StrCat("policy set by ", by, ": ", pacing::PolicyChangeText(before, *updated)));
            }
          } else if (publish) {
            publish("", absl::StrCat("policy set by ", by, ": no change (", absl::StrJoin(updates, " "), ")"));
          }
          return RenderPolicyState(pacer->policy(), pacer->flag_policy(), pacer->policy_origin(), &changed);
        },
        std::move(reply));
  }
  if ((w[0] == "quarantine" || w[0] == "release") && w.size() >= 2) {
    std::optional<absl::Duration> duration;
    auto last = w.end();
    if (w[0] == "quarantine" && absl::StartsWith(w.back(), "for=")) {
      absl::Duration d;
      if (!absl::ParseDuration(w.back().substr(4), &d) || d < absl::ZeroDuration()) {
        return answer(ErrorJson("for= takes a duration like 30m, 4h or 0 (until released)"));
      }
      duration = d;
      --last;
    }
    const std::string text = absl::StrJoin(w.begin() + 1, last, " ");
    auto n = number_arg(text);
    if (!n) {
      return answer(ErrorJson(absl::StrCat("'", text, "' is not a phone number (usage: ",
                                           w[0] == "quarantine" ? "quarantine NUM [for=DURATION])" : "release NUM)")));
    }
    pacing::Pacer* pacer = ctx.pacer;
    const bool quarantine = w[0] == "quarantine";
    const metrics::E164 number = *n;
    return OnSipThread(
        ctx,
        [pacer, quarantine, number, duration, by = ctx.peer, publish = ctx.publish]() {
          const absl::Time at = absl::Now();
          auto done = quarantine ? pacer->Quarantine(number, duration, at) : pacer->Release(number, at);
          if (!done.ok()) return ErrorJson(done.status().message());
          if (publish) {
            std::string what =
                absl::StrCat(pacing::StateName(done->before), " -> ", pacing::StateName(done->after.state));
            if (quarantine && !done->tracked) absl::StrAppend(&what, " (pre-emptive: not tracked)");
            if (!quarantine && !done->changed) {
              what = done->tracked ? "nothing to release (healthy)" : "nothing to release (not tracked)";
            }
            publish("", absl::StrCat(quarantine ? "quarantine " : "release ", metrics::FormatE164(number), " by ", by,
                                     ": ", what));
          }
          return RenderOperatorAction(number, *done, quarantine);
        },
        std::move(reply));
  }
  return answer(
      ErrorJson(absl::StrCat("unknown request '", absl::StripAsciiWhitespace(line).substr(0, 80), "'; try help")));
}

}  // namespace sippacer::proxy
