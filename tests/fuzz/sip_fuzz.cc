// A SIP message through sofia's parser, then what sippacer reads from it:
// caller and callee numbers (each --caller_id order) from an INVITE, the
// 603+ test (status, phrase, Reason header) from a response, and the headers
// the relay copies to the other leg from their raw lines (CopiedHeaders):
// each a header token and a value with no line break, so nothing received
// can become a header line of its own on the other side.
//
// PhraseOf and ReasonText are the relay's own (proxy/sip/sip_text.h), so the
// 603+ decision sees the same strings as the relay.

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
#include "proxy/sip/header_copy.h"
#include "proxy/sip/header_policy.h"
#include "proxy/sip/sip_text.h"
#include "tests/fuzz/fuzz_check.h"

namespace sippacer::proxy {
namespace {

// The Reason text is the header's, whole: no byte of it unwritten by sofia.
std::string CheckedReasonText(const sip_t* sip) {
  std::string s = ReasonText(sip);
  FUZZ_CHECK(s.find('\0') == std::string::npos);
  FUZZ_CHECK(s.size() <= kMaxReasonText);
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
  const std::string reason = CheckedReasonText(sip);
  const bool expected = status == 603 &&
                        absl::AsciiStrToLower(absl::StripAsciiWhitespace(phrase)) == "network blocked" &&
                        !absl::StripAsciiWhitespace(reason).empty();
  FUZZ_CHECK(metrics::IsNetworkBlocked(status, phrase, reason) == expected);
}

void CheckCopiedHeaders(const sip_t* sip) {
  static const HeaderPolicy policy = *HeaderPolicy::Parse("P-", "");
  for (bool with_100rel : {true, false}) {
    const CopiedHeaders copied(policy, sip, with_100rel);
    for (const sip_header_t* h = copied.list(); h != nullptr; h = h->sh_next) {
      const auto* un = reinterpret_cast<const sip_unknown_t*>(h);
      FUZZ_CHECK(un->un_name != nullptr && un->un_value != nullptr);
      const std::string name = un->un_name, value = un->un_value;
      FUZZ_CHECK(!name.empty() && policy.Passes(name));
      FUZZ_CHECK(name.find_first_of(": \t\r\n") == std::string::npos);
      FUZZ_CHECK(value.find_first_of("\r\n") == std::string::npos);
    }
    for (const std::string& tags : {copied.supported(), copied.require()}) {
      FUZZ_CHECK(tags.find_first_of("\r\n") == std::string::npos);
      if (!with_100rel) FUZZ_CHECK(tags.find("100rel") == std::string::npos);
    }
  }
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
  // As the agent parses: every header's received bytes kept.
  msg = msg_make(sip_default_mclass(), MSG_DO_CANONIC | MSG_DO_EXTRACT_COPY, data, static_cast<ssize_t>(size));
  if (msg == nullptr) return 0;
  if (const sip_t* sip = sip_object(msg)) sippacer::proxy::CheckCopiedHeaders(sip);
  msg_destroy(msg);
  return 0;
}
