#pragma once
// Outcome: the final-response categories counted per number, carrier, hour.
//
// A fixed set so a window holds a small array of counters, not a map. The
// codes an operator reasons about each get their own slot (docs/pacing.md); the rest
// fall into their class.

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace sippacer::metrics {

enum class Outcome : uint8_t {
  k2xx,
  k3xx,
  k403,
  k404,
  k408,
  k410,
  k480,
  k486,
  k487,
  kOther4xx,
  k500,
  k503,
  kOther5xx,
  k603,
  k607,
  k608,
  kOther6xx,
  kCount
};
inline constexpr int kOutcomeCount = static_cast<int>(Outcome::kCount);

Outcome OutcomeFromStatus(int code);

// The key shown on the stats socket and in Prometheus labels: "200" for 2xx,
// "3xx", "403", ... "4xx" for other 4xx, "6xx" for other 6xx.
absl::string_view OutcomeKey(Outcome o);

// Counts of one window (or a group, or the whole pool).
struct CodeCounts {
  uint32_t attempts = 0;  // INVITEs forwarded to the trunk
  std::array<uint32_t, kOutcomeCount> by_outcome{};
  uint32_t pre_ring_603 = 0;     // 603 with no 180/183 before it
  uint32_t network_blocked = 0;  // 603+ (ATIS-1000099)
  uint32_t paced = 0;            // INVITEs refused by pacing (not attempts)

  uint32_t finals() const;
  uint32_t of(Outcome o) const { return by_outcome[static_cast<int>(o)]; }
};

// Adds `c` into `into`, field by field.
void AddCounts(CodeCounts& into, const CodeCounts& c);

}  // namespace sippacer::metrics
