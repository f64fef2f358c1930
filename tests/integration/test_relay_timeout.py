"""A trunk that never answers: the dialer gets 408 (RFC 3261 Timer B, 32 s)
instead of hanging, the outcome is counted, and no call is left behind.
A trunk that rings forever: at --ring_timeout (Timer C) sippacer CANCELs
toward the trunk, the dialer gets 408, and the CDR says timeout (not a
callee's 487)."""
import json
import os

import harness as h

wd = h.workdir("relay-timeout")
carrier = h.Carrier(wd, scenario="carrier_silent.xml").start()
d = h.Daemon(wd, carrier.port, extra=[f"--cdr_file={wd}/cdr.jsonl"]).start()
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")], timeout=60)
h.check_eq(res["finals"], {408: 1}, "final at the dialer when the trunk is silent")
h.wait_idle(d)
h.check_eq(d.request("show number 15551230001")["codes"], {"408": 1}, "the timeout is counted")
d.stop()
row = json.loads(open(os.path.join(wd, "cdr.jsonl")).readline())
h.check_eq((row["code"], row["ended_by"]), (408, "timeout"), "CDR of the timed-out call")
carrier.stop()

wd = h.workdir("relay-ring-timeout")
carrier = h.Carrier(wd, scenario="carrier_ring_until_cancel.xml").start()
d = h.Daemon(wd, carrier.port, extra=[f"--cdr_file={wd}/cdr.jsonl", "--ring_timeout=2s"]).start()
res = h.run_dialer(wd, d.port, [("15551230002", "15550001200")], timeout=30)
h.check_eq(res["finals"], {408: 1}, "final at the dialer when the trunk rings past --ring_timeout")
cancels = [m for dirn, m in h.sipp_messages(wd, "carrier_ring") if dirn == "received"
           and h.first_line(m).startswith("CANCEL ")]
h.check_eq(len(cancels), 1, "CANCELs the ringing trunk got")
h.wait_idle(d)
h.check_eq(d.request("show number 15551230002")["codes"], {"408": 1}, "the ring timeout is counted as 408")
h.check_eq(d.request("show info")["ring_timeouts"], 1, "ring_timeouts in show info")
d.stop()
row = json.loads(open(os.path.join(wd, "cdr.jsonl")).readline())
h.check_eq((row["code"], row["ended_by"], row["pre_ring"]), (408, "timeout", False), "CDR of the ring timeout")
carrier.stop()
print("relay timeout: ok")
