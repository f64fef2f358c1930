"""Several trunks: failover, limits, per-trunk counts.
1. --trunk=A,B: A answers 503 before anything reached the dialer: the call
   goes on to B (new dialog), the dialer never sees the 503, and the number
   is judged on B's answer. A 408 (A silent past --trunk_timeout) and a
   transport error (A's port closed) fail over too.
2. A answers 180, then 503: the dialer heard the ring, so it gets the 503.
3. A trunks file with max_calls=1 on two trunks: two calls in progress take
   one each; a third is refused with the pacing refusal code, Retry-After and
   Reason, and counted on both trunks; max_cps=1 refuses a second call in the
   same second.
4. show trunks, the CDR's trunk field and /metrics agree."""
import json
import socket
import time
import urllib.request

import harness as h
import sipflow as sf


def invite(d, dialer, name):
    msg = sf.request("INVITE", f"sip:15550004444@127.0.0.1:{d.port}",
                     f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-{name};rport",
                     f"<sip:15551230004@127.0.0.1>;tag=d-{name}", "<sip:15550004444@127.0.0.1>", f"{name}@x", 1,
                     contact=f"<sip:d@127.0.0.1:{dialer.port}>", extra=[["X-Test", name]], body=sf.sdp("offer"))
    dialer.send(msg, ("127.0.0.1", d.port))
    return msg


def call_of(name):
    """Matches the INVITE of the call `name` at a trunk (its X-Test header passes)."""
    return lambda m: m.method == "INVITE" and m.get("X-Test") == name


def final_at_dialer(dialer, name):
    return dialer.wait(lambda m: not m.is_request and m.status >= 200 and m.call_id() == f"{name}@x",
                       f"final answer for {name}", timeout=6)[0]


def ack(d, dialer, req, final):
    dialer.send(sf.request("ACK", req.ruri, req.get("Via"), req.get("From"), final.get("To"), req.call_id(), 1),
                ("127.0.0.1", d.port))


def cdrs(path):
    with open(path) as f:
        return {r["a_call_id"]: r for r in (json.loads(line) for line in f if line.strip())}


wd = h.workdir("relay-trunks")
dialer, a, b = sf.Peer(), sf.Peer(), sf.Peer()
closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
closed.bind(("127.0.0.1", 0))
closed_port = closed.getsockname()[1]
closed.close()  # nothing listens there now: a send gets ICMP port unreachable
cdr = f"{wd}/cdr.jsonl"
metrics_port = h.free_port()
d = h.Daemon(wd, a.port, extra=[f"--trunk=127.0.0.1:{a.port},127.0.0.1:{b.port}", "--trunk_timeout=2s",
                                f"--cdr_file={cdr}", f"--metrics_listen=127.0.0.1:{metrics_port}"]).start()

# 1a. 503 from A: B answers.
req = invite(d, dialer, "fo503")
inv_a, addr = a.wait(call_of("fo503"), "INVITE at trunk A")
a.send(sf.response(inv_a, 503, to_tag="a1", extra=[["Retry-After", "30"]]), addr)
inv_b, addr_b = b.wait(call_of("fo503"), "INVITE at trunk B after A's 503")
h.check(inv_b.call_id() != inv_a.call_id(), "a new dialog toward the next trunk")
h.check_eq(inv_b.ruri, f"sip:15550004444@127.0.0.1:{b.port}", "the request-URI toward B")
b.send(sf.response(inv_b, 486, to_tag="b1"), addr_b)
fin = final_at_dialer(dialer, "fo503")
h.check_eq(fin.status, 486, "the dialer gets B's answer, never A's 503")
ack(d, dialer, req, fin)

# 1b. A silent for --trunk_timeout (408): B answers.
req = invite(d, dialer, "fo408")
a.wait(call_of("fo408"), "INVITE at trunk A")
inv_b, addr_b = b.wait(call_of("fo408"), "INVITE at trunk B after A's silence", timeout=5)
b.send(sf.response(inv_b, 404, to_tag="b2"), addr_b)
fin = final_at_dialer(dialer, "fo408")
h.check_eq(fin.status, 404, "B's answer after A timed out")
ack(d, dialer, req, fin)

# 2. A rings, then 503: no failover.
req = invite(d, dialer, "heard")
inv_a, addr = a.wait(call_of("heard"), "INVITE at A")
a.send(sf.response(inv_a, 180, to_tag="a3"), addr)
dialer.wait(lambda m: m.status == 180, "180 at the dialer")
a.send(sf.response(inv_a, 503, to_tag="a3"), addr)
fin = final_at_dialer(dialer, "heard")
h.check_eq(fin.status, 503, "after a ring, A's 503 reaches the dialer")
ack(d, dialer, req, fin)
h.check(not b.quiet(call_of("heard"), 0.5),
        "a call the dialer heard ringing went to trunk B")

