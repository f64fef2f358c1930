#include "proxy/ctl/table.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sippacer::proxy {
namespace {

using Row = std::vector<std::string>;

std::string Percent(const JsonValue* rates, absl::string_view code) {
  const JsonValue* r = rates ? rates->Get(code) : nullptr;
  return r ? absl::StrFormat("%.1f%%", r->number * 100) : "-";
}

std::string Colored(const std::string& state, const TableStyle& style) {
  if (!style.color) return state;
  const char* c = state == "throttled"     ? "\033[33m"
                  : state == "quarantined" ? "\033[31;1m"
                  : state == "probation"   ? "\033[36m"
                                           : "";
  return *c ? absl::StrCat(c, state, "\033[0m") : state;
}

// Column widths ignore colour escapes.
size_t VisibleWidth(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\033') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string Format(const std::vector<Row>& rows) {
  std::vector<size_t> width;
  for (const Row& r : rows) {
    if (width.size() < r.size()) width.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], VisibleWidth(r[i]));
  }
  std::string out;
  for (const Row& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      const bool last = i + 1 == r.size();
      absl::StrAppend(&line, r[i], last ? "" : std::string(width[i] - VisibleWidth(r[i]) + 2, ' '));
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

// "480 56% (rest 32%), 603pre 9% (rest 2%)": the codes a route stands out in.
std::string ElevatedSummary(const JsonValue* elevated) {
  if (elevated == nullptr) return "-";
  std::string out;
  for (const JsonValue& e : elevated->items) {
    const JsonValue* code = e.Get("code");
    const JsonValue* rate = e.Get("rate");
    const JsonValue* rest = e.Get("rest_rate");
    absl::StrAppend(
        &out, out.empty() ? "" : ", ", code ? code->text : "?",
        absl::StrFormat(" %.0f%% (rest %.0f%%)", rate ? rate->number * 100 : 0, rest ? rest->number * 100 : 0));
  }
  return out.empty() ? "-" : out;
}

bool AnyHas(const JsonValue& items, absl::string_view key) {
  return std::any_of(items.items.begin(), items.items.end(), [key](const JsonValue& g) { return g.Get(key); });
}

// Carriers, countries, areas and hours: the columns are the fields the
// daemon sent (countries have a status, route groups an "elevated" list).
std::string GroupTable(const JsonValue& items, absl::string_view key) {
  std::set<std::string> codes;
  for (const JsonValue& g : items.items) {
    if (const JsonValue* c = g.Get("codes"))
      for (const auto& [k, v] : c->fields) codes.insert(k);
  }
  const bool status = AnyHas(items, "status"), elevated = AnyHas(items, "elevated");
  std::vector<Row> rows;
  Row head = {std::string(key)};
  if (status) head.insert(head.end(), {"STATUS", "DAYS"});
  head.push_back("ATTEMPTS");
  for (const std::string& c : codes) head.push_back(c);
  if (elevated) head.push_back("ELEVATED");
  rows.push_back(head);
  for (const JsonValue& g : items.items) {
    auto text = [&g](absl::string_view k, const char* absent) {
      const JsonValue* v = g.Get(k);
      return v ? v->ToText() : absent;
    };
    Row r = {text(key, "?")};
    if (status) r.insert(r.end(), {text("status", "-"), text("days", "-")});
    r.push_back(text("attempts", "0"));
    const JsonValue* c = g.Get("codes");
    for (const std::string& code : codes) {
      const JsonValue* n = c ? c->Get(code) : nullptr;
      r.push_back(n ? n->ToText() : "0");
    }
    if (elevated) r.push_back(ElevatedSummary(g.Get("elevated")));
    rows.push_back(r);
  }
  return Format(rows);
}

// `show trunks`: limits, traffic and what kept calls off each trunk.
std::string TrunkTable(const JsonValue& trunks) {
  std::vector<Row> rows = {{"NAME", "URI", "PRIO", "WEIGHT", "ACTIVE", "ATTEMPTS", "ANSWERED", "FAILOVERS",
                            "REFUSED CALLS+CPS", "503", "408"}};
  for (const JsonValue& t : trunks.items) {
    auto text = [&t](absl::string_view k) {
      const JsonValue* v = t.Get(k);
      return v ? v->ToText() : "-";
    };
    rows.push_back({text("name"), text("uri"), text("priority"), text("weight"), text("calls_active"), text("attempts"),
                    text("answered"), text("failovers"),
                    absl::StrCat(text("refused_max_calls"), "+", text("refused_max_cps")), text("unavailable"),
                    text("timeouts")});
  }
  return Format(rows);
}

// `show nodes`: the fleet's nodes, this one marked.
std::string NodesTable(const JsonValue& answer, const JsonValue& nodes, const TableStyle& style) {
  std::vector<Row> rows = {{"NODE", "SELF", "LAST_SYNC", "LAG_S", "STALE", "CALLS_PER_S", "NUMBERS", "VERSION"}};
  for (const JsonValue& n : nodes.items) {
    auto text = [&n](absl::string_view k) {
      const JsonValue* v = n.Get(k);
      return v ? v->ToText() : "-";
    };
    auto decimal = [&n](absl::string_view k) {
      const JsonValue* v = n.Get(k);
      return v && v->type == JsonValue::Type::kNumber ? absl::StrFormat("%.1f", v->number) : "-";
    };
    auto yes = [&n](absl::string_view k) {
      const JsonValue* v = n.Get(k);
      return v && v->type == JsonValue::Type::kBool ? (v->boolean ? "yes" : "no") : "-";
    };
    std::string stale = yes("stale");
    if (style.color && stale == "yes") stale = absl::StrCat("\033[31;1m", stale, "\033[0m");
    rows.push_back({text("node"), yes("self"), text("last_sync"), decimal("lag_s"), stale, decimal("calls_per_s"),
                    text("numbers"), text("version")});
  }
  std::string out = nodes.items.empty() ? "no nodes in redis yet\n" : Format(rows);
  if (const JsonValue* d = answer.Get("degraded"); d && d->type == JsonValue::Type::kBool && d->boolean) {
    const JsonValue* redis = answer.Get("redis");
    absl::StrAppend(&out, "degraded: not in sync with redis", redis ? absl::StrCat(" at ", redis->text) : "",
                    ", deciding on this node's own counts\n");
  }
  return out;
}

// `show number` in a fleet: the number's window split by node (this node
// first), codes as columns.
std::string ByNodeTable(const JsonValue& by_node) {
  std::set<std::string> codes;
  for (const JsonValue& n : by_node.items) {
    if (const JsonValue* c = n.Get("codes"))
      for (const auto& [k, v] : c->fields) codes.insert(k);
  }
  Row head = {"NODE", "ATTEMPTS"};
  for (const std::string& c : codes) head.push_back(c);
  head.insert(head.end(), {"PRE-RING 603", "603+", "PACED"});
  std::vector<Row> rows = {head};
  for (const JsonValue& n : by_node.items) {
    auto text = [&n](absl::string_view k, const char* absent) {
      const JsonValue* v = n.Get(k);
      return v ? v->ToText() : absent;
    };
    Row r = {text("node", "?"), text("attempts", "0")};
    const JsonValue* c = n.Get("codes");
    for (const std::string& code : codes) {
      const JsonValue* v = c ? c->Get(code) : nullptr;
      r.push_back(v ? v->ToText() : "0");
    }
    r.insert(r.end(), {text("pre_ring_603", "0"), text("network_blocked", "0"), text("paced", "0")});
    rows.push_back(r);
  }
  return Format(rows);
}

}  // namespace

