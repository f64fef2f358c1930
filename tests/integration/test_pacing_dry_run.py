"""--dry_run decides, counts and reports exactly as live pacing would, yet
every INVITE reaches the carrier."""
import harness as h
from pacing_flow import A, PHASE1, PHASE2, RULES, carrier_invites_from, interleave

wd = h.workdir("pacing-dry-run")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=RULES + ["--dry_run"]).start()
finals = {}
for name, plan in (("p1", PHASE1), ("p2", PHASE2), ("p3", interleave(["15550001200"] * 5))):
    res = h.run_dialer(wd, d.port, plan, rate=10, name=name)
    for code, n in res["finals"].items():
        finals[code] = finals.get(code, 0) + n
    h.wait_idle(d)
h.check_eq(finals.get(480, 0), 0, "paced 480s in dry run")
h.check_eq(carrier_invites_from(wd, A), 25, "INVITEs from A at the carrier")
a = d.request(f"show number {A}")
h.check_eq(a["state"], "quarantined", "A's reported state in dry run")
h.check_eq(a["attempts"], 25, "A's attempts")
h.check(a["paced"] >= 5, "dry-run decisions are counted as paced")
h.check_eq(d.request("show info")["dry_run"], True, "show info says dry run")
d.stop()
carrier.stop()
print("pacing dry run: ok")
