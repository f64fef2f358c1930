"""Session timers (RFC 4028) across the relay, and transfers (REFER).
1. The dialer offers Session-Expires; the carrier's 200 sets 3 s with
   refresher=uac and Require: timer. Both reach the other side. The dialer
   refreshes with a re-INVITE and with an UPDATE, each relayed with its
   Session-Expires, and the call stays up past the interval. Then the
   refreshes stop: when the interval runs out the relay sends BYE on both
   legs, and the CDR says "ended_by":"session_expired".
2. A call whose 200 has no Session-Expires is never ended by the relay.
3. REFER from the dialer reaches the carrier with Refer-To and Referred-By,
   the 202 comes back, and the carrier's NOTIFYs reach the dialer with
   Event, Subscription-State and the sipfrag body; a REFER from the carrier
   reaches the dialer the same way; INFO keeps Info-Package.
4. With --refer=refuse a REFER gets 405 with Allow, and nothing reaches
   the carrier."""
import json
import time

import harness as h
import sipflow as sf

SDP = sf.sdp("offer")


class Call:
    """One call through the daemon, the dialer and the carrier played here."""

    def __init__(self, d, dialer, trunk, name, invite_extra=(), ok_extra=()):
        self.d, self.dialer, self.trunk, self.dst = d, dialer, trunk, ("127.0.0.1", d.port)
        self.cseq = {"dialer": 1, "carrier": 100}
        self.invite = sf.request("INVITE", f"sip:15550003333@127.0.0.1:{d.port}",
                                 f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-{name};rport",
                                 f"<sip:15551230003@127.0.0.1>;tag=d-{name}", "<sip:15550003333@127.0.0.1>",
                                 f"{name}@x", 1, contact=f"<sip:d@127.0.0.1:{dialer.port}>", extra=invite_extra,
                                 body=SDP)
        dialer.send(self.invite, self.dst)
        self.b_invite, self.taddr = trunk.wait(sf.is_method("INVITE"), "INVITE at the carrier")
        trunk.send(sf.response(self.b_invite, 200, to_tag=f"c-{name}", contact=f"<sip:c@127.0.0.1:{trunk.port}>",
                               extra=ok_extra, body=sf.sdp("answer")), self.taddr)
        self.ok, _ = dialer.wait(lambda m: m.status == 200 and m.cseq()[1] == "INVITE", "200 at the dialer")
        self.a_to = self.ok.get("To")
        self.a_target = sf.uri_of(self.ok.get("Contact"))
        self.send_dialer("ACK", cseq=1)
        trunk.wait(sf.is_method("ACK"), "ACK at the carrier")
        # The carrier's side of its dialog: it sends From its To (with its tag).
        self.b_from = sf.with_tag(self.b_invite.get("To"), f"c-{name}")
        self.b_to = self.b_invite.get("From")
        self.b_target = sf.uri_of(self.b_invite.get("Contact"))

    def send_dialer(self, method, cseq=None, extra=(), body=b"", ctype="application/sdp"):
        if cseq is None:
            self.cseq["dialer"] += 1
            cseq = self.cseq["dialer"]
        req = sf.request(method, self.a_target,
                         f"SIP/2.0/UDP 127.0.0.1:{self.dialer.port};branch=z9hG4bK-{method}{time.time_ns()}",
                         self.invite.get("From"), self.a_to, self.invite.call_id(), cseq,
                         contact=f"<sip:d@127.0.0.1:{self.dialer.port}>", extra=extra, body=body, ctype=ctype)
        self.dialer.send(req, self.dst)
        return req

    def send_carrier(self, method, extra=(), body=b"", ctype="application/sdp"):
        self.cseq["carrier"] += 1
        req = sf.request(method, self.b_target,
                         f"SIP/2.0/UDP 127.0.0.1:{self.trunk.port};branch=z9hG4bK-{method}{time.time_ns()}",
                         self.b_from, self.b_to, self.b_invite.call_id(), self.cseq["carrier"],
                         contact=f"<sip:c@127.0.0.1:{self.trunk.port}>", extra=extra, body=body, ctype=ctype)
        self.trunk.send(req, self.dst)
        return req

    def dialer_request(self, method, answer=200, extra=(), body=b"", ctype="application/sdp", answer_extra=()):
        """The dialer sends `method`; the carrier gets it and answers. Returns
        (the request at the carrier, the answer at the dialer)."""
        self.send_dialer(method, extra=extra, body=body, ctype=ctype)
        got, addr = self.trunk.wait(sf.is_method(method), f"{method} at the carrier")
        self.trunk.send(sf.response(got, answer, contact=f"<sip:c@127.0.0.1:{self.trunk.port}>", extra=answer_extra,
                                    body=body if method in ("INVITE", "UPDATE") else b""), addr)
        ans, _ = self.dialer.wait(lambda m: not m.is_request and m.cseq()[1] == method and m.status >= 200,
                                  f"answer to {method} at the dialer")
        if method == "INVITE":
            self.send_dialer("ACK", cseq=ans.cseq()[0])
            self.trunk.wait(sf.is_method("ACK"), "re-INVITE ACK at the carrier")
        return got, ans


