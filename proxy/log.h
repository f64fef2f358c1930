#pragma once
// LogLine: the daemon's one log format, on stderr, one write(2) per line so
// lines from the SIP, ops and CDR threads never interleave:
//   2026-11-24T12:00:00.123Z INFO relay: listening on sip:127.0.0.1:5060

#include "absl/strings/string_view.h"

namespace sippacer::proxy {

void LogLine(absl::string_view level, absl::string_view component, absl::string_view message);

// LogLine for a message that may repeat at the rate of the traffic (a
// degraded path): at most one line per distinct message every 10 s, which
// says how many were held back since the last one.
// `key` names the kind of message when its text varies (default: the text).
void LogRateLimited(absl::string_view level, absl::string_view component, absl::string_view message,
                    absl::string_view key = {});

}  // namespace sippacer::proxy
