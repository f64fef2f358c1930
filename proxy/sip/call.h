#pragma once
// Call: one dialer call through sippacer, its two legs and their transactions.
//
// Owned by B2bua; lives on the SIP thread only. The A leg faces the dialer
// (we are its UAS), the B leg faces the trunk (we are its UAC).

#include <sofia-sip/auth_client.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_wait.h>

#include <list>
#include <string>

#include "absl/time/time.h"
#include "proxy/sip/caller_id.h"

namespace sippacer::proxy {

class B2bua;
struct Call;

// An in-dialog request relayed from one leg to the other (BYE, re-INVITE,
// UPDATE, INFO, PRACK, ...): the server transaction we answer and the client
// transaction whose responses we copy into it.
struct RelayedRequest {
  Call* call = nullptr;
  nta_incoming_t* irq = nullptr;
  nta_outgoing_t* orq = nullptr;
  bool from_dialer = true;
  sip_method_t method = sip_method_unknown;
  bool cancelled = false;       // a re-INVITE its sender CANCELled (NTA answered it 487)
  bool cancel_pending = false;  // ... before the other side's first provisional
};

struct Call {
  explicit Call(B2bua* b2b) : owner(b2b) { su_home_init(home); }
  ~Call() {
    if (held_provisional != nullptr) msg_destroy(held_provisional);
    su_home_deinit(home);
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  B2bua* owner;
  su_home_t home[1];

  nta_leg_t* a_leg = nullptr;
  nta_incoming_t* a_invite = nullptr;  // until the dialer ACKs our final
  nta_leg_t* b_leg = nullptr;
  nta_outgoing_t* b_invite = nullptr;  // until the call ends
  std::list<RelayedRequest> relayed;   // in-dialog transactions in flight
  // A re-INVITE answered 2xx whose ACK we still have to pass on, per side.
  nta_incoming_t* reinvite_from_dialer = nullptr;
  nta_incoming_t* reinvite_from_trunk = nullptr;

  CallerId caller;
  CallerId callee;
  std::string a_call_id;
  std::string b_call_id;
  std::string paced_action;  // --dry_run: what pacing would have done (CDR would_pace)

  absl::Time invite_at;
  absl::Time first_ring_at = absl::InfinitePast();
  absl::Time final_at = absl::InfinitePast();
  absl::Time answered_at = absl::InfinitePast();

  int final_code = 0;  // sent to the dialer
  std::string final_phrase;
  bool ringing_seen = false;
  bool network_blocked = false;
  std::string reason_header;
  int trunk = -1;                       // index in the TrunkGroup; -1 once released
  uint64_t trunks_tried = 0;            // bit i: trunk i
  bool tls = false;                     // the trunk leg is TLS: our TLS address is its Contact
  bool dialer_heard = false;            // a provisional was relayed: no failover from here
  bool dialer_supports_100rel = false;  // its INVITE's Supported or Require
  bool dialer_requires_100rel = false;
  // Our reliable provisional the dialer has not PRACKed yet, and the
  // carrier's latest provisional waiting for that PRACK.
  nta_reliable_t* dialer_unpracked = nullptr;
  msg_t* held_provisional = nullptr;
  bool cancelled = false;       // the dialer sent CANCEL
  bool cancel_pending = false;  // ... and ours waits for the trunk's first provisional
  bool answered = false;        // 2xx relayed to the dialer
  bool ended = false;
  std::string ended_by;

  // What an ACK may complete, per direction: the INVITE client transaction
  // on the other leg that got a 2xx (the first INVITE, or the last re-INVITE;
  // held so sofia can still match it), and the CSeq the arriving ACK must
  // carry. Sofia (built with asserts) aborts on an ACK it cannot match to an
  // INVITE it sent, so nothing else is ever passed on as an ACK.
  nta_outgoing_t* ack_target_trunk = nullptr;   // B leg: b_invite or a relayed re-INVITE
  nta_outgoing_t* ack_target_dialer = nullptr;  // A leg: a relayed re-INVITE
  uint32_t ack_cseq_from_dialer = 0;
  uint32_t ack_cseq_from_trunk = 0;
  // The last ACK we sent on each leg, held until the next one or the call's
  // end: a 2xx the peer sends again (our ACK was lost) finds it and sofia
  // sends it again. Destroyed at once, it is gone (sofia-sip patch 0012
  // frees it) and that 2xx is dropped: the peer gives the call up.
  nta_outgoing_t* ack_sent_trunk = nullptr;
  nta_outgoing_t* ack_sent_dialer = nullptr;
  su_timer_t* session_timer = nullptr;  // the session interval (RFC 4028), once negotiated
  auth_client_t* auth = nullptr;        // trunk digest credentials, once challenged
  int auth_attempts = 0;
};

}  // namespace sippacer::proxy