trunks = {t["name"]: t for t in d.request("show trunks")["trunks"]}
ta, tb = trunks[f"127.0.0.1:{a.port}"], trunks[f"127.0.0.1:{b.port}"]
h.check_eq((ta["attempts"], ta["failovers"], ta["unavailable"], ta["timeouts"]), (3, 2, 2, 1), "trunk A counts")
h.check_eq((tb["attempts"], tb["calls_active"]), (2, 0), "trunk B counts")
body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=3).read().decode()
h.check(f'sippacer_trunk_failovers_total{{trunk="127.0.0.1:{a.port}"}} 2' in body, "failovers in /metrics")
d.stop()
rows = cdrs(cdr)
h.check_eq((rows["fo503@x"]["trunk"], rows["fo503@x"]["code"]), (f"127.0.0.1:{b.port}", 486), "CDR of fo503")
h.check_eq(rows["heard@x"]["trunk"], f"127.0.0.1:{a.port}", "CDR of the call A kept")

# 1c. A's port closed: the transport error fails over at once.
d = h.Daemon(wd, closed_port, extra=[f"--trunk=127.0.0.1:{closed_port},127.0.0.1:{b.port}"]).start()
t0 = time.time()
req = invite(d, dialer, "foicmp")
inv_b, addr_b = b.wait(call_of("foicmp"), "INVITE at B after A's closed port")
h.check(time.time() - t0 < 1.5, f"failover after a transport error took {time.time() - t0:.1f} s")
b.send(sf.response(inv_b, 200, to_tag="b4", contact=f"<sip:b@127.0.0.1:{b.port}>", body=sf.sdp("answer")), addr_b)
fin = final_at_dialer(dialer, "foicmp")
h.check_eq(fin.status, 200, "B answered after A's port was closed")
ack(d, dialer, req, fin)
b.wait(sf.is_method("ACK"), "ACK at B")
d.stop()

# 3. Limits from a trunks file.
with open(f"{wd}/trunks", "w") as f:
    f.write(f"# two carriers\ncarrier-a sip:127.0.0.1:{a.port} priority=1 max_calls=1\n"
            f"carrier-b sip:127.0.0.1:{b.port} priority=2 max_calls=1\n")
d = h.Daemon(wd, None, extra=[f"--trunks_file={wd}/trunks"]).start()
invite(d, dialer, "cap1")
inv1, addr1 = a.wait(call_of("cap1"), "first call at carrier-a")
invite(d, dialer, "cap2")
inv2, addr2 = b.wait(call_of("cap2"), "second call at carrier-b (carrier-a full)")
req3 = invite(d, dialer, "cap3")
fin = final_at_dialer(dialer, "cap3")
h.check_eq(fin.status, 480, "a call with every trunk at max_calls")
h.check(fin.get("Retry-After") and "limit" in (fin.get("Reason") or ""), f"Retry-After and Reason: {fin.encode()[:400]}")
ack(d, dialer, req3, fin)
trunks = {t["name"]: t for t in d.request("show trunks")["trunks"]}
h.check_eq((trunks["carrier-a"]["refused_max_calls"], trunks["carrier-b"]["refused_max_calls"]), (2, 1),
           "calls kept off each trunk by max_calls")
h.check_eq(d.request("show info")["trunk_limited"], 1, "trunk_limited")
for inv, addr, peer in ((inv1, addr1, a), (inv2, addr2, b)):
    peer.send(sf.response(inv, 486, to_tag="x"), addr)
d.stop()

with open(f"{wd}/trunks", "w") as f:
    f.write(f"carrier-a sip:127.0.0.1:{a.port} max_cps=1\n")
d = h.Daemon(wd, None, extra=[f"--trunks_file={wd}/trunks"]).start()
invite(d, dialer, "cps1")
inv1, addr1 = a.wait(call_of("cps1"), "first call at carrier-a")
req = invite(d, dialer, "cps2")
fin = final_at_dialer(dialer, "cps2")
h.check_eq(fin.status, 480, "a second call in the same second with max_cps=1")
ack(d, dialer, req, fin)
h.check_eq(d.request("show trunks")["trunks"][0]["refused_max_cps"], 1, "refused_max_cps")
a.send(sf.response(inv1, 486, to_tag="x"), addr1)
d.stop()
print("relay trunks: ok")
