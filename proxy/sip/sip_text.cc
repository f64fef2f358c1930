#include "proxy/sip/sip_text.h"

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

#include <vector>

namespace sippacer::proxy {

const char* PhraseOf(const sip_t* sip, int status) {
  if (sip && sip->sip_status && sip->sip_status->st_phrase) return sip->sip_status->st_phrase;
  const char* p = sip_status_phrase(status);
  return p ? p : "";
}

std::string ReasonText(const sip_t* sip) {
  if (sip == nullptr || sip->sip_reason == nullptr) return {};
  const auto* header = reinterpret_cast<const sip_header_t*>(sip->sip_reason);
  // sip_header_e returns the length it needs even when the buffer is too
  // small (and then leaves parts of it unwritten): encode again at that size.
  std::vector<char> buf(512);
  issize_t n = sip_header_e(buf.data(), buf.size(), header, 0);
  if (n > 0 && static_cast<size_t>(n) >= buf.size()) {
    buf.assign(static_cast<size_t>(n) + 1, '\0');
    n = sip_header_e(buf.data(), buf.size(), header, 0);
  }
  if (n <= 0 || static_cast<size_t>(n) >= buf.size()) return {};
  std::string s(buf.data(), static_cast<size_t>(n));
  if (s.rfind("Reason:", 0) == 0) s.erase(0, 7);
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.size() > kMaxReasonText) {
    size_t cut = kMaxReasonText;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    s.resize(cut);
  }
  return s;
}

}  // namespace sippacer::proxy
