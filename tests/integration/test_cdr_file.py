"""--cdr_file: one JSON line per call attempt with docs/cdr.md's fields and
values, paced and ACL-refused INVITEs included; SIGHUP reopens the file
(logrotate) and nothing is lost across it."""
import json
import os
import signal

import harness as h

FIELDS = ["ts", "caller", "callee", "carrier", "trunk", "code", "reason", "pre_ring", "network_blocked",
          "reason_header", "pdd_ms", "setup_ms", "duration_s", "ended_by", "paced", "a_call_id", "b_call_id"]

wd = h.workdir("cdr-file")
cdr = os.path.join(wd, "cdr.jsonl")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=[f"--cdr_file={cdr}", "--allow=127.0.0.1/32"]).start()
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200"), ("15551230001", "15550000603"),
                                 ("15551230002", "15550002603"), ("15551230002", "15550001486")], rate=10, hold_ms=1200)
h.check_eq(res["failed"], 0, "failed calls")
d.request("quarantine 15551230003")
h.run_dialer(wd, d.port, [("15551230003", "15550001200")], name="paced")
h.run_dialer(wd, d.port, [("15551230004", "15550001200")], host="127.0.0.2", name="acl")
h.wait_idle(d)
h.wait_for(lambda: sum(1 for _ in open(cdr)) == 6, what="6 CDR lines")
rows = [json.loads(l) for l in open(cdr)]
for r in rows:
    h.check(all(f in r for f in FIELDS), f"missing fields in {r}")
    h.check(r["ts"].endswith("Z") and "T" in r["ts"], f"ts not ISO-8601 UTC: {r['ts']}")
by_code = {(r["caller"], r["code"]): r for r in rows}
ok = by_code[("+15551230001", 200)]
h.check_eq((ok["pre_ring"], ok["ended_by"], ok["paced"]), (False, "caller", None), "answered call")
h.check(ok["duration_s"] is not None and ok["duration_s"] >= 1, f"duration_s {ok['duration_s']}")
h.check(ok["pdd_ms"] is not None and ok["pdd_ms"] <= ok["setup_ms"], "pdd_ms of a ringing call")
h.check(ok["b_call_id"] and ok["b_call_id"] != ok["a_call_id"], "b_call_id")
trunk = d.request("show trunks")["trunks"][0]["name"]
h.check_eq(ok["trunk"], trunk, "trunk of a forwarded call")
dec = by_code[("+15551230001", 603)]
h.check_eq((dec["pre_ring"], dec["pdd_ms"], dec["duration_s"], dec["network_blocked"], dec["reason"]),
           (True, None, None, False, "Decline"), "603 before ring")
nb = [r for r in rows if r["network_blocked"]]
h.check_eq(len(nb), 1, "603+ rows")
h.check(nb[0]["reason_header"].startswith("SIP;cause=603;text=\"Blocked by analytics"), f"reason_header {nb[0]['reason_header']}")
h.check_eq(by_code[("+15551230002", 486)]["pre_ring"], False, "486 after ringing")
paced = by_code[("+15551230003", 480)]
h.check_eq((paced["paced"], paced["b_call_id"], paced["trunk"]), ("quarantine", None, None), "paced INVITE")
acl = by_code[("+15551230004", 403)]
h.check_eq((acl["refused_by_acl"], acl["paced"], acl["b_call_id"], acl["trunk"]), (True, None, None, None),
           "ACL-refused INVITE")

os.rename(cdr, cdr + ".1")
d.proc.send_signal(signal.SIGHUP)
h.wait_for(lambda: "reopened" in d.log(), what="the CDR file reopened")
h.run_dialer(wd, d.port, [("15551230005", "15550001200")] * 3, rate=10, name="after-hup")
h.wait_idle(d)
d.stop()
h.check_eq(sum(1 for _ in open(cdr + ".1")), 6, "lines in the rotated file")
h.check_eq([json.loads(l)["caller"] for l in open(cdr)], ["+15551230005"] * 3, "lines in the new file")
carrier.stop()
print("cdr file: ok")
