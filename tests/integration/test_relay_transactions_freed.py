"""Finished transactions do not hold memory longer than they must (sofia
patches 0012 and 0015): after answered calls the dialer hangs up; as the
calls end no client transaction is left (the INVITEs answered 2xx and the
ACKs sent are freed when the call ends, not kept 32 s, and the BYEs sent
when they are answered, not kept 5 s for Timer K); once T4 (5 s) has passed
the only server transactions left are the BYEs, which Timer J keeps 32 s to
answer a retransmitted BYE again (without their requests: 0016,
relay_answered_retransmissions). With --timer_j=2s (patch 0014) those go too. The
stock sofia-sip keeps the INVITEs and the ACKs: there the counts are
printed, not checked, and --timer_j is refused at start (exit 2)."""
import subprocess
import time

import harness as h

CALLS = 20

wd = h.workdir("relay-transactions-freed")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port).start()
res = h.run_dialer(wd, d.port, [("15551230001", f"1555000{i:04d}") for i in range(CALLS)], rate=20)
h.check_eq(res["successful"], CALLS, "answered calls, hung up by the dialer")
h.wait_idle(d)
if d.request("show info")["sofia_sip"] == "patched":  # the BYEs we sent went with their answers (0015)
    h.wait_for(lambda: d.request("show info")["sip_client_transactions"] == 0, timeout=2,
               what="no client transaction within 2 s of the calls' end (Timer K is 5 s)")
else:
    print(f"stock sofia-sip, as the calls end: {d.request('show info')['sip_client_transactions']} client transactions")
time.sleep(7)  # T4 (5 s), with room to spare: the INVITEs' Timer I
info = d.request("show info")
counts = (info["sip_server_transactions"], info["sip_client_transactions"])
if info["sofia_sip"] == "patched":
    h.check_eq(counts, (CALLS, 0), f"server and client transactions 7 s after the calls: {info}")
else:
    print(f"stock sofia-sip, 7 s after the calls: server {counts[0]}, client {counts[1]} transactions")
d.stop()

if info["sofia_sip"] == "patched":
    d = h.Daemon(wd, carrier.port, extra=["--timer_j=2s"]).start()
    res = h.run_dialer(wd, d.port, [("15551230002", f"1555000{i:04d}") for i in range(CALLS)], rate=20,
                       name="timer_j")
    h.check_eq(res["successful"], CALLS, "answered calls with --timer_j=2s")
    h.wait_idle(d)
    time.sleep(7)
    info = d.request("show info")
    h.check_eq((info["sip_server_transactions"], info["sip_client_transactions"]), (0, 0),
               f"transactions 7 s after the calls, --timer_j=2s: {info}")
    d.stop()
else:
    p = subprocess.run([h.SIPPACER_BIN, f"--trunk=127.0.0.1:{carrier.port}", "--timer_j=5s"],
                       capture_output=True, text=True, timeout=10)
    h.check_eq(p.returncode, 2, f"--timer_j on the stock build: {p.stderr}")
    h.check("--timer_j" in p.stderr, f"the error names the flag: {p.stderr}")
carrier.stop()
print("relay transactions freed: ok")
