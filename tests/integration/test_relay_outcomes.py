"""Every final response the carrier sends reaches the dialer exactly: code,
reason phrase and the headers that explain it (603+ Reason, Retry-After,
Call-Info). The trunk leg is a new call (new Call-ID) carrying the SDP,
P-Asserted-Identity and a decremented Max-Forwards."""
import harness as h

wd = h.workdir("relay-outcomes")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port).start()

calls = [("15551230001", "15550001200"),   # ring, answer
         ("15551230001", "15550000603"),   # 603 before ring
         ("15551230002", "15550002603"),   # 603 Network Blocked + Reason
         ("15551230002", "15550000480"),
         ("15551230003", "15550001486"),
         ("15551230003", "15550000404"),
         ("15551230004", "15550000503"),
         ("15551230004", "15550000608")]
res = h.run_dialer(wd, d.port, calls, rate=20)
h.check_eq(res["failed"], 0, "failed calls")
h.check_eq(res["finals"], {200: 1, 603: 2, 480: 1, 486: 1, 404: 1, 503: 1, 608: 1}, "finals at the dialer")

dialer_rx = [m for dirn, m in h.sipp_messages(res["dir"]) if dirn == "received"]
carrier_io = h.sipp_messages(wd, "carrier")
carrier_tx = [m for dirn, m in carrier_io if dirn == "sent"]
carrier_rx = [m for dirn, m in carrier_io if dirn == "received"]


def final(msgs, code):
    return [m for m in msgs if h.first_line(m).startswith(f"SIP/2.0 {code} ")]


blocked_sent = [m for m in final(carrier_tx, 603) if "Network Blocked" in h.first_line(m)][0]
blocked_got = [m for m in final(dialer_rx, 603) if "Network Blocked" in h.first_line(m)]
h.check(blocked_got, "the dialer received no 603 Network Blocked")
h.check_eq(h.first_line(blocked_got[0]), "SIP/2.0 603 Network Blocked", "603+ status line")
h.check_eq(h.header(blocked_got[0], "Reason"), h.header(blocked_sent, "Reason"), "603+ Reason header")
h.check_eq(h.first_line(final(dialer_rx, 480)[0]), "SIP/2.0 480 Temporarily Unavailable", "480 phrase")
h.check_eq(h.header(final(dialer_rx, 503)[0], "Retry-After"), "120", "503 Retry-After")
h.check(h.header(final(dialer_rx, 608)[0], "Call-Info") == h.header(final(carrier_tx, 608)[0], "Call-Info"),
        "608 Call-Info changed")

ok = final(dialer_rx, 200)
h.check(any("m=audio" in m for m in ok), "the dialer's 200 OK lost its SDP")
dialer_ids = {h.header(m, "Call-ID") for dirn, m in h.sipp_messages(res["dir"]) if dirn == "sent"}
invites = [m for m in carrier_rx if h.first_line(m).startswith("INVITE ")]
h.check_eq(len(invites), len(calls), "INVITEs at the carrier")
for inv in invites:
    h.check(h.header(inv, "Call-ID") not in dialer_ids, "the trunk leg reused the dialer's Call-ID")
    h.check("m=audio" in inv, "the trunk INVITE lost its SDP")
    h.check_eq(h.header(inv, "Max-Forwards"), "69", "Max-Forwards toward the trunk")
    pai = h.header(inv, "P-Asserted-Identity")
    h.check(pai is not None and "1555123000" in pai, f"P-Asserted-Identity not carried: {pai}")

h.wait_idle(d)
info = d.request("show info")
h.check_eq(info["invites_forwarded"], len(calls), "invites_forwarded")
codes = d.request("show codes")["codes"]
h.check_eq(codes, {"200": 1, "603": 2, "480": 1, "486": 1, "404": 1, "503": 1, "608": 1}, "show codes")
d.stop()
carrier.stop()
print("relay outcomes: ok")
