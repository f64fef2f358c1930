#pragma once
// CidrList: the --allow access list for new INVITEs (IPv4 and IPv6).

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct sockaddr;

namespace sippacer::proxy {

class CidrList {
 public:
  // "127.0.0.0/8,10.1.0.0/16,::1/128"; a bare address means /32 or /128.
  static absl::StatusOr<CidrList> Parse(absl::string_view text);

  bool Contains(const sockaddr* addr) const;
  bool Contains(absl::string_view address) const;  // "10.1.2.3"
  std::string ToString() const;

 private:
  struct Block {
    bool v6 = false;
    std::array<uint8_t, 16> net{};
    int prefix = 0;
  };
  static bool Matches(const Block& b, bool v6, const uint8_t* addr);
  std::vector<Block> blocks_;
  std::string text_;
};

}  // namespace sippacer::proxy
