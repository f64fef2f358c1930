"""show number says, for each rule, the number's rate over the rule's
window, whether that is over the line, whether the rule fires, and when it
is over the line but the number is not paced, what held the rule (the
sample, the evidence, the pool's rate): what an operator needs when
Prometheus or the SQL alert shows a rate over a line and the daemon did
not pace."""
import harness as h
from pacing_flow import A, B

wd = h.workdir("stats-explain")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=["--rules=603>=20%/10m:throttle", "--min_attempts=5",
                                      "--false_alarm_rate=1e-6"]).start()
plan = []
for i in range(8):
    plan.append((A, "15550000603" if i % 2 == 0 else "15550001200"))  # A: half declined
    plan.append((B, "15550001200"))
res = h.run_dialer(wd, d.port, plan, rate=20, name="calls")
h.check_eq(res["failed"], 0, "failed calls")
h.wait_idle(d)
a = d.request(f"show number {A}")
h.check_eq(a["state"], "healthy", "A is not paced by 4 of 8")
rule = a["rules"][0]
h.check_eq((rule["rule"], rule["attempts"], rule["rate"], rule["over_line"], rule["fires"]),
           ("603>=20%/10m:throttle", 8, 0.5, True, False), "A's rule")
h.check(rule.get("held_by"), f"what held the rule is said: {rule}")
b = d.request(f"show number {B}")["rules"][0]
h.check_eq((b["over_line"], b["fires"], "held_by" in b), (False, False, False), "B, under the line")
d.stop()
carrier.stop()
print("stats explain: ok")
