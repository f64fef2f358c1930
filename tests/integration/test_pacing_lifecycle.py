"""A number the carriers decline gets throttled, then quarantined: its new
INVITEs are answered 480 with Retry-After and a Reason header and never
reach the carrier, while another number keeps dialing. release lets it
through again, and set policy takes effect without a restart."""
import socket

import harness as h
from pacing_flow import A, B, PHASE1, PHASE2, RULES, carrier_invites_from, interleave

wd = h.workdir("pacing-lifecycle")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=RULES).start()

events = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
events.connect(d.socket_path)
events.sendall(b"subscribe\n")
events.settimeout(5)

res = h.run_dialer(wd, d.port, PHASE1, rate=10, name="phase1")
h.check_eq(res["failed"], 0, "phase 1 failures")
h.wait_idle(d)
h.check_eq(d.request(f"show number {A}")["state"], "throttled", "A after 30% declines")
h.check_eq(d.request(f"show number {B}")["state"], "healthy", "B after phase 1")

res = h.run_dialer(wd, d.port, PHASE2, rate=10, name="phase2")
h.wait_idle(d)
a = d.request(f"show number {A}")
h.check_eq(a["state"], "quarantined", "A after its declines rose")
h.check("603" in a["reason"] and "rule 603>=35%/10m:quarantine" in a["reason"], f"reason: {a['reason']}")
h.check(a["paced"] > 0, "A's refused INVITEs are counted as paced")
h.check_eq(res["finals"].get(200, 0), 10, "B's calls in phase 2 all answered")

before = carrier_invites_from(wd, A)
res = h.run_dialer(wd, d.port, interleave(["15550001200"] * 5), rate=10, name="phase3")
h.check_eq(res["finals"], {480: 5, 200: 5}, "finals while A is quarantined")
h.check_eq(carrier_invites_from(wd, A), before, "INVITEs from A that reached the carrier while quarantined")
refusals = [m for dirn, m in h.sipp_messages(res["dir"]) if dirn == "received" and h.first_line(m).startswith("SIP/2.0 480")]
h.check_eq(len(refusals), 5, "480s in the dialer's log")
for m in refusals:
    h.check(int(h.header(m, "Retry-After")) > 0, "Retry-After on a paced 480")
    reason = h.header(m, "Reason")
    h.check(reason.startswith('SIP;cause=480;text="sippacer: quarantined'), f"Reason on a paced 480: {reason}")

lines = b""
while lines.count(b"\n") < 3:
    lines += events.recv(65536)
got = lines.decode()
h.check('"to":"throttled"' in got and '"to":"quarantined"' in got, f"subscribe events: {got}")
h.check(f"+{A} healthy -> throttled" in d.log() and f"+{A} throttled -> quarantined" in d.log(), "state changes in the log")

released = d.request(f"release {A}")
h.check_eq(released["state"], "healthy", "release answer")
res = h.run_dialer(wd, d.port, [(A, "15550001200")] * 3, rate=10, name="released")
h.check_eq(res["finals"], {200: 3}, "A's calls after release")

# A velocity cap set live: a fresh number gets one call, the next two are refused.
p = d.request("set policy number_cpm=1")
h.check_eq(p["number_cpm"], 1, "set policy answer")
h.check_eq(d.request("show policy")["number_cpm"], 1, "show policy after set policy")
res = h.run_dialer(wd, d.port, [("15551239999", "15550001200")] * 3, rate=10, name="capped")
h.check_eq(res["finals"], {200: 1, 480: 2}, "a new number under number_cpm=1")
h.check_eq(d.request("show number 15551239999")["state"], "healthy", "a capped number stays healthy")
h.check("error" in d.request("set policy number_cpm=-1"), "a bad live value is refused")
h.check_eq(d.request("show policy")["number_cpm"], 1, "policy unchanged by a refused update")
d.stop()
carrier.stop()
print("pacing lifecycle: ok")
