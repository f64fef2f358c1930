"""Packets that reach an assert() in sofia-sip 1.12.11 (Debian builds it with
asserts on, so each one aborted the daemon) are handled before sofia sees
the state it cannot handle. Raw UDP on both sides, so every byte is ours:
1. an INVITE whose answer cannot be sent (Via maddr; Via port 0), then an ACK
   on its branch: sofia's half-failed transaction met the ACK (incoming_ack);
2. an INVITE requiring an extension the relay does not serve: answered 420
   (reliable provisionals, several before the dialer's PRACK, once reached a
   timer assert: relay_100rel covers them now);
3. a CANCEL before the trunk's first provisional, then the trunk answering a
   CANCEL it never got: the CANCEL now waits for the provisional
   (outgoing_recv); it goes out at the trunk's 100;
4. an ACK from the dialer before the final: the call goes on (it got 500);
5. a final response code over 699 from the trunk reaches the dialer as 500;
6. inside a call, a request whose answer cannot be sent (the carrier's
   out-of-order re-INVITE with a Via maddr: sofia answers it 500 itself,
   before our code sees it) and an ACK on its branch: only the patched
   sofia-sip absorbs that ACK (third_party/sofia-sip, patch 0001), so this
   part runs against the patched build only.
The daemon is alive after each."""
import time

import harness as h
import sipflow as sf

SDP = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"


def udp():
    return sf.udp_socket(timeout=2)


def request(method, ruri, via, call_id, cseq, to_tag="", extra="", body=b"", max_forwards=70):
    head = (f"{method} {ruri} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: {max_forwards}\r\n"
            f"From: <sip:15551230001@127.0.0.1>;tag=f1\r\nTo: <sip:15550001111@127.0.0.1>{to_tag}\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContact: <sip:d@127.0.0.1>\r\n{extra}")
    if body:
        head += "Content-Type: application/sdp\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def headers(data):
    lines = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    out = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        out.setdefault(name.strip().lower(), []).append(value.strip())
    return lines[0], out


