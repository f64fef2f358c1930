#pragma once
// The command line of sippacer and sippacer-replay, read before
// absl::ParseCommandLine, which prints several lines and exits 1 on any
// problem (an unknown flag, a missing --flagfile, --dry_run=maybe): here
// every problem is one "--flag: why" for main to print before exiting 2.
//
// CheckCommandLine walks the arguments as Abseil 20220623 does (argv, then
// --flagfile lines, --fromenv, --tryfromenv and --undefok in place;
// --name=value, --name value, --name and --noname for booleans, one or two
// dashes) and has each flag parse its own value, which sets it; Abseil sets
// the same values again afterwards. It also answers --help, --helpfull and
// --version, which main handles before parsing.
//
// FlagsHelp is --help: every flag by group, with its default and meaning,
// and no file names. A flag that is in no group is listed last under
// kUngroupedTitle; the flags test fails on that heading.
//
// Header-only: the daemon and the replay include it.

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/commandlineflag.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sippacer::flags {

enum class Request { kRun, kHelp, kHelpFull, kVersion };

struct CommandLine {
  Request request = Request::kRun;
  std::string help_filter;              // --help=TEXT: flags whose name or meaning contain TEXT
  std::vector<std::string> positional;  // arguments that are not flags (only with positional_ok)
};

struct FlagGroup {
  const char* title;
  std::vector<const char*> names;
};

constexpr char kUngroupedTitle[] = "Flags in no group";

namespace command_line_internal {

inline absl::Status Problem(absl::string_view flag, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", why));
}

// Abseil's std::vector<std::string> flags: comma-separated, "" is none.
inline std::vector<std::string> SplitList(absl::string_view text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, ',');
}

inline bool IsGenerator(absl::string_view name) {
  return name == "flagfile" || name == "fromenv" || name == "tryfromenv" || name == "undefok";
}

// Abseil's usage flags, which are not flags in its registry.
inline bool UsageRequest(absl::string_view name, absl::string_view value, bool has_value, CommandLine* out) {
  if (name == "help" || name == "helpmatch" || name == "helpon") {
    out->request = Request::kHelp;
    if (has_value) out->help_filter = std::string(value);
    return true;
  }
  if (name == "helpshort" || name == "helppackage") {
    out->request = Request::kHelp;
    return true;
  }
  if (name == "helpfull") {
    out->request = Request::kHelpFull;
    return true;
  }
  if (name == "version") {
    out->request = Request::kVersion;
    return true;
  }
  return name == "only_check_args";  // Abseil's: parse, then exit 0
}

inline std::string BadValue(const absl::CommandLineFlag& flag, absl::string_view value) {
  if (flag.IsOfType<bool>()) return absl::StrCat("'", value, "' is not true or false");
  if (flag.IsOfType<int32_t>() || flag.IsOfType<int64_t>() || flag.IsOfType<uint32_t>() || flag.IsOfType<uint64_t>() ||
      flag.IsOfType<int16_t>() || flag.IsOfType<uint16_t>()) {
    int64_t n = 0;
    if (absl::SimpleAtoi(value, &n)) return absl::StrCat("'", value, "' is out of range");
    return absl::StrCat("'", value, "' is not a whole number");
  }
  if (flag.IsOfType<double>() || flag.IsOfType<float>()) return absl::StrCat("'", value, "' is not a number");
  return absl::StrCat("'", value, "' is not a valid value");
}

struct Walk {
  bool positional_ok = false;
  CommandLine* out = nullptr;
  std::vector<std::string> undefok;
  std::vector<std::pair<std::string, std::string>> undefined;  // name, where ("" = the command line)
  int depth = 0;

  // `where`: "" for argv, else the --flagfile or FLAGS_ variable the
  // arguments come from.
  absl::Status Args(const std::vector<std::string>& args, const std::string& where) {
    const bool from_argv = where.empty();
    for (size_t i = 0; i < args.size(); ++i) {
      absl::string_view a = args[i];
      if (!absl::ConsumePrefix(&a, "-") || a.empty()) {
        if (!from_argv) return Problem("flagfile", absl::StrCat(where, ": '", args[i], "' is not a flag"));
        if (!positional_ok) {
          return absl::InvalidArgumentError(
              absl::StrCat("unexpected argument '", args[i], "' (flags are --name=value)"));
        }
        out->positional.push_back(args[i]);
        continue;
      }
      absl::ConsumePrefix(&a, "-");
      const size_t eq = a.find('=');
      const bool has_value = eq != absl::string_view::npos;
      const absl::string_view name = a.substr(0, eq);
      const absl::string_view value = has_value ? a.substr(eq + 1) : absl::string_view();
      if (name.empty()) {  // "--": the rest are arguments
        if (!from_argv) return Problem("flagfile", absl::StrCat(where, ": '", args[i], "' is not a flag"));
        for (size_t j = i + 1; j < args.size(); ++j) {
          if (!positional_ok) {
            return absl::InvalidArgumentError(
                absl::StrCat("unexpected argument '", args[j], "' (flags are --name=value)"));
          }
          out->positional.push_back(args[j]);
        }
        return absl::OkStatus();
      }
      if (IsGenerator(name)) {
        std::string v(value);
        if (!has_value) {
          if (i + 1 >= args.size()) return Problem(name, "needs a value");
          v = args[++i];
        }
        if (auto s = Generator(name, v); !s.ok()) return s;
        continue;
      }
      absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
      bool negative = false;
      if (flag == nullptr && absl::StartsWith(name, "no")) {
        flag = absl::FindCommandLineFlag(name.substr(2));
        negative = flag != nullptr;
      }
      if (flag == nullptr) {
        CommandLine ignored;
        if (!UsageRequest(name, value, has_value, &ignored)) undefined.emplace_back(std::string(name), where);
        continue;
      }
      if (flag->IsRetired()) continue;
      std::string v(value);
      if (flag->IsOfType<bool>()) {
        if (negative && has_value) return Problem(flag->Name(), absl::StrCat("--", name, " takes no value"));
        if (!has_value) {
          v = negative ? "false" : "true";
        } else if (value.empty()) {
          return Problem(flag->Name(), "needs true or false after '='");
        }
      } else if (negative) {
        return Problem(flag->Name(), absl::StrCat("only a true/false flag has a --no form (--", name, ")"));
      } else if (!has_value) {
        if (i + 1 >= args.size()) return Problem(flag->Name(), "needs a value (--name=VALUE)");
        v = args[++i];
        // "--trunk_listen --listen=X": a forgotten value, not the value
        // "--listen=X" (Abseil would take it, and only print a warning).
        absl::string_view next = v;
        if (absl::ConsumePrefix(&next, "-")) {
          absl::ConsumePrefix(&next, "-");
          next = next.substr(0, next.find('='));
          if (next.empty() || absl::FindCommandLineFlag(next) != nullptr || IsGenerator(next)) {
            return Problem(flag->Name(), absl::StrCat("needs a value (--name=VALUE), not the flag '", v, "'"));
          }
        }
      }
      std::string error;
      if (!flag->ParseFrom(v, &error)) return Problem(flag->Name(), BadValue(*flag, v));
    }
    return absl::OkStatus();
  }

  absl::Status Generator(absl::string_view name, const std::string& value) {
    if (name == "undefok") {
      undefok = SplitList(value);
      return absl::OkStatus();
    }
    if (name == "flagfile") {
      if (depth >= 16) return Problem(name, "nested more than 16 deep (does a file name itself?)");
      for (const std::string& file : SplitList(value)) {
        std::ifstream in(file);
        if (!in) return Problem(name, absl::StrCat("cannot open '", file, "'"));
        std::vector<std::string> lines;
        std::string line;
        while (std::getline(in, line)) {
          // As Abseil: leading blanks go, '#' starts a comment line.
          const absl::string_view stripped = absl::StripLeadingAsciiWhitespace(line);
          if (stripped.empty() || stripped[0] == '#') continue;
          if (stripped[0] != '-' || stripped == "--") {
            return Problem(name, absl::StrCat(file, ": '", stripped, "' is not a flag (one --name=value a line)"));
          }
          lines.emplace_back(stripped);
        }
        ++depth;
        absl::Status s = Args(lines, file);
        --depth;
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    // --fromenv / --tryfromenv: FLAGS_name=value in the environment.
    for (const std::string& flag : SplitList(value)) {
      if (flag == "fromenv" || flag == "tryfromenv") return Problem(name, absl::StrCat("cannot name --", flag));
      const std::string var = absl::StrCat("FLAGS_", flag);
      const char* env = std::getenv(var.c_str());
      if (env == nullptr) {
        if (name == "fromenv") return Problem(name, absl::StrCat(var, " is not set"));
        continue;
      }
      if (auto s = Args({absl::StrCat("--", flag, "=", env)}, var); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status Undefined() const {
    for (const auto& [name, where] : undefined) {
      bool ok = false;
      for (const std::string& u : undefok) ok = ok || name == u || name == absl::StrCat("no", u);
      if (ok) continue;
      return Problem(name, where.empty() ? "unknown flag (see --help)"
                                         : absl::StrCat("unknown flag (in ", where, "; see --help)"));
    }
    return absl::OkStatus();
  }
};

inline void AppendWrapped(std::string& out, absl::string_view text, size_t indent, size_t width) {
  size_t col = 0;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (col > 0 && col + 1 + word.size() > width) {
      out += "\n";
      col = 0;
    }
    if (col == 0) {
      out.append(indent, ' ');
      col = indent;
    } else {
      out += " ";
      ++col;
    }
    absl::StrAppend(&out, word);
    col += word.size();
  }
  out += "\n";
}

inline bool IsAbseils(const absl::CommandLineFlag& flag) { return absl::StrContains(flag.Filename(), "absl/"); }

}  // namespace command_line_internal

// The first problem of the command line as "--flag: why" (unknown flags
// last, as --undefok may come after them). --help, --helpfull and
// --version on the command line itself win over any problem.
inline absl::StatusOr<CommandLine> CheckCommandLine(int argc, char** argv, bool positional_ok = false) {
  using command_line_internal::UsageRequest;
  CommandLine out;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  for (const std::string& arg : args) {
    absl::string_view a = arg;
    if (arg == "--" || !absl::ConsumePrefix(&a, "-")) {
      if (arg == "--") break;
      continue;
    }
    absl::ConsumePrefix(&a, "-");
    const size_t eq = a.find('=');
    if (UsageRequest(a.substr(0, eq), eq == absl::string_view::npos ? "" : a.substr(eq + 1),
                     eq != absl::string_view::npos, &out) &&
        out.request != Request::kRun) {
      return out;
    }
  }
  command_line_internal::Walk walk;
  walk.positional_ok = positional_ok;
  walk.out = &out;
  if (auto s = walk.Args(args, ""); !s.ok()) return s;
  if (auto s = walk.Undefined(); !s.ok()) return s;
  return out;
}

// --help: the program's usage text, then each group's flags ("  --name
// default: VALUE" and the meaning below), then `footer`. With `filter`,
// only flags whose name or meaning contain it.
inline std::string FlagsHelp(const std::vector<FlagGroup>& groups, absl::string_view filter, absl::string_view footer) {
  using command_line_internal::AppendWrapped;
  const auto all = absl::GetAllFlags();
  absl::flat_hash_set<std::string> grouped;
  auto matches = [&](const absl::CommandLineFlag& f) {
    return filter.empty() || absl::StrContains(f.Name(), filter) || absl::StrContains(f.Help(), filter);
  };
  auto entry = [](const absl::CommandLineFlag& f) {
    const std::string def = f.DefaultValue();
    std::string out = absl::StrCat("  --", f.Name(), "  default: ", def.empty() ? "(empty)" : def, "\n");
    AppendWrapped(out, f.Help(), 6, 79);
    return out;
  };
  std::string out = absl::StrCat(absl::ProgramUsageMessage(), "\n\n");
  for (const FlagGroup& g : groups) {
    std::string section;
    for (const char* name : g.names) {
      auto it = all.find(name);
      if (it == all.end()) continue;
      grouped.insert(name);
      if (matches(*it->second)) section += entry(*it->second);
    }
    if (!section.empty()) absl::StrAppend(&out, g.title, ":\n", section, "\n");
  }
  std::vector<const absl::CommandLineFlag*> rest;
  for (const auto& [name, flag] : all) {
    if (!grouped.contains(name) && !flag->IsRetired() && !command_line_internal::IsAbseils(*flag) && matches(*flag)) {
      rest.push_back(flag);
    }
  }
  std::sort(rest.begin(), rest.end(), [](auto* a, auto* b) { return a->Name() < b->Name(); });
  if (!rest.empty()) {
    absl::StrAppend(&out, kUngroupedTitle, ":\n");
    for (const absl::CommandLineFlag* f : rest) out += entry(*f);
    out += "\n";
  }
  absl::StrAppend(&out, footer);
  return out;
}

// --helpfull: Abseil's list of every flag, its own included, by source
// file (named from the source tree, no build paths).
inline void PrintFullHelp() {
  absl::flags_internal::FlagsHelp(std::cout, "", absl::flags_internal::HelpFormat::kHumanReadable,
                                  absl::ProgramUsageMessage());
  std::cout.flush();
}

// Abseil's own help and --version text (a --version in a --flagfile) name
// source files from the tree, not the build machine's paths.
inline void SetUsageConfig(std::function<std::string()> version) {
  absl::FlagsUsageConfig config;
  config.version_string = std::move(version);
  config.normalize_filename = [](absl::string_view file) {
    for (absl::string_view top : {"absl/", "flags/", "proxy/", "replay/", "pacing/", "metrics/"}) {
      const size_t at = file.rfind(top);
      if (at != absl::string_view::npos && (at == 0 || file[at - 1] == '/')) return std::string(file.substr(at));
    }
    return std::string(absl::StripPrefix(file, "/"));
  };
  absl::SetFlagsUsageConfig(config);
}

// Answers --help, --helpfull and --version on stdout; false when the
// command line asks to run.
inline bool AnswerUsageRequest(const CommandLine& command_line, const std::vector<FlagGroup>& groups,
                               absl::string_view footer, const std::function<std::string()>& version) {
  switch (command_line.request) {
    case Request::kHelp:
      std::fputs(FlagsHelp(groups, command_line.help_filter, footer).c_str(), stdout);
      return true;
    case Request::kHelpFull:
      PrintFullHelp();
      return true;
    case Request::kVersion:
      std::fputs(version().c_str(), stdout);
      return true;
    case Request::kRun:
      break;
  }
  return false;
}

}  // namespace sippacer::flags
