#include "proxy/sip/b2bua.h"

#include <algorithm>
#include <cstdlib>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sresolv.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/tport_tag.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "proxy/log.h"
#include "proxy/sip/header_copy.h"

namespace sippacer::proxy {
namespace {

// sofia's magic pointers are opaque C types; these trampolines restore ours.
int NewMessageCb(nta_agent_magic_t* m, nta_agent_t*, msg_t* msg, sip_t* sip) {
  return reinterpret_cast<B2bua*>(m)->OnNewMessage(msg, sip);
}

// Refusals answered statelessly, per source address, at most this many a
// second; past it a source's requests are dropped unanswered (counted).
constexpr int kRefusalsPerSourceSecond = 200;

// The methods the relay serves: in an Allow header of 405 and OPTIONS answers.
constexpr char kAllow[] = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK";
// In a dialog, with --refer=relay, transfers and their notifications too.
constexpr char kAllowInDialog[] = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REFER, NOTIFY, SUBSCRIBE";
// The option tags the relay serves (HeaderPolicy::kOptionTags), on its own answers.
constexpr const char* kSupported = HeaderPolicy::kOptionTags.data();

// Methods that start something outside a dialog other than a call
// (registration, subscription, pager message, publication): 405 with Allow.
// Everything else outside a dialog belongs to one (BYE, INFO ...): 481.
bool OutsideDialogOnly(sip_method_t method) {
  switch (method) {
    case sip_method_register:
    case sip_method_subscribe:
    case sip_method_message:
    case sip_method_publish:
    case sip_method_refer:
      return true;
    default:
      return false;
  }
}

// A larger request outside a dialog is dropped (its answer might not fit in
// a UDP datagram); a large SDP offer is a few kilobytes.
constexpr usize_t kMaxRequestBytes = 32 * 1024;

}  // namespace

B2bua::B2bua(su_root_t* root, const Config& config, const metrics::Store& store, pacing::Pacer& pacer,
             RelayCounters& counters, CdrSink* cdr)
    : root_(root),
      config_(config),
      store_(store),
      pacer_(pacer),
      counters_(counters),
      cdr_(cdr),
      trunks_(config.trunks),
      random_(static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())) | 1) {
  su_home_init(home_);
}

