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
namespace fleet {
class FleetSync;
}

struct OpsView {
  const metrics::Store* store = nullptr;
  const pacing::Pacer* pacer = nullptr;
  const RelayCounters* relay = nullptr;
  const CdrWriter* cdr = nullptr;  // may be null
  absl::Time started;
  std::string default_country_code = "1";
  const TrunkGroup* trunks = nullptr;       // may be null: `show trunks` is then []
  const fleet::FleetSync* fleet = nullptr;  // --redis only
};

std::string ErrorJson(absl::string_view message);
// {"commands":[...]}: every request (`help format=json`).
std::string RenderHelp();
// `help`: one line per request, "  REQUEST : what it does\n".
std::string RenderHelpText();
std::string RenderInfo(const OpsView& v, absl::Time now);
std::string RenderCodes(const OpsView& v, absl::Time now);
// `rules`: Pacer::Explain of the number (taken on the SIP thread).
std::string RenderNumber(const OpsView& v, metrics::E164 number, absl::Time now,
                         const std::vector<pacing::RuleCheck>& rules = {});
// args: "state=S", "sort=CODE|attempts", "limit=N". Paced numbers come
// first, then by the sort key; the limit applies after.
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
// `show policy` and the answer to `set policy`: the live values, then under
// "flags" the flags' values of the keys set live, who set them last and
// when; `changed` (set policy) lists the keys the request changed.
std::string RenderPolicyState(const pacing::Policy& live, const pacing::Policy& flags,
                              const pacing::PolicyOrigin& origin, const std::vector<std::string>* changed);
std::string RenderPacing(metrics::E164 number, const pacing::NumberPacing& p);
// The answer to `quarantine` (quarantine true) or `release`: the number's
// state now, its state before, and whether the quarantine was pre-emptive
// or the release had anything to release, said in "message".
std::string RenderOperatorAction(metrics::E164 number, const pacing::OperatorAction& a, bool quarantine);
std::string RenderEvent(const pacing::StateChange& change);

// The fleet (render_fleet.cc): `show info`'s "fleet", `show nodes`,
// `show number`'s "by_node" and the sippacer_fleet_* series. Nothing when
// the daemon runs alone (`show nodes` is then an error).
void WriteFleetInfo(metrics::JsonWriter& w, const OpsView& v, absl::Time now);
std::string RenderNodes(const OpsView& v, absl::Time now);
void WriteNumberByNode(metrics::JsonWriter& w, const OpsView& v, metrics::E164 number, absl::Time now);
void FleetMetrics(std::string& out, const OpsView& v, absl::Time now);

// `format=csv`, HAProxy `show stat` style: "# col,col,...\n" then one
// line per row (same selection and order as the JSON answer).
std::string RenderNumbersCsv(const OpsView& v, const std::vector<std::string>& args, absl::Time now);
std::string RenderCarriersCsv(const OpsView& v);
std::string RenderCountriesCsv(const OpsView& v);
std::string RenderAreasCsv(const OpsView& v);
std::string RenderHoursCsv(const OpsView& v);
std::string RenderTrunksCsv(const OpsView& v);

// Appends {"603":30,"200":70} (non-zero codes only) under `key`.
void WriteCodes(metrics::JsonWriter& w, absl::string_view key, const metrics::CodeCounts& c);
std::string IsoTime(absl::Time t);

}  // namespace sippacer::proxy
