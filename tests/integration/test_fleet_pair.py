"""Two nodes, one Redis: a number dialing through both is judged as one.

The same calls, once through a single node and once alternating between
two nodes of a fleet: the declining number is quarantined after the same
number of forwarded attempts (within one sync interval of its calls), the
healthy one stays healthy, and `show number` says the same on both nodes."""
import os
import threading

import fleet_flow as f
import harness as h

CALLS = 36        # the declining number's calls (alone it is quarantined after ~18)
RATE = 4          # calls/s per dialer (both numbers)


def quarantined_after(wd, daemons, dial):
    dial()
    for d in daemons:
        h.wait_for(lambda: d.request(f"show number {f.NUMBER}").get("state") == "quarantined", timeout=10,
                   what=f"{f.NUMBER} quarantined on {d.wd}")
    return f.forwarded(wd, f.NUMBER)


def main():
    wd = h.workdir("fleet-pair")
    calls = f.declining_calls(CALLS)

    # One node alone.
    single_wd = os.path.join(wd, "single")
    os.makedirs(single_wd)
    carrier = h.Carrier(single_wd).start()
    alone = h.Daemon(single_wd, carrier.port, f.RULES).start(ready="sip")
    single = quarantined_after(single_wd, [alone],
                               lambda: h.run_dialer(single_wd, alone.port, calls, rate=RATE))
    h.check(0 < single < CALLS, f"alone: quarantined after {single} of {CALLS} calls")
    alone.stop()
    carrier.stop()

    # Two nodes: the number's calls alternate between them, at the same pace.
    pair_wd = os.path.join(wd, "pair")
    os.makedirs(pair_wd)
    redis = h.Redis(pair_wd).start()
    carrier = h.Carrier(pair_wd).start()
    a = f.node(pair_wd, "a", carrier, redis, f.RULES).start(ready="sip")
    b = f.node(pair_wd, "b", carrier, redis, f.RULES).start(ready="sip")
    to_a = [c for i, c in enumerate(calls) if (i // 2) % 2 == 0]
    to_b = [c for i, c in enumerate(calls) if (i // 2) % 2 == 1]
    results = {}

    def dial():
        threads = [threading.Thread(target=lambda n, d, c: results.__setitem__(n, h.run_dialer(pair_wd, d.port, c,
                                                                                                rate=RATE / 2, name=n)),
                                    args=(n, d, c)) for n, d, c in (("dial-a", a, to_a), ("dial-b", b, to_b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    pair = quarantined_after(pair_wd, [a, b], dial)
    # The number's calls per sync interval (1 s): RATE / 2 calls/s are its.
    tolerance = RATE // 2 + 1
    print(f"quarantined after {single} forwarded attempts alone, {pair} through the pair")
    h.check(abs(pair - single) <= tolerance,
            f"pair quarantined after {pair} attempts, alone after {single} (tolerance {tolerance})")
    for n, r in results.items():
        h.check(r["failed"] == 0 or all(code in (200, 603, 503) for code in r["finals"]),
                f"{n}: unexpected answers {r['finals']}")

    # Both nodes tell the same story, fleet-wide, with a per-node split.
    def same():
        sa, sb = a.request(f"show number {f.NUMBER}"), b.request(f"show number {f.NUMBER}")
        return sa if (sa["attempts"], sa["codes"], sa["paced"]) == (sb["attempts"], sb["codes"], sb["paced"]) else None
    sa = h.wait_for(same, timeout=5, what="show number to agree on both nodes")
    split = {n["node"]: n["attempts"] for n in sa["by_node"]}
    h.check(set(split) == {"a", "b"} and sum(split.values()) == sa["attempts"] == pair,
            f"by_node {split} should add up to {sa['attempts']} == {pair} forwarded")
    for d in (a, b):
        s = d.request(f"show number {f.HEALTHY}")
        h.check_eq(s["state"], "healthy", f"{f.HEALTHY} on {d.wd}")
        h.check(s["attempts"] >= CALLS - 2, f"{f.HEALTHY} fleet-wide attempts {s['attempts']}")
    nodes = a.request("show nodes")["nodes"]
    h.check_eq(sorted(n["node"] for n in nodes), ["a", "b"], "show nodes")
    h.check(all(not n["stale"] for n in nodes), f"no node stale: {nodes}")
    h.check(a.request("show info")["fleet"]["degraded"] is False, "a not degraded")
    a.stop()
    b.stop()
    print("PASS")


if __name__ == "__main__":
    main()
