#include "proxy/ops/render.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "metrics/e164.h"
#include "pacing/event_json.h"
#include "pacing/rule_match.h"
#include "proxy/cdr/cdr_writer.h"
#include "proxy/sip/trunk_group.h"
#include "proxy/ops/render_select.h"

namespace sippacer::proxy {

namespace {

// `format=csv` answers, as HAProxy's `show stat`: a "# " header line naming
// the columns, then one line per row, fields separated by commas. A field
// with a comma or a quote (or a leading '#') is quoted, its quotes doubled;
// a control character (a line break) becomes a space, so a row is always
// one line; invalid UTF-8 becomes U+FFFD.
class Csv {
 public:
  explicit Csv(const std::vector<std::string>& header) {
    out_ = "# ";
    for (size_t i = 0; i < header.size(); ++i) absl::StrAppend(&out_, i ? "," : "", header[i]);
    out_.push_back('\n');
  }
  Csv& Text(absl::string_view v) {
    Separate();
    const bool quote = v.find_first_of(",\"") != absl::string_view::npos || absl::StartsWith(v, "#");
    if (quote) out_.push_back('"');
    for (size_t i = 0; i < v.size(); ++i) {
      const auto c = static_cast<unsigned char>(v[i]);
      if (c >= 0x80) {
        i += metrics::AppendUtf8Sequence(out_, v, i) - 1;  // valid UTF-8, as the JSON answers
        continue;
      }
      if (c == '"') out_.push_back('"');
      out_.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));  // a row stays one line
    }
    if (quote) out_.push_back('"');
    return *this;
  }
  Csv& Uint(uint64_t v) { return Text(absl::StrCat(v)); }
  Csv& Int(int64_t v) { return Text(absl::StrCat(v)); }
  Csv& Double(double v) { return Text(absl::StrCat(v)); }
  Csv& Bool(bool v) { return Text(v ? "true" : "false"); }
  void EndRow() {
    out_.push_back('\n');
    row_started_ = false;
  }
  std::string Take() { return std::move(out_); }

 private:
  void Separate() {
    if (row_started_) out_.push_back(',');
    row_started_ = true;
  }
  std::string out_;
  bool row_started_ = false;
};

// The columns of a CodeCounts: attempts, one per outcome, the two 603 kinds.
void AddCountColumns(std::vector<std::string>& header) {
  header.push_back("attempts");
  for (int i = 0; i < metrics::kOutcomeCount; ++i) {
    header.push_back(std::string(metrics::OutcomeKey(static_cast<metrics::Outcome>(i))));
  }
  header.push_back("pre_ring_603");
  header.push_back("network_blocked");
}

void AddCounts(Csv& csv, const metrics::CodeCounts& c) {
  csv.Uint(c.attempts);
  for (int i = 0; i < metrics::kOutcomeCount; ++i) csv.Uint(c.by_outcome[i]);
  csv.Uint(c.pre_ring_603).Uint(c.network_blocked);
}

// The codes `route` stands out in now, space-separated ("480 603pre"); "" when none.
std::string ElevatedCodes(absl::string_view route, const std::vector<pacing::RouteStatus>& elevated) {
  std::string out;
  for (const pacing::RouteStatus& r : elevated) {
    if (r.route == route) absl::StrAppend(&out, out.empty() ? "" : " ", r.code);
  }
  return out;
}

using CsvExtra = std::function<void(Csv&, const metrics::GroupSnapshot&)>;

std::string RouteGroupsCsv(absl::string_view key_name, absl::string_view route_kind,
                           const std::vector<metrics::GroupSnapshot>& groups,
                           const std::vector<pacing::RouteStatus>& elevated,
                           const std::vector<std::string>& extra_header = {}, const CsvExtra& extra = nullptr) {
  std::vector<std::string> header = {std::string(key_name)};
  header.insert(header.end(), extra_header.begin(), extra_header.end());
  AddCountColumns(header);
  header.push_back("elevated");
  Csv csv(header);
  for (const metrics::GroupSnapshot& g : groups) {
    csv.Text(g.key);
    if (extra) extra(csv, g);
    AddCounts(csv, g.counts);
    csv.Text(ElevatedCodes(absl::StrCat(route_kind, ":", g.key), elevated));
    csv.EndRow();
  }
  return csv.Take();
}

}  // namespace

