// The life of a call after its INVITE went to the trunk: responses, CANCEL,
// ACK, in-dialog requests both ways, and the end of the call.

#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/tport_tag.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "metrics/call_outcome.h"
#include "proxy/log.h"
#include "proxy/sip/b2bua.h"
#include "proxy/sip/header_copy.h"
#include "proxy/sip/sip_text.h"

namespace sippacer::proxy {

int B2bua::OnTrunkInviteResponse(Call* call, nta_outgoing_t* orq, const sip_t* sip) {
  int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
  if (status > 699) status = 500;  // no such class: sofia would not relay it
  const absl::Time now = absl::Now();
  if (status < 200) {
    if (call->cancel_pending) CancelWhenProvisional(orq, &call->cancel_pending);
    if (status == 100) return 0;
    if (sip != nullptr && sip->sip_rseq != nullptr) Prack(call, /*to_trunk=*/true, orq, sip);
    if (call->final_code != 0) return 0;
    if (status == 180 || status == 183) {
      if (!call->ringing_seen) call->first_ring_at = now;
      call->ringing_seen = true;
    }
    if (call->a_invite && !call->cancelled) RelayProvisionalToDialer(call, orq, sip, status);
    return 0;
  }
  RecordTrunkFinal(call, status);
  // Nothing reached the dialer yet, and this trunk cannot take the call (503:
  // overloaded or unreachable, also a transport error; 408: no answer at
  // all): the next trunk gets it. The number is judged on the last answer.
  if ((status == 503 || status == 408) && !call->dialer_heard && !call->cancelled && FailOver(call, status)) {
    return 0;
  }
  // A challenge to an INVITE the dialer has cancelled ends it: answering it
  // would ring the trunk again for a call nobody waits for.
  if ((status == 401 || status == 407) && sip && !call->cancelled && RetryWithCredentials(call, sip)) return 0;
  if (status == 487 && !call->cancelled && !call->answered) {
    // Nobody asked to cancel this INVITE but sofia's Timer C (--ring_timeout):
    // a ring-no-answer timeout, not a carrier's verdict. The dialer gets 408.
    counters_.ring_timeouts.Add();
    CountFinal(call, nullptr, 408, now);
    RelayFinalToDialer(call, nullptr, 408, "Request Timeout");
    EndCall(call, "timeout");
    return 0;
  }

  if (status < 300) {
    if (call->answered) return 0;  // 2xx from another fork: not relayed
    nta_leg_rtag(call->b_leg, sip->sip_to ? sip->sip_to->a_tag : nullptr);
    call->ack_target_trunk = call->b_invite;  // the dialer's ACK completes it
    if (UsableTarget(sip->sip_contact, sip->sip_record_route)) {
      nta_leg_client_reroute(call->b_leg, sip->sip_record_route, sip->sip_contact, 1);
    } else {
      // The carrier's Contact cannot address a request: its in-dialog
      // requests go to the trunk's address instead.
      counters_.malformed.Add();
      LogRateLimited("WARN", "relay",
                     "a 2xx from the trunk with an unusable Contact or Record-Route: trunk address kept");
    }
  }
  CountFinal(call, sip, status, now);

  if (status < 300) {
    if (call->cancelled || call->a_invite == nullptr) {
      // The dialer gave up while the trunk answered: complete and end the
      // trunk's dialog so no one pays for a call nobody hears.
      counters_.late_answers.Add();
      ForwardAck(call, true, nullptr);
      HangUpTrunk(call);
      EndCall(call, "cancel");
      return 0;
    }
    call->answered = true;
    call->answered_at = now;
    RelayFinalToDialer(call, sip, status, PhraseOf(sip, status));
    OnSessionRefreshed(call, sip);
    return 0;
  }
  // Non-2xx: NTA has ACKed the trunk itself (hop by hop) and will absorb the
  // dialer's ACK for our copy.
  if (!call->cancelled) RelayFinalToDialer(call, sip, status, PhraseOf(sip, status));
  EndCall(call, call->cancelled ? "cancel" : (status == 408 ? "timeout" : "callee"));
  return 0;
}

void B2bua::CountFinal(Call* call, const sip_t* sip, int status, absl::Time now) {
  call->final_at = now;
  call->reason_header = ReasonText(sip);
  call->network_blocked = metrics::IsNetworkBlocked(status, PhraseOf(sip, status), call->reason_header);
  metrics::CallOutcome outcome;  // a caller of 0 counts in the totals only (Pacer::OnFinal)
  outcome.caller = call->caller.number;
  outcome.callee = call->callee.number;
  outcome.code = status;
  outcome.ringing_seen = call->ringing_seen;
  outcome.network_blocked = call->network_blocked;
  outcome.invite_at = call->invite_at;
  outcome.first_ring_at = call->first_ring_at;
  outcome.final_at = now;
  outcome.reason_header = call->reason_header;
  pacer_.OnFinal(outcome);
}

void B2bua::RelayFinalToDialer(Call* call, const sip_t* sip, int status, const char* phrase) {
  call->final_code = status;
  call->final_phrase = phrase;
  counters_.finals_relayed.Add();
  if (call->a_invite == nullptr) return;
  const bool ok = status < 300;
  // What carriers say about why (a 603+'s Reason and Call-Info redress
  // data, Retry-After, Warning) reaches the dialer as the carrier wrote it.
  const CopiedHeaders passed(config_.headers, sip);
  nta_incoming_treply(call->a_invite, status, phrase, SIPTAG_CONTACT(ok ? nta_agent_contact(agent_) : nullptr),
                      SIPTAG_CONTENT_TYPE(sip && ok ? sip->sip_content_type : nullptr),
                      SIPTAG_PAYLOAD(sip && ok ? sip->sip_payload : nullptr), TAG_NEXT(passed.tags()));
  if (!ok) {
    nta_incoming_destroy(call->a_invite);  // NTA keeps it until the dialer's ACK
    call->a_invite = nullptr;
  }
}

bool B2bua::RetryWithCredentials(Call* call, const sip_t* challenge) {
  if (config_.trunk_auth_user.empty() || call->auth_attempts >= 2) return false;
  const bool proxy = challenge->sip_status->st_status == 407;
  const msg_auth_t* auth = proxy ? reinterpret_cast<const msg_auth_t*>(challenge->sip_proxy_authenticate)
                                 : reinterpret_cast<const msg_auth_t*>(challenge->sip_www_authenticate);
  if (auth == nullptr) return false;
  if (auc_challenge(&call->auth, call->home, auth, proxy ? sip_proxy_authorization_class : sip_authorization_class) <
      0) {
    return false;
  }
  auc_all_credentials(&call->auth, nullptr, nullptr, config_.trunk_auth_user.c_str(),
                      config_.trunk_auth_password.c_str());
  msg_t* req = nta_outgoing_getrequest(call->b_invite);
  if (req == nullptr) return false;
  const sip_t* inv = sip_object(req);
  msg_header_t* headers = nullptr;
  const int rc = auc_authorization_headers(&call->auth, call->home, "INVITE", inv->sip_request->rq_url,
                                           inv->sip_payload, &headers);
  bool sent = false;
  if (rc > 0 && headers != nullptr) {
    ++call->auth_attempts;
    counters_.auth_retries.Add();
    nta_outgoing_destroy(call->b_invite);
    call->b_invite = nullptr;
    // The re-sent INVITE carries the values of the first one, read from
    // its message (never from a copied sip_t: extension headers such as
    // P-Asserted-Identity live past the struct, in the message itself).
    sent = SendTrunkInvite(call, inv, headers, /*resend=*/true);
    if (!sent) LogLine("WARN", "relay", "could not re-send INVITE with trunk credentials");
  }
  msg_destroy(req);
  return sent;
}

int B2bua::OnDialerCancelOrAck(Call* call, nta_incoming_t* irq, const sip_t* sip) {
  if (sip == nullptr && call->answered && !call->ended && nta_incoming_status(irq) < 200) {
    // Our 2xx waited for the dialer's PRACK of a provisional with SDP (RFC
    // 3262) that never came: sofia answers the dialer 503, so the carrier's
    // answered leg is hung up.
    counters_.degraded.Add();
    LogRateLimited("WARN", "relay", "a dialer never PRACKed before the answer: 503 to it, BYE to the trunk");
    call->final_code = 503;
    call->final_phrase = "Reliable Response Time-Out";
    ForwardAck(call, true, nullptr);  // the trunk's 2xx is ACKed, then hung up
    HangUpTrunk(call);
    EndCall(call, "timeout");
    return 0;
  }
  if (sip == nullptr && call->final_code == 0 && !call->cancelled) {
    // Before any final answer, sofia times the INVITE out only when the
    // dialer never PRACKed a reliable provisional; it answers 503 next.
    counters_.degraded.Add();
    LogRateLimited("WARN", "relay", "a dialer never PRACKed a reliable provisional: 503, the call given up");
    call->cancelled = true;
    call->final_code = 503;
    call->final_phrase = "Reliable Response Time-Out";
    if (call->b_invite && !call->answered) CancelWhenProvisional(call->b_invite, &call->cancel_pending);
    return 0;
  }
  if (sip == nullptr || sip->sip_request == nullptr) return 0;
  if (sip->sip_request->rq_method == sip_method_cancel) {
    // NTA answers the CANCEL 200 and the INVITE 487 after we return.
    call->cancelled = true;
    call->final_code = 487;
    call->final_phrase = "Request Terminated";
    if (call->b_invite && !call->answered) CancelWhenProvisional(call->b_invite, &call->cancel_pending);
    // Keep a_invite: destroying it before NTA's 487 would send a 500.
    return 0;
  }
  if (sip->sip_request->rq_method == sip_method_ack) {
    // Only a 2xx ACK is end to end; NTA absorbs the ACK of our error responses.
    if (call->answered) ForwardAck(call, true, sip);
    if (call->a_invite == irq) call->a_invite = nullptr;
    nta_incoming_destroy(irq);
  }
  return 0;
}

void B2bua::ForwardAck(Call* call, bool to_trunk, const sip_t* ack) {
  nta_leg_t* leg = to_trunk ? call->b_leg : call->a_leg;
  nta_outgoing_t* target = to_trunk ? call->ack_target_trunk : call->ack_target_dialer;
  const uint32_t expected = to_trunk ? call->ack_cseq_from_dialer : call->ack_cseq_from_trunk;
  // An ACK we did not ask for (a stray or a replayed one from either side)
  // completes nothing: drop it, never hand sofia an ACK it cannot match.
  const bool ours = ack == nullptr || (ack->sip_cseq != nullptr && ack->sip_cseq->cs_seq == expected);
  if (leg == nullptr || target == nullptr || !ours) {
    counters_.acks_dropped.Add();
    LogRateLimited("WARN", "relay", "an ACK that completes no INVITE of ours was dropped");
    return;
  }
  SendAck(call, to_trunk, target, ack);
}

void B2bua::SendAck(Call* call, bool to_trunk, nta_outgoing_t* target, const sip_t* ack) {
  nta_leg_t* leg = to_trunk ? call->b_leg : call->a_leg;
  if (leg == nullptr) return;
  sip_cseq_t* cseq = sip_cseq_create(call->home, nta_outgoing_cseq(target), SIP_METHOD_ACK);
  nta_outgoing_t* o =
      nta_outgoing_tcreate(leg, nullptr, nullptr, nullptr, SIP_METHOD_ACK, nullptr, TPTAG_IDENT(TportIdent(to_trunk)),
                           SIPTAG_CSEQ(cseq), SIPTAG_CONTENT_TYPE(ack ? ack->sip_content_type : nullptr),
                           SIPTAG_PAYLOAD(ack ? ack->sip_payload : nullptr), TAG_END());
  if (o == nullptr) return;
  nta_outgoing_t*& sent = to_trunk ? call->ack_sent_trunk : call->ack_sent_dialer;
  if (sent != nullptr) nta_outgoing_destroy(sent);
  sent = o;
}

void B2bua::CancelWhenProvisional(nta_outgoing_t* invite, bool* pending) {
  // Sofia (built with asserts) holds a CANCEL of an INVITE that has had no
  // provisional answer yet, and aborts if an answer to that held CANCEL
  // arrives (a carrier answering a CANCEL it never got). So the CANCEL is
  // held here instead and sent at the first provisional, 100 included.
  if (nta_outgoing_status(invite) < 100) {
    *pending = true;
    return;
  }
  *pending = false;
  nta_outgoing_t* c = nta_outgoing_tcancel(invite, nullptr, nullptr, TAG_END());
  if (c) nta_outgoing_destroy(c);
}

void B2bua::HangUpTrunk(Call* call) {
  nta_outgoing_t* o = nta_outgoing_tcreate(call->b_leg, nullptr, nullptr, nullptr, SIP_METHOD_BYE, nullptr,
                                           TPTAG_IDENT(TportIdent(true)), TAG_END());
  if (o) nta_outgoing_destroy(o);
}

int B2bua::OnInDialogRequest(Call* call, bool from_dialer, nta_incoming_t* irq, const sip_t* sip) {
  if (sip == nullptr || sip->sip_request == nullptr || call->ended) return 481;
  const sip_method_t method = sip->sip_request->rq_method;
  if (method == sip_method_ack) {
    // The 2xx ACK once NTA released the INVITE transaction, or a re-INVITE's ACK.
    // Before our 2xx an ACK completes nothing (and destroying the INVITE's
    // transaction then would answer it 500).
    if (from_dialer && call->a_invite && call->answered) {
      nta_incoming_destroy(call->a_invite);
      call->a_invite = nullptr;
    }
    ForwardAck(call, from_dialer, sip);
    nta_incoming_destroy(irq);  // nothing answers an ACK: free its transaction now
    return 0;
  }
  // A CANCEL that matches a re-INVITE in flight reaches that transaction
  // (OnRelayedInviteCancel); one that matches nothing gets 481.
  if (method == sip_method_cancel) return 481;
  if (method == sip_method_invite && (!call->answered || HasInviteInFlight(call))) {
    // A re-INVITE before the call is answered (RFC 3261 14.1: not allowed)
    // or while another one is pending: 491, the sender retries later.
    return 491;
  }
  nta_leg_t* out_leg = from_dialer ? call->b_leg : call->a_leg;
  if (out_leg == nullptr) return 481;
  if (RefuseUnservedRequire(irq, sip)) return 0;
  if (method == sip_method_refer && config_.refer == Config::Refer::kRefuse) {
    nta_incoming_treply(irq, SIP_405_METHOD_NOT_ALLOWED, SIPTAG_ALLOW_STR(AllowedMethods()), TAG_END());
    nta_incoming_destroy(irq);
    return 0;
  }
  call->relayed.push_back(RelayedRequest{call, irq, nullptr, from_dialer, method});
  RelayedRequest* rr = &call->relayed.back();
  // A target refresh names us as the target on the other leg (RFC 3261 12.2).
  const bool with_contact = method == sip_method_invite || method == sip_method_update ||
                            method == sip_method_subscribe || method == sip_method_notify;
  const CopiedHeaders passed(config_.headers, sip);
  rr->orq = nta_outgoing_tcreate(
      out_leg,
      [](nta_outgoing_magic_t* m, nta_outgoing_t* o, const sip_t* s) {
        auto* r = reinterpret_cast<RelayedRequest*>(m);
        return r->call->owner->OnRelayedResponse(r, o, s);
      },
      reinterpret_cast<nta_outgoing_magic_t*>(rr), nullptr, method, sip->sip_request->rq_method_name, nullptr,
      TPTAG_IDENT(TportIdent(from_dialer)), SIPTAG_CONTACT(with_contact ? ContactFor(call, from_dialer) : nullptr),
      SIPTAG_CONTENT_TYPE(sip->sip_content_type), SIPTAG_PAYLOAD(sip->sip_payload), TAG_NEXT(passed.tags()));
  if (rr->orq == nullptr) {
    call->relayed.pop_back();
    counters_.degraded.Add();
    LogRateLimited("WARN", "relay", "sofia could not relay an in-dialog request: 500");
    return 500;
  }
  if (method == sip_method_invite) {
    // Its sender may CANCEL it: NTA answers the CANCEL 200 and the re-INVITE
    // 487, and we cancel our copy on the other leg.
    nta_incoming_bind(
        irq,
        [](nta_incoming_magic_t* m, nta_incoming_t*, const sip_t* s) {
          auto* r = reinterpret_cast<RelayedRequest*>(m);
          return r->call->owner->OnRelayedInviteCancel(r, s);
        },
        reinterpret_cast<nta_incoming_magic_t*>(rr));
  }
  if (method == sip_method_bye) call->ended_by = from_dialer ? "caller" : "callee";
  return 0;
}

bool B2bua::HasInviteInFlight(const Call* call) const {
  for (const RelayedRequest& rr : call->relayed) {
    if (rr.method == sip_method_invite) return true;
  }
  return false;
}

int B2bua::OnRelayedInviteCancel(RelayedRequest* rr, const sip_t* sip) {
  // Also called for the ACK of a non-2xx answer and at timeout: nothing to do.
  if (sip == nullptr || sip->sip_request == nullptr || sip->sip_request->rq_method != sip_method_cancel) return 0;
  if (rr->cancelled || rr->orq == nullptr) return 0;
  rr->cancelled = true;
  CancelWhenProvisional(rr->orq, &rr->cancel_pending);
  return 0;
}

int B2bua::OnRelayedResponse(RelayedRequest* rr, nta_outgoing_t* orq, const sip_t* sip) {
  int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
  if (status > 699) status = 500;
  Call* call = rr->call;
  if (status < 200) {
    if (rr->cancel_pending && rr->orq) CancelWhenProvisional(rr->orq, &rr->cancel_pending);
    if (status > 100 && sip != nullptr && sip->sip_rseq != nullptr && rr->method == sip_method_invite) {
      Prack(call, rr->from_dialer, orq, sip);  // our copy went to the other leg
    }
    if (status > 100 && rr->irq) {
      const CopiedHeaders passed(config_.headers, sip, /*with_100rel=*/false);
      nta_incoming_treply(rr->irq, status, PhraseOf(sip, status),
                          SIPTAG_CONTENT_TYPE(sip ? sip->sip_content_type : nullptr),
                          SIPTAG_PAYLOAD(sip ? sip->sip_payload : nullptr), TAG_NEXT(passed.tags()));
    }
    return 0;
  }
  const bool reinvite_ok = rr->method == sip_method_invite && status < 300;
  if (reinvite_ok && rr->cancelled) {
    // The other side accepted the re-INVITE as our CANCEL crossed it; its
    // sender already has 487. ACK it, or it retransmits the 2xx and ends the call.
    counters_.late_answers.Add();
    LogRateLimited("WARN", "relay", "a re-INVITE answered 2xx after its CANCEL: ACKed, the sender has 487");
    SendAck(call, rr->from_dialer, rr->orq, nullptr);
    nta_incoming_destroy(rr->irq);
    rr->irq = nullptr;
  }
  if (rr->irq) {
    const CopiedHeaders passed(config_.headers, sip);
    const bool target_refresh =
        reinvite_ok || (status < 300 && (rr->method == sip_method_update || rr->method == sip_method_subscribe));
    nta_incoming_treply(rr->irq, status, PhraseOf(sip, status),
                        SIPTAG_CONTACT(target_refresh ? ContactFor(call, !rr->from_dialer) : nullptr),
                        SIPTAG_CONTENT_TYPE(sip ? sip->sip_content_type : nullptr),
                        SIPTAG_PAYLOAD(sip ? sip->sip_payload : nullptr), TAG_NEXT(passed.tags()));
    if (reinvite_ok) {
      // The ACK that arrives for this 2xx completes our client transaction on
      // the other leg: hold it (sofia must still find it) and expect that CSeq.
      nta_outgoing_t*& target = rr->from_dialer ? call->ack_target_trunk : call->ack_target_dialer;
      if (target != nullptr && target != call->b_invite) nta_outgoing_destroy(target);
      target = rr->orq;
      rr->orq = nullptr;
      nta_outgoing_bind(
          target, [](nta_outgoing_magic_t*, nta_outgoing_t*, const sip_t*) { return 0; }, nullptr);
      (rr->from_dialer ? call->ack_cseq_from_dialer : call->ack_cseq_from_trunk) = nta_incoming_cseq(rr->irq);
      // Keep the server transaction: its ACK arrives there and must be passed on.
      nta_incoming_t*& slot = rr->from_dialer ? call->reinvite_from_dialer : call->reinvite_from_trunk;
      if (slot) nta_incoming_destroy(slot);
      slot = rr->irq;
      nta_incoming_bind(
          rr->irq,
          [](nta_incoming_magic_t* m, nta_incoming_t* i, const sip_t* s) {
            auto* c = reinterpret_cast<Call*>(m);
            return c->owner->OnReinviteAck(c, i, s);
          },
          reinterpret_cast<nta_incoming_magic_t*>(call));
    } else {
      nta_incoming_destroy(rr->irq);
    }
  }
  if (status < 300 && (rr->method == sip_method_invite || rr->method == sip_method_update) && !call->ended) {
    OnSessionRefreshed(call, sip);
  }
  if (rr->orq) nta_outgoing_destroy(rr->orq);
  const sip_method_t method = rr->method;
  const bool from_dialer = rr->from_dialer;
  for (auto it = call->relayed.begin(); it != call->relayed.end(); ++it) {
    if (&*it == rr) {
      call->relayed.erase(it);
      break;
    }
  }
  if (method == sip_method_bye) EndCall(call, from_dialer ? "caller" : "callee");
  return 0;
}

int B2bua::OnReinviteAck(Call* call, nta_incoming_t* irq, const sip_t* sip) {
  if (sip == nullptr || sip->sip_request == nullptr || sip->sip_request->rq_method != sip_method_ack) return 0;
  const bool from_dialer = irq == call->reinvite_from_dialer;
  ForwardAck(call, from_dialer, sip);
  (from_dialer ? call->reinvite_from_dialer : call->reinvite_from_trunk) = nullptr;
  nta_incoming_destroy(irq);
  return 0;
}

void B2bua::EndCall(Call* call, absl::string_view ended_by) {
  if (call->ended) return;
  call->ended = true;
  counters_.calls_active.Sub();
  if (call->session_timer != nullptr) su_timer_reset(call->session_timer);
  const std::string trunk_name = call->trunk >= 0 ? trunks_.spec(call->trunk).name : "";
  trunks_.Release(call->trunk);
  call->trunk = -1;
  if (cdr_ != nullptr) {
    CdrRecord r;
    r.ts = call->invite_at;
    r.caller = call->caller.text;
    r.callee = call->callee.text;
    r.carrier = store_.CarrierOf(call->callee.number);
    r.trunk = trunk_name;
    r.code = call->final_code;
    r.reason = call->final_phrase;
    r.pre_ring = !call->ringing_seen;
    r.network_blocked = call->network_blocked;
    r.reason_header = call->reason_header;
    if (call->first_ring_at != absl::InfinitePast()) {
      r.pdd_ms = absl::ToInt64Milliseconds(call->first_ring_at - call->invite_at);
    }
    const absl::Time final_at = call->final_at == absl::InfinitePast() ? absl::Now() : call->final_at;
    r.setup_ms = absl::ToInt64Milliseconds(final_at - call->invite_at);
    if (call->answered) r.duration_s = absl::ToInt64Seconds(absl::Now() - call->answered_at);
    r.ended_by = !ended_by.empty() ? std::string(ended_by) : call->ended_by;
    r.would_pace = call->paced_action;  // a forwarded call: refused by nothing
    r.a_call_id = call->a_call_id;
    r.b_call_id = call->b_call_id;
    cdr_->Push(std::move(r));
  }
  // Legs and transactions are freed by Reap, later: we may be inside one of
  // their callbacks now.
  ended_.push_back(call);
}

void B2bua::SampleSofiaTables() {
  usize_t irqs = 0, orqs = 0, legs = 0;
  nta_agent_get_stats(agent_, NTATAG_S_IRQ_HASH_USED_REF(irqs), NTATAG_S_ORQ_HASH_USED_REF(orqs),
                      NTATAG_S_LEG_HASH_USED_REF(legs), TAG_END());
  counters_.sip_server_transactions.value.store(irqs, std::memory_order_relaxed);
  counters_.sip_client_transactions.value.store(orqs, std::memory_order_relaxed);
  counters_.sip_dialogs.value.store(legs, std::memory_order_relaxed);
  counters_.calls_tracked.value.store(calls_.size(), std::memory_order_relaxed);
}

void B2bua::Reap() {
  for (Call* call : ended_) {
    for (RelayedRequest& rr : call->relayed) {
      if (rr.orq) nta_outgoing_destroy(rr.orq);
      if (rr.irq) nta_incoming_treply(rr.irq, SIP_481_NO_TRANSACTION, TAG_END()), nta_incoming_destroy(rr.irq);
    }
    call->relayed.clear();
    if (call->reinvite_from_dialer) nta_incoming_destroy(call->reinvite_from_dialer);
    if (call->reinvite_from_trunk) nta_incoming_destroy(call->reinvite_from_trunk);
    for (nta_outgoing_t* target : {call->ack_target_trunk, call->ack_target_dialer}) {
      if (target != nullptr && target != call->b_invite) nta_outgoing_destroy(target);
    }
    for (nta_outgoing_t* sent : {call->ack_sent_trunk, call->ack_sent_dialer}) {
      if (sent != nullptr) nta_outgoing_destroy(sent);
    }
    if (call->b_invite) nta_outgoing_destroy(call->b_invite);
    if (call->a_invite) nta_incoming_destroy(call->a_invite);
    if (call->a_leg) nta_leg_destroy(call->a_leg);
    if (call->b_leg) nta_leg_destroy(call->b_leg);
    if (call->auth) auc_clear_credentials(&call->auth, nullptr, nullptr);
    if (call->session_timer) su_timer_destroy(call->session_timer);
    calls_.erase(call);
  }
  ended_.clear();
  for (nta_leg_t* leg : retired_legs_) nta_leg_destroy(leg);
  retired_legs_.clear();
  SampleSofiaTables();
}

}  // namespace sippacer::proxy
