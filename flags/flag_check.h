#pragma once
// Flag syntax checks that must happen before absl::ParseCommandLine, which
// would otherwise exit 1 with its own multi-line text for unknown flags and
// unparsable numbers. Every flag problem exits 2 with one line.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sippacer::flags {

// Returns InvalidArgument "--name: unknown flag" for the first unknown flag.
// With `positional_ok`, arguments that are not flags (file names) are
// skipped; otherwise the first one is an error.
absl::Status FindUnknownFlag(int argc, char** argv, bool positional_ok = false);

absl::Status ParseNumberFlag(absl::string_view flag, const std::string& text, int64_t* out);
absl::Status ParseNumberFlag(absl::string_view flag, const std::string& text, double* out);

}  // namespace sippacer::flags
