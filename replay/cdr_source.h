#pragma once
// Reading recorded calls: CDR JSON lines exactly as --cdr_file writes them,
// or rows of the --cdr_postgres table between two times.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "replay/recorded_call.h"

namespace sippacer::replay {

struct ReadStats {
  size_t lines = 0;
  size_t bad_lines = 0;     // not a CDR (reported, skipped)
  size_t not_a_number = 0;  // caller ID that is not a phone number
  size_t refused_by_acl = 0;
};

// One CDR line (the daemon's JSON). `default_country_code` normalises
// national numbers as the daemon did.
absl::StatusOr<RecordedCall> ParseCdrLine(absl::string_view line, absl::string_view default_country_code);

// Appends every call of `path` to `out`.
absl::Status ReadCdrFile(const std::string& path, absl::string_view default_country_code,
                         std::vector<RecordedCall>* out, ReadStats* stats);

// Appends the calls of table sippacer_cdr with since <= ts < until.
absl::Status ReadCdrPostgres(const std::string& conninfo, absl::Time since, absl::Time until,
                             absl::string_view default_country_code, std::vector<RecordedCall>* out, ReadStats* stats);

}  // namespace sippacer::replay
