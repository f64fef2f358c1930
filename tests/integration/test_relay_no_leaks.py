"""No transaction outlives its call: after calls with re-INVITEs, carrier
BYEs, stray ACKs and CANCELs, once sofia's timers have run (32 s), its
transaction and dialog tables are empty again (show info, sampled from
nta_agent_get_stats), and no call object is left."""
import time

import harness as h

wd = h.workdir("relay-no-leaks")
carrier = h.Carrier(wd, scenario="carrier_stray_ack.xml").start()
d = h.Daemon(wd, carrier.port).start()
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")] * 10, rate=10,
                   scenario="dialer_wait_bye.xml", name="calls")
h.check_eq(res["successful"], 10, "calls with re-INVITE, stray ACKs and carrier BYE")
carrier.stop()
carrier2 = h.Carrier(wd, scenario="carrier_ring_until_cancel.xml", port=carrier.port).start()
res = h.run_dialer(wd, d.port, [("15551230002", "15550001200")] * 5, rate=10,
                   scenario="dialer_cancel.xml", name="cancel")
h.check_eq(res["finals"], {487: 5}, "cancelled calls")
h.wait_idle(d)
busy = d.request("show info")
h.check(busy["sip_server_transactions"] + busy["sip_client_transactions"] > 0, f"transactions right after: {busy}")
deadline = time.time() + 45
while time.time() < deadline:
    info = d.request("show info")
    if (info["sip_server_transactions"], info["sip_client_transactions"], info["calls_tracked"]) == (0, 0, 0):
        break
    time.sleep(1)
h.check_eq((info["sip_server_transactions"], info["sip_client_transactions"], info["sip_dialogs"],
            info["calls_tracked"]), (0, 0, 0, 0), f"sofia's tables after the timers ran: {info}")
d.stop()
carrier2.stop()
print("relay no leaks: ok")
