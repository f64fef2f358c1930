"""Dialogs after the INVITE: a re-INVITE from the dialer and a BYE from the
carrier both cross to the other side; a CANCEL after 180 cancels the trunk
leg and the dialer gets 487. No call is left behind."""
import harness as h

wd = h.workdir("relay-dialogs")
carrier = h.Carrier(wd, scenario="carrier_hangs_up.xml").start()
d = h.Daemon(wd, carrier.port, extra=["--cdr_file=" + wd + "/cdr.jsonl"]).start()
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")] * 3, rate=10,
                   scenario="dialer_wait_bye.xml", name="bye")
h.check_eq(res["rc"], 0, f"re-INVITE + carrier BYE scenario failed:\n{res['out'][-2000:]}")
h.check_eq(res["successful"], 3, "calls ended by the carrier's BYE")
dialer_rx = [m for dirn, m in h.sipp_messages(res["dir"]) if dirn == "received"]
h.check(sum(1 for m in dialer_rx if "s=trunk-held" in m) == 3, "the carrier's re-INVITE answer SDP did not reach the dialer")
h.check(sum(1 for m in dialer_rx if h.first_line(m).startswith("BYE ")) >= 3, "the carrier's BYE did not reach the dialer")
h.wait_idle(d)
carrier.stop()

carrier2 = h.Carrier(wd, scenario="carrier_ring_until_cancel.xml", port=carrier.port).start()
res = h.run_dialer(wd, d.port, [("15551230002", "15550001200")] * 3, rate=10,
                   scenario="dialer_cancel.xml", name="cancel")
h.check_eq(res["rc"], 0, f"CANCEL scenario failed:\n{res['out'][-2000:]}")
h.check_eq(res["finals"], {487: 3}, "finals after CANCEL")
cancels = [m for dirn, m in h.sipp_messages(wd, "carrier_ring") if dirn == "received" and h.first_line(m).startswith("CANCEL ")]
h.check(len(cancels) >= 3, "the carrier saw no CANCEL")
h.wait_idle(d)
d.stop()
carrier2.stop()

import json
rows = [json.loads(l) for l in open(wd + "/cdr.jsonl")]
h.check_eq(sorted(r["ended_by"] for r in rows), ["callee"] * 3 + ["cancel"] * 3, "CDR ended_by")
print("relay dialogs: ok")

# The 2xx/CANCEL race: the carrier answers 200 after the CANCEL. The dialer
# still gets 487, and the trunk leg is ACKed and hung up.
wd3 = h.workdir("relay-race")
racer = h.Carrier(wd3, scenario="carrier_answers_after_cancel.xml").start()
d = h.Daemon(wd3, racer.port).start()
res = h.run_dialer(wd3, d.port, [("15551230003", "15550001200")] * 2, rate=5, scenario="dialer_cancel.xml")
h.check_eq(res["finals"], {487: 2}, "finals at the dialer in the 2xx/CANCEL race")
def trunk_got():
    return [h.first_line(m).split()[0] for dirn, m in h.sipp_messages(wd3, "carrier") if dirn == "received"]


# The ACK and BYE follow the dialer's 487: give them a moment (sanitizer builds are slow).
h.wait_for(lambda: trunk_got().count("BYE") >= 2, timeout=10, what="the BYEs after the race")
got = trunk_got()
h.check_eq((got.count("ACK"), got.count("BYE")), (2, 2), f"ACK and BYE to the trunk after the race: {got}")
h.wait_idle(d)
d.stop()
racer.stop()
print("relay 2xx/CANCEL race: ok")