def cdrs(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


wd = h.workdir("relay-session-timer")
dialer, trunk = sf.Peer(), sf.Peer()
cdr = f"{wd}/cdr.jsonl"
d = h.Daemon(wd, trunk.port, extra=[f"--cdr_file={cdr}"]).start()

# 1. Negotiated, refreshed twice, then left to run out.
se = [["Session-Expires", "3;refresher=uac"], ["Require", "timer"], ["Supported", "timer"]]
c = Call(d, dialer, trunk, "st1", invite_extra=[["Supported", "timer"], ["Session-Expires", "1800"], ["Min-SE", "2"]],
         ok_extra=se)
h.check_eq(c.b_invite.get("Session-Expires"), "1800", "the dialer's Session-Expires at the carrier")
h.check_eq(c.b_invite.get("Min-SE"), "2", "Min-SE at the carrier")
h.check_eq(c.b_invite.get("Supported"), "timer", "Supported: timer at the carrier")
h.check_eq(c.ok.get("Session-Expires"), "3;refresher=uac", "the carrier's Session-Expires at the dialer")
h.check_eq(c.ok.get("Require"), "timer", "Require: timer at the dialer")
time.sleep(1.5)
got, ans = c.dialer_request("INVITE", extra=[["Session-Expires", "3;refresher=uac"], ["Supported", "timer"]],
                            body=SDP, answer_extra=se)
h.check_eq(got.get("Session-Expires"), "3;refresher=uac", "the refresh's Session-Expires at the carrier")
h.check_eq(ans.get("Session-Expires"), "3;refresher=uac", "the refresh answer's Session-Expires at the dialer")
time.sleep(2)
got, ans = c.dialer_request("UPDATE", extra=[["Session-Expires", "3;refresher=uac"]], answer_extra=se)
h.check_eq(got.get("Session-Expires"), "3;refresher=uac", "an UPDATE refresh at the carrier")
time.sleep(2)
h.check_eq(d.request("show info")["calls_active"], 1, "the refreshed call is still up after 5.5 s")
bye_a, addr = dialer.wait(sf.is_method("BYE"), "BYE from the relay at the dialer", timeout=4)
dialer.send(sf.response(bye_a, 200), addr)
bye_b, addr = trunk.wait(sf.is_method("BYE"), "BYE from the relay at the carrier", timeout=2)
trunk.send(sf.response(bye_b, 200), addr)
h.check("session expired" in (bye_b.get("Reason") or ""), f"Reason on the relay's BYE: {bye_b.get('Reason')}")
info = d.request("show info")
h.check_eq((info["session_expiries"], info["calls_active"]), (1, 0), "session_expiries, calls_active")

# 2. No Session-Expires: the relay never ends the call.
c2 = Call(d, dialer, trunk, "st2")
h.check(not dialer.quiet(lambda m: m.method == "BYE" and m.call_id() == "st2@x", 4.0),
        "a call without session timers was hung up")
c2.dialer_request("BYE")

# 3. REFER and its NOTIFYs; INFO with a package.
c3 = Call(d, dialer, trunk, "rf1")
got, ans = c3.dialer_request("REFER", answer=202,
                             extra=[["Refer-To", "<sip:+15550009999@carrier.example.com;user=phone>"],
                                    ["Referred-By", "<sip:agent42@dialer.example.net>"]])
h.check_eq(got.get("Refer-To"), "<sip:+15550009999@carrier.example.com;user=phone>", "Refer-To at the carrier")
h.check_eq(got.get("Referred-By"), "<sip:agent42@dialer.example.net>", "Referred-By at the carrier")
h.check_eq(ans.status, 202, "202 Accepted at the dialer")
for state, frag in (("active;expires=60", b"SIP/2.0 100 Trying\r\n"), ("terminated;reason=noresource",
                                                                       b"SIP/2.0 200 OK\r\n")):
    c3.send_carrier("NOTIFY", extra=[["Event", "refer"], ["Subscription-State", state]], body=frag,
                    ctype="message/sipfrag;version=2.0")
    n, naddr = dialer.wait(sf.is_method("NOTIFY"), "NOTIFY at the dialer")
    h.check_eq((n.get("Event"), n.get("Subscription-State"), n.get("Content-Type"), n.body),
               ("refer", state, "message/sipfrag;version=2.0", frag), "the NOTIFY at the dialer")
    dialer.send(sf.response(n, 200), naddr)
    trunk.wait(lambda m: m.status == 200 and m.cseq()[1] == "NOTIFY", "200 to the NOTIFY at the carrier")
# ... and the other way: the carrier transfers the dialer's side.
c3.send_carrier("REFER", extra=[["Refer-To", "<sip:+15550008888@dialer.example.net>"],
                                ["Referred-By", "<sip:+15550003333@carrier.example.com>"]])
r, raddr = dialer.wait(sf.is_method("REFER"), "the carrier's REFER at the dialer")
h.check_eq((r.get("Refer-To"), r.get("Referred-By")),
           ("<sip:+15550008888@dialer.example.net>", "<sip:+15550003333@carrier.example.com>"), "REFER at the dialer")
dialer.send(sf.response(r, 202), raddr)
trunk.wait(lambda m: m.status == 202 and m.cseq()[1] == "REFER", "202 at the carrier")
got, ans = c3.dialer_request("INFO", extra=[["Info-Package", "dtmf"]], body=b"Signal=5\r\nDuration=160\r\n",
                             ctype="application/dtmf-relay")
h.check_eq((got.get("Info-Package"), got.body), ("dtmf", b"Signal=5\r\nDuration=160\r\n"), "INFO at the carrier")
c3.dialer_request("BYE")
d.stop()
ended = {r["a_call_id"]: r.get("ended_by") for r in cdrs(cdr)}
h.check_eq(ended.get("st1@x"), "session_expired", "CDR of the call whose session ran out")
h.check_eq(ended.get("st2@x"), "caller", "CDR of the call without session timers")

# 4. --refer=refuse
d = h.Daemon(wd, trunk.port, extra=["--refer=refuse"]).start()
c4 = Call(d, dialer, trunk, "rf2")
c4.send_dialer("REFER", extra=[["Refer-To", "<sip:+15550009999@carrier.example.com>"]])
ans, _ = dialer.wait(lambda m: not m.is_request and m.cseq()[1] == "REFER", "answer to REFER")
h.check_eq(ans.status, 405, "REFER with --refer=refuse")
h.check("REFER" not in (ans.get("Allow") or "REFER") and "INVITE" in ans.get("Allow"), f"Allow: {ans.get('Allow')}")
h.check(not trunk.quiet(sf.is_method("REFER"), 0.5), "a refused REFER reached the carrier")
c4.dialer_request("BYE")
d.stop()
print("relay session timers and REFER: ok")