void B2bua::HangUpAll() {
  // Stopping with calls still up: nothing may stay billed on the carrier's
  // side. INVITEs still ringing are cancelled toward the trunk and refused
  // toward the dialer; answered calls are hung up on both legs. The CANCELs
  // and BYEs are kept until answered, so the daemon can wait for them with
  // the event loop running (sofia retransmits them meanwhile).
  auto keep = [this](nta_outgoing_t* orq) {
    if (orq != nullptr) shutdown_requests_.push_back(orq);
  };
  auto nothing = [](nta_outgoing_magic_t*, nta_outgoing_t*, const sip_t*) { return 0; };
  for (auto& [ptr, call] : calls_) {
    Call* c = call.get();
    if (c->ended) continue;
    if (!c->answered && c->final_code == 0) {
      // Without a provisional answer there is nothing to CANCEL yet (see
      // CancelWhenProvisional); that INVITE times out on the trunk's side.
      if (c->b_invite && nta_outgoing_status(c->b_invite) >= 100) {
        keep(nta_outgoing_tcancel(c->b_invite, nothing, nullptr, TAG_END()));
      }
      if (c->a_invite) nta_incoming_treply(c->a_invite, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
      c->final_code = 503;
      c->final_phrase = "Service Unavailable";
      c->cancelled = true;  // a 2xx still to come is ACKed and hung up, never relayed after our 503
    } else if (c->answered) {
      for (nta_leg_t* leg : {c->a_leg, c->b_leg}) {
        if (leg) {
          keep(nta_outgoing_tcreate(leg, nothing, nullptr, nullptr, SIP_METHOD_BYE, nullptr,
                                    TPTAG_IDENT(TportIdent(leg == c->b_leg)), TAG_END()));
        }
      }
    }
    EndCall(c, "shutdown");
  }
}

size_t B2bua::shutdown_requests_pending() const {
  size_t n = 0;
  for (nta_outgoing_t* orq : shutdown_requests_) n += nta_outgoing_status(orq) < 200;
  return n;
}

B2bua::~B2bua() {
  HangUpAll();  // a no-op when the daemon already did it with the loop running
  for (nta_outgoing_t* orq : shutdown_requests_) nta_outgoing_destroy(orq);
  Reap();
  for (auto& [ptr, call] : calls_) {
    if (call->b_invite) nta_outgoing_destroy(call->b_invite);
    if (call->a_invite) nta_incoming_destroy(call->a_invite);
    for (RelayedRequest& rr : call->relayed) {
      if (rr.orq) nta_outgoing_destroy(rr.orq);
      if (rr.irq) nta_incoming_destroy(rr.irq);
    }
    if (call->a_leg) nta_leg_destroy(call->a_leg);
    if (call->b_leg) nta_leg_destroy(call->b_leg);
    if (call->auth) auc_clear_credentials(&call->auth, nullptr, nullptr);
    if (call->session_timer) su_timer_destroy(call->session_timer);
  }
  calls_.clear();
  if (agent_) nta_agent_destroy(agent_);
  su_home_deinit(home_);
}

absl::Status B2bua::Start() {
  // P-Asserted-Identity and Remote-Party-ID are parsed only by the extended
  // header class table.
  sip_update_default_mclass(sip_extend_mclass(nullptr));

  const std::string url = config_.listen.ToUrl();
  agent_ = nta_agent_create(
      root_, URL_STRING_MAKE(url.c_str()), NewMessageCb, reinterpret_cast<nta_agent_magic_t*>(this), NTATAG_UA(1),
      // Keep each header's received bytes: passed headers are relayed as
      // received, never parsed and encoded again (CopiedHeaders).
      NTATAG_SIPFLAGS(MSG_DO_CANONIC | MSG_DO_EXTRACT_COPY),
      // Answers go to the port a request came from, whatever its
      // Via says: one that cannot be sent (a Via port of 0) leaves
      // sofia's transaction half-done, and an ACK to it aborts.
      NTATAG_SERVER_RPORT(2), NTATAG_CLIENT_RPORT(1),
      // Timer C must be set explicitly in UA mode, or a trunk that rings
      // forever holds the call forever (OnTrunkInviteResponse sees its 487).
      NTATAG_TIMER_C(static_cast<unsigned>(absl::ToInt64Milliseconds(config_.ring_timeout))),
      // Timer B: how long a trunk target may stay silent before the next
      // SRV target, or the next trunk (FailOver), is tried.
      NTATAG_SIP_T1X64(static_cast<unsigned>(absl::ToInt64Milliseconds(config_.trunk_timeout))),
#ifdef SIPPACER_SOFIA_PATCHED
      // Timer J: every BYE we answer keeps its server transaction this long
      // (64*T1 unless --timer_j says otherwise; Config refuses it on stock).
      NTATAG_TIMER_J(config_.timer_j ? static_cast<unsigned>(absl::ToInt64Milliseconds(*config_.timer_j)) : 0u),
#endif
      // Trunk names resolve through sofia's asynchronous resolver (RFC 3263).
      TAG_IF(!config_.dns_resolv_conf.empty(), SRESTAG_RESOLV_CONF(config_.dns_resolv_conf.c_str())),
      // Never switch a large INVITE to TCP toward a UDP-only carrier.
      NTATAG_UDP_MTU(65535), NTATAG_MAX_PROCEEDING(100000), NTATAG_CANCEL_487(1),
      // A CANCEL may only leave once the INVITE has a provisional answer:
      // the 100 must reach us to send one we held back (sofia holding it
      // itself aborts on an answer to it, see CancelWhenProvisional).
      NTATAG_PASS_100(1), NTATAG_PASS_408(1), TPTAG_UDP_RMEM(8 * 1024 * 1024), TPTAG_UDP_WMEM(8 * 1024 * 1024),
      // Idle TCP connections are closed: sofia keeps them forever otherwise,
      // and anyone can open them (no --allow check before a message).
      TPTAG_IDLE(static_cast<unsigned>(absl::ToInt64Milliseconds(config_.tcp_idle_timeout))),
      // No STUN server on the SIP port: sofia's answers STUN from anyone and
      // writes a line to stderr for every datagram that looks like STUN.
      TPTAG_STUN_SERVER(0),
      // Named, so a request can pick the dialer-side or trunk-side transport.
      TPTAG_IDENT(TportIdent(false)), TAG_END());
  if (agent_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("--listen: cannot bind ", url, " (UDP and TCP)"));
  }
  if (config_.trunk_listen) {
    const std::string turl = config_.trunk_listen->ToUrl();
    if (nta_agent_add_tport(agent_, URL_STRING_MAKE(turl.c_str()), TPTAG_IDENT(TportIdent(true)),
                            TPTAG_IDLE(static_cast<unsigned>(absl::ToInt64Milliseconds(config_.tcp_idle_timeout))),
                            TAG_END()) < 0) {
      return absl::UnavailableError(absl::StrCat("--trunk_listen: cannot bind ", turl));
    }
  }

  local_host_ = config_.listen.host;
  if (local_host_ == "0.0.0.0" || local_host_ == "::") {
    const sip_contact_t* m = nta_agent_contact(agent_);
    if (m && m->m_url->url_host) local_host_ = m->m_url->url_host;
  }
  trunk_host_ = local_host_;
  if (config_.trunk_listen) {
    const HostPort& tl = *config_.trunk_listen;
    if (tl.host != "0.0.0.0" && tl.host != "::") trunk_host_ = tl.host;
    HostPort contact{trunk_host_, tl.port};
    std::string text =
        absl::StrCat("<", contact.ToUrl(), config_.trunks[0].transport == "tcp" ? ";transport=tcp" : "", ">");
    trunk_contact_ = sip_contact_make(home_, text.c_str());
    if (trunk_contact_ == nullptr) return absl::InvalidArgumentError("--trunk_listen: no usable Contact");
  }
  if (config_.tls_listen) {
    if (absl::Status s = AddTlsTransport(); !s.ok()) return s;
  }
  LogLine("INFO", "relay",
          absl::StrCat("listening on ", url, " (udp, tcp); trunks ", TrunkNames(),
                       config_.trunk_listen ? absl::StrCat(" from ", config_.trunk_listen->ToUrl()) : ""));
  return absl::OkStatus();
}

