"""--trunk_listen gives the trunk leg its own address: the carrier sees it in
Via, Contact and From of the INVITE, sends its in-dialog requests (a
re-INVITE, a BYE) there, and the dialer still sees only the --listen
address. A CANCEL toward the carrier leaves from the trunk address too."""
import harness as h

wd = h.workdir("relay-trunk-listen")
carrier = h.Carrier(wd, scenario="carrier_hangs_up.xml").start()
trunk_port = h.free_port("127.0.0.2")
d = h.Daemon(wd, carrier.port, extra=[f"--trunk_listen=127.0.0.2:{trunk_port}"]).start()
trunk_addr = f"127.0.0.2:{trunk_port}"
listen_addr = f"127.0.0.1:{d.port}"

res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")] * 2, rate=10,
                   scenario="dialer_wait_bye.xml", name="bye")
h.check_eq(res["rc"], 0, f"calls through the trunk address failed:\n{res['out'][-2000:]}")
h.check_eq(res["successful"], 2, "calls ended by the carrier's BYE")

carrier_rx = [m for dirn, m in h.sipp_messages(wd, "carrier_hangs_up") if dirn == "received"]
invites = [m for m in carrier_rx if h.first_line(m).startswith("INVITE ")]
h.check(len(invites) >= 2, "the carrier saw no INVITE")
for m in invites:
    h.check(trunk_addr in h.header(m, "Via"), f"Via toward the carrier is not {trunk_addr}:\n{m}")
    h.check(trunk_addr in h.header(m, "Contact"), f"Contact toward the carrier is not {trunk_addr}:\n{m}")
    h.check("@127.0.0.2" in h.header(m, "From"), f"From toward the carrier is not on 127.0.0.2:\n{m}")
    h.check(listen_addr not in m, f"the --listen address leaked to the carrier:\n{m}")
acks = [m for m in carrier_rx if h.first_line(m).startswith("ACK ")]
h.check(acks and all(trunk_addr in h.header(m, "Via") for m in acks), "ACKs toward the carrier not from the trunk address")

dialer_rx = [m for dirn, m in h.sipp_messages(res["dir"]) if dirn == "received"]
byes = [m for m in dialer_rx if h.first_line(m).startswith("BYE ")]
h.check(len(byes) >= 2, "the carrier's BYE (sent to the trunk address) did not reach the dialer")
for m in dialer_rx:
    h.check(trunk_addr not in m, f"the trunk address leaked to the dialer:\n{m}")
    h.check("127.0.0.2" not in (h.header(m, "Via") or ""), f"a request to the dialer left from the trunk side:\n{m}")
h.wait_idle(d)
carrier.stop()

carrier2 = h.Carrier(wd, scenario="carrier_ring_until_cancel.xml", port=carrier.port).start()
res = h.run_dialer(wd, d.port, [("15551230002", "15550001200")], rate=10,
                   scenario="dialer_cancel.xml", name="cancel")
h.check_eq(res["finals"], {487: 1}, "finals after CANCEL")
cancels = [m for dirn, m in h.sipp_messages(wd, "carrier_ring") if dirn == "received"
           and h.first_line(m).startswith("CANCEL ")]
h.check(cancels and trunk_addr in h.header(cancels[0], "Via"), "the CANCEL did not leave from the trunk address")
h.wait_idle(d)
d.stop()
carrier2.stop()
print("relay trunk_listen: ok")
