#pragma once
// The stats protocol's answers (docs/stats-socket.md) as JSON lines, rendered from the
// live Store, Pacer and relay counters. Pure functions of what they are
// given: no sockets, so each answer's shape is unit-tested.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "metrics/json_writer.h"
#include "metrics/store.h"
#include "pacing/pacer.h"
#include "proxy/relay_counters.h"

namespace sippacer::proxy {

class CdrWriter;
class TrunkGroup;

struct OpsView {
  const metrics::Store* store = nullptr;
  const pacing::Pacer* pacer = nullptr;
  const RelayCounters* relay = nullptr;
  const CdrWriter* cdr = nullptr;  // may be null
  absl::Time started;
  std::string default_country_code = "1";
  const TrunkGroup* trunks = nullptr;  // may be null: `show trunks` is then []
};

std::string ErrorJson(absl::string_view message);
std::string RenderHelp();
std::string RenderInfo(const OpsView& v, absl::Time now);
std::string RenderCodes(const OpsView& v, absl::Time now);
std::string RenderNumber(const OpsView& v, metrics::E164 number, absl::Time now);
// args: "state=S", "sort=CODE|attempts", "limit=N"
std::string RenderNumbers(const OpsView& v, const std::vector<std::string>& args, absl::Time now);
std::string RenderGroups(absl::string_view field, absl::string_view key_name,
                         const std::vector<metrics::GroupSnapshot>& groups);
// The route groups since start, each with the codes it stands out in now
// ("elevated", from Pacer::ElevatedRoutes); countries also with their
// new-market status and daily baseline.
std::string RenderCarriers(const OpsView& v);
std::string RenderCountries(const OpsView& v);
std::string RenderAreas(const OpsView& v);
// The carrier trunks in configured order, each with its limits and counters.
std::string RenderTrunks(const OpsView& v);
std::string RenderPolicy(const pacing::Policy& p);
std::string RenderPacing(metrics::E164 number, const pacing::NumberPacing& p);
std::string RenderEvent(const pacing::StateChange& change);

// Appends {"603":30,"200":70} (non-zero codes only) under `key`.
void WriteCodes(metrics::JsonWriter& w, absl::string_view key, const metrics::CodeCounts& c);
std::string IsoTime(absl::Time t);

}  // namespace sippacer::proxy
