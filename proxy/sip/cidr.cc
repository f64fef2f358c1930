#include "proxy/sip/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sippacer::proxy {

absl::StatusOr<CidrList> CidrList::Parse(absl::string_view text) {
  CidrList list;
  list.text_ = std::string(text);
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    Block b;
    absl::string_view addr = item;
    int prefix = -1;
    if (const size_t slash = item.find('/'); slash != absl::string_view::npos) {
      addr = item.substr(0, slash);
      if (!absl::SimpleAtoi(item.substr(slash + 1), &prefix)) {
        return absl::InvalidArgumentError(absl::StrCat("'", item, "': bad prefix length"));
      }
    }
    const std::string addr_str(addr);
    if (inet_pton(AF_INET, addr_str.c_str(), b.net.data()) == 1) {
      b.v6 = false;
      if (prefix < 0) prefix = 32;
      if (prefix > 32) return absl::InvalidArgumentError(absl::StrCat("'", item, "': prefix over 32"));
    } else if (inet_pton(AF_INET6, addr_str.c_str(), b.net.data()) == 1) {
      b.v6 = true;
      if (prefix < 0) prefix = 128;
      if (prefix > 128) return absl::InvalidArgumentError(absl::StrCat("'", item, "': prefix over 128"));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("'", item, "' is not an IPv4/IPv6 address or CIDR"));
    }
    b.prefix = prefix;
    list.blocks_.push_back(b);
  }
  if (list.blocks_.empty()) return absl::InvalidArgumentError("no address given");
  return list;
}

bool CidrList::Matches(const Block& b, bool v6, const uint8_t* addr) {
  if (b.v6 != v6) return false;
  const int full = b.prefix / 8;
  if (std::memcmp(b.net.data(), addr, static_cast<size_t>(full)) != 0) return false;
  const int rest = b.prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (b.net[full] & mask) == (addr[full] & mask);
}

bool CidrList::Contains(const sockaddr* sa) const {
  if (sa == nullptr) return false;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    const auto* bytes = reinterpret_cast<const uint8_t*>(&in->sin_addr);
    for (const Block& b : blocks_)
      if (Matches(b, false, bytes)) return true;
    return false;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    const auto* bytes = reinterpret_cast<const uint8_t*>(&in6->sin6_addr);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      for (const Block& b : blocks_)
        if (Matches(b, false, bytes + 12)) return true;
    }
    for (const Block& b : blocks_)
      if (Matches(b, true, bytes)) return true;
  }
  return false;
}

bool CidrList::Contains(absl::string_view address) const {
  const std::string s(address);
  sockaddr_in in{};
  sockaddr_in6 in6{};
  if (inet_pton(AF_INET, s.c_str(), &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    return Contains(reinterpret_cast<const sockaddr*>(&in));
  }
  if (inet_pton(AF_INET6, s.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    return Contains(reinterpret_cast<const sockaddr*>(&in6));
  }
  return false;
}

std::string CidrList::ToString() const { return text_; }

}  // namespace sippacer::proxy
