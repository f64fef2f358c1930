#pragma once
// CopiedHeaders: the headers of a received message that cross to the other
// leg, ready for SIPTAG_HEADER, each written out as it was received.
//
// Sofia-sip parses the headers it knows (Call-Info, Retry-After,
// Session-Expires ...) and would encode them again from the parsed form,
// which is not always the same bytes: a `data:application/jwscard` URI in a
// 608's Call-Info loses its '/', a Retry-After comment gains a space, and a
// value outside the grammar is dropped. So each passed header is copied
// from the raw line the agent keeps (NTATAG_SIPFLAGS(MSG_FLG_EXTRACT_COPY))
// into a header of sofia's unknown class, which it writes out verbatim as
// "Name: value" (folded lines unfolded). Supported and Require are the
// relay's own, with the option tags it serves only (HeaderPolicy::kOptionTags),
// for SIPTAG_SUPPORTED_STR and SIPTAG_REQUIRE_STR: sofia reads them too.

#include <sofia-sip/sip.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_tag.h>

#include <string>

#include "absl/strings/string_view.h"
#include "proxy/sip/header_policy.h"

namespace sippacer::proxy {

class CopiedHeaders {
 public:
  // `with_100rel`: whether 100rel stays in Supported/Require (a request or a
  // final answer; on a provisional, sofia marks its own reliability).
  CopiedHeaders(const HeaderPolicy& policy, const sip_t* sip, bool with_100rel = true);
  ~CopiedHeaders() { su_home_deinit(home_); }
  CopiedHeaders(const CopiedHeaders&) = delete;
  CopiedHeaders& operator=(const CopiedHeaders&) = delete;

  // The chain for SIPTAG_HEADER; null when nothing passes.
  const sip_header_t* list() const { return reinterpret_cast<const sip_header_t*>(head_); }
  // All of it as tags, for TAG_NEXT() at the end of a tag list: the passed
  // headers, Supported and Require.
  const tagi_t* tags() const { return tags_; }
  // The received Supported and Require with the tags the relay serves ("":
  // none, or no such header).
  const std::string& supported() const { return supported_; }
  const std::string& require() const { return require_; }

  // The value of a received header as its raw line has it: after the colon,
  // without surrounding whitespace, folded lines joined.
  static std::string RawValue(absl::string_view line);
  // A Supported or Require list with only the tags the relay serves ("" when
  // none is left).
  static std::string ServedTags(const msg_list_t* list, bool with_100rel);
  // The tags of a Require list the relay does not serve ("" when none).
  static std::string UnservedTags(const msg_list_t* list);

 private:
  void Fill(const HeaderPolicy& policy, const sip_t* sip, bool with_100rel);
  void Append(absl::string_view name, absl::string_view value);

  su_home_t home_[1];
  msg_header_t* head_ = nullptr;
  msg_header_t** tail_ = &head_;
  std::string supported_, require_;
  tagi_t tags_[4] = {};
};

}  // namespace sippacer::proxy
