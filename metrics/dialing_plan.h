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
int DigitCount(E164 number);

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
