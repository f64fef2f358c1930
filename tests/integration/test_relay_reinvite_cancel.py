"""A CANCEL of a relayed re-INVITE reaches the other side: the dialer gets
200 for the CANCEL and 487 for its re-INVITE, the carrier gets a CANCEL for
our copy. When the carrier's 200 crosses that CANCEL, sippacer ACKs it (the
carrier would otherwise retransmit it and end the call) and the call goes on
to a normal BYE. Nothing is left behind."""
import harness as h


def run(scenario, name):
    wd = h.workdir(name)
    carrier = h.Carrier(wd, scenario=scenario).start()
    d = h.Daemon(wd, carrier.port).start()
    res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")] * 2, rate=10,
                       scenario="dialer_reinvite_cancel.xml", timeout=30)
    h.check_eq(res["rc"], 0, f"{scenario}: the dialer's flow failed:\n{res['out'][-2000:]}")
    h.check_eq(res["successful"], 2, f"{scenario}: calls completed at the dialer")
    rx = [m for dirn, m in h.sipp_messages(wd, scenario.split(".")[0]) if dirn == "received"]
    cancels = [m for m in rx if h.first_line(m).startswith("CANCEL ")]
    h.check_eq(len(cancels), 2, f"{scenario}: CANCELs of the re-INVITE the carrier got")
    byes = [m for m in rx if h.first_line(m).startswith("BYE ")]
    h.check_eq(len(byes), 2, f"{scenario}: BYEs relayed to the carrier after the cancelled re-INVITE")
    carrier.stop()
    h.wait_idle(d)
    info = h.wait_for(lambda: (lambda i: i if i["calls_tracked"] == 0 else None)(d.request("show info")),
                      what="calls freed")
    d.stop()
    return info, rx


info, rx = run("carrier_reinvite_cancelled.xml", "relay-reinvite-cancelled")
h.check_eq(info["late_answers"], 0, "late answers when the carrier honours the CANCEL")

info, rx = run("carrier_reinvite_answers_after_cancel.xml", "relay-reinvite-late-200")
h.check_eq(info["late_answers"], 2, "re-INVITE 2xx answers that crossed the CANCEL")
acks = [m for m in rx if h.first_line(m).startswith("ACK ")]
h.check(len(acks) >= 4, f"the carrier's 2xx to the cancelled re-INVITE was not ACKed ({len(acks)} ACKs)")
print("relay re-INVITE cancel: ok")
