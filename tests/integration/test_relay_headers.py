"""Headers a B2BUA must not own cross it byte for byte: the dialer's
STIR/SHAKEN Identity (RFC 8224, also in its compact form y:), PAI, Privacy,
Diversion, History-Info, P-Charge-Info, User-to-User, session timer
headers, Allow, Accept, User-Agent and X- headers reach the carrier as
sent; Supported keeps only the option tags the relay serves. The carrier's
headers come back on its provisional and final answers (Session-Expires,
Require: timer, PAI), and a 608's jCard Call-Info and a Retry-After with a
comment, or outside RFC 3261's grammar, arrive exactly as the carrier wrote
them. --strip_headers takes names (or prefixes) out; --pass_headers adds.
The dialed number keeps ";user=phone" (added for a tel: URI, whose
parameters such as LNP's npdi and rn stay with the number)."""
import socket
import time

import harness as h
import sipflow as sf

IDENTITY = ("eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3Jn"
            "L3Bhc3Nwb3J0LmNlciJ9.eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxNTU1MDAwMTIwMCJdfX0.c2lnbmF0dXJl;"
            "info=<https://cert.example.org/passport.cer>;alg=ES256;ppt=shaken")
DIALER_HEADERS = {
    "Identity": IDENTITY,
    "Diversion": "<sip:+15551230009@dialer.example.net>;reason=unconditional;counter=1",
    "History-Info": "<sip:+15550001200@dialer.example.net>;index=1",
    "P-Charge-Info": "<sip:+15551230000@dialer.example.net;user=phone>",
    "User-to-User": "3030303030;encoding=hex;purpose=isdn-uui",
    "X-Campaign": "spring  sale 42",
    "P-Asserted-Identity": "\"Spring Sale\" <sip:+15551230001@dialer.example.net;user=phone>",
    "Privacy": "none",
    "Session-Expires": "1800;refresher=uac",
    "Min-SE": "90",
    "Allow": "INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, REFER, NOTIFY, INFO",
    "Accept": "application/sdp, multipart/mixed",
    "User-Agent": "DialerX/4.2 (campaign engine)",
    "Call-Info": "<https://dialer.example.net/logo.png>;purpose=icon",
}
JCARD = ("<data:application/jwscard;base64,eyJhbGciOiJFUzI1NiJ9.eyJqY2FyZCI6WyJ2Y2FyZCJdfQ.c2ln>;"
         "purpose=jwscard")
CARRIER_ON_200 = {
    "Session-Expires": "1800;refresher=uac",
    "Require": "timer",
    "P-Asserted-Identity": "<sip:+15550001200@carrier.example.com;user=phone>",
    "Allow": "INVITE, ACK, CANCEL, BYE, UPDATE",
    "Server": "CarrierSBC 9",
}


def udp():
    return sf.udp_socket(timeout=2)


def headers_of(data):
    out = {}
    for line in data.split(b"\r\n\r\n")[0].decode().split("\r\n")[1:]:
        name, _, value = line.partition(":")
        out.setdefault(name.strip().lower(), []).append(value.strip())
    return out


def next_message(sock, starts):
    deadline = time.time() + 3
    while time.time() < deadline:
        data, addr = sock.recvfrom(65535)
        if data.startswith(starts.encode()):
            return data, addr
    h.fail(f"no {starts}")


def request_uri_at_carrier(d, trunk, dialed):
    dialer = udp()
    port = dialer.getsockname()[1]
    dialer.sendto((f"INVITE {dialed} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-ruri{port};rport\r\n"
                   f"Max-Forwards: 70\r\nFrom: <sip:15551230001@127.0.0.1>;tag=r1\r\nTo: <{dialed}>\r\n"
                   f"Call-ID: ruri-{port}@x\r\nCSeq: 1 INVITE\r\nContact: <sip:d@127.0.0.1:{port}>\r\n"
                   "Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", d.port))
    inv, taddr = next_message(trunk, "INVITE")
    ih = headers_of(inv)
    vias = "".join(f"Via: {v}\r\n" for v in ih["via"])
    trunk.sendto((f"SIP/2.0 404 Not Found\r\n{vias}From: {ih['from'][0]}\r\nTo: {ih['to'][0]};tag=c2\r\n"
                  f"Call-ID: {ih['call-id'][0]}\r\nCSeq: {ih['cseq'][0]}\r\nContent-Length: 0\r\n\r\n").encode(), taddr)
    return inv.split(b"\r\n", 1)[0].decode().split(" ")[1]


