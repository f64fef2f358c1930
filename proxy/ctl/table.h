#pragma once
// Printing the daemon's answers for a person: aligned tables, rates as
// percentages, pacing states coloured on a terminal.

#include <string>

#include "proxy/ctl/json_value.h"

namespace sippacer::proxy {

struct TableStyle {
  bool color = false;
};

// The whole answer as text (ends with a newline).
std::string RenderForPerson(const JsonValue& answer, const TableStyle& style);
// `show numbers` rows as the watch view's table.
std::string RenderNumbersTable(const JsonValue& numbers, const TableStyle& style);

}  // namespace sippacer::proxy