const char* B2bua::AllowedMethods() const { return config_.refer == Config::Refer::kRelay ? kAllowInDialog : kAllow; }

const char* B2bua::TportIdent(bool trunk_side) const {
  if (!config_.trunk_listen) return nullptr;  // one transport set serves both legs
  return trunk_side ? "trunk" : "dialer";
}

const sip_contact_t* B2bua::ContactFor(const Call* call, bool trunk_side) const {
  if (trunk_side && call != nullptr && call->tls && tls_contact_ != nullptr) return tls_contact_;
  return trunk_side && trunk_contact_ != nullptr ? trunk_contact_ : nta_agent_contact(agent_);
}

size_t B2bua::calls_in_setup() const {
  size_t n = 0;
  for (const auto& [ptr, call] : calls_) {
    if (!call->ended && call->final_code == 0) ++n;
  }
  return n;
}

bool B2bua::RefusalBudget(const sockaddr* src) {
  uint64_t key = 0;
  if (src != nullptr && src->sa_family == AF_INET) {
    key = reinterpret_cast<const sockaddr_in*>(src)->sin_addr.s_addr;
  } else if (src != nullptr && src->sa_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(src)->sin6_addr.s6_addr;
    for (int i = 0; i < 16; ++i) key = key * 131 + a[i];
  }
  const int64_t second = absl::ToUnixSeconds(absl::Now());
  RefusalSlot& slot = refusals_[(key * 0x9E3779B97F4A7C15ULL) >> 52];  // a fixed table: bounded memory
  if (slot.key != key || slot.second != second) slot = RefusalSlot{key, second, 0};
  return ++slot.count <= kRefusalsPerSourceSecond;
}

