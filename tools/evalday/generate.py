#!/usr/bin/env python3
"""Synthetic evaluation day: CDRs, a carrier map and the ground truth.

The day is a dialer pool seen through sippacer's CDRs, so that a detector
replayed over it can be scored against what really happened. What is in it,
and why:

* Healthy numbers are not identical: each has its own answer rate (35-45%),
  call rate (0.7-1.3x) and a small pre-ring 603 rate (0.1-0.8%), because real
  callees do decline and carriers do drop the odd call from any number.
* The evening ramp (pre-ring 480 from 5% to 12% over the last third of the
  day) hits every number at once: an hour-of-day effect the pool shares, not
  a reputation problem.
* Labelled numbers: from their onset, carriers' analytics drop 50-90% of
  their calls before ring (603, for some a share as 603+ "Network Blocked").
  One is labelled by a single carrier only, one is slow (30%), and some
  overuse first (5x their rate for 40-60 min before the label), which is how
  numbers get labelled in the first place.
* handset_486: handsets show a spam warning and users reject as busy (486
  after ring). No carrier blocks, so pacing would be wrong; watching is right.
* Route problems that look like reputation if seen per number but are not:
  congestion on area codes (480 pre-ring; local-presence numbers dial mostly
  into their own area and feel it most), a German campaign into a country
  whose carriers refuse it (403), a carrier outage (503), and a stale list
  (404/410). Sparse numbers test that few calls do not mean anything.

Everything is drawn from random.Random(seed): same seed, same files.
"""
import argparse
import datetime as dt
import json
import os
import random
import sys
import time

CARRIERS = ["alpha", "bravo", "charlie"]
NPAS = ["201", "202", "206", "212", "213", "214", "215", "216", "217", "224",
        "225", "231", "239", "240", "248", "252", "267", "281", "301", "303",
        "305", "310", "312", "313", "314", "315", "317", "406", "407", "412",
        "415", "502", "512", "602", "614", "617", "702", "713", "718", "804"]
REASONS = {200: "OK", 403: "Forbidden", 404: "Not Found", 410: "Gone", 480: "Temporarily Unavailable",
           486: "Busy Here", 487: "Request Terminated", 503: "Service Unavailable", 603: "Decline"}
MIN, HOUR = 60_000, 3_600_000  # in ms


