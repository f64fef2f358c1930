#pragma once
// RecordedCall: one CDR (docs/cdr.md) as the replay needs it, whichever store it
// came from (the daemon's --cdr_file JSON lines or its PostgreSQL table).

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "metrics/call_outcome.h"

namespace sippacer::replay {

struct RecordedCall {
  absl::Time ts;             // INVITE received
  metrics::E164 caller = 0;  // 0: not a number (never paced, skipped)
  metrics::E164 callee = 0;
  int code = 0;  // final response (0: none)
  bool pre_ring = false;
  bool network_blocked = false;
  std::string reason_header;
  std::optional<int64_t> pdd_ms;
  int64_t setup_ms = 0;
  // Refused by pacing in the record: nothing reached the trunk, so there is
  // no carrier answer to replay. (A dry-run CDR says what pacing would have
  // done but was forwarded: it has a B-leg Call-ID and is a normal call.)
  bool refused = false;
  bool refused_by_acl = false;  // never an attempt: skipped
};

}  // namespace sippacer::replay