void B2bua::RefuseStateless(msg_t* msg, const sip_t* sip, const sockaddr* src, int status) {
  counters_.out_of_dialog_refused.Add();
  if (sip->sip_request->rq_method == sip_method_ack || !RefusalBudget(src)) {
    if (sip->sip_request->rq_method != sip_method_ack) {
      counters_.refusals_dropped.Add();
      LogRateLimited("WARN", "relay", "a source over its refusal budget: requests dropped unanswered");
    }
    msg_destroy(msg);
    return;
  }
  // No transaction is kept for a refusal: a retransmission is refused again.
  nta_msg_treply(agent_, msg, status, sip_status_phrase(status),
                 TAG_IF(status == 405 || status == 501, SIPTAG_ALLOW_STR(kAllow)), SIPTAG_SUPPORTED_STR(kSupported),
                 TAG_END());
}

int B2bua::OnNewMessage(msg_t* msg, sip_t* sip) {
  if (sip == nullptr || sip->sip_request == nullptr) {  // a response no transaction of ours expects
    msg_destroy(msg);
    return 0;
  }
  const su_addrinfo_t* ai = msg_addrinfo(msg);
  const sockaddr* src = ai ? ai->ai_addr : nullptr;
  const bool from_trunk = FromTrunk(src);
  const bool allowed = config_.allow.Contains(src);
  const sip_method_t method = sip->sip_request->rq_method;
  if (!Answerable(msg, sip)) {
    counters_.malformed.Add();
    LogRateLimited("WARN", "relay", "a request whose answer cannot be sent (Via maddr, or too large) was dropped");
    msg_destroy(msg);
    return 0;
  }
  if (method == sip_method_options) {  // keepalive pings from trunks and dialers
    nta_msg_treply(agent_, msg, SIP_200_OK, SIPTAG_ALLOW_STR(kAllow), SIPTAG_SUPPORTED_STR(kSupported), TAG_END());
    return 0;
  }
  if (method == sip_method_ack) {  // a stray ACK has nothing to acknowledge
    msg_destroy(msg);
    return 0;
  }
  if (from_trunk) {
    RefuseStateless(msg, sip, src, 403);
    return 0;
  }
  if (allowed && OutsideDialogOnly(method)) {
    RefuseStateless(msg, sip, src, 405);  // REGISTER, SUBSCRIBE, MESSAGE ...: not ours to serve
    return 0;
  }
  if (allowed && method == sip_method_unknown) {
    RefuseStateless(msg, sip, src, 501);  // a method we do not know at all
    return 0;
  }
  if (method != sip_method_invite) {
    RefuseStateless(msg, sip, src, allowed ? 481 : 403);  // BYE/CANCEL for a call we do not know
    return 0;
  }
  counters_.invites_total.Add();
  if (!allowed) {
    counters_.invites_refused_acl.Add();
    PushRefusalCdr(sip, ExtractCaller(sip, config_.caller_id, config_.default_country_code),
                   ExtractCallee(sip, config_.default_country_code), 403, "Forbidden", "", true, absl::Now());
    RefuseStateless(msg, sip, src, 403);
    return 0;
  }
  // A call: from here on a server transaction absorbs retransmissions.
  nta_incoming_t* irq = nta_incoming_create(agent_, nullptr, msg, sip, TAG_END());
  if (irq == nullptr) {  // sofia has freed the message: nothing to answer with
    counters_.degraded.Add();
    LogRateLimited("WARN", "relay", "sofia could not create a server transaction: INVITE dropped");
    return 0;
  }
  const int status = HandleInvite(irq, sip);
  if (status >= 300) {
    nta_incoming_treply(irq, status, sip_status_phrase(status), TAG_END());
    nta_incoming_destroy(irq);
  }
  return 0;
}

