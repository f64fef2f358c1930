// A SIP message through sofia's parser, then what sippacer reads from it:
// caller and callee numbers (each --caller_id order) from an INVITE, and the
// 603+ test (status, phrase, Reason header) from a response.
//
// PhraseOf and ReasonText copy the helpers of proxy/sip/call_relay.cc (file
// local there), so the 603+ decision sees the same strings as the relay.

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "metrics/call_outcome.h"
#include "metrics/e164.h"
#include "proxy/sip/caller_id.h"
#include "tests/fuzz/fuzz_check.h"

namespace sippacer::proxy {
namespace {

const char* PhraseOf(const sip_t* sip, int status) {
  if (sip && sip->sip_status && sip->sip_status->st_phrase) return sip->sip_status->st_phrase;
  const char* p = sip_status_phrase(status);
  return p ? p : "";
}

std::string ReasonText(const sip_t* sip) {
  if (sip == nullptr || sip->sip_reason == nullptr) return {};
  char buf[1024];
  const issize_t n = sip_header_e(buf, sizeof buf, reinterpret_cast<const sip_header_t*>(sip->sip_reason), 0);
  if (n <= 0) return {};
  std::string s(buf, static_cast<size_t>(std::min<issize_t>(n, sizeof buf - 1)));
  if (s.rfind("Reason:", 0) == 0) s.erase(0, 7);
  while (!s.empty() && (s.front() == ' ')) s.erase(0, 1);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

void CheckId(const CallerId& id) {
  if (id.number == 0) return;
  FUZZ_CHECK(id.text == metrics::FormatE164(id.number));
  FUZZ_CHECK(metrics::NormalizeE164(id.text, "1") == id.number);
}

void CheckRequest(const sip_t* sip) {
  using S = CallerIdSource;
  CheckId(ExtractCallee(sip, "1"));
  CheckId(ExtractCallee(sip, "44"));
  // A longer order answers the number of its first source that has one.
  const std::vector<std::vector<S>> orders = {
      {S::kPai, S::kRpid, S::kFrom}, {S::kRpid, S::kFrom, S::kPai}, {S::kFrom, S::kPai}, {S::kFrom, S::kRpid}};
  for (const auto& order : orders) {
    const CallerId id = ExtractCaller(sip, order, "1");
    CheckId(id);
    metrics::E164 first = 0;
    for (S source : order) {
      const CallerId one = ExtractCaller(sip, {source}, "1");
      CheckId(one);
      if (first == 0) first = one.number;
    }
    FUZZ_CHECK(id.number == first);
  }
}

void CheckResponse(const sip_t* sip) {
  const int status = sip->sip_status->st_status;
  const std::string phrase = PhraseOf(sip, status);
  const std::string reason = ReasonText(sip);
  const bool expected = status == 603 &&
                        absl::AsciiStrToLower(absl::StripAsciiWhitespace(phrase)) == "network blocked" &&
                        !absl::StripAsciiWhitespace(reason).empty();
  FUZZ_CHECK(metrics::IsNetworkBlocked(status, phrase, reason) == expected);
}

}  // namespace
}  // namespace sippacer::proxy

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // As B2bua::Start: P-Asserted-Identity and Remote-Party-ID need the extended table.
  sip_update_default_mclass(sip_extend_mclass(nullptr));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  msg_t* msg = msg_make(sip_default_mclass(), 0, data, static_cast<ssize_t>(size));
  if (msg == nullptr) return 0;
  if (const sip_t* sip = sip_object(msg)) {
    if (sip->sip_request) sippacer::proxy::CheckRequest(sip);
    if (sip->sip_status) sippacer::proxy::CheckResponse(sip);
  }
  msg_destroy(msg);
  return 0;
}