def refused(d, trunk, code, phrase, carrier_lines):
    """A call the carrier refuses with `code` and these header lines; the
    answer at the dialer."""
    dialer = udp()
    port = dialer.getsockname()[1]
    dialer.sendto((f"INVITE sip:15550001200@127.0.0.1:{d.port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-rf{port};rport\r\nMax-Forwards: 70\r\n"
                   f"From: <sip:15551230001@127.0.0.1>;tag=r1\r\nTo: <sip:15550001200@127.0.0.1>\r\n"
                   f"Call-ID: rf-{port}@x\r\nCSeq: 1 INVITE\r\nContact: <sip:d@127.0.0.1:{port}>\r\n"
                   "Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", d.port))
    inv, taddr = next_message(trunk, "INVITE")
    ih = headers_of(inv)
    vias = "".join(f"Via: {v}\r\n" for v in ih["via"])
    trunk.sendto((f"SIP/2.0 {code} {phrase}\r\n{vias}From: {ih['from'][0]}\r\nTo: {ih['to'][0]};tag=c3\r\n"
                  f"Call-ID: {ih['call-id'][0]}\r\nCSeq: {ih['cseq'][0]}\r\n{carrier_lines}"
                  "Content-Length: 0\r\n\r\n").encode(), taddr)
    answer, _ = next_message(dialer, f"SIP/2.0 {code}")
    return answer


def call(d, trunk, extra_carrier=""):
    """One call: the dialer's INVITE with DIALER_HEADERS; the carrier answers
    180 and 200 with X-Trunk-Trace. Returns (INVITE at the carrier, 180 and
    200 at the dialer)."""
    dialer = udp()
    port = dialer.getsockname()[1]
    lines = "".join(f"{k}: {v}\r\n" for k, v in DIALER_HEADERS.items())
    lines += "Supported: 100rel, timer, gruu, precondition\r\n"
    invite = (f"INVITE sip:15550001200@127.0.0.1:{d.port} SIP/2.0\r\n"
              f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-hdr{port};rport\r\nMax-Forwards: 70\r\n"
              f"From: <sip:15551230001@127.0.0.1>;tag=d1\r\nTo: <sip:15550001200@127.0.0.1>\r\n"
              f"Call-ID: hdr-{port}@x\r\nCSeq: 1 INVITE\r\nContact: <sip:d@127.0.0.1:{port}>\r\n{lines}"
              "Content-Length: 0\r\n\r\n").encode()
    dialer.sendto(invite, ("127.0.0.1", d.port))
    inv, taddr = next_message(trunk, "INVITE")
    ih = headers_of(inv)
    vias = "".join(f"Via: {v}\r\n" for v in ih["via"])
    common = (f"{vias}From: {ih['from'][0]}\r\nTo: {ih['to'][0]};tag=c1\r\nCall-ID: {ih['call-id'][0]}\r\n"
              f"CSeq: {ih['cseq'][0]}\r\nContact: <sip:c@127.0.0.1:{trunk.getsockname()[1]}>\r\n"
              "X-Trunk-Trace: abc;hop=1\r\n")
    trunk.sendto(f"SIP/2.0 180 Ringing\r\n{common}Content-Length: 0\r\n\r\n".encode(), taddr)
    ringing, _ = next_message(dialer, "SIP/2.0 180")
    extra = "".join(f"{k}: {v}\r\n" for k, v in CARRIER_ON_200.items()) + "Supported: timer, path\r\n"
    trunk.sendto(f"SIP/2.0 200 OK\r\n{common}{extra}Content-Length: 0\r\n\r\n".encode(), taddr)
    ok, _ = next_message(dialer, "SIP/2.0 200")
    return inv, ringing, ok


wd = h.workdir("relay-headers")
trunk = udp()
d = h.Daemon(wd, trunk.getsockname()[1]).start()
inv, ringing, ok = call(d, trunk)
got = headers_of(inv)
for name, value in DIALER_HEADERS.items():
    h.check_eq(got.get(name.lower()), [value], f"{name} at the carrier")
h.check_eq(got.get("supported"), ["100rel, timer"], "Supported at the carrier: the tags the relay serves")
for answer in (ringing, ok):
    h.check_eq(headers_of(answer).get("x-trunk-trace"), ["abc;hop=1"], "the carrier's X- header at the dialer")
for name, value in CARRIER_ON_200.items():
    h.check_eq(headers_of(ok).get(name.lower()), [value], f"the carrier's {name} on the 200 at the dialer")
