// Stats-socket requests (docs/stats-socket.md), one per input line, against a small live
// Store and Pacer: every request but quit and prompt gets exactly one
// answer: one line of JSON holding an object, or (help, format=csv) lines
// each ending in a newline, none empty. Commands for the SIP thread run
// inline; every fifth post finds the queue full, as a busy SIP thread would.
//
// A World costs milliseconds (the Store's fixed tables), so inputs that only
// read share one; an input that may change pacing gets its own, so that
// every input replays alone as it ran.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "pacing/pacer.h"
#include "proxy/ctl/json_value.h"
#include "proxy/ops/command.h"
#include "proxy/sip/trunk_group.h"
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
    ctx.view = OpsView{&store, &pacer, &relay, nullptr, kT0 - absl::Hours(1), "1", &trunks};
    trunks.stats(0).attempts.Add(80);
    ctx.pacer = &pacer;
    ctx.sip_queue = &queue;
    ctx.post_to_ops = [](std::function<void()> fn) { fn(); };
  }
  // A trunk name JSON must escape.
  static std::vector<TrunkSpec> Trunks() {
    TrunkSpec a, b;
    a.name = "carrier \"a\"\t\xff";
    a.uri = "sip:10.0.0.1:5060";
    b.name = "backup";
    b.uri = "sips:sbc.example.com";
    b.max_cps = 2.5;
    return {a, b};
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
  TrunkGroup trunks{Trunks()};
  InlineQueue queue;
  CommandContext ctx;
};

// Whether RunCommand could hand `line` to the SIP thread (set, quarantine, release).
bool Writes(absl::string_view line) {
  const std::vector<std::string> w = SplitWords(absl::StripAsciiWhitespace(line));
  if (w.empty()) return false;
  const std::string verb = absl::AsciiStrToLower(w[0]);
  return verb == "set" || verb == "quarantine" || verb == "release";
}

}  // namespace
}  // namespace sippacer::proxy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sippacer::proxy;
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  const std::vector<absl::string_view> lines = absl::StrSplit(in, '\n');
  static World* const shared = new World();
  std::unique_ptr<World> own;
  for (size_t i = 0; i < lines.size() && i < 32; ++i) {
    if (Writes(lines[i])) {
      own = std::make_unique<World>();
      break;
    }
  }
  World& world = own ? *own : *shared;
  for (size_t i = 0; i < lines.size() && i < 32; ++i) {
    absl::string_view line = lines[i];
    // As the ops server reads it: up to 4096 bytes, CR/LF stripped.
    if (line.size() > 4096) continue;
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<std::string> answers;
    const CommandKind kind = RunCommand(line, world.ctx, kT0 + absl::Seconds(i),
                                        [&answers](std::string a) { answers.push_back(std::move(a)); });
    if (kind == CommandKind::kQuit || kind == CommandKind::kPrompt) {
      FUZZ_CHECK(answers.empty());
      continue;
    }
    FUZZ_CHECK(answers.size() == 1);
    const std::string& a = answers[0];
    FUZZ_CHECK(a.find('\r') == std::string::npos);
    if (!a.empty() && a[0] != '{') {  // text: lines, none empty (an empty line ends the answer)
      FUZZ_CHECK(a.back() == '\n');
      FUZZ_CHECK(a.find("\n\n") == std::string::npos);
      continue;
    }
    FUZZ_CHECK(a.find('\n') == std::string::npos);
    auto v = ParseJson(a);
    FUZZ_CHECK(v.ok());
    FUZZ_CHECK(v->type == JsonValue::Type::kObject && !v->fields.empty());
    if (kind == CommandKind::kSubscribe) FUZZ_CHECK(v->Get("subscribed") != nullptr);
  }
  return 0;
}