bool B2bua::RefuseUnservedRequire(nta_incoming_t* irq, const sip_t* sip) {
  // RFC 3261 8.2.2.3: an extension the request requires and we do not
  // serve end to end is refused with 420, naming it.
  const std::string unserved = CopiedHeaders::UnservedTags(reinterpret_cast<const msg_list_t*>(sip->sip_require));
  if (unserved.empty()) return false;
  LogRateLimited("WARN", "relay", absl::StrCat("a request requiring ", unserved, " got 420"));
  nta_incoming_treply(irq, SIP_420_BAD_EXTENSION, SIPTAG_UNSUPPORTED_STR(unserved.c_str()),
                      SIPTAG_SUPPORTED_STR(kSupported), TAG_END());
  nta_incoming_destroy(irq);
  return true;
}

bool B2bua::Answerable(msg_t* msg, const sip_t* sip) const {
  // An answer that fails to send leaves sofia's INVITE transaction half-done,
  // and an ACK to it then aborts the daemon. A Via maddr sends answers to
  // another host (a broadcast address, or a name sofia would resolve on the
  // SIP thread): answers go back where requests came from, or nowhere.
  if (sip->sip_via == nullptr || sip->sip_via->v_maddr != nullptr) return false;
  // Answers echo the request's Via, From, To and Call-ID: past this they may
  // not fit in one UDP datagram.
  return msg_size(msg) <= kMaxRequestBytes;
}