h.check_eq(headers_of(ok).get("supported"), ["timer"], "the carrier's Supported at the dialer")

# Why a call failed, exactly as the carrier wrote it.
lines = (f"Call-Info: {JCARD}\r\nReason: Q.850;cause=21;text=\"Call Rejected\"\r\n"
         "Retry-After: 120 (maintenance window);duration=3600\r\nWarning: 399 carrier.example.com \"spam\"\r\n")
got = headers_of(refused(d, trunk, 608, "Rejected", lines))
h.check_eq(got.get("call-info"), [JCARD], "a 608's jCard Call-Info, byte for byte")
h.check_eq(got.get("retry-after"), ["120 (maintenance window);duration=3600"], "Retry-After with a comment")
h.check_eq(got.get("reason"), ['Q.850;cause=21;text="Call Rejected"'], "Reason")
h.check_eq(got.get("warning"), ['399 carrier.example.com "spam"'], "Warning")
got = headers_of(refused(d, trunk, 503, "Service Unavailable", "Retry-After: in a while\r\n"))
h.check_eq(got.get("retry-after"), ["in a while"], "a Retry-After outside the grammar, as written")

# STIR's compact form, and a header folded over two lines.
dialer = udp()
port = dialer.getsockname()[1]
dialer.sendto((f"INVITE sip:15550001200@127.0.0.1:{d.port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-y{port};rport\r\nMax-Forwards: 70\r\n"
               f"From: <sip:15551230001@127.0.0.1>;tag=y1\r\nTo: <sip:15550001200@127.0.0.1>\r\n"
               f"Call-ID: y-{port}@x\r\nCSeq: 1 INVITE\r\nContact: <sip:d@127.0.0.1:{port}>\r\n"
               f"y: {IDENTITY}\r\nX-Folded: first part\r\n  second part\r\nContent-Length: 0\r\n\r\n").encode(),
              ("127.0.0.1", d.port))
inv, taddr = next_message(trunk, "INVITE")
got = headers_of(inv)
h.check_eq(got.get("identity"), [IDENTITY], "a compact y: Identity at the carrier")
h.check_eq(got.get("x-folded"), ["first part  second part"], "a folded header, unfolded")
vias = "".join(f"Via: {v}\r\n" for v in got["via"])
trunk.sendto((f"SIP/2.0 404 Not Found\r\n{vias}From: {got['from'][0]}\r\nTo: {got['to'][0]};tag=c4\r\n"
              f"Call-ID: {got['call-id'][0]}\r\nCSeq: {got['cseq'][0]}\r\nContent-Length: 0\r\n\r\n").encode(), taddr)
t = f"127.0.0.1:{trunk.getsockname()[1]}"
for dialed, want in ((f"sip:+15550001200@127.0.0.1:{d.port};user=phone", f"sip:+15550001200@{t};user=phone"),
                     ("tel:+15550001200", f"sip:+15550001200@{t};user=phone"),
                     ("tel:+15550001200;npdi;rn=+15550009999", f"sip:+15550001200;npdi;rn=+15550009999@{t};user=phone"),
                     (f"sip:15550001200@127.0.0.1:{d.port}", f"sip:15550001200@{t}")):
    h.check_eq(request_uri_at_carrier(d, trunk, dialed), want, f"request-URI at the carrier for {dialed}")
d.stop()

d = h.Daemon(wd, trunk.getsockname()[1], extra=["--strip_headers=X-,Diversion"]).start()
inv, ringing, ok = call(d, trunk)
got = headers_of(inv)
h.check("x-campaign" not in got and "diversion" not in got, f"stripped headers reached the carrier:\n{inv.decode()}")
h.check_eq(got.get("identity"), [IDENTITY], "Identity with --strip_headers=X-,Diversion")
h.check("x-trunk-trace" not in headers_of(ok), "a stripped header reached the dialer")
d.stop()

d = h.Daemon(wd, trunk.getsockname()[1], extra=["--pass_headers=P-Dialer-"]).start()
DIALER_HEADERS["P-Dialer-Campaign"] = "42"
inv, _, _ = call(d, trunk)
got = headers_of(inv)
h.check_eq(got.get("p-dialer-campaign"), ["42"], "a header added with --pass_headers=P-Dialer-")
h.check_eq(got.get("identity"), [IDENTITY], "the default list stays with --pass_headers")
d.stop()
print("relay headers: ok")
