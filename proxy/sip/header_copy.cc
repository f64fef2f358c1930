#include "proxy/sip/header_copy.h"

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_tag.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"

namespace sippacer::proxy {

CopiedHeaders::CopiedHeaders(const HeaderPolicy& policy, const sip_t* sip, bool with_100rel) {
  su_home_init(home_);
  Fill(policy, sip, with_100rel);
  tags_[0] = head_ ? tagi_t{siptag_header, reinterpret_cast<tag_value_t>(head_)} : tagi_t{tag_skip, 0};
  tags_[1] = !supported_.empty() ? tagi_t{siptag_supported_str, reinterpret_cast<tag_value_t>(supported_.c_str())}
                                 : tagi_t{tag_skip, 0};
  tags_[2] = !require_.empty() ? tagi_t{siptag_require_str, reinterpret_cast<tag_value_t>(require_.c_str())}
                               : tagi_t{tag_skip, 0};
  tags_[3] = tagi_t{tag_null, 0};
}

void CopiedHeaders::Fill(const HeaderPolicy& policy, const sip_t* sip, bool with_100rel) {
  if (sip == nullptr) return;
  const msg_header_t* first = sip->sip_request != nullptr ? reinterpret_cast<const msg_header_t*>(sip->sip_request)
                                                          : reinterpret_cast<const msg_header_t*>(sip->sip_status);
  if (first == nullptr) return;
  for (const msg_header_t* h = first->sh_succ; h != nullptr; h = h->sh_succ) {
    const msg_hclass_t* hc = h->sh_class;
    if (hc == nullptr || hc == sip_separator_class || hc == sip_payload_class) continue;
    const char* name = hc == sip_unknown_class ? reinterpret_cast<const sip_unknown_t*>(h)->un_name
                       : hc == sip_error_class ? reinterpret_cast<const sip_error_t*>(h)->er_name
                                               : hc->hc_name;
    if (name == nullptr || !policy.Passes(name)) continue;
    // Items after the first of a comma-separated line share its raw text.
    if (h->sh_data == nullptr || h->sh_len == 0) {
      if (h->sh_data != nullptr) continue;
      // Built by sofia, not received: its encoding is all there is.
      char* value = sip_header_as_string(home_, reinterpret_cast<const sip_header_t*>(h));
      if (value != nullptr) Append(HeaderPolicy::CanonicalName(name), value);
      continue;
    }
    const absl::string_view line(static_cast<const char*>(h->sh_data), h->sh_len);
    Append(HeaderPolicy::CanonicalName(name), RawValue(line));
  }
  supported_ = ServedTags(reinterpret_cast<const msg_list_t*>(sip->sip_supported), with_100rel);
  require_ = ServedTags(reinterpret_cast<const msg_list_t*>(sip->sip_require), with_100rel);
}

void CopiedHeaders::Append(absl::string_view name, absl::string_view value) {
  auto* un = reinterpret_cast<sip_unknown_t*>(msg_header_alloc(home_, sip_unknown_class, 0));
  if (un == nullptr) return;
  un->un_name = su_strndup(home_, name.data(), name.size());
  un->un_value = su_strndup(home_, value.data(), value.size());
  *tail_ = reinterpret_cast<msg_header_t*>(un);
  tail_ = &(*tail_)->sh_next;
}

std::string CopiedHeaders::RawValue(absl::string_view line) {
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return "";
  absl::string_view rest = line.substr(colon + 1);
  std::string value;
  value.reserve(rest.size());
  for (size_t i = 0; i < rest.size(); ++i) {
    // A line break inside a header is a fold: the whitespace after it stays.
    if (rest[i] == '\r' || rest[i] == '\n') continue;
    value.push_back(rest[i]);
  }
  return std::string(absl::StripAsciiWhitespace(value));
}

std::string CopiedHeaders::ServedTags(const msg_list_t* list, bool with_100rel) {
  std::vector<absl::string_view> tags;
  for (const msg_list_t* l = list; l != nullptr; l = l->k_next) {
    for (const char* const* item = l->k_items; item != nullptr && *item != nullptr; ++item) {
      const absl::string_view tag = *item;
      if (!HeaderPolicy::ServesOptionTag(tag) || (!with_100rel && absl::EqualsIgnoreCase(tag, "100rel"))) continue;
      bool seen = false;
      for (absl::string_view t : tags) seen = seen || absl::EqualsIgnoreCase(t, tag);
      if (!seen) tags.push_back(tag);
    }
  }
  return absl::StrJoin(tags, ", ");
}

std::string CopiedHeaders::UnservedTags(const msg_list_t* list) {
  std::vector<absl::string_view> tags;
  for (const msg_list_t* l = list; l != nullptr; l = l->k_next) {
    for (const char* const* item = l->k_items; item != nullptr && *item != nullptr; ++item) {
      if (!HeaderPolicy::ServesOptionTag(*item)) tags.push_back(*item);
    }
  }
  return absl::StrJoin(tags, ", ");
}

}  // namespace sippacer::proxy
