#pragma once
// --state_file: the per-number windows and pacing states, saved every few
// seconds and at SIGTERM, and restored at start, so a restart (or a crash,
// less the last period) forgets no quarantine and no count.
//
// One JSON object per line: first the pacing settings made live with `set
// policy` (when any differ from the flags), then one line per tracked
// number, then one per dialed country with a history (its days of counts,
// which decide when a new market stops learning), written to a temporary
// file and renamed over the old one, so a crash mid-write leaves the
// previous state intact. Saving reads the Store and Pacer through their
// lock-free readers (the ops thread); loading runs before traffic starts.
// Files written before country or policy lines existed load as they are.
//
//   {"policy":{"dry_run":"true"},"flags":{"dry_run":"false"},"at":1800000000000,"by":"uid=0 pid=42 (socat)"}
//   {"n":15551230001,"seen":...,"pdd":[...],"b":[[epoch,attempts,...],...]}
//   {"country":49,"days":3,"d":[[utc_day,attempts,pre_ring_603,network_blocked,o0..o16],...]}
//
// The policy line holds, for each key set live, its live value and the
// flag's value when it was set (`set policy` syntax). At load, a saved
// value wins over the flag unless the flag itself changed since (the
// command line was edited after the live change: the newer intent wins);
// RestoredState says which.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "metrics/store.h"
#include "pacing/pacer.h"

namespace sippacer::proxy {

inline constexpr absl::Duration kStateSaveEvery = absl::Seconds(5);

absl::Status SaveState(const std::string& path, const metrics::Store& store, const pacing::Pacer& pacer,
                       absl::Time now);
struct RestoredState {
  size_t numbers = 0;
  size_t countries = 0;
  // Live settings put back over the flags ("number_cpm=1 (--number_cpm=0)").
  std::vector<std::string> policy_kept;
  // Saved settings not put back, and why ("--number_cpm changed since ...:
  // the flag wins"); for the log.
  std::vector<std::string> policy_dropped;
};

// A missing file is no error (a first start). Returns what came back.
absl::StatusOr<RestoredState> LoadState(const std::string& path, metrics::Store& store, pacing::Pacer& pacer,
                                        absl::Time now);

}  // namespace sippacer::proxy
