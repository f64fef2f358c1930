#pragma once
// The stats socket's requests, one line each: the daemon's `help` and
// `sippacer-ctl --help` list them from here (docs/stats-socket.md).

namespace sippacer::proxy {

struct RequestHelp {
  const char* request;
  const char* about;
};
inline constexpr RequestHelp kRequests[] = {
    {"help [format=json]", "the requests the daemon serves"},
    {"prompt", "interactive mode on or off: a \"> \" prompt after each answer, the connection kept"},
    {"quit", "close the connection"},
    {"show info", "the daemon: version, uptime, calls, counters, numbers by state"},
    {"show codes", "final responses of all numbers, over the window and since start"},
    {"show number NUM", "one number: counts, rates, state and why (in a fleet: fleet-wide, split by node)"},
    {"show numbers [state=S] [sort=CODE|attempts] [limit=N] [format=csv]",
     "tracked numbers, paced ones first, then by the sort key"},
    {"show carriers [format=csv]", "counts per terminating carrier, elevated codes"},
    {"show countries [format=csv]", "counts per dialed country, learning or ready, baseline"},
    {"show areas [format=csv]", "counts per NANP area code, elevated codes"},
    {"show trunks [format=csv]", "each trunk's limits and counters"},
    {"show hours [format=csv]", "counts per hour of day"},
    {"show nodes", "the fleet (--redis): each node's last sync, lag, calls/s and numbers"},
    {"show policy", "the pacing settings, and the flags of those set live"},
    {"set policy KEY=VALUE ...", "change pacing settings live (logged, a policy event, kept in --state_file)"},
    {"quarantine NUM [for=DURATION]", "refuse a number's calls (one never seen too: pre-emptive)"},
    {"release NUM", "end a number's throttle, quarantine or probation"},
    {"subscribe", "events, one a line: state, watch, route, policy, stopping"},
};

}  // namespace sippacer::proxy
