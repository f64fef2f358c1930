"""No input from the network can crash or hang the daemon: random and
malformed SIP over UDP and TCP, oversized requests, unknown methods, a flood
of new numbers. Afterwards it still answers OPTIONS and relays a call.
STUN datagrams on the SIP port get no answer (no reflection toward a forged
source; on Debian's stock sofia-sip a 44-byte error still goes back) and
write nothing to the log.
(Under the ASan build, tests/run.sh runs this against the ASan daemon.)"""
import os
import random
import socket

import harness as h

wd = h.workdir("relay-malformed")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=["--max_numbers=200"]).start()
rng = random.Random(1234)

GOOD = ("INVITE sip:15550001200@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{b}\r\n"
        "From: <sip:{c}@127.0.0.1>;tag=1\r\nTo: <sip:15550001200@127.0.0.1>\r\nCall-ID: {b}@x\r\n"
        "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")


def mutations():
    for i in range(400):
        msg = bytearray(GOOD.format(b=i, c=15550000000 + i).encode())
        kind = i % 8
        if kind == 0:
            yield bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 1500)))
        elif kind == 1:
            for _ in range(10):
                msg[rng.randrange(len(msg))] = rng.getrandbits(8)
            yield bytes(msg)
        elif kind == 2:
            yield bytes(msg[: rng.randrange(len(msg))])
        elif kind == 3:
            yield msg.replace(b"Content-Length: 0", b"Content-Length: 99999")
        elif kind == 4:
            yield msg.replace(b"INVITE sip", b"FROBNICATE sip").replace(b"1 INVITE", b"1 FROBNICATE")
        elif kind == 5:
            yield msg.replace(b"\r\n\r\n", b"\r\nX-Big: " + b"A" * 60000 + b"\r\n\r\n")
        elif kind == 6:
            yield msg.replace(b"Via: SIP/2.0/UDP 127.0.0.1:9", b"Via: SIP/2.0/UDP [::zz")
        else:
            yield msg.replace(b"CSeq: 1 INVITE", b"CSeq: -5 INVITE")


u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in mutations():
    try:
        u.sendto(m, ("127.0.0.1", d.port))
    except OSError:
        pass  # larger than a datagram
t = socket.create_connection(("127.0.0.1", d.port))
for m in list(mutations())[:100]:
    try:
        t.sendall(m)
    except OSError:
        t = socket.create_connection(("127.0.0.1", d.port))
t.close()

# A flood of new caller IDs beyond --max_numbers: old healthy ones are evicted.
flood = [(f"1555{n:07d}", "15550000404") for n in range(600)]
res = h.run_dialer(wd, d.port, flood, rate=200, hold_ms=0, name="flood")
h.check_eq(res["failed"], 0, "failed calls in the flood")
h.check(d.proc.poll() is None, "the daemon died")
h.check_eq(h.sip_options_ping("127.0.0.1", d.port), 200, "OPTIONS after the junk")
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")], name="after")
h.check_eq(res["finals"], {200: 1}, "a call after the junk")

# STUN on the SIP port: a binding request and zero-led junk.
stun = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
stun.settimeout(0.5)
for datagram in (bytes([0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42]) + bytes(range(12)), bytes(40)):
    stun.sendto(datagram, ("127.0.0.1", d.port))
answers = []
try:
    while True:
        answers.append(stun.recvfrom(2048)[0])
except socket.timeout:
    pass
h.check(not any(a[:2] == b"\x01\x01" for a in answers), "a STUN binding request was answered")
if d.request("show info")["sofia_sip"] == "patched":
    h.check_eq(answers, [], "answers to STUN datagrams")
h.check("stun " not in d.log(), "sofia's STUN server wrote to the log")

info = d.request("show info")
h.check(info["numbers_tracked"] <= 200, f"numbers_tracked {info['numbers_tracked']} over --max_numbers")
h.check(info["numbers_evicted"] >= 400, f"numbers_evicted {info['numbers_evicted']}")
d.stop()
carrier.stop()
print("relay malformed: ok")
