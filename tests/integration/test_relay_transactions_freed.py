"""Finished transactions do not hold memory longer than they must (sofia
patch 0012): after answered calls the dialer hangs up, once T4 (5 s) has
passed, no client transaction is left (the INVITEs answered 2xx and the ACKs
sent are freed when the call ends, not kept 32 s) and the only server
transactions left are the BYEs, which Timer J keeps 32 s to answer a
retransmitted BYE again. The stock sofia-sip keeps the INVITEs and both
ACKs too: there the counts are printed, not checked."""
import time

import harness as h

CALLS = 20

wd = h.workdir("relay-transactions-freed")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port).start()
res = h.run_dialer(wd, d.port, [("15551230001", f"1555000{i:04d}") for i in range(CALLS)], rate=20)
h.check_eq(res["successful"], CALLS, "answered calls, hung up by the dialer")
h.wait_idle(d)
time.sleep(7)  # T4 (5 s), with room to spare: the client BYEs are gone too
info = d.request("show info")
counts = (info["sip_server_transactions"], info["sip_client_transactions"])
if info["sofia_sip"] == "patched":
    h.check_eq(counts, (CALLS, 0), f"server and client transactions 7 s after the calls: {info}")
else:
    print(f"stock sofia-sip, 7 s after the calls: server {counts[0]}, client {counts[1]} transactions")
d.stop()
carrier.stop()
print("relay transactions freed: ok")
