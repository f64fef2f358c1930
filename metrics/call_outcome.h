#pragma once
// CallOutcome
//
// What the relay learned from one call attempt, as plain values: the proxy
// translates the SIP stack's types into this before anything is counted, so metrics/
// and pacing/ never see SIP objects. Built on the SIP thread and handed over
// before the final response is relayed.

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "metrics/outcome.h"

namespace sippacer::metrics {

// An E.164 number as its digits in an integer (+15551230001 -> 15551230001).
// 0 means "no usable number".
using E164 = uint64_t;

struct CallOutcome {
  E164 caller = 0;                                  // originating number, per --caller_id
  E164 callee = 0;                                  // dialed number (request-URI user)
  int code = 0;                                     // final SIP status from the trunk
  bool ringing_seen = false;                        // a 180/183 arrived before the final response
  bool network_blocked = false;                     // 603 "Network Blocked" + Reason (603+, ATIS-1000099)
  absl::Time invite_at = absl::InfinitePast();      // INVITE received from the dialer
  absl::Time first_ring_at = absl::InfinitePast();  // first 18x, InfinitePast if none
  absl::Time final_at = absl::InfinitePast();       // final response received
  // The carrier's Reason header as received (empty if none). Only valid for
  // the duration of the call that records it: copy what you keep.
  absl::string_view reason_header;
};

// What a final adds to each count it goes into (the number's log, its
// carrier, country, area, hour, the pool): worked out once a call.
struct FinalMark {
  Outcome outcome = Outcome::kOther6xx;
  bool pre_ring_603 = false;     // a 603 before any ringing
  bool network_blocked = false;  // a 603+
};
inline FinalMark MarkOf(const CallOutcome& o) {
  return FinalMark{OutcomeFromStatus(o.code), o.code == 603 && !o.ringing_seen, o.network_blocked};
}

// True for the 603+ of ATIS-1000099: status 603, reason phrase "Network
// Blocked" (case-insensitive) and a Reason header present.
bool IsNetworkBlocked(int code, absl::string_view phrase, absl::string_view reason_header);

}  // namespace sippacer::metrics
