#include "proxy/ops/command.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "metrics/e164.h"

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
  const OpsView& v = ctx.view;
  if (w[0] == "help") return answer(RenderHelp());
  if (w[0] == "subscribe") {
    reply("{\"subscribed\":true}");
    return CommandKind::kSubscribe;
  }
  if (w[0] == "show" && w.size() >= 2) {
    const std::string& what = w[1];
    if (what == "info") return answer(RenderInfo(v, now));
    if (what == "codes") return answer(RenderCodes(v, now));
    if (what == "carriers") return answer(RenderCarriers(v));
    if (what == "countries") return answer(RenderCountries(v));
    if (what == "areas") return answer(RenderAreas(v));
    if (what == "trunks") return answer(RenderTrunks(v));
    if (what == "hours") return answer(RenderGroups("hours", "hour", v.store->Hours()));
    if (what == "policy") return answer(RenderPolicy(v.pacer->policy()));
    if (what == "numbers") return answer(RenderNumbers(v, {w.begin() + 2, w.end()}, now));
    if (what == "number") {
      // Numbers come in any common format, spaces included: "+1 (555) 123-0001".
      const std::string text = absl::StrJoin(w.begin() + 2, w.end(), " ");
      if (text.empty()) return answer(ErrorJson("usage: show number NUM"));
      auto n = number_arg(text);
      if (!n) return answer(ErrorJson(absl::StrCat("'", text, "' is not a phone number")));
      return answer(RenderNumber(v, *n, now));
    }
  }
  if (w[0] == "set" && w.size() >= 2 && w[1] == "policy") {
    auto updated = pacing::ApplyPolicyUpdate(v.pacer->policy(), {w.begin() + 2, w.end()});
    if (!updated.ok()) return answer(ErrorJson(updated.status().message()));
    pacing::Pacer* pacer = ctx.pacer;
    return OnSipThread(
        ctx,
        [pacer, p = *std::move(updated)]() mutable {
          pacer->SetPolicy(p);
          return RenderPolicy(p);
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
        [pacer, quarantine, number, duration]() {
          const absl::Time at = absl::Now();
          auto state = quarantine ? pacer->Quarantine(number, duration, at) : pacer->Release(number, at);
          return state.ok() ? RenderPacing(number, *state) : ErrorJson(state.status().message());
        },
        std::move(reply));
  }
  return answer(
      ErrorJson(absl::StrCat("unknown request '", absl::StripAsciiWhitespace(line).substr(0, 80), "'; try help")));
}

}  // namespace sippacer::proxy
