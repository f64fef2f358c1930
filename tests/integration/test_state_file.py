"""--state_file: counters, windows and number states, quarantines included,
survive a restart after SIGTERM; after SIGKILL at most the last save period
(5 s) is lost."""
import os
import signal
import time

import harness as h

wd = h.workdir("state-file")
state = os.path.join(wd, "state.jsonl")
carrier = h.Carrier(wd).start()
port = h.free_port()
extra = [f"--state_file={state}"]
d = h.Daemon(wd, carrier.port, listen_port=port, extra=extra).start()
calls = [("15551230001", "15550000603" if i % 10 < 3 else "15550001200") for i in range(10)]
calls += [("15551230002", "15550001200")] * 5
res = h.run_dialer(wd, d.port, calls, rate=20)
h.check_eq(res["failed"], 0, "failed calls")
h.wait_idle(d)
h.check_eq(d.request("quarantine 15551230003 for=2h")["state"], "quarantined", "operator quarantine")
before_a = d.request("show number 15551230001")
d.stop()
h.check(os.path.exists(state), "no state file after SIGTERM")

d = h.Daemon(wd, carrier.port, listen_port=port, extra=extra).start()
h.check("restored 3 numbers" in d.log(), f"restore not logged:\n{d.log()}")
a = d.request("show number 15551230001")
for k in ("attempts", "codes", "pre_ring_603", "rates"):
    h.check_eq(a[k], before_a[k], f"A's {k} after restart")
c = d.request("show number 15551230003")
h.check_eq(c["state"], "quarantined", "the quarantine survives a restart")
h.check_eq(c["reason"], "operator: for 2h", "its reason")
h.check_eq(d.request("show info")["numbers_quarantined"], 1, "numbers_quarantined after restart")
res = h.run_dialer(wd, d.port, [("15551230003", "15550001200")], name="still-quarantined")
h.check_eq(res["finals"], {480: 1}, "a restored quarantine still refuses calls")

# SIGKILL: what the last periodic save held comes back.
res = h.run_dialer(wd, d.port, [("15551230004", "15550001200")] * 4, name="before-kill")
h.wait_idle(d)
time.sleep(6)  # one save period
d.proc.send_signal(signal.SIGKILL)
d.proc.wait(5)
d = h.Daemon(wd, carrier.port, listen_port=port, extra=extra).start()
h.check_eq(d.request("show number 15551230004")["attempts"], 4, "counts saved before SIGKILL")
h.check_eq(d.request("show number 15551230003")["state"], "quarantined", "quarantine after SIGKILL")
d.stop()
carrier.stop()
print("state file: ok")
