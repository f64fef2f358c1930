#pragma once
// One stats-socket request, split into words and routed (docs/stats-socket.md).

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proxy/ops/render.h"
#include "proxy/sip_thread_queue.h"

namespace sippacer::proxy {

struct CommandContext {
  OpsView view;
  pacing::Pacer* pacer = nullptr;  // for commands run on the SIP thread
  SipThreadQueue* sip_queue = nullptr;
  // Runs a continuation back on the ops thread (the answer of a SIP-thread command).
  std::function<void(std::function<void()>)> post_to_ops;
  // Who sent the request, for the log and the policy event: the socket
  // peer's credentials ("uid=1000(alice) pid=4242"), or "socket".
  std::string peer = "socket";
  // Writes `log` to the log and streams `event` to every subscriber; may be
  // called from any thread (it posts to the ops thread). May be empty.
  std::function<void(std::string event, std::string log)> publish;
  // --redis: live policy changes go to every node of the fleet.
  fleet::FleetSync* fleet = nullptr;
};

enum class CommandKind {
  kAnswered,   // `reply` already called
  kPending,    // `reply` will be called later, on the ops thread
  kSubscribe,  // replied {"subscribed":true}; events follow
  kQuit,       // no reply: close the connection once its answers are written
  kPrompt,     // no reply: the session turns interactive mode on or off
};

// Answers read commands at once (kAnswered, `reply` already called); hands
// pacing changes to the SIP thread (kPending, `reply` called later on the ops
// thread); `subscribe` returns kSubscribe after replying {"subscribed":true}.
// A `format=csv` answer and `help` are several lines, each ending in "\n";
// a JSON answer is one line, without its "\n".
CommandKind RunCommand(absl::string_view line, const CommandContext& ctx, absl::Time now,
                       std::function<void(std::string)> reply);

std::vector<std::string> SplitWords(absl::string_view line);

}  // namespace sippacer::proxy
