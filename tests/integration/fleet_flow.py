"""Shared pieces of the fleet tests: two sippacer nodes sharing one real
redis-server, one SIPp carrier behind both."""
import os

import harness as h

NUMBER = "15551230001"   # declined before ring on 3 calls of 10
HEALTHY = "15551230002"  # always answered
RULES = ["--rules=603pre>=20%/10m:quarantine", "--min_attempts=8", "--confidence=0",
         "--quarantine_for=0"]


def node(wd, name, carrier, redis, extra=()):
    d = os.path.join(wd, name)
    os.makedirs(d, exist_ok=True)
    return h.Daemon(d, carrier.port, [f"--redis=127.0.0.1:{redis.port}", f"--node_id={name}",
                                      f"--cdr_file={d}/cdr.jsonl"] + list(extra))


def declining_calls(n):
    """NUMBER's calls, 3 of every 10 declined before ring, each followed by
    one of HEALTHY's."""
    calls = []
    for i in range(n):
        calls.append((NUMBER, "15550000603" if i % 10 in (1, 4, 7) else "15550001200"))
        calls.append((HEALTHY, "15550001200"))
    return calls


def forwarded(wd, number):
    """INVITEs from `number` the carrier received."""
    return sum(1 for dirn, m in h.sipp_messages(wd, "carrier")
               if dirn == "received" and h.first_line(m).startswith("INVITE ")
               and number in (h.header(m, "P-Asserted-Identity") or h.header(m, "From") or ""))


def cdr_count(paths, number):
    n = 0
    for p in paths:
        try:
            with open(p) as f:
                n += sum(1 for line in f if number in line)
        except OSError:
            pass
    return n
