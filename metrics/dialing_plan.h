#pragma once
// Who terminates a dialed number: its country calling code (ITU-T E.164
// codes are prefix-free, so the first 1-3 digits decide) and its carrier from
// the operator's --carriers CSV (longest prefix wins).

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "metrics/call_outcome.h"

namespace sippacer::metrics {

// 1, 44, 353; 0 for 0.
int CountryCallingCode(E164 number);
// "1", "44", "353"; "" for 0.
std::string CountryCodeOf(E164 number);

inline constexpr E164 kPow10[] = {1ULL,
                                  10ULL,
                                  100ULL,
                                  1000ULL,
                                  10000ULL,
                                  100000ULL,
                                  1000000ULL,
                                  10000000ULL,
                                  100000000ULL,
                                  1000000000ULL,
                                  10000000000ULL,
                                  100000000000ULL,
                                  1000000000000ULL,
                                  10000000000000ULL,
                                  100000000000000ULL,
                                  1000000000000000ULL,
                                  10000000000000000ULL,
                                  100000000000000000ULL,
                                  1000000000000000000ULL,
                                  10000000000000000000ULL};

// 1 for 0 to 9, 20 at most.
inline int DigitCount(E164 number) {
  // No loop and no division: this runs several times a call. The highest
  // bit gives the digits to within one (1233/4096 is log10(2) to four
  // places); one comparison with a power of ten settles it. (0 counts as
  // one digit; setting the lowest bit changes no count.)
  const E164 v = number | 1;
  const int bits = 64 - __builtin_clzll(v);
  const int t = (bits * 1233) >> 12;
  return t - (v < kPow10[t] ? 1 : 0) + 1;
}

class CarrierMap {
 public:
  // Lines "prefix,carrier"; '#' comments and blank lines are skipped. A
  // leading '+' on the prefix is allowed.
  static absl::StatusOr<CarrierMap> Parse(absl::string_view csv);
  static absl::StatusOr<CarrierMap> Load(const std::string& path);

  // Index into names(), or -1 for "unknown".
  int Lookup(E164 number) const;
  const std::vector<std::string>& names() const { return names_; }

 private:
  absl::flat_hash_map<E164, int> by_prefix_[16];  // by prefix length in digits
  std::vector<std::string> names_;
};

}  // namespace sippacer::metrics