def response(req, code, phrase, to_tag="t1", cseq=None, body=b""):
    _, hd = headers(req)
    to = hd["to"][0] + ("" if "tag=" in hd["to"][0] else f";tag={to_tag}")
    text = (f"SIP/2.0 {code} {phrase}\r\n" + "".join(f"Via: {v}\r\n" for v in hd["via"]) +
            f"From: {hd['from'][0]}\r\nTo: {to}\r\nCall-ID: {hd['call-id'][0]}\r\n"
            f"CSeq: {cseq or hd['cseq'][0]}\r\nContact: <sip:callee@127.0.0.1>\r\n")
    if body:
        text += "Content-Type: application/sdp\r\n"
    return (text + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def received(sock, until=None, timeout=2.0, call_id=None):
    """(first line, message, source) of what `sock` gets within `timeout`, until
    a first line starts with `until`; only the call `call_id` if given."""
    out = []
    for data, addr in sf.datagrams(sock, timeout):
        if call_id and f"Call-ID: {call_id}".encode() not in data:
            continue
        out.append((data.split(b"\r\n")[0].decode(), data, addr))
        if until and out[-1][0].startswith(until):
            break
    return out


def next_invite(sock):
    """The next INVITE the trunk gets (ACKs and retransmissions before it skipped)."""
    for first, data, addr in received(sock, until="INVITE"):
        if first.startswith("INVITE"):
            return data, addr
    h.fail("the trunk got no INVITE")


def alive(d, what):
    h.check(d.proc.poll() is None, f"the daemon died after {what}:\n{d.log()[-3000:]}")
    d.request("show info")


wd = h.workdir("relay-sofia-asserts")
trunk = udp()
d = h.Daemon(wd, trunk.getsockname()[1]).start()
dst = ("127.0.0.1", d.port)
ruri = f"sip:15550001111@127.0.0.1:{d.port}"
dialer = udp()
port = dialer.getsockname()[1]

# 1. Answers that cannot be sent, then an ACK on the INVITE's branch.
for n, via in enumerate([f"SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-m1;maddr=255.255.255.255",
                         f"SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-m2;maddr=a..b",
                         "SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bK-m3"]):
    dialer.sendto(request("INVITE", ruri, via, f"bad-via-{n}@x", 1, max_forwards=1), dst)
    dialer.sendto(request("ACK", ruri, via, f"bad-via-{n}@x", 1, to_tag=";tag=x"), dst)
    time.sleep(0.3)
    alive(d, f"an unanswerable INVITE and its ACK ({via})")
port0 = [r for r in received(dialer, timeout=0.5) if r[0].startswith("SIP/2.0 483")]
h.check(port0, "the INVITE with a Via port of 0 was answered (483) at the port it came from")

# 2. Require: an extension not served (preconditions).
via = f"SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-rel;rport"
dialer.sendto(request("INVITE", ruri, via, "rel@x", 1, extra="Supported: 100rel\r\nRequire: 100rel, precondition\r\n",
                      body=SDP), dst)
got = received(dialer, until="SIP/2.0 420", call_id="rel@x")
h.check(got and got[-1][0].startswith("SIP/2.0 420"), f"INVITE requiring precondition: {[g[0] for g in got]}")
h.check_eq(headers(got[-1][1])[1].get("unsupported"), ["precondition"], "Unsupported in the 420")
dialer.sendto(request("ACK", ruri, via, "rel@x", 1, to_tag=";tag=" + got[-1][1].split(b"tag=")[-1].split(b"\r\n")[0].decode()), dst)

# 3. CANCEL before the trunk's first provisional; the trunk answers a CANCEL it never got.
via = f"SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-dc;rport"
dialer.sendto(request("INVITE", ruri, via, "early-cancel@x", 1, body=SDP), dst)
inv, taddr = next_invite(trunk)
dialer.sendto(request("CANCEL", ruri, via, "early-cancel@x", 1), dst)
time.sleep(0.3)
cseq = headers(inv)[1]["cseq"][0].split()[0]
trunk.sendto(response(inv, 200, "OK", cseq=f"{cseq} CANCEL"), taddr)
time.sleep(0.3)
alive(d, "an answer to a CANCEL not sent yet")
h.check(not [r for r in received(trunk, timeout=0.3) if r[0].startswith("CANCEL")], "CANCEL before any provisional")
trunk.sendto(response(inv, 100, "Trying"), taddr)
cancel = [r for r in received(trunk, until="CANCEL") if r[0].startswith("CANCEL")]
h.check(cancel, "the held CANCEL went out at the trunk's 100")
trunk.sendto(response(cancel[0][1], 200, "OK"), taddr)
trunk.sendto(response(inv, 487, "Request Terminated"), taddr)
got = received(dialer, until="SIP/2.0 487", call_id="early-cancel@x")
h.check(got and got[-1][0].startswith("SIP/2.0 487"), f"the dialer's cancelled INVITE: {[g[0] for g in got]}")
to_tag = headers(got[-1][1])[1]["to"][0].split("tag=")[-1]
dialer.sendto(request("ACK", ruri, via, "early-cancel@x", 1, to_tag=";tag=" + to_tag), dst)

# 4. An ACK before the final answer, then the trunk answers.
via = f"SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-ea;rport"
dialer.sendto(request("INVITE", ruri, via, "early-ack@x", 1, body=SDP), dst)
inv, taddr = next_invite(trunk)
next_invite_early_ack = inv
trunk.sendto(response(inv, 180, "Ringing"), taddr)
time.sleep(0.2)
dialer.sendto(request("ACK", ruri, f"SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-ea-ack;rport", "early-ack@x", 1), dst)
time.sleep(0.2)
trunk.sendto(response(inv, 200, "OK", body=SDP), taddr)
got = received(dialer, until="SIP/2.0 200", call_id="early-ack@x")
codes = [g[0] for g in got]
h.check(codes and codes[-1].startswith("SIP/2.0 200") and not any(c.startswith("SIP/2.0 500") for c in codes),
        f"the call after an early ACK: {codes}")

# 5. A code over 699 from the trunk.
via = f"SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-999;rport"
dialer.sendto(request("INVITE", ruri, via, "code-999@x", 1, body=SDP), dst)
inv, taddr = next_invite(trunk)
trunk.sendto(response(inv, 999, "Weird"), taddr)
got = received(dialer, until="SIP/2.0 5", call_id="code-999@x")
h.check(got and got[-1][0].startswith("SIP/2.0 500"), f"a 999 from the trunk: {[g[0] for g in got]}")
alive(d, "a code over 699")

# 6. Inside the call of step 4: the carrier's INFO (relayed, pending), then an
# out-of-order re-INVITE whose answer cannot be sent, then its ACK.
if d.request("show info")["sofia_sip"] == "patched":
    inv = [g for g in received(trunk, timeout=0.3)]  # the ACK of step 4's 200, if not read yet
    _, ih = headers(next_invite_early_ack)
    b_from, b_to, b_call_id = ih["from"][0], ih["to"][0] + ";tag=t1", ih["call-id"][0]
    tport = trunk.getsockname()[1]

    def carrier_request(method, branch, cseq, maddr=""):
        return (f"{method} sip:x@127.0.0.1:{d.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{tport};branch={branch}{maddr}\r\n"
                f"Max-Forwards: 70\r\nFrom: {b_to}\r\nTo: {b_from}\r\nCall-ID: {b_call_id}\r\n"
                f"CSeq: {cseq} {method}\r\nContact: <sip:callee@127.0.0.1:{tport}>\r\nContent-Length: 0\r\n\r\n").encode()

    trunk.sendto(carrier_request("INFO", "z9hG4bK-info", 10), dst)
    time.sleep(0.2)
    bad = ";maddr=255.255.255.255"
    trunk.sendto(carrier_request("INVITE", "z9hG4bK-ooo", 5, bad), dst)
    trunk.sendto(carrier_request("ACK", "z9hG4bK-ooo", 5, bad), dst)
    time.sleep(0.5)
    alive(d, "an unanswerable in-dialog request and its ACK")
else:
    print("step 6 skipped: the daemon runs on Debian's stock sofia-sip")
d.stop()
print("relay sofia asserts: ok")
