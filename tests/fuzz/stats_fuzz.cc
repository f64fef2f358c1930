// Stats-socket requests (SPEC §6), one per input line, against a small live
// Store and Pacer: every request gets exactly one answer, one line of JSON
// holding an object. Commands for the SIP thread run inline; every fifth
// post finds the queue full, as a busy SIP thread would.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "pacing/pacer.h"
#include "proxy/ctl/json_value.h"
#include "proxy/ops/command.h"
#include "tests/fuzz/fuzz_check.h"

namespace sippacer::proxy {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

class InlineQueue : public SipThreadQueue {
 public:
  bool Post(Task task) override {
    if (++posts_ % 5 == 0) return false;
    task();
    return true;
  }

 private:
  int posts_ = 0;
};

// A few numbers and routes with history, so that show, quarantine and
// release have something to render.
struct World {
  World() : store(Options()), pacer(store, Policy(), nullptr) {
    metrics::E164 caller = 15552000000;
    absl::Time t = kT0 - absl::Minutes(30);
    for (int i = 0; i < 40; ++i) Call(15551230001, 12125550000 + i, i % 3 ? 603 : 200, t += absl::Seconds(7));
    for (int i = 0; i < 30; ++i) Call(++caller, 4930123000 + i, i % 5 ? 480 : 200, t += absl::Seconds(5));
    for (int i = 0; i < 10; ++i) Call(15551230002, 13105550000 + i, 486, t += absl::Seconds(3));
    pacer.Tick(kT0);
    ctx.view = OpsView{&store, &pacer, &relay, nullptr, kT0 - absl::Hours(1), "1"};
    ctx.pacer = &pacer;
    ctx.sip_queue = &queue;
    ctx.post_to_ops = [](std::function<void()> fn) { fn(); };
  }
  static metrics::StoreOptions Options() {
    metrics::StoreOptions o;
    o.max_numbers = 200;
    return o;
  }
  static pacing::Policy Policy() {
    pacing::Policy p;
    p.rules = *pacing::ParseRules(pacing::kDefaultRules);
    return p;
  }
  void Call(metrics::E164 caller, metrics::E164 callee, int code, absl::Time at) {
    pacer.OnInvite(caller, callee, at);
    metrics::CallOutcome o;
    o.caller = caller;
    o.callee = callee;
    o.code = code;
    o.network_blocked = code == 603 && callee % 2;
    o.invite_at = at;
    o.final_at = at + absl::Seconds(2);
    pacer.OnFinal(o);
    relay.invites_total.Add();
  }
  metrics::Store store;
  pacing::Pacer pacer;
  RelayCounters relay;
  InlineQueue queue;
  CommandContext ctx;
};

}  // namespace
}  // namespace sippacer::proxy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sippacer::proxy;
  World world;
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(in, '\n')) {
    if (++lines > 32) break;
    // As the ops server reads it: up to 4096 bytes, CR/LF stripped.
    if (line.size() > 4096) continue;
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<std::string> answers;
    const CommandKind kind = RunCommand(line, world.ctx, kT0 + absl::Seconds(lines),
                                        [&answers](std::string a) { answers.push_back(std::move(a)); });
    FUZZ_CHECK(answers.size() == 1);
    const std::string& a = answers[0];
    FUZZ_CHECK(a.find_first_of("\r\n") == std::string::npos);
    auto v = ParseJson(a);
    FUZZ_CHECK(v.ok());
    FUZZ_CHECK(v->type == JsonValue::Type::kObject && !v->fields.empty());
    if (kind == CommandKind::kSubscribe) FUZZ_CHECK(v->Get("subscribed") != nullptr);
  }
  return 0;
}
