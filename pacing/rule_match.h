#pragma once
// How a rule's CODE reads a window of counts, and the statistics that decide
// whether a rate is a signal or noise.

#include <cstdint>

#include <string>
#include <vector>

#include "metrics/call_outcome.h"
#include "metrics/outcome.h"
#include "pacing/policy.h"

namespace sippacer::pacing {

inline constexpr size_t kMaxRules = 8;
inline constexpr int kMaxCarrierRules = 4;  // carrier-code rules with per-carrier evidence

// Responses in `c` that the rule's CODE names (603, 6xx or 603+).
uint32_t RuleHits(const Rule& r, const metrics::CodeCounts& c);
bool RuleMatches(const Rule& r, const metrics::CallOutcome& o);
// True for codes a carrier answers on its own judgement of the caller ID
// (603pre, 603+, 608): their evidence is also kept per carrier.
bool IsCarrierCode(const Rule& r);
// The rule's index among the carrier-code rules (for CarrierEvidence), or -1
// past kMaxCarrierRules or for other codes.
int CarrierRuleIndex(const std::vector<Rule>& rules, size_t rule);
// "603pre", "603+", "6xx", "480": the rule's CODE as written.
std::string RuleCodeName(const Rule& r);

// Lower bound of the Wilson score interval for hits/n at `confidence`
// (two-sided, e.g. 0.90). 0 when n == 0. With few attempts the bound sits
// well below the raw rate, so a handful of 603s cannot condemn a number.
double WilsonLowerBound(uint32_t hits, uint32_t n, double confidence);

}  // namespace sippacer::pacing
