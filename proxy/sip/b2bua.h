#pragma once
// B2bua: the back-to-back user agent on sofia-sip NTA (SIP thread only).
//
// One agent in UA mode. New INVITEs arrive on the default leg; each allowed,
// unpaced INVITE becomes a Call with an A leg (toward the dialer) and a fresh
// B leg (toward the trunk: new Call-ID, tags, Via, Contact; the request-URI
// user, From user, P-Asserted-Identity, Privacy and SDP carried over).
// Every final response from the trunk is counted (Pacer::OnFinal) before it
// is relayed, then copied to the dialer with its Reason, Call-Info,
// Retry-After and Warning headers intact.

#include <sofia-sip/nta.h>
#include <sofia-sip/su_wait.h>

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "absl/status/status.h"
#include "pacing/pacer.h"
#include "proxy/cdr_record.h"
#include "proxy/config.h"
#include "proxy/relay_counters.h"
#include "proxy/sip/call.h"
#include "proxy/sip/tls_files.h"
#include "proxy/sip/trunk_group.h"

namespace sippacer::proxy {

class B2bua {
 public:
  B2bua(su_root_t* root, const Config& config, const metrics::Store& store, pacing::Pacer& pacer,
        RelayCounters& counters, CdrSink* cdr);
  ~B2bua();
  B2bua(const B2bua&) = delete;
  B2bua& operator=(const B2bua&) = delete;

  absl::Status Start();
  // New INVITEs get 503 from now on; calls in progress go on.
  void BeginShutdown() { shutting_down_ = true; }
  // CANCELs the INVITEs still ringing and hangs up the answered calls, on
  // both legs, with CDRs; their requests are kept until answered.
  void HangUpAll();
  // CANCELs and BYEs of HangUpAll not answered yet.
  size_t shutdown_requests_pending() const;
  // Calls whose INVITE has not had its final response yet.
  size_t calls_in_setup() const;
  // Frees the legs and transactions of ended calls; the daemon calls it
  // every 100 ms (never from inside a sofia callback).
  void Reap();
  // A header of this name failed to parse (sofia keeps it as an error).
  bool HasBadHeader(const sip_t* sip, absl::string_view name) const;
  // Whether these Contact and Record-Route URIs can address a request.
  static bool UsableTarget(const sip_contact_t* contact, const sip_record_route_t* route);
  // Answers 420 to a request requiring an option tag the relay does not
  // serve (HeaderPolicy::kOptionTags); false when there is none.
  bool RefuseUnservedRequire(nta_incoming_t* irq, const sip_t* sip);
  // The request-URI toward `trunk` for the number the dialer dialed.
  std::string TrunkRequestUri(const url_t* dialed, const TrunkSpec& trunk) const;
  // The trunks, their limits and their counters (`show trunks`).
  const TrunkGroup& trunks() const { return trunks_; }
  // Whether an answer to this request outside a dialog can be sent back.
  bool Answerable(msg_t* msg, const sip_t* sip) const;
  // A Via of ours in the request: it already passed through this relay.
  bool ViaShowsUs(const sip_t* sip) const;
  // Publishes sofia's transaction and dialog counts for `show info`.
  void SampleSofiaTables();

  // ---- sofia callbacks (static trampolines live in b2bua.cc) ----
  // A request outside every dialog and transaction (the agent's stateless
  // callback): refusals are answered without a transaction, new calls get one.
  int OnNewMessage(msg_t* msg, sip_t* sip);
  int OnDialerCancelOrAck(Call* call, nta_incoming_t* irq, const sip_t* sip);
  int OnTrunkInviteResponse(Call* call, nta_outgoing_t* orq, const sip_t* sip);
  int OnInDialogRequest(Call* call, bool from_dialer, nta_incoming_t* irq, const sip_t* sip);
  int OnRelayedResponse(RelayedRequest* rr, nta_outgoing_t* orq, const sip_t* sip);
  int OnReinviteAck(Call* call, nta_incoming_t* irq, const sip_t* sip);
  int OnRelayedInviteCancel(RelayedRequest* rr, const sip_t* sip);
  int OnDialerPrack(Call* call, nta_reliable_t* rel, nta_incoming_t* prack);
  bool HasInviteInFlight(const Call* call) const;

