// Which trunk a call takes and what it does when that trunk fails: the
// B2bua's side of TrunkGroup (docs/trunks.md).

#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "proxy/log.h"
#include "proxy/sip/b2bua.h"

namespace sippacer::proxy {

std::string B2bua::TrunkNames() const {
  std::string out;
  for (const TrunkSpec& t : config_.trunks) absl::StrAppend(&out, out.empty() ? "" : ", ", t.name, " (", t.uri, ")");
  return out;
}

uint64_t B2bua::NextRandom() {
  // xorshift64*: spreading calls over trunks by weight needs no more.
  random_ ^= random_ >> 12;
  random_ ^= random_ << 25;
  random_ ^= random_ >> 27;
  return random_ * 0x2545F4914F6CDD1DULL;
}

void B2bua::RecordTrunkFinal(Call* call, int status) {
  if (call->trunk < 0) return;
  TrunkStats& st = trunks_.stats(call->trunk);
  st.finals[std::clamp(status / 100, 1, 6)].Add();
  if (status == 408) st.finals[0].Add();
  if (status == 503) st.unavailable.Add();
  if (status < 300) st.answered.Add();
}

bool B2bua::FailOver(Call* call, int status) {
  if (call->a_invite == nullptr || call->trunk < 0) return false;
  const TrunkGroup::Pick pick = trunks_.Next(call->trunks_tried, absl::Now(), NextRandom());
  if (pick.trunk < 0) return false;
  msg_t* request = nta_incoming_getrequest(call->a_invite);
  if (request == nullptr) {
    trunks_.Release(pick.trunk);
    return false;
  }
  trunks_.stats(call->trunk).failovers.Add();
  counters_.trunk_failovers.Add();
  LogRateLimited(
      "WARN", "relay",
      absl::StrCat("trunk ", trunks_.spec(call->trunk).name, " answered ", status, ": calls go on to the next trunk"));
  trunks_.Release(call->trunk);
  // A new dialog toward the next trunk; the old leg is freed once its
  // transaction is done with it.
  nta_outgoing_destroy(call->b_invite);
  call->b_invite = nullptr;
  retired_legs_.push_back(call->b_leg);
  call->b_leg = nullptr;
  call->auth = nullptr;  // its credentials were for the old trunk (memory stays in call->home)
  call->auth_attempts = 0;
  call->cancel_pending = false;
  call->trunk = pick.trunk;
  call->trunks_tried |= uint64_t{1} << pick.trunk;
  const bool sent = SendTrunkInvite(call, sip_object(request), nullptr);
  msg_destroy(request);
  if (!sent) {
    counters_.degraded.Add();
    LogRateLimited("WARN", "relay", "sofia could not send the INVITE to the next trunk: 500");
    call->final_code = 500;
    call->final_phrase = "Server Internal Error";
    nta_incoming_treply(call->a_invite, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
    EndCall(call, "");
  }
  return true;
}

}  // namespace sippacer::proxy
