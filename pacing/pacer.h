#pragma once
// Pacer
//
// Turns the carriers' final responses into dialing pace, per originating
// number: healthy -> throttled -> quarantined -> probation -> healthy (docs/pacing.md).
// The SIP thread calls OnInvite for every new INVITE and OnFinal for every
// final response from the trunk; both are lock-free and allocation-free once
// a number is known. Operator commands (policy, quarantine, release) are also
// applied on the SIP thread, posted there by the stats server.
//
// Example (SIP thread):
//   Decision d = pacer.OnInvite(caller, callee, now);
//   if (d.refuse && !d.dry_run) reply(policy.reject_code, d.retry_after);
//   ...
//   pacer.OnFinal(outcome);   // counts, then re-evaluates the rules

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "metrics/call_outcome.h"
#include "metrics/store.h"
#include "pacing/policy.h"
#include "pacing/verdict.h"
#include "pacing/route_watch.h"

namespace sippacer::pacing {

enum class NumberState : uint8_t { kHealthy, kThrottled, kQuarantined, kProbation };
absl::string_view StateName(NumberState s);  // "healthy", "throttled", ...

// What pacing says about one new INVITE.
struct Decision {
  bool refuse = false;   // do not forward (unless dry_run)
  bool dry_run = false;  // policy.dry_run at the time of the decision
  NumberState state = NumberState::kHealthy;
  absl::Duration retry_after;  // until the number may call again
  // "throttle" or "quarantine" when refused, else "".
  absl::string_view action;
  // For the Reason header: "throttled 603 31.0% of 42 in 15m" (points into
  // pacer-owned storage, valid until the next call into the pacer).
  absl::string_view why;
};

// One change of state, for `subscribe`, the log and the CDR side.
struct StateChange {
  metrics::E164 number = 0;
  NumberState from = NumberState::kHealthy;
  NumberState to = NumberState::kHealthy;
  absl::Time at;
  std::string reason;                         // rule, rate, attempts, window, overuse signature; or "operator"
  std::string rule;                           // the rule that fired, as written ("" for operators and timers)
  absl::Time until = absl::InfiniteFuture();  // a quarantine's end
  bool by_operator = false;                   // quarantine or release from the stats socket
  // The fleet node this change came from (docs/fleet.md); "" when this
  // node made it.
  std::string fleet_node;
};

// A watch rule fired on a number (e.g. its 486s rose: a handset label), or
// stopped firing. The number is flagged, not paced.
struct WatchChange {
  metrics::E164 number = 0;
  bool watched = false;
  absl::Time at;
  std::string reason;
};

// Where changes go. Called on the SIP thread; must not block.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnStateChange(const StateChange& change) = 0;
  virtual void OnWatchChange(const WatchChange&) {}
  virtual void OnRouteChange(const RouteChange&) {}
};

struct NumberPacing {
  NumberState state = NumberState::kHealthy;
  std::string reason;
  absl::Time since;
  absl::Time until = absl::InfiniteFuture();  // quarantine end, if any
  uint64_t paced = 0;
  bool watched = false;
  std::string watch_reason;
};

// What an operator's quarantine or release did.
struct OperatorAction {
  NumberPacing after;                          // the number's pacing now
  NumberState before = NumberState::kHealthy;  // and before the command
  // Release: false when the number was healthy or not tracked (nothing to
  // release; no entry is created for it).
  bool changed = false;
  // Whether the number was tracked before the command (a call in the
  // window). A quarantine of one that was not is pre-emptive: it is
  // quarantined all the same, before its first call.
  bool tracked = false;
};

// Who last set the live policy, and when: a stats-socket peer, or the one
// a saved --state_file brought back. `at` is InfinitePast while the flags rule.
struct PolicyOrigin {
  absl::Time at = absl::InfinitePast();
  std::string by;
};

class Pacer {
 public:
  Pacer(metrics::Store& store, Policy policy, EventSink* sink);
  ~Pacer();
  Pacer(const Pacer&) = delete;
  Pacer& operator=(const Pacer&) = delete;

  // ---- SIP thread ----
  // `caller` 0 (no usable caller ID): never refused, counted in the totals.
  Decision OnInvite(metrics::E164 caller, metrics::E164 callee, absl::Time now);
  // outcome.caller 0: counted in the totals, carriers, countries and codes only.
  void OnFinal(const metrics::CallOutcome& outcome);
  // Each rule as it stands on `number`: its window's rate, whether it is
  // over the line, whether it fires, and what holds it when it is over the
  // line but does not (verdict.h). Empty for a number not tracked. The
  // evidence is the SIP thread's: call it there.
  std::vector<RuleCheck> Explain(metrics::E164 number, absl::Time now) const;
  // Advances timed transitions (quarantine end, probation end, recovery,
  // watch end) and, every 10 s, the route-wide signals; call ~1/s.
  void Tick(absl::Time now);
  // Operator commands. A quarantine of a number not tracked creates its
  // entry (pre-emptive); a release of one not tracked or healthy changes
  // nothing and creates no entry.
  absl::StatusOr<OperatorAction> Quarantine(metrics::E164 number, std::optional<absl::Duration> duration,
                                            absl::Time now);
  absl::StatusOr<OperatorAction> Release(metrics::E164 number, absl::Time now);
  // Puts a saved state back at start (--state_file); no event is emitted.
  void Restore(metrics::NumberId id, const NumberPacing& saved);
  // ---- SIP thread, fleet (docs/fleet.md) ----
  // Calls another node counted for `number` (what FleetCounts::SetNumber
  // returned): they step the rules' evidence as this node's own calls do,
  // and the number is judged again. Nothing for a number not tracked here.
  void OnFleetCalls(metrics::E164 number, const metrics::CodeCounts& added, absl::Time now);
  // The fleet's state for `number` (what Redis settled on): taken as is,
  // with the other node's since and until. The change reaches the sink with
  // `fleet_node` set, so it is not published back.
  void AdoptFleetState(metrics::E164 number, NumberState state, absl::Time since, absl::Time until,
                       const std::string& reason, const std::string& node, absl::Time now);

  // Replaces the live policy; validated by the caller with ApplyPolicyUpdate.
  // `origin`: who set it (kept for `show policy` and --state_file).
  void SetPolicy(Policy policy, PolicyOrigin origin = {});

  // ---- any thread (lock-free reads) ----
  Policy policy() const;  // a copy of the live policy
  // The policy the pacer was built with (the flags): the keys set live are
  // those where policy() differs from it.
  const Policy& flag_policy() const;
  PolicyOrigin policy_origin() const;
  NumberPacing State(metrics::E164 number) const;
  uint64_t paced_total() const;
  uint64_t numbers_in_state(NumberState s) const;
  uint64_t numbers_watched() const;
  // Routes whose rates stand out from the rest of the pool now.
  std::vector<RouteStatus> ElevatedRoutes() const;
  // A dialed country with under --baseline_days days of history.
  bool CountryLearning(int country_code) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sippacer::pacing
