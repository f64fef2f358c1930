// sippacer-replay: backtests a pacing policy on recorded calls.
//
//   sippacer-replay [pacing flags] CDR_FILE...
//   sippacer-replay [pacing flags] --cdr_postgres=CONNINFO --since=T --until=T
//
// stdout: one JSON line per event, exactly as `subscribe` streams them
// (state, watch, route), and nothing else. --summary: a table on stderr.
// Every pacing flag of the daemon is here, with its name, default and checks.
// Exit codes: 0 done (and --help, --version); 2 a flag refused, one line
// naming it; 1 the CDRs could not be read.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "flags/command_line.h"
#include "flags/decision_flags.h"
#include "pacing/event_json.h"
#include "replay/cdr_source.h"
#include "replay/replay.h"

ABSL_FLAG(std::string, cdr_postgres, "", "read CDRs from this PostgreSQL (libpq connection string)");
ABSL_FLAG(std::string, since, "", "with --cdr_postgres: first INVITE time, RFC 3339 (2026-11-02T00:00:00Z)");
ABSL_FLAG(std::string, until, "", "with --cdr_postgres: end time, RFC 3339 (exclusive)");
ABSL_FLAG(bool, summary, false, "print a summary table on stderr");

namespace {

int Fail(absl::string_view message) {
  std::fprintf(stderr, "sippacer-replay: %.*s\n", static_cast<int>(message.size()), message.data());
  return 2;
}

// Events go out as they happen, through one large stdout buffer.
class PrintingSink : public sippacer::pacing::EventSink {
 public:
  void OnStateChange(const sippacer::pacing::StateChange& c) override { Print(sippacer::pacing::StateEventJson(c)); }
  void OnWatchChange(const sippacer::pacing::WatchChange& c) override { Print(sippacer::pacing::WatchEventJson(c)); }
  void OnRouteChange(const sippacer::pacing::RouteChange& c) override { Print(sippacer::pacing::RouteEventJson(c)); }

 private:
  static void Print(std::string line) {
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
};

const std::vector<sippacer::flags::FlagGroup>& FlagGroups() {
  static const auto* groups = new std::vector<sippacer::flags::FlagGroup>{
      {"Input", {"cdr_postgres", "since", "until"}},
      {"Output", {"summary"}},
      {"Pacing (the daemon's flags)",
       {"rules", "min_attempts", "false_alarm_rate", "baseline_days", "confidence", "hour_guard", "number_cpm",
        "throttled_cpm", "quarantine_for", "reject_code", "dry_run", "default_country_code", "carriers", "timezone",
        "max_numbers"}},
  };
  return *groups;
}

constexpr char kHelpFooter[] =
    "Also: --flagfile=FILE (flags from FILE, one --name=value a line; the daemon's\n"
    "file: list the flags the replay lacks in --undefok), --helpfull, --version.\n"
    "In detail: docs/replay.md.\n"
    "Exit codes: 0 done; 2 a flag refused, one line naming it; 1 the CDRs could\n"
    "not be read.\n";

std::string VersionText() { return absl::StrCat("sippacer-replay ", SIPPACER_VERSION, "\n"); }

bool ParseFlagTime(const std::string& text, absl::Time* out) {
  std::string err;
  return absl::ParseTime(absl::RFC3339_full, text, out, &err);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "sippacer-replay [pacing flags] CDR_FILE...\n"
      "       sippacer-replay [pacing flags] --cdr_postgres=CONNINFO --since=T --until=T\n"
      "Backtests a pacing policy on recorded calls: prints the events the daemon would have emitted.");
  sippacer::flags::SetUsageConfig(VersionText);
  // File names are arguments here, not flags. Every flag problem exits 2
  // with one line; Abseil would exit 1 with several.
  auto command_line = sippacer::flags::CheckCommandLine(argc, argv, /*positional_ok=*/true);
  if (!command_line.ok()) return Fail(command_line.status().message());
  if (sippacer::flags::AnswerUsageRequest(*command_line, FlagGroups(), kHelpFooter, VersionText)) return 0;
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> files(rest.begin() + 1, rest.end());

  auto values = sippacer::flags::ReadDecisionFlags();
  if (!values.ok()) return Fail(values.status().message());
  auto config = sippacer::flags::BuildDecisionConfig(*values);
  if (!config.ok()) return Fail(config.status().message());

  const std::string postgres = absl::GetFlag(FLAGS_cdr_postgres);
  absl::Time since = absl::InfinitePast(), until = absl::InfiniteFuture();
  if (!postgres.empty()) {
    if (!files.empty()) return Fail("--cdr_postgres: give CDR files or --cdr_postgres, not both");
    if (!ParseFlagTime(absl::GetFlag(FLAGS_since), &since))
      return Fail("--since: needs an RFC 3339 time, e.g. 2026-11-02T00:00:00Z");
    if (!ParseFlagTime(absl::GetFlag(FLAGS_until), &until))
      return Fail("--until: needs an RFC 3339 time, e.g. 2026-11-03T00:00:00Z");
    if (until <= since) return Fail("--until: must be after --since");
  } else if (files.empty()) {
    return Fail("no CDR files given (or use --cdr_postgres with --since and --until)");
  } else if (!absl::GetFlag(FLAGS_since).empty() || !absl::GetFlag(FLAGS_until).empty()) {
    return Fail("--since: only with --cdr_postgres");
  }

  std::vector<sippacer::replay::RecordedCall> calls;
  sippacer::replay::ReadStats stats;
  if (!postgres.empty()) {
    if (auto s =
            sippacer::replay::ReadCdrPostgres(postgres, since, until, config->default_country_code, &calls, &stats);
        !s.ok()) {
      std::fprintf(stderr, "sippacer-replay: --cdr_postgres: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  for (const std::string& f : files) {
    if (auto s = sippacer::replay::ReadCdrFile(f, config->default_country_code, &calls, &stats); !s.ok()) {
      std::fprintf(stderr, "sippacer-replay: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  if (stats.bad_lines > 0) {
    std::fprintf(stderr, "sippacer-replay: %zu of %zu lines are not CDRs (skipped)\n", stats.bad_lines, stats.lines);
  }

  static char buffer[1 << 16];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
  PrintingSink sink;
  const sippacer::replay::ReplayTotals totals = sippacer::replay::Replay(std::move(calls), *config, &sink);
  std::fflush(stdout);
  if (absl::GetFlag(FLAGS_summary)) {
    std::string table = sippacer::replay::SummaryTable(totals);
    if (stats.not_a_number > 0)
      table += absl::StrCat("calls whose caller ID is not a number (not judged): ", stats.not_a_number, "\n");
    if (stats.refused_by_acl > 0)
      table += absl::StrCat("calls refused by --allow (not attempts): ", stats.refused_by_acl, "\n");
    std::fputs(table.c_str(), stderr);
  }
  return 0;
}