std::string RenderNumbersCsv(const OpsView& v, const std::vector<std::string>& args, absl::Time now) {
  auto rows = SelectNumbers(v, args, now);
  if (!rows.ok()) return ErrorJson(rows.status().message());
  std::vector<std::string> header = {"number", "state", "reason", "until", "watched", "watch_reason", "window_s"};
  AddCountColumns(header);
  header.insert(header.end(), {"paced", "paced_total", "calls_per_minute", "pdd_ms_avg", "last_seen"});
  Csv csv(header);
  for (const NumberRow& r : *rows) {
    const pacing::NumberPacing& p = r.pacing;
    csv.Text(metrics::FormatE164(r.snap.number)).Text(pacing::StateName(p.state)).Text(p.reason);
    csv.Text(p.state == pacing::NumberState::kQuarantined && p.until != absl::InfiniteFuture() ? IsoTime(p.until) : "");
    csv.Bool(p.watched).Text(p.watched ? p.watch_reason : "");
    csv.Int(absl::ToInt64Seconds(r.snap.window_length));
    AddCounts(csv, r.snap.window);
    csv.Uint(r.snap.window.paced).Uint(p.paced).Double(r.snap.calls_per_minute).Double(r.snap.pdd_ms_avg);
    csv.Text(IsoTime(r.snap.last_seen));
    csv.EndRow();
  }
  return csv.Take();
}

std::string RenderCarriersCsv(const OpsView& v) {
  return RouteGroupsCsv("carrier", "carrier", v.store->Carriers(), v.pacer->ElevatedRoutes());
}

std::string RenderCountriesCsv(const OpsView& v) {
  return RouteGroupsCsv("country_code", "country", CountryGroups(*v.store), v.pacer->ElevatedRoutes(),
                        {"status", "days"}, [&v](Csv& csv, const metrics::GroupSnapshot& g) {
                          const int cc = CountryCode(g.key);
                          csv.Text(v.pacer->CountryLearning(cc) ? "learning" : "ready");
                          csv.Uint(v.store->Country(cc).days_seen);
                        });
}

std::string RenderAreasCsv(const OpsView& v) {
  return RouteGroupsCsv("area_code", "area", v.store->Areas(), v.pacer->ElevatedRoutes());
}

std::string RenderHoursCsv(const OpsView& v) {
  std::vector<std::string> header = {"hour"};
  AddCountColumns(header);
  Csv csv(header);
  for (const metrics::GroupSnapshot& g : v.store->Hours()) {
    csv.Text(g.key);
    AddCounts(csv, g.counts);
    csv.EndRow();
  }
  return csv.Take();
}

std::string RenderTrunksCsv(const OpsView& v) {
  std::vector<std::string> header = {"name",      "uri",       "priority",          "weight",
                                     "max_calls", "max_cps",   "calls_active",      "attempts",
                                     "answered",  "failovers", "refused_max_calls", "refused_max_cps"};
  for (int c = 1; c <= 6; ++c) header.push_back(absl::StrCat(c, "xx"));
  header.insert(header.end(), {"timeouts", "unavailable"});
  Csv csv(header);
  for (int i = 0; v.trunks != nullptr && i < static_cast<int>(v.trunks->size()); ++i) {
    const TrunkSpec& t = v.trunks->spec(i);
    const TrunkStats& s = v.trunks->stats(i);
    csv.Text(t.name).Text(t.uri).Int(t.priority).Int(t.weight).Int(t.max_calls).Double(t.max_cps);
    csv.Uint(s.calls_active.Get()).Uint(s.attempts.Get()).Uint(s.answered.Get()).Uint(s.failovers.Get());
    csv.Uint(s.refused_max_calls.Get()).Uint(s.refused_max_cps.Get());
    for (int c = 1; c <= 6; ++c) csv.Uint(c < static_cast<int>(s.finals.size()) ? s.finals[c].Get() : 0);
    csv.Uint(s.finals[0].Get()).Uint(s.unavailable.Get());
    csv.EndRow();
  }
  return csv.Take();
}

}  // namespace sippacer::proxy