def iso(start, ms):
    return (start + dt.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def scaled(n, base, lo=0):
    return max(lo, round(base * n / 240))


def window(rng, lo_h, hours, nominal_min):
    dur = min(nominal_min * MIN, int(0.4 * hours * HOUR))
    s = rng.randint(int(lo_h * HOUR), max(int(lo_h * HOUR), int((hours - 0.25) * HOUR) - dur))
    return s, s + dur


def carrier_map(rng):
    prefixes = {}
    for npa in NPAS:
        nxxs = [x for x in range(200, 1000) if x != 555 and x % 100 != 11]
        for nxx in rng.sample(nxxs, 10):
            prefixes["1" + npa + str(nxx)] = rng.choice(CARRIERS)
    return prefixes


def plan_numbers(rng, a, prefixes):
    """Caller IDs, their patterns and their tags."""
    n, hours = a.numbers, a.hours
    lo, hi = (1.0, hours - 2) if hours >= 6 else (0.75, hours - 1)
    n_lab, n_over = scaled(n, 13, 4), scaled(n, 3, 1)
    n_nb, n_hs = scaled(n, 4, 1), scaled(n, 2, 1)
    n_sparse, n_ger, n_stale = scaled(n, 20), scaled(n, 10, 3), scaled(n, 15)
    congested = rng.sample(NPAS, min(2, max(1, round(2 * n / 240))))
    n_local = scaled(n, 4, 1)  # local-presence numbers per congested area
    kinds = (["labelled"] * n_lab + ["handset_486"] * n_hs + ["sparse"] * n_sparse
             + ["german"] * n_ger + ["stale"] * n_stale + ["local"] * (n_local * len(congested)))
    if len(kinds) > n:
        sys.exit(f"--numbers {n} is too small for the day's patterns ({len(kinds)} needed)")
    kinds += ["healthy"] * (n - len(kinds))
    used, numbers = set(), []
    for i, kind in enumerate(kinds):
        npa = congested[(i - kinds.index("local")) // n_local] if kind == "local" else rng.choice(NPAS)
        while True:
            num = f"+1{npa}555{rng.randint(0, 9999):04d}"
            if num not in used:
                used.add(num)
                break
        p = dict(number=num, pattern="healthy", onset=None, label_carriers=[], overuse=False, tags=[],
                 rate=a.cpm * rng.uniform(0.7, 1.3) / MIN, answer=rng.uniform(0.35, 0.45),
                 pre603=rng.uniform(0.001, 0.008), drop=0.0, nb_share=0.0, home=None, overuse_from=None)
        if kind in ("labelled", "handset_486"):
            p["pattern"] = kind
            p["onset"] = rng.randint(int(lo * HOUR), int(hi * HOUR))
        elif kind == "sparse":
            p["pattern"] = "sparse"
            p["rate"] /= 10
        elif kind == "german":
            p["tags"] = ["german_campaign"]
        elif kind == "stale":
            p["tags"] = ["stale_list"]
        elif kind == "local":
            p["tags"], p["home"] = ["congested_area"], [k for k in prefixes if k[1:4] == npa]
        numbers.append(p)

    labelled = [p for p in numbers if p["pattern"] == "labelled"]
    for j, p in enumerate(labelled):
        p["drop"] = rng.uniform(0.5, 0.9)
        p["label_carriers"] = list(CARRIERS)
        if j == 0:
            p["pattern"], p["label_carriers"] = "labelled_one_carrier", [rng.choice(CARRIERS)]
        elif j <= n_over:
            p["pattern"], p["overuse"] = "labelled_overuse", True
            w = rng.randint(40 * MIN, 60 * MIN)
            p["onset"] = rng.randint(max(int(lo * HOUR), min(int(hi * HOUR), w + 30 * MIN)), int(hi * HOUR))
            p["overuse_from"] = p["onset"] - w
    plain = [p for p in labelled if p["pattern"] == "labelled"]
    if len(plain) >= 3:
        plain[-1]["drop"] = 0.3
        plain[-1]["tags"] = ["slow_label"]
    for p in rng.sample(labelled, min(n_nb, len(labelled))):
        p["nb_share"] = rng.uniform(0.3, 0.6)
        p["tags"] = p["tags"] + ["network_blocked"]

    routes = [dict(kind="area", key=npa, code="480", p=0.40, span=window(rng, lo, hours, 90)) for npa in congested]
    routes.append(dict(kind="country", key="+49", code="403", p=0.85, span=window(rng, lo, hours, 120)))
    routes.append(dict(kind="carrier", key="charlie", code="503", p=0.30, span=window(rng, lo, hours, 45)))
    return numbers, routes


def arrivals(rng, p, end):
    """Poisson arrivals; 5x the rate in an overuse window."""
    bounds = [end] if p["overuse_from"] is None else [p["overuse_from"], p["onset"], end]
    t, out = 0.0, []
    for b in bounds:
        boost = 5 if p["overuse_from"] is not None and b == p["onset"] else 1
        while True:
            t += rng.expovariate(p["rate"] * boost)
            if t >= b:
                t = b
                break
            out.append(int(t))
    return out


def baseline(rng, p, t, hours):
    ramp_from = hours * HOUR * 2 / 3
    evening = max(0.0, (t - ramp_from) / (hours * HOUR - ramp_from))
    x = rng.random()
    for kind, w in (("200", p["answer"]), ("486pre", 0.08), ("480pre", 0.05 + 0.07 * evening),
                    ("487", 0.15), ("404", 0.006), ("410", 0.004), ("603ring", 0.025),
                    ("603pre", p["pre603"]), ("503", 0.005)):
        if x < w:
            return kind
        x -= w
    return "480ring"  # no answer


def outcome(rng, p, t, callee, carrier, routes, hours):
    """The kind of final response: route trouble, labels, then the number's own mix."""
    for r in routes:
        s, e = r["span"]
        hit = {"area": callee[:2] == "+1" and callee[2:5] == r["key"], "country": callee.startswith(r["key"]),
               "carrier": carrier == r["key"]}[r["kind"]]
        if hit and (r["kind"] == "country" or s <= t < e) and rng.random() < r["p"]:
            return {"480": "480pre", "403": "403", "503": "503"}[r["code"]]
    if p["drop"] and t >= p["onset"] and carrier in p["label_carriers"] and rng.random() < p["drop"]:
        return "603+" if rng.random() < p["nb_share"] else "603pre"
    if p["pattern"] == "handset_486" and t >= p["onset"] and rng.random() < 0.40:
        return "486ring"
    if "stale_list" in p["tags"] and rng.random() < 0.20:
        return "404" if rng.random() < 0.6 else "410"
    return baseline(rng, p, t, hours)


def cdr(rng, p, t, callee, carrier, kind, start):
    code = int(kind[:3])
    rec = {"ts": iso(start, t), "caller": p["number"], "callee": callee, "carrier": carrier, "code": code,
           "reason": REASONS[code], "pre_ring": True, "network_blocked": False, "reason_header": None,
           "pdd_ms": None, "setup_ms": rng.randint(100, 1500), "duration_s": None, "ended_by": "callee",
           "paced": None, "refused_by_acl": False}
    if kind == "603+":
        rec["reason"], rec["network_blocked"] = "Network Blocked", True
        rec["reason_header"] = f'Q.850;cause=21;text="Blocked by analytics; redress https://redress.example/{carrier}"'
    elif kind in ("200", "486ring", "480ring", "487", "603ring"):
        rec["pre_ring"] = False
        rec["pdd_ms"] = rng.randint(1500, 4000)
        rec["setup_ms"] = rec["pdd_ms"] + (rng.randint(3000, 15000) if code == 200 else rng.randint(5000, 25000))
        if code == 200:
            rec["duration_s"] = min(300, 20 + int(rng.expovariate(1 / 70)))
            rec["ended_by"] = rng.choice(["caller", "callee"])
        elif code == 487:
            rec["ended_by"] = "cancel"
    return rec


def stats(calls, numbers):
    """Per pattern (and tag, and before/after onset) shares of each outcome kind."""
    cols = ["200", "486pre", "486ring", "480pre", "480ring", "487", "404", "410", "603ring", "603pre", "603+",
            "503", "403"]
    groups = {}
    for t, p, kind in calls:
        g = p["pattern"] + "".join(f"[{x}]" for x in p["tags"])
        if p["onset"] is not None:
            g += " >=onset" if t >= p["onset"] else " <onset"
        groups.setdefault(g, {}).setdefault(kind, 0)
        groups[g][kind] += 1
    print(f"{'group':46s}{'calls':>8s}" + "".join(f"{c:>8s}" for c in cols))
    for g in sorted(groups):
        n = sum(groups[g].values())
        print(f"{g:46s}{n:8d}" + "".join(f"{100 * groups[g].get(c, 0) / n:7.1f}%" for c in cols))
    print(f"{len(calls)} calls, {len(numbers)} numbers")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--numbers", type=int, default=240)
    ap.add_argument("--hours", type=float, default=12)
    ap.add_argument("--start", default="2026-11-02T13:00:00Z")
    ap.add_argument("--cpm", type=float, default=1.0, help="calls per minute per number")
    ap.add_argument("--out", required=True)
    ap.add_argument("--stats", action="store_true", help="print per-pattern outcome shares")
    a = ap.parse_args()
    if a.hours < 2:
        sys.exit("--hours must be at least 2")
    t0 = time.monotonic()
    rng = random.Random(a.seed)
    start = dt.datetime.fromisoformat(a.start.replace("Z", "+00:00")).astimezone(dt.timezone.utc)
    end = int(a.hours * HOUR)
    prefixes = carrier_map(rng)
    us = sorted(prefixes)
    numbers, routes = plan_numbers(rng, a, prefixes)
    ger_from, ger_to = next(r["span"] for r in routes if r["kind"] == "country")

    calls = []  # (invite ms, number, kind, record)
    for p in numbers:
        for t in arrivals(rng, p, end):
            if "german_campaign" in p["tags"] and ger_from <= t < ger_to and rng.random() < 0.40:
                callee, carrier = f"+4930{rng.randint(0, 99_999_999):08d}", "dtag"
            else:
                pre = rng.choice(p["home"]) if p["home"] and rng.random() < 0.6 else rng.choice(us)
                callee, carrier = f"+{pre}{rng.randint(0, 9999):04d}", prefixes[pre]
            kind = outcome(rng, p, t, callee, carrier, routes, a.hours)
            calls.append((t, p, kind, cdr(rng, p, t, callee, carrier, kind, start)))
    calls.sort(key=lambda c: (c[0], c[1]["number"]))
    for i, (_, _, _, rec) in enumerate(calls):
        rec["a_call_id"], rec["b_call_id"] = f"a-{i}@dialer", f"b-{i}@sippacer"
    ends = sorted(calls, key=lambda c: (c[0] + c[3]["setup_ms"] + 1000 * (c[3]["duration_s"] or 0), c[0]))

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "cdr.jsonl"), "w") as f:
        f.writelines(json.dumps(c[3], separators=(",", ":")) + "\n" for c in ends)
    with open(os.path.join(a.out, "carriers.csv"), "w") as f:
        f.write(f"# evalday carriers, seed {a.seed}\n")
        f.writelines(f"{k},{v}\n" for k, v in sorted(prefixes.items()))
        f.write("49,dtag\n")
    truth = {"start": iso(start, 0), "end": iso(start, end), "seed": a.seed, "numbers": {}, "routes": []}
    for p in numbers:
        t = {"pattern": p["pattern"], "onset": None if p["onset"] is None else iso(start, p["onset"]),
             "label_carriers": p["label_carriers"], "overuse": p["overuse"], "tags": p["tags"]}
        if p["drop"]:
            t["drop_rate"], t["network_blocked_share"] = round(p["drop"], 3), round(p["nb_share"], 3)
        if p["overuse_from"] is not None:
            t["overuse_from"] = iso(start, p["overuse_from"])
        truth["numbers"][p["number"]] = t
    for r in routes:
        truth["routes"].append({"kind": r["kind"], "key": r["key"], "code": r["code"],
                                "start": iso(start, r["span"][0]), "end": iso(start, r["span"][1]), "share": r["p"]})
    with open(os.path.join(a.out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")
    if a.stats:
        stats([(c[0], c[1], c[2]) for c in calls], numbers)
        print(f"generated in {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main()
