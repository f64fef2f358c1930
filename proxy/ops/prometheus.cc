#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "metrics/e164.h"
#include "proxy/cdr/cdr_writer.h"
#include "proxy/ops/metrics_http.h"
#include "proxy/sip/trunk_group.h"

namespace sippacer::proxy {
namespace {

// Per-number series only for the worst few: bounded cardinality.
constexpr size_t kTopNumbers = 20;

// The CMake build type the daemon was compiled as ("Release", "Asan", ...).
constexpr absl::string_view kBuildType = SIPPACER_BUILD_TYPE;

// A float in full: StrCat keeps six significant digits, too few for a
// timestamp or a running sum.
std::string Float(double v) { return absl::StrFormat("%.15g", v); }

std::string Label(absl::string_view v) {
  return absl::StrReplaceAll(v, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

void Head(std::string& out, absl::string_view name, absl::string_view type, absl::string_view help) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void CodeSeries(std::string& out, absl::string_view name, absl::string_view labels, const metrics::CodeCounts& c) {
  for (int i = 0; i < metrics::kOutcomeCount; ++i) {
    absl::StrAppend(&out, name, "{", labels, labels.empty() ? "" : ",", "code=\"",
                    metrics::OutcomeKey(static_cast<metrics::Outcome>(i)), "\"} ", c.by_outcome[i], "\n");
  }
}

// One series per trunk: `value` reads its TrunkStats; `extra` adds labels
// after the trunk's (reason="max_calls").
template <typename Value>
void TrunkSeries(std::string& out, const TrunkGroup& g, absl::string_view name, absl::string_view extra, Value value) {
  for (int i = 0; i < static_cast<int>(g.size()); ++i) {
    absl::StrAppend(&out, name, "{trunk=\"", Label(g.spec(i).name), "\"", extra.empty() ? "" : ",", extra, "} ",
                    value(g.stats(i)), "\n");
  }
}

// The standard process_* metrics (what Prometheus client libraries export).
void ProcessMetrics(std::string& out, const ProcessStats& p) {
  Head(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
  absl::StrAppend(&out, "process_cpu_seconds_total ", Float(p.cpu_seconds), "\n");
  Head(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  absl::StrAppend(&out, "process_resident_memory_bytes ", p.resident_bytes, "\n");
  Head(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  absl::StrAppend(&out, "process_virtual_memory_bytes ", p.virtual_bytes, "\n");
  if (p.open_fds >= 0) {
    Head(out, "process_open_fds", "gauge", "Number of open file descriptors.");
    absl::StrAppend(&out, "process_open_fds ", p.open_fds, "\n");
  }
  Head(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
  absl::StrAppend(&out, "process_max_fds ", p.max_fds, "\n");
  if (p.start_time_s > 0) {
    Head(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    absl::StrAppend(&out, "process_start_time_seconds ", Float(p.start_time_s), "\n");
  }
}

void TrunkMetrics(std::string& out, const TrunkGroup& g) {
  using S = const TrunkStats&;
  Head(out, "sippacer_trunk_calls_active", "gauge", "Calls on the trunk now (INVITE sent, not ended).");
  TrunkSeries(out, g, "sippacer_trunk_calls_active", "", [](S s) { return s.calls_active.Get(); });
  Head(out, "sippacer_trunk_attempts_total", "counter", "INVITEs sent to the trunk.");
  TrunkSeries(out, g, "sippacer_trunk_attempts_total", "", [](S s) { return s.attempts.Get(); });
  Head(out, "sippacer_trunk_answered_total", "counter", "Calls the trunk answered (2xx).");
  TrunkSeries(out, g, "sippacer_trunk_answered_total", "", [](S s) { return s.answered.Get(); });
  Head(out, "sippacer_trunk_failovers_total", "counter", "Calls that failed on the trunk and went on to another.");
  TrunkSeries(out, g, "sippacer_trunk_failovers_total", "", [](S s) { return s.failovers.Get(); });
  Head(out, "sippacer_trunk_refused_total", "counter", "Calls kept off the trunk by its limits, by limit.");
  TrunkSeries(out, g, "sippacer_trunk_refused_total", "reason=\"max_calls\"",
              [](S s) { return s.refused_max_calls.Get(); });
  TrunkSeries(out, g, "sippacer_trunk_refused_total", "reason=\"max_cps\"",
              [](S s) { return s.refused_max_cps.Get(); });
  Head(out, "sippacer_trunk_responses_total", "counter", "Final responses from the trunk by class.");
  for (int c = 1; c <= 6; ++c) {
    TrunkSeries(out, g, "sippacer_trunk_responses_total", absl::StrCat("class=\"", c, "xx\""),
                [c](S s) { return s.finals[c].Get(); });
  }
  Head(out, "sippacer_trunk_timeouts_total", "counter", "INVITEs to the trunk that timed out (408).");
  TrunkSeries(out, g, "sippacer_trunk_timeouts_total", "", [](S s) { return s.finals[0].Get(); });
  Head(out, "sippacer_trunk_unavailable_total", "counter", "503s from the trunk, and transport errors toward it.");
  TrunkSeries(out, g, "sippacer_trunk_unavailable_total", "", [](S s) { return s.unavailable.Get(); });
}

}  // namespace

std::string RenderPrometheus(const OpsView& v, absl::Time now, const ProcessStats& process) {
  using pacing::NumberState;
  std::string out;
  Head(out, "sippacer_build_info", "gauge",
       "Always 1; the labels name the build: version, CMake build type, sofia-sip patched (third_party/sofia-sip) "
       "or stock.");
  absl::StrAppend(&out, "sippacer_build_info{version=\"", Label(SIPPACER_VERSION), "\",build_type=\"",
                  Label(kBuildType.empty() ? "None" : kBuildType), "\",sofia_sip=\"", Label(SIPPACER_SOFIA_BUILD),
                  "\"} 1\n");
  Head(out, "sippacer_start_time_seconds", "gauge", "Unix time the daemon started.");
  absl::StrAppend(&out, "sippacer_start_time_seconds ", Float(absl::ToDoubleSeconds(v.started - absl::UnixEpoch())),
                  "\n");
  if (process.ok) ProcessMetrics(out, process);
  const metrics::CodeCounts totals = v.store->Totals();
  Head(out, "sippacer_responses_total", "counter", "Final responses from the trunk by code (other codes by class).");
  CodeSeries(out, "sippacer_responses_total", "", totals);
  Head(out, "sippacer_pre_ring_603_total", "counter", "603 responses with no 180/183 before them.");
  absl::StrAppend(&out, "sippacer_pre_ring_603_total ", totals.pre_ring_603, "\n");
  Head(out, "sippacer_network_blocked_total", "counter", "603 Network Blocked (603+, ATIS-1000099) responses.");
  absl::StrAppend(&out, "sippacer_network_blocked_total ", totals.network_blocked, "\n");
  Head(out, "sippacer_carrier_responses_total", "counter", "Final responses by terminating carrier and code.");
  for (const metrics::GroupSnapshot& g : v.store->Carriers()) {
    CodeSeries(out, "sippacer_carrier_responses_total", absl::StrCat("carrier=\"", Label(g.key), "\""), g.counts);
  }
  Head(out, "sippacer_carrier_network_blocked_total", "counter",
       "603 Network Blocked (603+) responses by terminating carrier (also counted under code=\"603\").");
  for (const metrics::GroupSnapshot& g : v.store->Carriers()) {
    absl::StrAppend(&out, "sippacer_carrier_network_blocked_total{carrier=\"", Label(g.key), "\"} ",
                    g.counts.network_blocked, "\n");
  }
  Head(out, "sippacer_carrier_attempts_total", "counter", "INVITEs forwarded by terminating carrier.");
  for (const metrics::GroupSnapshot& g : v.store->Carriers()) {
    absl::StrAppend(&out, "sippacer_carrier_attempts_total{carrier=\"", Label(g.key), "\"} ", g.counts.attempts, "\n");
  }
  Head(out, "sippacer_invites_total", "counter", "New INVITEs received from dialers.");
  absl::StrAppend(&out, "sippacer_invites_total ", v.relay->invites_total.Get(), "\n");
  Head(out, "sippacer_invites_forwarded_total", "counter", "INVITEs forwarded to the trunk (attempts).");
  absl::StrAppend(&out, "sippacer_invites_forwarded_total ", v.relay->invites_forwarded.Get(), "\n");
  Head(out, "sippacer_invites_without_number_total", "counter",
       "New INVITEs whose caller ID is no number (--caller_id): forwarded and counted in the totals, or refused.");
  absl::StrAppend(&out, "sippacer_invites_without_number_total ", v.relay->invites_without_number.Get(), "\n");
  Head(out, "sippacer_invites_refused_acl_total", "counter", "INVITEs refused by --allow.");
  absl::StrAppend(&out, "sippacer_invites_refused_acl_total ", v.relay->invites_refused_acl.Get(), "\n");
  Head(out, "sippacer_sip_transactions", "gauge", "Sofia-SIP transactions in its tables, by side.");
  absl::StrAppend(&out, "sippacer_sip_transactions{side=\"server\"} ", v.relay->sip_server_transactions.Get(), "\n");
  absl::StrAppend(&out, "sippacer_sip_transactions{side=\"client\"} ", v.relay->sip_client_transactions.Get(), "\n");
  Head(out, "sippacer_sip_dialogs", "gauge", "Sofia-SIP dialogs (legs) in its tables.");
  absl::StrAppend(&out, "sippacer_sip_dialogs ", v.relay->sip_dialogs.Get(), "\n");
  Head(out, "sippacer_acks_dropped_total", "counter", "ACKs that completed no INVITE of ours, dropped.");
  absl::StrAppend(&out, "sippacer_acks_dropped_total ", v.relay->acks_dropped.Get(), "\n");
  Head(out, "sippacer_tcp_connections", "gauge", "Inbound TCP connections (sampled every second).");
  absl::StrAppend(&out, "sippacer_tcp_connections ", v.relay->tcp_connections.Get(), "\n");
  Head(out, "sippacer_tcp_closed_total", "counter", "Inbound TCP connections sippacer closed, by reason.");
  absl::StrAppend(&out, "sippacer_tcp_closed_total{reason=\"silent\"} ", v.relay->tcp_closed_silent.Get(), "\n");
  absl::StrAppend(&out, "sippacer_tcp_closed_total{reason=\"over_limit\"} ", v.relay->tcp_closed_over_limit.Get(),
                  "\n");
  Head(out, "sippacer_requests_refused_total", "counter",
       "Requests answered or dropped without reaching a call, by reason (docs/edge.md).");
  for (const auto& [reason, counter] :
       {std::pair<const char*, const RelayCounter*>{"out_of_dialog", &v.relay->out_of_dialog_refused},
        {"over_refusal_budget", &v.relay->refusals_dropped},
        {"loop", &v.relay->loops},
        {"malformed", &v.relay->malformed}}) {
    absl::StrAppend(&out, "sippacer_requests_refused_total{reason=\"", reason, "\"} ", counter->Get(), "\n");
  }
  Head(out, "sippacer_degraded_total", "counter", "Answers of 500 because sofia-sip could not give a resource.");
  absl::StrAppend(&out, "sippacer_degraded_total ", v.relay->degraded.Get(), "\n");
  Head(out, "sippacer_late_answers_total", "counter",
       "2xx answers that crossed our CANCEL: ACKed (a call is hung up).");
  absl::StrAppend(&out, "sippacer_late_answers_total ", v.relay->late_answers.Get(), "\n");
  Head(out, "sippacer_ring_timeouts_total", "counter", "INVITEs cancelled by sippacer at --ring_timeout.");
  absl::StrAppend(&out, "sippacer_ring_timeouts_total ", v.relay->ring_timeouts.Get(), "\n");
  Head(out, "sippacer_pracks_sent_total", "counter", "PRACKs sent for reliable provisional answers (RFC 3262).");
  absl::StrAppend(&out, "sippacer_pracks_sent_total ", v.relay->pracks_sent.Get(), "\n");
  Head(out, "sippacer_session_expiries_total", "counter",
       "Calls hung up by sippacer because no session refresh came in time (RFC 4028).");
  absl::StrAppend(&out, "sippacer_session_expiries_total ", v.relay->session_expiries.Get(), "\n");
  Head(out, "sippacer_invites_paced_total", "counter", "INVITEs refused (or, in dry run, marked) by pacing.");
  absl::StrAppend(&out, "sippacer_invites_paced_total ", v.pacer->paced_total(), "\n");
  Head(out, "sippacer_numbers", "gauge", "Tracked caller-ID numbers by pacing state.");
  for (NumberState s :
       {NumberState::kHealthy, NumberState::kThrottled, NumberState::kQuarantined, NumberState::kProbation}) {
    absl::StrAppend(&out, "sippacer_numbers{state=\"", pacing::StateName(s), "\"} ", v.pacer->numbers_in_state(s),
                    "\n");
  }
  Head(out, "sippacer_numbers_watched", "gauge", "Tracked numbers a watch rule flags (flagged, not paced).");
  absl::StrAppend(&out, "sippacer_numbers_watched ", v.pacer->numbers_watched(), "\n");
  Head(out, "sippacer_routes_elevated", "gauge",
       "Route and code pairs (carrier, country, area code) whose rate stands well above the rest of the pool.");
  absl::StrAppend(&out, "sippacer_routes_elevated ", v.pacer->ElevatedRoutes().size(), "\n");
  Head(out, "sippacer_numbers_evicted_total", "counter", "Idle healthy numbers evicted at --max_numbers.");
  absl::StrAppend(&out, "sippacer_numbers_evicted_total ", v.store->evictions(), "\n");
  Head(out, "sippacer_window_events_dropped_total", "counter",
       "Calls dropped from a full number log (16,384 events inside the history): its longest windows undercount.");
  absl::StrAppend(&out, "sippacer_window_events_dropped_total ", v.store->events_dropped(), "\n");
  Head(out, "sippacer_window_log_bytes", "gauge",
       "Bytes of the blocks that hold busy numbers' call logs (beyond each number's own slot).");
  absl::StrAppend(&out, "sippacer_window_log_bytes ", v.store->log_block_bytes(), "\n");
  Head(out, "sippacer_calls_active", "gauge", "Calls in progress through the relay.");
  absl::StrAppend(&out, "sippacer_calls_active ", v.relay->calls_active.Get(), "\n");

  const metrics::Store::PddHistogram pdd = v.store->Pdd();
  Head(out, "sippacer_post_dial_delay_seconds", "histogram", "INVITE to first 180/183.");
  for (size_t i = 0; i < pdd.bounds_s.size(); ++i) {
    absl::StrAppend(&out, "sippacer_post_dial_delay_seconds_bucket{le=\"", Float(pdd.bounds_s[i]), "\"} ",
                    pdd.cumulative[i], "\n");
  }
  absl::StrAppend(&out, "sippacer_post_dial_delay_seconds_bucket{le=\"+Inf\"} ", pdd.count, "\n",
                  "sippacer_post_dial_delay_seconds_sum ", Float(pdd.sum_s), "\n",
                  "sippacer_post_dial_delay_seconds_count ", pdd.count, "\n");

  // The worst numbers by 603 over the history window, with their attempts
  // over it (the sample an alert on the ratio should require).
  std::vector<metrics::NumberSnapshot> worst;
  v.store->ForEachNumber(now, [&](const metrics::NumberSnapshot& s) {
    if (s.window.of(metrics::Outcome::k603) > 0) worst.push_back(s);
  });
  std::sort(worst.begin(), worst.end(), [](const auto& a, const auto& b) {
    const uint32_t x = a.window.of(metrics::Outcome::k603), y = b.window.of(metrics::Outcome::k603);
    return x != y ? x > y : a.number < b.number;
  });
  if (worst.size() > kTopNumbers) worst.resize(kTopNumbers);
  const std::string window = absl::StrCat("the last ", absl::FormatDuration(v.store->options().history),
                                          " (the per-number history, set by the longest --rules window), for the ",
                                          kTopNumbers, " numbers with most 603s in it");
  Head(out, "sippacer_number_603_ratio", "gauge", absl::StrCat("603 share of attempts over ", window, "."));
  for (const auto& s : worst) {
    absl::StrAppend(
        &out, "sippacer_number_603_ratio{number=\"", metrics::FormatE164(s.number), "\"} ",
        s.window.attempts ? static_cast<double>(s.window.of(metrics::Outcome::k603)) / s.window.attempts : 0, "\n");
  }
  Head(out, "sippacer_number_attempts", "gauge", absl::StrCat("INVITEs forwarded to the trunk over ", window, "."));
  for (const auto& s : worst) {
    absl::StrAppend(&out, "sippacer_number_attempts{number=\"", metrics::FormatE164(s.number), "\"} ",
                    s.window.attempts, "\n");
  }
  if (v.trunks != nullptr) TrunkMetrics(out, *v.trunks);
  FleetMetrics(out, v, now);
  if (v.cdr != nullptr) {
    const CdrWriter::Status c = v.cdr->status();
    Head(out, "sippacer_cdr_written_total", "counter", "CDRs written (file, or PostgreSQL when only it is on).");
    absl::StrAppend(&out, "sippacer_cdr_written_total ", c.written, "\n");
    Head(out, "sippacer_cdr_dropped_total", "counter", "CDRs dropped because a queue bound was hit.");
    absl::StrAppend(&out, "sippacer_cdr_dropped_total ", c.dropped, "\n");
    Head(out, "sippacer_cdr_queued", "gauge", "CDRs waiting to be written.");
    absl::StrAppend(&out, "sippacer_cdr_queued ", c.queued, "\n");
    if (c.postgres_enabled) {
      Head(out, "sippacer_cdr_postgres_up", "gauge", "1 when the PostgreSQL CDR connection is up.");
      absl::StrAppend(&out, "sippacer_cdr_postgres_up ", c.postgres_connected ? 1 : 0, "\n");
      Head(out, "sippacer_cdr_postgres_written_total", "counter", "CDRs committed to PostgreSQL.");
      absl::StrAppend(&out, "sippacer_cdr_postgres_written_total ", c.pg_written, "\n");
    }
  }
  return out;
}

}  // namespace sippacer::proxy
