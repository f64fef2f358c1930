"""--allow: an INVITE from outside the list gets 403 and nothing reaches the
trunk; the same dialer inside the list goes through."""
import harness as h

wd = h.workdir("relay-acl")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=["--allow=127.0.0.1/32"]).start()
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")] * 2, host="127.0.0.2", name="outside")
h.check_eq(res["finals"], {403: 2}, "finals for a dialer outside --allow")
h.check_eq([m for dirn, m in h.sipp_messages(wd, "carrier") if dirn == "received"], [], "messages at the carrier")
info = d.request("show info")
h.check_eq(info["invites_refused_acl"], 2, "invites_refused_acl")
h.check_eq(info["invites_forwarded"], 0, "invites_forwarded")
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")], name="inside")
h.check_eq(res["finals"], {200: 1}, "finals for a dialer inside --allow")
h.check_eq(h.sip_options_ping("127.0.0.1", d.port), 200, "OPTIONS ping")
d.stop()
carrier.stop()
print("relay acl: ok")
