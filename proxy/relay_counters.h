#pragma once
// RelayCounters: what the SIP thread counts about the relay itself.
//
// Single writer (the SIP thread), relaxed atomics, read by the stats thread
// for `show info` and /metrics. Each counter on its own cache line so the
// writer never shares a line with a reader's poll of another counter.

#include <atomic>
#include <cstdint>

namespace sippacer::proxy {

struct alignas(64) RelayCounter {
  std::atomic<uint64_t> value{0};
  void Add(uint64_t n = 1) { value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void Sub(uint64_t n = 1) { value.store(value.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  uint64_t Get() const { return value.load(std::memory_order_relaxed); }
};

struct RelayCounters {
  RelayCounter invites_total;      // new INVITEs received from dialers
  RelayCounter invites_forwarded;  // sent to the trunk (attempts)
  RelayCounter invites_refused_acl;
  RelayCounter invites_paced;           // refused by pacing (not in dry run)
  RelayCounter invites_without_number;  // no header in --caller_id held a usable number
  RelayCounter calls_active;            // A legs not yet ended
  RelayCounter finals_relayed;
  RelayCounter auth_retries;  // INVITEs re-sent with digest credentials
  RelayCounter malformed;     // requests answered 400 or dropped
  RelayCounter out_of_dialog_refused;
  RelayCounter acks_dropped;      // ACKs that completed no INVITE of ours
  RelayCounter late_answers;      // a 2xx that crossed our CANCEL: ACKed (and, for a call, hung up)
  RelayCounter ring_timeouts;     // INVITEs CANCELled by us at --ring_timeout
  RelayCounter pracks_sent;       // PRACKs of reliable provisionals (RFC 3262, per leg)
  RelayCounter session_expiries;  // calls ended because no session refresh came (RFC 4028)
  RelayCounter trunk_limited;     // INVITEs refused: every trunk at its max_calls or max_cps
  RelayCounter trunk_failovers;   // calls sent on to another trunk after 503, 408 or a transport error
  RelayCounter loops;             // INVITEs that already passed through us (482)
  RelayCounter refusals_dropped;  // over a source's refusal budget: no answer
  RelayCounter degraded;          // a resource sofia could not give us: 500
  RelayCounter calls_tracked;     // Call objects alive, ended ones not yet freed included
  // Sofia's own tables, sampled every 100 ms: a leak shows here first.
  RelayCounter sip_server_transactions;
  RelayCounter sip_client_transactions;
  RelayCounter sip_dialogs;
  // Inbound TCP connections (sampled every second) and those the guard closed.
  RelayCounter tcp_connections;
  RelayCounter tcp_closed_silent;      // not one byte in --tcp_idle_timeout
  RelayCounter tcp_closed_over_limit;  // past --tcp_max_per_source or --tcp_max_connections
};

}  // namespace sippacer::proxy
