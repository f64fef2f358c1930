"""The call plan both pacing tests run: number A declined more and more
before ring, number B always answered."""
import harness as h

A, B = "15551230001", "15551230002"
RULES = ["--rules=603>=20%/10m:throttle,603>=35%/10m:quarantine", "--min_attempts=5",
         "--false_alarm_rate=0.5",
         "--confidence=0", "--throttled_cpm=6000", "--quarantine_for=0"]


def interleave(a_callees):
    calls = []
    for callee in a_callees:
        calls.append((A, callee))
        calls.append((B, "15550001200"))
    return calls


# Phase 1: A 3 of 10 declined (30%: over the throttle line only).
PHASE1 = interleave(["15550000603" if i in (1, 4, 7) else "15550001200" for i in range(10)])
# Phase 2: A declined every time: its rate climbs over the quarantine line.
PHASE2 = interleave(["15550000603"] * 10)


def carrier_invites_from(wd, number):
    return sum(1 for dirn, m in h.sipp_messages(wd, "carrier")
               if dirn == "received" and h.first_line(m).startswith("INVITE ")
               and number in (h.header(m, "P-Asserted-Identity") or ""))
