#pragma once
// The texts the relay copies out of a carrier's response: its reason phrase
// and its Reason header, as they read on the wire (what CDRs, `show number`
// and 603+ detection see).

#include <sofia-sip/sip.h>

#include <string>

namespace sippacer::proxy {

// The response's own phrase, or the standard one for `status`, or "".
const char* PhraseOf(const sip_t* sip, int status);

// The Reason header's value ("" if none), whole: a long one is encoded into a
// buffer of its own size, never cut inside a buffer sofia did not fill. At
// most kMaxReasonText bytes are kept, cut on a UTF-8 character boundary.
inline constexpr size_t kMaxReasonText = 4096;
std::string ReasonText(const sip_t* sip);

}  // namespace sippacer::proxy
