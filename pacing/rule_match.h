#pragma once
// How a rule's CODE reads a window of counts, and the statistics that decide
// whether a rate is a signal or noise.

#include <cstdint>

#include <string>

#include "metrics/call_outcome.h"
#include "metrics/outcome.h"
#include "pacing/policy.h"

namespace sippacer::pacing {

inline constexpr size_t kMaxRules = 8;

// Responses in `c` that the rule's CODE names (603, 6xx or 603+).
uint32_t RuleHits(const Rule& r, const metrics::CodeCounts& c);
bool RuleMatches(const Rule& r, const metrics::CallOutcome& o);
// "603pre", "603+", "6xx", "480": the rule's CODE as written.
std::string RuleCodeName(const Rule& r);

// Lower bound of the Wilson score interval for hits/n at `confidence`
// (two-sided, e.g. 0.90). 0 when n == 0. With few attempts the bound sits
// well below the raw rate, so a handful of 603s cannot condemn a number.
double WilsonLowerBound(uint32_t hits, uint32_t n, double confidence);

}  // namespace sippacer::pacing
