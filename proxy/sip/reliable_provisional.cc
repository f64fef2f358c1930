// 100rel per leg (RFC 3262): the carrier's reliable provisionals PRACKed,
// the dialer's given reliably when it supports or requires 100rel, one in
// flight at a time (docs/headers.md).

#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/tport_tag.h>

#include <utility>

#include "proxy/log.h"
#include "proxy/sip/b2bua.h"
#include "proxy/sip/header_copy.h"
#include "proxy/sip/sip_text.h"

namespace sippacer::proxy {

void B2bua::RelayProvisionalToDialer(Call* call, nta_outgoing_t* orq, const sip_t* sip, int status) {
  // 100rel is per leg (RFC 3262). A dialer that requires it gets every
  // provisional reliably; one that only supports it gets reliably what the
  // carrier sent reliably or with SDP (an early answer it must not miss);
  // any other dialer gets the provisional and its SDP unreliably.
  call->dialer_heard = true;
  const CopiedHeaders passed(config_.headers, sip, /*with_100rel=*/false);
  const char* phrase = PhraseOf(sip, status);
  const bool reliable = call->dialer_requires_100rel || (call->dialer_supports_100rel && sip != nullptr &&
                                                         (sip->sip_rseq != nullptr || sip->sip_payload != nullptr));
  if (reliable && call->dialer_unpracked != nullptr) {
    // One reliable provisional in flight at a time (sofia's own queue of
    // them loses some, and its timers once aborted on it): the latest one
    // waits for the dialer's PRACK of the previous.
    if (call->held_provisional != nullptr) msg_destroy(call->held_provisional);
    call->held_provisional = nta_outgoing_getresponse(orq);
    return;
  }
  if (reliable) {
    call->dialer_unpracked = nta_reliable_treply(
        call->a_invite,
        [](nta_reliable_magic_t* m, nta_reliable_t* rel, nta_incoming_t* prack, const sip_t*) {
          auto* c = reinterpret_cast<Call*>(m);
          return c->owner->OnDialerPrack(c, rel, prack);
        },
        reinterpret_cast<nta_reliable_magic_t*>(call), status, phrase, SIPTAG_CONTACT(nta_agent_contact(agent_)),
        SIPTAG_CONTENT_TYPE(sip ? sip->sip_content_type : nullptr), SIPTAG_PAYLOAD(sip ? sip->sip_payload : nullptr),
        TAG_NEXT(passed.tags()));
    if (call->dialer_unpracked != nullptr || call->dialer_requires_100rel) return;
  }
  nta_incoming_treply(call->a_invite, status, phrase, SIPTAG_CONTACT(nta_agent_contact(agent_)),
                      SIPTAG_CONTENT_TYPE(sip ? sip->sip_content_type : nullptr),
                      SIPTAG_PAYLOAD(sip ? sip->sip_payload : nullptr), TAG_NEXT(passed.tags()));
}

int B2bua::OnDialerPrack(Call* call, nta_reliable_t* rel, nta_incoming_t* prack) {
  // The dialer PRACKed our reliable provisional (prack set), or it never
  // will: a final answer went out, or its PRACK timed out (then
  // OnDialerCancelOrAck gives the call up).
  if (call->dialer_unpracked == rel) call->dialer_unpracked = nullptr;
  nta_reliable_destroy(rel);
  msg_t* held = std::exchange(call->held_provisional, nullptr);
  if (held != nullptr) {
    const sip_t* s = sip_object(held);
    if (prack != nullptr && s != nullptr && s->sip_status != nullptr && call->a_invite && !call->cancelled &&
        call->final_code == 0) {
      RelayProvisionalToDialer(call, nullptr, s, s->sip_status->st_status);
    }
    msg_destroy(held);
  }
  return 200;
}

void B2bua::Prack(Call* call, bool to_trunk, nta_outgoing_t* invite, const sip_t* provisional) {
  // Sofia hands reliable provisionals to us to PRACK (RFC 3262 per leg).
  // A provisional with RSeq but without Require: 100rel is not reliable.
  if (!sip_has_feature(provisional->sip_require, "100rel") || provisional->sip_to == nullptr ||
      provisional->sip_to->a_tag == nullptr) {
    return;
  }
  nta_leg_t* leg = to_trunk ? call->b_leg : call->a_leg;
  if (leg == nullptr) return;
  const char* rtag = nta_leg_get_rtag(leg);
  if (rtag == nullptr) {
    // The early dialog the PRACK belongs to: the carrier's tag and route.
    nta_leg_rtag(leg, provisional->sip_to->a_tag);
    if (UsableTarget(provisional->sip_contact, provisional->sip_record_route)) {
      nta_leg_client_reroute(leg, provisional->sip_record_route, provisional->sip_contact, 1);
    }
  } else if (!su_casematch(rtag, provisional->sip_to->a_tag)) {
    // A second fork's early dialog: our leg follows the first one.
    counters_.degraded.Add();
    LogRateLimited("WARN", "relay", "a reliable provisional from a second early dialog was not PRACKed");
    return;
  }
  nta_outgoing_t* prack = nta_outgoing_prack(
      leg, invite, [](nta_outgoing_magic_t*, nta_outgoing_t*, const sip_t*) { return 0; }, nullptr, nullptr, nullptr,
      NTATAG_RSEQ(provisional->sip_rseq->rs_response), TPTAG_IDENT(TportIdent(to_trunk)), TAG_END());
  if (prack == nullptr) {
    counters_.degraded.Add();
    LogRateLimited("WARN", "relay", "sofia could not PRACK a reliable provisional");
    return;
  }
  counters_.pracks_sent.Add();
  nta_outgoing_destroy(prack);  // sofia retransmits it until answered
}

}  // namespace sippacer::proxy
