"""A trunk that never answers: the dialer gets 408 (RFC 3261 Timer B, 32 s)
instead of hanging, the outcome is counted, and no call is left behind."""
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
print("relay timeout: ok")