int B2bua::HandleInvite(nta_incoming_t* irq, const sip_t* sip) {
  const absl::Time now = absl::Now();
  if (shutting_down_) {
    nta_incoming_treply(irq, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
    nta_incoming_destroy(irq);
    return 0;
  }
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count <= 1) return 483;
  if (sip->sip_from == nullptr || sip->sip_to == nullptr || sip->sip_call_id == nullptr ||
      HasBadHeader(sip, "Max-Forwards") ||  // "Max-Forwards: -5" is not "absent"
      !UsableTarget(sip->sip_contact, sip->sip_record_route)) {
    counters_.malformed.Add();
    LogRateLimited("WARN", "relay", "an INVITE without a usable From, To, Call-ID, Max-Forwards or Contact got 400");
    return 400;
  }
  if (RefuseUnservedRequire(irq, sip)) return 0;
  if (sip->sip_to->a_tag != nullptr) {
    // A To tag names a dialog, and no dialog of ours matched it (RFC 3261
    // 12.2.2): relaying it would make a call the dialer cannot hang up.
    counters_.malformed.Add();
    LogRateLimited("WARN", "relay", "an INVITE with a To tag for no dialog of ours got 481");
    return 481;
  }
  if (ViaShowsUs(sip)) {
    // Our own INVITE came back (the trunk routed it to us): RFC 3261 16.3.
    counters_.loops.Add();
    LogRateLimited("WARN", "relay", "an INVITE that already passed through us got 482 Loop Detected");
    return 482;
  }
  const url_t* ruri = sip->sip_request->rq_url;
  if (ruri->url_user == nullptr || ruri->url_user[0] == '\0') {
    counters_.malformed.Add();
    LogRateLimited("WARN", "relay", "an INVITE with no user in its request-URI got 484");
    return 484;  // nothing to dial: never "sip:@trunk"
  }
  CallerId caller = ExtractCaller(sip, config_.caller_id, config_.default_country_code);
  CallerId callee = ExtractCallee(sip, config_.default_country_code);

  if (caller.number == 0) {
    counters_.invites_without_number.Add();
    LogRateLimited("WARN", "relay",
                   caller.source[0] != '\0'
                       ? absl::StrCat("a caller ID that is no number (", caller.source, " user '",
                                      absl::CHexEscape(caller.text.substr(0, 32)), "'): ",
                                      config_.refuse_no_number ? "refused" : "forwarded, counted in the totals only")
                       : absl::StrCat("an INVITE with no caller-ID header of --caller_id: ",
                                      config_.refuse_no_number ? "refused" : "forwarded, counted in the totals only"));
    if (config_.refuse_no_number) {
      const int code = pacer_.policy().reject_code;
      const char* phrase = sip_status_phrase(code) ? sip_status_phrase(code) : "No Caller Number";
      const std::string reason = absl::StrCat("SIP;cause=", code, ";text=\"sippacer: the caller ID is no number\"");
      nta_incoming_treply(irq, code, phrase, SIPTAG_REASON_STR(reason.c_str()), SIPTAG_SUPPORTED_STR(kSupported),
                          TAG_END());
      PushRefusalCdr(sip, caller, callee, code, phrase, "no_number", false, now);
      nta_incoming_destroy(irq);  // frees the request `sip` is in (sofia patch 0016)
      return 0;
    }
  }
  const pacing::Decision decision = pacer_.OnInvite(caller.number, callee.number, now);
  if (decision.refuse && !decision.dry_run) {
    RefusePaced(irq, sip, caller, callee, decision, now);
    return 0;
  }

  const TrunkGroup::Pick pick = trunks_.Next(0, now, NextRandom());
  if (pick.trunk < 0) {
    RefuseAtTrunkLimit(irq, sip, caller, callee, now);
    return 0;
  }
  auto owned = std::make_unique<Call>(this);
  Call* call = owned.get();
  call->trunk = pick.trunk;
  call->trunks_tried = uint64_t{1} << pick.trunk;
  call->caller = std::move(caller);
  call->callee = std::move(callee);
  call->invite_at = now;
  call->a_call_id = sip->sip_call_id->i_id;
  call->dialer_requires_100rel = sip_has_feature(sip->sip_require, "100rel");
  call->dialer_supports_100rel = call->dialer_requires_100rel || sip_has_feature(sip->sip_supported, "100rel");
  if (decision.refuse) call->paced_action = std::string(decision.action);  // dry run

  // The A leg: we are the dialer's UAS, so local = To, remote = From.
  call->a_leg = nta_leg_tcreate(agent_, nullptr, nullptr, SIPTAG_CALL_ID(sip->sip_call_id), SIPTAG_FROM(sip->sip_to),
                                SIPTAG_TO(sip->sip_from), SIPTAG_CSEQ(sip->sip_cseq), TAG_END());
  if (call->a_leg == nullptr) {
    counters_.degraded.Add();
    LogRateLimited("WARN", "relay", "sofia could not create the dialer's leg: 500");
    trunks_.Release(pick.trunk);  // counted on the trunk by Next
    return 500;
  }
  nta_leg_bind(
      call->a_leg,
      [](nta_leg_magic_t* m, nta_leg_t*, nta_incoming_t* i, const sip_t* s) {
        auto* c = reinterpret_cast<Call*>(m);
        return c->owner->OnInDialogRequest(c, true, i, s);
      },
      reinterpret_cast<nta_leg_magic_t*>(call));
  nta_leg_tag(call->a_leg, nullptr);
  nta_incoming_tag(irq, nta_leg_get_tag(call->a_leg));
  nta_leg_server_route(call->a_leg, sip->sip_record_route, sip->sip_contact);
  call->a_invite = irq;
  call->ack_cseq_from_dialer = sip->sip_cseq ? sip->sip_cseq->cs_seq : 0;
  nta_incoming_bind(
      irq,
      [](nta_incoming_magic_t* m, nta_incoming_t* i, const sip_t* s) {
        auto* c = reinterpret_cast<Call*>(m);
        return c->owner->OnDialerCancelOrAck(c, i, s);
      },
      reinterpret_cast<nta_incoming_magic_t*>(call));
  nta_incoming_treply(irq, SIP_100_TRYING, TAG_END());

  calls_.emplace(call, std::move(owned));
  counters_.calls_active.Add();
  if (!SendTrunkInvite(call, sip, nullptr)) {
    counters_.degraded.Add();
    LogRateLimited("WARN", "relay", "sofia could not send the INVITE to the trunk: 500");
    call->final_code = 500;
    call->final_phrase = "Server Internal Error";
    nta_incoming_treply(irq, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
    EndCall(call, "");
    return 0;
  }
  counters_.invites_forwarded.Add();
  return 0;
}

bool B2bua::SendTrunkInvite(Call* call, const sip_t* inv, const msg_header_t* auth_headers, bool resend) {
  su_home_t* home = call->home;
  const TrunkSpec& trunk = trunks_.spec(call->trunk);
  call->tls = trunk.tls();
  if (call->b_leg == nullptr) {
    // A new dialog toward the trunk: our host in From, a fresh Call-ID and tag.
    const char* user = inv->sip_from->a_url->url_user ? inv->sip_from->a_url->url_user : "anonymous";
    // Control characters in a display name are not passed on.
    std::string display_text = inv->sip_from->a_display ? inv->sip_from->a_display : "";
    display_text.erase(std::remove_if(display_text.begin(), display_text.end(),
                                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }),
                       display_text.end());
    const char* display = inv->sip_from->a_display ? display_text.c_str() : nullptr;
    sip_from_t* from = sip_from_make(
        home, absl::StrCat(display ? display : "", display ? " " : "", "<sip:", user, "@", trunk_host_, ">").c_str());
    const char* callee_user = inv->sip_request->rq_url->url_user ? inv->sip_request->rq_url->url_user : "";
    sip_to_t* to = sip_to_make(home, absl::StrCat("<sip:", callee_user, "@", trunk.HostPortText(), ">").c_str());
    sip_call_id_t* cid = sip_call_id_create(home, trunk_host_.c_str());
    if (!from || !to || !cid) return false;
    call->b_call_id = cid->i_id;
    call->b_leg = nta_leg_tcreate(
        agent_,
        [](nta_leg_magic_t* m, nta_leg_t*, nta_incoming_t* i, const sip_t* s) {
          auto* c = reinterpret_cast<Call*>(m);
          return c->owner->OnInDialogRequest(c, false, i, s);
        },
        reinterpret_cast<nta_leg_magic_t*>(call), SIPTAG_FROM(from), SIPTAG_TO(to), SIPTAG_CALL_ID(cid), TAG_END());
    if (call->b_leg == nullptr) return false;
    nta_leg_tag(call->b_leg, nullptr);
  }
  const std::string ruri = TrunkRequestUri(inv->sip_request->rq_url, trunk);
  sip_max_forwards_t mf[1];
  sip_max_forwards_init(mf);
  // A re-sent INVITE (digest retry) was decremented when it was first built.
  const int hop = resend ? 0 : 1;
  mf->mf_count = inv->sip_max_forwards ? inv->sip_max_forwards->mf_count - hop : 70 - hop;
  // P-Asserted-Identity, Privacy, Identity ... as the dialer wrote them.
  const CopiedHeaders passed(config_.headers, inv);
  call->b_invite = nta_outgoing_tcreate(
      call->b_leg,
      [](nta_outgoing_magic_t* m, nta_outgoing_t* o, const sip_t* s) {
        auto* c = reinterpret_cast<Call*>(m);
        return c->owner->OnTrunkInviteResponse(c, o, s);
      },
      reinterpret_cast<nta_outgoing_magic_t*>(call), nullptr, SIP_METHOD_INVITE, URL_STRING_MAKE(ruri.c_str()),
      SIPTAG_MAX_FORWARDS(mf), TPTAG_IDENT(TportIdent(true)), SIPTAG_CONTACT(ContactFor(call, true)),
      SIPTAG_CONTENT_TYPE(inv->sip_content_type), SIPTAG_PAYLOAD(inv->sip_payload),
      SIPTAG_HEADER(reinterpret_cast<const sip_header_t*>(auth_headers)), TAG_NEXT(passed.tags()));
  if (call->b_invite == nullptr) return false;
  return true;
}

