"""TCP on both sides: the dialer over TCP to --listen, the trunk as a SIP URI
with ;transport=tcp."""
import harness as h

wd = h.workdir("relay-tcp")
carrier = h.Carrier(wd, transport="t1").start()
port = h.free_port()
d = h.Daemon(wd, carrier.port, listen_port=port).start()
d.stop()
d = h.Daemon(wd, carrier.port, listen_port=port,
             extra=[]).start()
d.stop()
d = h.Daemon(wd, carrier.port, listen_port=port)
d.args = [a for a in d.args if not a.startswith("--trunk=")] + [f"--trunk=sip:127.0.0.1:{carrier.port};transport=tcp"]
d.start()
calls = [("15551230001", "15550001200"), ("15551230001", "15550000603"), ("15551230002", "15550001200")]
res = h.run_dialer(wd, d.port, calls, transport="t1", rate=10)
h.check_eq(res["finals"], {200: 2, 603: 1}, "finals over TCP")
h.check_eq(res["failed"], 0, "failed calls over TCP")
rx = [m for dirn, m in h.sipp_messages(wd, "carrier") if dirn == "received" and h.first_line(m).startswith("INVITE ")]
h.check(rx and all("SIP/2.0/TCP" in h.header(m, "Via") for m in rx), "the trunk leg did not use TCP")
h.wait_idle(d)
d.stop()
carrier.stop()
print("relay tcp: ok")
