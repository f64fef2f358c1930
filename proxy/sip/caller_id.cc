#include "proxy/sip/caller_id.h"

#include <sofia-sip/sip.h>
#include <sofia-sip/sip_extra.h>

#include "metrics/e164.h"

namespace sippacer::proxy {
namespace {

// tel:+15551230001 carries the number in the host part; sip: in the user.
absl::string_view NumberPart(const url_t* url) {
  if (url == nullptr) return {};
  if (url->url_type == url_tel && url->url_host) return url->url_host;
  if (url->url_user) return url->url_user;
  return {};
}

CallerId FromUrl(const url_t* url, absl::string_view cc) {
  CallerId id;
  const absl::string_view raw = NumberPart(url);
  id.text = std::string(raw);
  if (auto n = metrics::NormalizeE164(raw, cc)) {
    id.number = *n;
    id.text = metrics::FormatE164(*n);
  }
  return id;
}

}  // namespace

CallerId ExtractCaller(const sip_s* sip, const std::vector<CallerIdSource>& order, absl::string_view cc) {
  CallerId fallback;
  for (CallerIdSource source : order) {
    const url_t* url = nullptr;
    const char* name = "";
    switch (source) {
      case CallerIdSource::kPai:
        if (const sip_p_asserted_identity_t* pai = sip_p_asserted_identity(sip)) url = pai->paid_url;
        name = "P-Asserted-Identity";
        break;
      case CallerIdSource::kRpid:
        if (const sip_remote_party_id_t* rpid = sip_remote_party_id(sip)) url = rpid->rpid_url;
        name = "Remote-Party-ID";
        break;
      case CallerIdSource::kFrom:
        if (sip->sip_from) url = sip->sip_from->a_url;
        name = "From";
        break;
    }
    if (url == nullptr) continue;
    CallerId id = FromUrl(url, cc);
    id.source = name;
    if (id.number != 0) return id;
    if (fallback.text.empty()) fallback = id;
  }
  return fallback;
}

CallerId ExtractCallee(const sip_s* sip, absl::string_view cc) {
  if (sip->sip_request == nullptr) return {};
  return FromUrl(sip->sip_request->rq_url, cc);
}

}  // namespace sippacer::proxy
