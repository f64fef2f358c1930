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
};

enum class CommandKind { kAnswered, kPending, kSubscribe };

// Answers read commands at once (kAnswered, `reply` already called); hands
// pacing changes to the SIP thread (kPending, `reply` called later on the ops
// thread); `subscribe` returns kSubscribe after replying {"subscribed":true}.
CommandKind RunCommand(absl::string_view line, const CommandContext& ctx, absl::Time now,
                       std::function<void(std::string)> reply);

std::vector<std::string> SplitWords(absl::string_view line);

}  // namespace sippacer::proxy
