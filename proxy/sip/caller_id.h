#pragma once
// Reading the originating and dialed numbers out of a dialer's INVITE.

#include <string>
#include <vector>

#include "metrics/call_outcome.h"
#include "proxy/config.h"

struct sip_s;

namespace sippacer::proxy {

struct CallerId {
  metrics::E164 number = 0;  // 0 when no source held a usable number
  std::string text;          // normalised "+1555..." or the raw user part
  const char* source = "";   // the header it was read from ("From", "P-Asserted-Identity" ...); "" when none
};

// The first of `order` (P-Asserted-Identity, Remote-Party-ID, From) whose
// URI user (or tel: number) normalises to E.164.
CallerId ExtractCaller(const sip_s* sip, const std::vector<CallerIdSource>& order,
                       absl::string_view default_country_code);

// The request-URI user, normalised.
CallerId ExtractCallee(const sip_s* sip, absl::string_view default_country_code);

}  // namespace sippacer::proxy
