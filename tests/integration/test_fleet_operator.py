"""An operator's quarantine, release and `set policy` on one node hold on
every node within 2 s, and a node that restarts knows every quarantine and
the fleet's live policy before its first call."""
import os
import socket
import time

import fleet_flow as f
import harness as h

PREEMPTED = ["15557770001", "15557770002", "15557770003"]
BURST = 6000  # more than the SIP thread's queue holds as one task each


def many_requests(d, lines):
    """Sends every line on one stats-socket connection; returns the number
    of answers read back."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(d.socket_path)
    s.sendall(("\n".join(lines) + "\n").encode())
    buf = b""
    while buf.count(b"\n") < len(lines):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    s.close()
    return buf.count(b"\n")


def state_on(d, number):
    s = d.request(f"show number {number}")
    return s.get("state", "not tracked")


def propagation(d, number, want):
    t0 = time.time()
    h.wait_for(lambda: state_on(d, number) == want, timeout=5, interval=0.05,
               what=f"{number} {want} on {d.wd}")
    return time.time() - t0


def main():
    wd = h.workdir("fleet-operator")
    redis = h.Redis(wd).start()
    carrier = h.Carrier(wd).start()
    a = f.node(wd, "a", carrier, redis, f.RULES).start(ready="sip")
    b = f.node(wd, "b", carrier, redis, f.RULES).start(ready="sip")

    # A number both nodes carry calls for.
    for d in (a, b):
        r = h.run_dialer(d.wd, d.port, [(f.NUMBER, "15550001200")] * 3, rate=10)
        h.check_eq(r["finals"], {200: 3}, f"calls through {d.wd}")

    a.request(f"quarantine {f.NUMBER}")
    took = propagation(b, f.NUMBER, "quarantined")
    print(f"quarantine on a reached b in {took:.2f}s")
    h.check(took < 2, f"quarantine took {took:.2f}s to reach b")
    r = h.run_dialer(b.wd, b.port, [(f.NUMBER, "15550001200")], rate=10, name="refused")
    h.check(200 not in r["finals"], f"b still forwards the quarantined number: {r['finals']}")

    b.request(f"release {f.NUMBER}")
    took = propagation(a, f.NUMBER, "healthy")
    print(f"release on b reached a in {took:.2f}s")
    h.check(took < 2, f"release took {took:.2f}s to reach a")
    r = h.run_dialer(a.wd, a.port, [(f.NUMBER, "15550001200")], rate=10, name="released")
    h.check_eq(r["finals"], {200: 1}, "a forwards the released number")

    # A live policy change on a holds on b too, and says where it came from.
    t0 = time.time()
    h.check("error" not in a.request("set policy number_cpm=7"), "set policy on a")
    h.wait_for(lambda: b.request("show policy").get("number_cpm") == 7, timeout=5, interval=0.05,
               what="number_cpm=7 on b")
    took = time.time() - t0
    print(f"set policy on a reached b in {took:.2f}s")
    h.check(took < 2, f"set policy took {took:.2f}s to reach b")
    h.check("node a" in str(b.request("show policy")), f"b's policy origin: {b.request('show policy')}")

    # Pre-emptive quarantines on a, then b is killed and started again: it
    # knows them all before its SIP port opens.
    for n in PREEMPTED:
        a.request(f"quarantine {n}")
    for n in PREEMPTED:
        propagation(b, n, "quarantined")
    b.proc.kill()
    b.proc.wait(5)
    time.sleep(1.5)  # and one more quarantine while it is down
    late = "15557770009"
    a.request(f"quarantine {late}")
    time.sleep(1.5)
    b2 = b.start(ready="sip")  # the same flags and ports
    for n in PREEMPTED + [late]:
        h.check_eq(state_on(b2, n), "quarantined", f"{n} on the restarted node before any call")
    h.check_eq(b2.request("show policy").get("number_cpm"), 7, "the fleet's live policy on the restarted node")
    r = h.run_dialer(b2.wd, b2.port, [(late, "15550001200")], rate=10, name="after-restart")
    h.check(200 not in r["finals"], f"restarted b forwards a quarantined number: {r['finals']}")
    # A burst: thousands of quarantines on a at once reach b all, none lost
    # on the way to its SIP thread.
    burst = [f"1555888{i:04d}" for i in range(BURST)]
    answered = many_requests(a, [f"quarantine {n}" for n in burst])
    h.check_eq(answered, BURST, "answers to the burst of quarantines")
    before = b2.request("show info")["numbers_quarantined"]
    h.wait_for(lambda: b2.request("show info")["numbers_quarantined"] >= BURST + len(PREEMPTED) + 1, timeout=20,
               what=f"b to hold all {BURST} quarantines of the burst (had {before})")
    h.check_eq(state_on(b2, burst[-1]), "quarantined", "the burst's last number on b")
    a.stop()
    b2.stop()
    print("PASS")


if __name__ == "__main__":
    main()
