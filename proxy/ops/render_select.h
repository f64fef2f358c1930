#pragma once
// What `show numbers` and `show countries` select, shared by their JSON
// (render.cc) and CSV (render_csv.cc) answers.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "metrics/store.h"
#include "pacing/pacer.h"
#include "proxy/ops/render.h"

namespace sippacer::proxy {

struct NumberRow {
  metrics::NumberSnapshot snap;
  pacing::NumberPacing pacing;
  uint32_t key;
};

// The numbers `show numbers ARGS` lists: paced ones (throttled, quarantined,
// on probation) always first, then by the sort key, then by number; the
// limit cuts after that, so a limit never hides a paced number behind a
// healthy one. An error names the argument.
absl::StatusOr<std::vector<NumberRow>> SelectNumbers(const OpsView& v, const std::vector<std::string>& args,
                                                     absl::Time now);

// Every country dialed since start, and those known only from a saved
// history (after a restart, before their first call), by country code.
std::vector<metrics::GroupSnapshot> CountryGroups(const metrics::Store& store);
// A country group's key ("+44") as its code (44); 0 when it is none.
int CountryCode(absl::string_view key);

}  // namespace sippacer::proxy
