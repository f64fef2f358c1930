#include "flags/flag_check.h"

#include <cmath>

#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sippacer::flags {

absl::Status FindUnknownFlag(int argc, char** argv, bool positional_ok) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) {
      if (positional_ok) continue;
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "' (flags are --name=value)"));
    }
    const bool has_value = arg.find('=') != absl::string_view::npos;
    const absl::string_view name = arg.substr(0, arg.find('='));
    if (const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name)) {
      // "--listen 127.0.0.1:5060": the value is the next argument.
      if (!has_value && !flag->IsOfType<bool>()) ++i;
      continue;
    }
    // Boolean negation (--nodry_run) and Abseil's built-in flags.
    if (absl::StartsWith(name, "no") && absl::FindCommandLineFlag(name.substr(2)) != nullptr) continue;
    if (name == "flagfile" || name == "fromenv" || name == "tryfromenv" || name == "undefok") {
      if (!has_value) ++i;
      continue;
    }
    if (absl::StartsWith(name, "help") || name == "version" || name == "only_check_args") continue;
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": unknown flag (see --help)"));
  }
  return absl::OkStatus();
}

absl::Status ParseNumberFlag(absl::string_view flag, const std::string& text, int64_t* out) {
  if (!absl::SimpleAtoi(text, out)) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": '", text, "' is not a whole number"));
  }
  return absl::OkStatus();
}

absl::Status ParseNumberFlag(absl::string_view flag, const std::string& text, double* out) {
  if (!absl::SimpleAtod(text, out) || !std::isfinite(*out)) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": '", text, "' is not a number"));
  }
  return absl::OkStatus();
}

}  // namespace sippacer::flags