 private:
  int HandleInvite(nta_incoming_t* irq, const sip_t* sip);
  bool FromTrunk(const sockaddr* addr) const;
  void RefusePaced(nta_incoming_t* irq, const sip_t* sip, const CallerId& caller, const CallerId& callee,
                   const pacing::Decision& d, absl::Time now);
  void PushRefusalCdr(const sip_t* sip, const CallerId& caller, const CallerId& callee, int code,
                      absl::string_view phrase, absl::string_view paced, bool acl, absl::Time now);
  // `resend`: a digest retry of an INVITE already sent (Max-Forwards was
  // decremented then).
  bool SendTrunkInvite(Call* call, const sip_t* dialer_invite, const msg_header_t* auth_headers, bool resend = false);
  bool RetryWithCredentials(Call* call, const sip_t* challenge);
  void CountFinal(Call* call, const sip_t* sip, int status, absl::Time now);
  void RecordTrunkFinal(Call* call, int status);
  void RelayFinalToDialer(Call* call, const sip_t* sip, int status, const char* phrase);
  void RelayProvisionalToDialer(Call* call, nta_outgoing_t* orq, const sip_t* sip, int status);
  // PRACKs a reliable provisional that `invite` (ours, on that leg) got.
  void Prack(Call* call, bool to_trunk, nta_outgoing_t* invite, const sip_t* provisional);
  // Allow for an in-dialog refusal: what the relay serves in a dialog.
  const char* AllowedMethods() const;
  void ForwardAck(Call* call, bool to_trunk, const sip_t* ack);
  // Sends the ACK for a 2xx that `target` (an INVITE client transaction on
  // that leg) received; `ack` is the one to copy the body from, if any.
  void SendAck(Call* call, bool to_trunk, nta_outgoing_t* target, const sip_t* ack);
  void HangUpTrunk(Call* call);
  // Session timers (session_timer.cc): a 2xx to an INVITE, re-INVITE or
  // UPDATE relayed; the interval ran out.
  void OnSessionRefreshed(Call* call, const sip_t* answer);
  void OnSessionExpired(Call* call);
  // CANCELs `invite` now if it has had a provisional answer, else sets
  // *pending so the first one sends it (see the definition for why).
  void CancelWhenProvisional(nta_outgoing_t* invite, bool* pending);
  void EndCall(Call* call, absl::string_view ended_by);

  su_root_t* root_;
  const Config& config_;
  const metrics::Store& store_;  // for the carrier of a CDR
  pacing::Pacer& pacer_;
  RelayCounters& counters_;
  CdrSink* cdr_;

  su_home_t home_[1];
  nta_agent_t* agent_ = nullptr;
  struct RefusalSlot {
    uint64_t key = 0;
    int64_t second = 0;
    int count = 0;
  };
  // Stateless refusals a source may still get this second; false = drop.
  bool RefusalBudget(const sockaddr* src);
  void RefuseStateless(msg_t* msg, const sip_t* sip, const sockaddr* src, int status);
  std::array<RefusalSlot, 4096> refusals_{};
  std::vector<nta_outgoing_t*> shutdown_requests_;
  std::string TrunkNames() const;  // for the start line
  void RefuseAtTrunkLimit(nta_incoming_t* irq, const sip_t* sip, const CallerId& caller, const CallerId& callee,
                          absl::Time now);
  // Sends the call to the next trunk it has not tried, after `status` from
  // this one; false when there is none (or the dialer already heard something).
  bool FailOver(Call* call, int status);
  uint64_t NextRandom();
  TrunkGroup trunks_;
  uint64_t random_;
  std::vector<nta_leg_t*> retired_legs_;  // B legs of trunks a call left; freed by Reap
  std::string local_host_;                // our host for From on the B leg
  // With --trunk_listen the B leg has its own address: its requests leave
  // from that transport (Via) and name it in From and Contact, so the
  // carrier's in-dialog requests come back to the trunk-side interface.
  const char* TportIdent(bool trunk_side) const;
  // `call` decides on the trunk side: a TLS trunk gets our TLS address.
  const sip_contact_t* ContactFor(const Call* call, bool trunk_side) const;
  absl::Status AddTlsTransport();
  std::optional<TlsFiles> tls_files_;
  sip_contact_t* tls_contact_ = nullptr;
  std::string trunk_host_;                                   // host for From on the B leg
  sip_contact_t* trunk_contact_ = nullptr;                   // null: the agent's own contact
  absl::flat_hash_map<Call*, std::unique_ptr<Call>> calls_;  // live calls
  std::vector<Call*> ended_;                                 // freed on the next loop turn
  bool shutting_down_ = false;
};

}  // namespace sippacer::proxy
