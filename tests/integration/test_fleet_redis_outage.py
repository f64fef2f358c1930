"""Redis stopped for 10 s in the middle of traffic and started again empty:
no call fails, no count is lost once it is back (each node's fleet-wide
counts equal the CDRs of both nodes), and a quarantine made during the
outage reaches the other node once Redis is back."""
import threading
import time

import fleet_flow as f
import harness as h

NUMBERS = ["15551230011", "15551230012", "15551230013"]
PER_NODE = 200   # calls per node, at RATE/s: 20 s of traffic
RATE = 10
OUTAGE = "15557770042"


def calls_for(offset):
    out = []
    for i in range(PER_NODE):
        out.append((NUMBERS[(i + offset) % len(NUMBERS)], "15550001486" if i % 5 == 0 else "15550001200"))
    return out


def main():
    wd = h.workdir("fleet-outage")
    redis = h.Redis(wd).start()
    carrier = h.Carrier(wd).start()
    a = f.node(wd, "a", carrier, redis, f.RULES).start(ready="sip")
    b = f.node(wd, "b", carrier, redis, f.RULES).start(ready="sip")
    results = {}
    threads = [threading.Thread(target=lambda n, d, o: results.__setitem__(n, h.run_dialer(d.wd, d.port, calls_for(o),
                                                                                            rate=RATE, name=n)),
                                args=(n, d, o)) for n, d, o in (("dial-a", a, 0), ("dial-b", b, 1))]
    for t in threads:
        t.start()
    time.sleep(4)
    redis.stop()
    h.wait_for(lambda: a.request("show info")["fleet"]["degraded"], timeout=5, what="a to say it is degraded")
    a.request(f"quarantine {OUTAGE}")   # made while Redis is away
    time.sleep(8)
    h.check(b.request("show info")["fleet"]["degraded"], "b degraded while Redis is down")
    h.check_eq(b.request(f"show number {OUTAGE}").get("state", "not tracked"), "not tracked",
               "b cannot know the outage quarantine yet")
    redis.start()  # empty: nothing was saved
    for t in threads:
        t.join()
    for n, r in results.items():
        h.check(r["failed"] == 0 and sum(r["finals"].values()) == PER_NODE,
                f"{n}: every call answered by the carrier: {r['finals']}, failed {r['failed']}")
        h.check(set(r["finals"]) <= {200, 486}, f"{n}: answers {r['finals']}")

    cdrs = [f"{a.wd}/cdr.jsonl", f"{b.wd}/cdr.jsonl"]

    def converged():
        for n in NUMBERS:
            want = f.cdr_count(cdrs, n)
            for d in (a, b):
                if d.request(f"show number {n}").get("attempts") != want:
                    return None
        return True
    h.wait_for(converged, timeout=10, what="fleet counts to equal both nodes' CDRs")
    total = sum(f.cdr_count(cdrs, n) for n in NUMBERS)
    h.check_eq(total, 2 * PER_NODE, "CDRs")
    h.wait_for(lambda: b.request(f"show number {OUTAGE}").get("state") == "quarantined", timeout=5,
               what="the outage quarantine to reach b")
    for d in (a, b):
        info = d.request("show info")["fleet"]
        h.check(not info["degraded"] and info["outages"] >= 1, f"{d.wd}: {info}")
    print("PASS")
    a.stop()
    b.stop()


if __name__ == "__main__":
    main()