void B2bua::RefusePaced(nta_incoming_t* irq, const sip_t* sip, const CallerId& caller, const CallerId& callee,
                        const pacing::Decision& d, absl::Time now) {
  counters_.invites_paced.Add();
  const int code = pacer_.policy().reject_code;
  const int64_t retry_s = std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(d.retry_after, absl::Seconds(1))));
  // Quotes would end the Reason text early; the why text is ours, but be safe.
  const std::string why = absl::StrReplaceAll(d.why, {{"\"", "'"}, {"\\", "/"}});
  const std::string reason =
      absl::StrCat("SIP;cause=", code, ";text=\"sippacer: ", pacing::StateName(d.state), " ", why, "\"");
  const char* phrase = sip_status_phrase(code);
  nta_incoming_treply(irq, code, phrase ? phrase : "Paced", SIPTAG_RETRY_AFTER_STR(absl::StrCat(retry_s).c_str()),
                      SIPTAG_REASON_STR(reason.c_str()), SIPTAG_SUPPORTED_STR(kSupported), TAG_END());
  PushRefusalCdr(sip, caller, callee, code, phrase ? phrase : "Paced", d.action, false, now);
  nta_incoming_destroy(irq);  // frees the request `sip` is in (sofia patch 0016)
}

void B2bua::RefuseAtTrunkLimit(nta_incoming_t* irq, const sip_t* sip, const CallerId& caller, const CallerId& callee,
                               absl::Time now) {
  // Every trunk is at its max_calls or max_cps: the pacing refusal code, so
  // the dialer retries as it would for a paced number (docs/trunks.md).
  counters_.trunk_limited.Add();
  LogRateLimited("WARN", "relay", "every trunk at its max_calls or max_cps: INVITE refused");
  const int code = pacer_.policy().reject_code;
  const char* phrase = sip_status_phrase(code);
  const std::string reason = absl::StrCat("SIP;cause=", code, ";text=\"sippacer: every trunk at its limit\"");
  nta_incoming_treply(irq, code, phrase ? phrase : "Trunks Busy", SIPTAG_RETRY_AFTER_STR("1"),
                      SIPTAG_REASON_STR(reason.c_str()), SIPTAG_SUPPORTED_STR(kSupported), TAG_END());
  PushRefusalCdr(sip, caller, callee, code, phrase ? phrase : "Trunks Busy", "trunk_limit", false, now);
  nta_incoming_destroy(irq);  // frees the request `sip` is in (sofia patch 0016)
}

void B2bua::PushRefusalCdr(const sip_t* sip, const CallerId& caller, const CallerId& callee, int code,
                           absl::string_view phrase, absl::string_view paced, bool acl, absl::Time now) {
  if (cdr_ == nullptr) return;
  CdrRecord r;
  r.ts = now;
  r.caller = caller.text;
  r.callee = callee.text;
  r.carrier = store_.CarrierOf(callee.number);
  r.code = code;
  r.reason = std::string(phrase);
  r.pre_ring = true;
  r.setup_ms = 0;
  r.paced = std::string(paced);
  r.refused_by_acl = acl;
  r.a_call_id = sip->sip_call_id ? sip->sip_call_id->i_id : "";
  cdr_->Push(std::move(r));
}

}  // namespace sippacer::proxy
