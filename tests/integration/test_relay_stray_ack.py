"""ACKs that complete nothing cannot take the relay down: a carrier sends two
in-dialog ACKs of its own after a re-INVITE (a stray one and a replay), and
the daemon, built on a sofia-sip with asserts, drops them (counted), keeps
every call, and the carrier's BYE still reaches the dialer."""
import harness as h

wd = h.workdir("relay-stray-ack")
carrier = h.Carrier(wd, scenario="carrier_stray_ack.xml").start()
d = h.Daemon(wd, carrier.port).start()
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")] * 3, rate=10,
                   scenario="dialer_wait_bye.xml", name="stray")
h.check_eq(res["rc"], 0, f"calls with stray carrier ACKs failed:\n{res['out'][-2000:]}")
h.check_eq(res["successful"], 3, "calls ended by the carrier's BYE")
info = d.request("show info")
h.check(info["acks_dropped"] >= 6, f"stray ACKs counted as dropped: {info}")
dialer_acks = [m for dirn, m in h.sipp_messages(res["dir"]) if dirn == "received" and h.first_line(m).startswith("ACK ")]
h.check_eq(len(dialer_acks), 0, "ACKs passed on to the dialer")
h.check("ACK that completes no INVITE" in d.log(), "the drop is logged")
h.wait_idle(d)
h.check_eq(d.stop(), 0, "exit code after stray ACKs")
carrier.stop()
print("relay stray ACK: ok")
