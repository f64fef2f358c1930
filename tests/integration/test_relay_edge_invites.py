"""INVITEs at the edge of the grammar get a clear answer and never reach the
trunk in a form it should not see: one that already passed through us (our
Via in it) gets 482 Loop Detected; "Max-Forwards: -5" is a bad request, not
an absent header; a request-URI with no user gets 484 (never "sip:@trunk");
control characters in the From display name are not passed on. From an
allowed dialer, REGISTER, SUBSCRIBE, MESSAGE and PUBLISH get 405 and an
unknown method 501, with Allow; OPTIONS answers carry Allow too."""
import socket
import time

import harness as h

wd = h.workdir("relay-edge-invites")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port).start()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
me = s.getsockname()[1]


def invite(branch, ruri="sip:15550001200@127.0.0.1", extra_via="", max_forwards="70",
           display="dialer"):
    return (f"INVITE {ruri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{branch}\r\n{extra_via}"
            f"From: \"{display}\" <sip:15551230001@127.0.0.1>;tag={branch}\r\n"
            f"To: <sip:15550001200@127.0.0.1>\r\nCall-ID: {branch}@edge\r\nCSeq: 1 INVITE\r\n"
            f"Max-Forwards: {max_forwards}\r\nContact: <sip:127.0.0.1:{me}>\r\nContent-Length: 0\r\n\r\n").encode()


def final_status(msg):
    s.sendto(msg, ("127.0.0.1", d.port))
    deadline = time.time() + 5
    while time.time() < deadline:
        data = s.recv(65536).decode(errors="replace")
        code = int(data.split(" ", 2)[1])
        if code >= 200:
            return code
    return None


h.check_eq(final_status(invite("loop1", extra_via=f"Via: SIP/2.0/UDP 127.0.0.1:{d.port};branch=z9hG4bKours\r\n")),
           482, "an INVITE carrying our own Via")
h.check_eq(final_status(invite("mf1", max_forwards="-5")), 400, "Max-Forwards: -5")
h.check_eq(final_status(invite("nouser", ruri="sip:127.0.0.1")), 484, "a request-URI with no user")
info = d.request("show info")
h.check_eq((info["loops_refused"], info["invites_forwarded"]), (1, 0), f"nothing forwarded: {info}")


def answer(method):
    s.sendto((f"{method} sip:15550001200@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{method}\r\n"
              f"From: <sip:15551230001@127.0.0.1>;tag={method}\r\nTo: <sip:15550001200@127.0.0.1>\r\n"
              f"Call-ID: {method}@edge\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(),
             ("127.0.0.1", d.port))
    data = s.recv(65536).decode(errors="replace").replace("\r", "")
    return int(data.split(" ", 2)[1]), h.header(data, "Allow") or ""


for method, code in (("REGISTER", 405), ("SUBSCRIBE", 405), ("MESSAGE", 405), ("PUBLISH", 405), ("FROB", 501),
                     ("OPTIONS", 200)):
    got, allow = answer(method)
    h.check_eq(got, code, f"{method} from an allowed dialer")
    h.check("INVITE" in allow and "BYE" in allow, f"Allow in the answer to {method}: {allow!r}")

# A display name with control characters: the call goes through, the trunk
# sees the name without them.
res = h.run_dialer(wd, d.port, [("15551230002", "15550001200")], name="ok")
h.check_eq(res["finals"], {200: 1}, "an ordinary call after them")
code = final_status(invite("ctl", display="Bad\x01\x1bName"))
h.check_eq(code, 200, "a call whose display name has control characters")
rx = [m for dirn, m in h.sipp_messages(wd, "carrier") if dirn == "received" and "15551230001" in m
      and h.first_line(m).startswith("INVITE ")]
h.check(rx and "BadName" in h.header(rx[-1], "From") and "\x01" not in rx[-1], f"From at the trunk: {rx[-1:]}")
d.stop()
carrier.stop()
print("relay edge INVITEs: ok")
