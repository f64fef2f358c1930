"""Refusals cost nothing that lingers: INVITEs and BYEs from a source outside
--allow are answered 403 without a transaction (sofia's tables stay empty,
where each refusal used to hold ~10 KB for 32 s), and one source's flood is
capped: past 200 refusals a second its requests are dropped, counted."""
import socket
import time

import harness as h

wd = h.workdir("relay-refusal-flood")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=["--allow=127.0.0.2/32"]).start()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]


def request(method, i):
    return (f"{method} sip:15550001200@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKf{i}\r\n"
            f"From: <sip:15551230001@127.0.0.1>;tag=f{i}\r\nTo: <sip:15550001200@127.0.0.1>\r\n"
            f"Call-ID: flood{i}@x\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


# 150 in the first second: all answered 403, nothing kept.
for i in range(150):
    s.sendto(request("INVITE" if i % 2 else "BYE", i), ("127.0.0.1", d.port))
s.settimeout(2)
answers = 0
try:
    while answers < 150:
        answers += s.recv(65536).startswith(b"SIP/2.0 403")
except socket.timeout:
    pass
h.check_eq(answers, 150, "403s to a source outside --allow")
time.sleep(0.3)
info = d.request("show info")
h.check_eq(info["sip_server_transactions"], 0, f"transactions kept for refusals: {info}")
h.check_eq(info["invites_forwarded"], 0, "nothing forwarded")

# A flood: 2,000 in well under a second. At most 200 a second are answered.
time.sleep(1.1)
for i in range(2000):
    s.sendto(request("INVITE", 1000 + i), ("127.0.0.1", d.port))
time.sleep(1)
info = d.request("show info")
h.check(info["refusals_dropped"] >= 1500, f"a flood is capped: {info}")
h.check_eq(info["sip_server_transactions"], 0, "transactions after the flood")
h.check("refusal budget" in d.log(), "the cap is logged")
d.stop()
carrier.stop()
print("relay refusal flood: ok")