std::string RenderNumbersTable(const JsonValue& numbers, const TableStyle& style) {
  std::vector<Row> rows = {
      {"NUMBER", "STATE", "ATTEMPTS", "603%", "480%", "200%", "PRE-RING 603", "603+", "PACED", "CPM", "REASON"}};
  for (const JsonValue& n : numbers.items) {
    auto text = [&n](absl::string_view k) {
      const JsonValue* v = n.Get(k);
      return v ? v->ToText() : "";
    };
    const JsonValue* rates = n.Get("rates");
    rows.push_back({text("number"), Colored(text("state"), style), text("attempts"), Percent(rates, "603"),
                    Percent(rates, "480"), Percent(rates, "200"), text("pre_ring_603"), text("network_blocked"),
                    text("paced"), text("calls_per_minute"), text("reason")});
  }
  return Format(rows);
}

std::string RenderForPerson(const JsonValue& answer, const TableStyle& style) {
  if (const JsonValue* n = answer.Get("numbers"); n && n->type == JsonValue::Type::kArray) {
    return n->items.empty() ? "no numbers\n" : RenderNumbersTable(*n, style);
  }
  if (const JsonValue* c = answer.Get("carriers")) return GroupTable(*c, "carrier");
  if (const JsonValue* c = answer.Get("countries")) return GroupTable(*c, "country_code");
  if (const JsonValue* a = answer.Get("areas")) return GroupTable(*a, "area_code");
  if (const JsonValue* h = answer.Get("hours")) return GroupTable(*h, "hour");
  if (const JsonValue* t = answer.Get("trunks")) return t->items.empty() ? "no trunks\n" : TrunkTable(*t);
  if (const JsonValue* n = answer.Get("nodes"); n && n->type == JsonValue::Type::kArray) {
    return NodesTable(answer, *n, style);
  }
  if (const JsonValue* c = answer.Get("commands")) {
    std::string out;
    for (const JsonValue& cmd : c->items) absl::StrAppend(&out, "  ", cmd.text, "\n");
    return out;
  }
  std::vector<Row> rows;
  const JsonValue* by_node = nullptr;
  for (const auto& [key, value] : answer.fields) {
    if (key == "by_node" && value.type == JsonValue::Type::kArray) {  // a table of its own, below
      by_node = &value;
    } else if (key == "rates" || (key == "codes" && value.type == JsonValue::Type::kObject)) {
      std::string line;
      for (const auto& [code, v] : value.fields) {
        absl::StrAppend(&line, line.empty() ? "" : "  ", code, ": ",
                        key == "rates" ? absl::StrFormat("%.1f%%", v.number * 100) : v.ToText());
      }
      rows.push_back({key, line.empty() ? "-" : line});
    } else if (key == "state") {
      rows.push_back({key, Colored(value.ToText(), style)});
    } else if (value.type == JsonValue::Type::kArray) {  // "changed": the keys, not "[2 items]"
      std::string line;
      for (const JsonValue& item : value.items) absl::StrAppend(&line, line.empty() ? "" : ", ", item.ToText());
      rows.push_back({key, line.empty() ? "-" : line});
    } else {
      rows.push_back({key, value.ToText()});
    }
  }
  std::string out = Format(rows);
  if (by_node != nullptr && !by_node->items.empty()) absl::StrAppend(&out, "\nby node:\n", ByNodeTable(*by_node));
  return out;
}

}  // namespace sippacer::proxy
