#pragma once
// E.164 normalisation of caller and callee numbers.
//
// Accepts the forms dialers and carriers actually send: "+15551230001",
// "15551230001", "5551230001" (national, gets --default_country_code),
// "(555) 123-0001", "tel:+1-555-123-0001", "00441632960000" (international
// prefix), with visual separators . - ( ) and spaces.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "metrics/call_outcome.h"

namespace sippacer::metrics {

// Returns the number, or nullopt when `raw` holds no plausible E.164 number
// (letters, fewer than 7 or more than 15 digits after normalisation).
// `default_country_code` is digits only ("1", "44").
std::optional<E164> NormalizeE164(absl::string_view raw, absl::string_view default_country_code);

// "+15551230001".
std::string FormatE164(E164 number);

}  // namespace sippacer::metrics
