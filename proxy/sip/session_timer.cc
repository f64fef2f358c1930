// Session timers (RFC 4028) across the relay: the ends negotiate them
// through it (Session-Expires, Min-SE and the `timer` option tag pass both
// ways) and refresh through it (re-INVITE or UPDATE, relayed); the relay
// watches. Each 2xx that carries Session-Expires starts the interval again.
// If no refresh has come when it runs out (both ends should have hung up by
// then; RFC 4028 section 10), the relay ends both legs with BYE and a CDR.

#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

#include "proxy/log.h"
#include "proxy/sip/b2bua.h"

namespace sippacer::proxy {

void B2bua::OnSessionRefreshed(Call* call, const sip_t* answer) {
  const sip_session_expires_t* se = answer != nullptr ? answer->sip_session_expires : nullptr;
  // An interval over a day is no policing matter (and its milliseconds
  // would overflow sofia's timer arithmetic): treated as none.
  if (se == nullptr || se->x_delta == 0 || se->x_delta > 86400) {
    // A 2xx to a refresh without Session-Expires turns the timer off.
    if (call->session_timer != nullptr) su_timer_reset(call->session_timer);
    return;
  }
  if (call->session_timer == nullptr) {
    call->session_timer = su_timer_create(su_root_task(root_), 0);
    if (call->session_timer == nullptr) {
      counters_.degraded.Add();
      LogRateLimited("WARN", "relay", "no timer for a call's session interval: it is not policed");
      return;
    }
  }
  su_timer_set_interval(
      call->session_timer,
      [](su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
        auto* c = reinterpret_cast<Call*>(arg);
        c->owner->OnSessionExpired(c);
      },
      reinterpret_cast<su_timer_arg_t*>(call), static_cast<su_duration_t>(se->x_delta) * 1000);
}

void B2bua::OnSessionExpired(Call* call) {
  if (call->ended) return;
  counters_.session_expiries.Add();
  LogRateLimited("WARN", "relay", "a call's session interval ran out with no refresh: BYE on both legs");
  for (nta_leg_t* leg : {call->a_leg, call->b_leg}) {
    if (leg == nullptr) continue;
    nta_outgoing_t* bye = nta_outgoing_tcreate(
        leg, nullptr, nullptr, nullptr, SIP_METHOD_BYE, nullptr, TPTAG_IDENT(TportIdent(leg == call->b_leg)),
        SIPTAG_REASON_STR("SIP;cause=408;text=\"session expired (RFC 4028)\""), TAG_END());
    if (bye != nullptr) nta_outgoing_destroy(bye);  // sofia retransmits it until answered
  }
  EndCall(call, "session_expired");
}

}  // namespace sippacer::proxy
