#pragma once
// CdrRecord: one call attempt as docs/cdr.md lists it, built by the SIP thread
// when the call ends and handed to the CDR writer thread through a bounded
// queue. Plain values only.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace sippacer::proxy {

struct CdrRecord {
  absl::Time ts;       // INVITE received
  std::string caller;  // "+15551230001", or the raw value if not a number
  std::string callee;
  std::string carrier;                // from --carriers, "unknown" otherwise
  std::string trunk;                  // name of the trunk the call ended on; "" when it reached none
  int code = 0;                       // final response sent to the dialer
  std::string reason;                 // its reason phrase
  bool pre_ring = false;              // no 180/183 before the final
  bool network_blocked = false;       // 603+
  std::string reason_header;          // the carrier's Reason header, "" if none
  std::optional<int64_t> pdd_ms;      // INVITE -> first 18x
  int64_t setup_ms = 0;               // INVITE -> final
  std::optional<int64_t> duration_s;  // answered calls
  std::string ended_by;               // caller, callee, cancel, timeout, "" if never set up
  std::string paced;       // refused by sippacer: "throttle", "quarantine", "trunk_limit", "no_number"; "" = forwarded
  std::string would_pace;  // --dry_run: what pacing would have done to this forwarded call ("" = nothing)
  bool refused_by_acl = false;  // 403 by --allow: not an attempt
  std::string a_call_id;
  std::string b_call_id;  // "" when nothing reached the trunk
};

// Where the SIP thread drops finished records. Must never block.
class CdrSink {
 public:
  virtual ~CdrSink() = default;
  virtual void Push(CdrRecord&& record) = 0;
};

}  // namespace sippacer::proxy
