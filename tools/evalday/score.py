#!/usr/bin/env python3
"""Score a replay's pacing events against an evaluation day's truth.json.

What counts, and why:

* A number is "paced" at its first state event to throttled or quarantined.
* A labelled number is detected if it was paced when its label began (delay
  0) or got paced at/after its onset (delay = minutes from onset). Pacing
  before the onset is counted apart as a false positive: with nothing to see
  yet, it was luck or overuse, not the label.
* Any pacing of an unlabelled number is a false positive. They are broken
  down by pattern and by the day's situations (German campaign, stale list,
  congested area) because those are the traps a per-number detector falls in
  when it mistakes route or list trouble for reputation.
* handset_486 numbers should get a watch event, not pacing.
* A truth route is found if a route event for the same kind:key went to
  elevated between 5 min before its start and 15 min after its end; other
  elevations are spurious.

Unknown lines and event kinds are ignored, and counted.
"""
import argparse
import collections
import datetime as dt
import json
import statistics
import sys

PACED = ("throttled", "quarantined")
LABELLED = ("labelled", "labelled_overuse", "labelled_one_carrier")
UNLABELLED = ("healthy", "sparse", "handset_486")
TAGS = ("german_campaign", "stale_list", "congested_area")


def when(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def minutes(a, b):
    return round((a - b).total_seconds() / 60, 1)


def load_events(path):
    ev = {"state": collections.defaultdict(list), "watch": collections.defaultdict(list), "route": []}
    ignored = collections.Counter()
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            try:
                e = json.loads(line)
                kind = e.get("event")
                if kind in ev:
                    e["at"] = when(e["at"])
                    key = "route" if kind == "route" else "number"
                    e[key], e["to"] = str(e[key]), e.get("to")
            except (ValueError, KeyError, TypeError, AttributeError):
                ignored["unparsable"] += 1
                continue
            if kind == "route":
                ev["route"].append(e)
            elif kind in ev:
                ev[kind][e["number"]].append(e)
            else:
                ignored[str(kind)] += 1
    for by_number in (ev["state"], ev["watch"]):
        for evs in by_number.values():
            evs.sort(key=lambda e: e["at"])
    ev["route"].sort(key=lambda e: e["at"])
    return ev, ignored


def spread(delays):
    return {"median": statistics.median(delays) if delays else None, "worst": max(delays) if delays else None}


def detection(evs, onset):
    """Minutes from onset to pacing (0 if paced at onset), or None."""
    before = [e for e in evs if e["at"] < onset]
    if before and before[-1]["to"] in PACED:
        return 0.0
    return next((minutes(e["at"], onset) for e in evs if e["at"] >= onset and e["to"] in PACED), None)


def route_key(route):
    return route.replace(":+", ":")  # "country:+49" and "country:49" are the same route


def score(truth, events_path, label):
    ev, ignored = load_events(events_path)
    nums, fails = truth["numbers"], []
    lab = {"count": 0, "paced": 0, "paced_before_onset": 0, "overuse_named": 0, "overuse_count": 0,
           "by_pattern": {p: {"count": 0, "paced": 0, "delays": []} for p in LABELLED}}
    unl = {"count": 0, "paced": 0, "by_pattern": {p: {"count": 0, "paced": 0} for p in UNLABELLED},
           "by_tag": {t: {"count": 0, "paced": 0} for t in TAGS + ("none",)}}
    hs = {"count": 0, "watched": 0, "delays": []}
    for num, t in nums.items():
        evs = ev["state"].get(num, [])
        first = next((e for e in evs if e["to"] in PACED), None)
        onset = when(t["onset"]) if t.get("onset") else None
        if t["pattern"] in LABELLED:
            bp = lab["by_pattern"][t["pattern"]]
            lab["count"] += 1
            bp["count"] += 1
            if first and first["at"] < onset:
                lab["paced_before_onset"] += 1
            delay = detection(evs, onset)
            if delay is None:
                fails.append(f"{num} ({t['pattern']}, onset {t['onset']}): never paced at/after onset")
            else:
                lab["paced"] += 1
                bp["paced"] += 1
                bp["delays"].append(delay)
            if t["pattern"] == "labelled_overuse":
                lab["overuse_count"] += 1
                lab["overuse_named"] += bool(first and "overuse" in first.get("reason", ""))
            continue
        tags = [x for x in t.get("tags", []) if x in TAGS] or ["none"]
        unl["count"] += 1
        unl["by_pattern"].setdefault(t["pattern"], {"count": 0, "paced": 0})["count"] += 1
        for x in tags:
            unl["by_tag"][x]["count"] += 1
        if first:
            unl["paced"] += 1
            unl["by_pattern"][t["pattern"]]["paced"] += 1
            for x in tags:
                unl["by_tag"][x]["paced"] += 1
            fails.append(f"{num} ({t['pattern']}, tags {','.join(tags)}): {first['to']} at "
                         f"{first['at']:%H:%M:%S} though not labelled: {first.get('reason', '')}")
        if t["pattern"] == "handset_486":
            hs["count"] += 1
            w = next((e for e in ev["watch"].get(num, []) if e["to"] == "watch"), None)
            if w:
                hs["watched"] += 1
                hs["delays"].append(minutes(w["at"], onset))
    all_delays = [d for bp in lab["by_pattern"].values() for d in bp["delays"]]
    lab["delay_min"] = spread(all_delays)
    for bp in lab["by_pattern"].values():
        bp.update(spread(bp.pop("delays")))
    hs["watch_delay_min"] = spread(hs.pop("delays"))

    elevated = [e for e in ev["route"] if e["to"] == "elevated"]
    matched, routes = set(), []
    for r in truth["routes"]:
        s, e, key = when(r["start"]), when(r["end"]), route_key(f"{r['kind']}:{r['key']}")
        hits = [i for i, x in enumerate(elevated) if route_key(x["route"]) == key
                and s - dt.timedelta(minutes=5) <= x["at"] <= e + dt.timedelta(minutes=15)]
        matched.update(hits)
        routes.append({"route": f"{r['kind']}:{r['key']}", "code": r["code"], "start": r["start"],
                       "end": r["end"], "elevated": bool(hits),
                       "delay_min": minutes(elevated[hits[0]]["at"], s) if hits else None})
    # The same incident seen through another group (the German 403s on the
    # carrier that serves +49, an outage's carrier on its busiest area code)
    # is not spurious: same code, during a truth route.
    for i, x in enumerate(elevated):
        for r in truth["routes"]:
            if x.get("code") == r["code"] and when(r["start"]) - dt.timedelta(minutes=5) <= x["at"] <= \
                    when(r["end"]) + dt.timedelta(minutes=15):
                matched.add(i)
    spurious = [f"{x['route']} {x.get('code', '')}@{x['at']:%H:%M}" for i, x in enumerate(elevated)
                if i not in matched]
    unknown = sorted(set(ev["state"]) - set(nums))
    return {"label": label, "labelled": lab, "unlabelled": unl,
            "false_positives": unl["paced"] + lab["paced_before_onset"], "handset_486": hs,
            "routes": routes, "spurious_route_elevations": len(spurious), "spurious_routes": spurious,
            "numbers_not_in_truth": len(unknown), "ignored_lines": sum(ignored.values()),
            "ignored_kinds": dict(ignored)}, fails


def fmt(x):
    return "-" if x is None else f"{x:.1f}"


def rows(m):
    lab, unl, hs = m["labelled"], m["unlabelled"], m["handset_486"]
    pct = f" ({100 * lab['paced'] / lab['count']:.0f}%)" if lab["count"] else ""
    out = [("labelled numbers paced (recall)", f"{lab['paced']}/{lab['count']}{pct}"),
           ("  onset -> paced, median / worst min", f"{fmt(lab['delay_min']['median'])} / "
                                                    f"{fmt(lab['delay_min']['worst'])}"),
           ("  paced before onset (FP)", str(lab["paced_before_onset"]))]
    for p, bp in lab["by_pattern"].items():
        out.append((f"  {p}: paced, median / worst min",
                    f"{bp['paced']}/{bp['count']}, {fmt(bp['median'])} / {fmt(bp['worst'])}"))
    out.append(("  overuse named in first pacing", f"{lab['overuse_named']}/{lab['overuse_count']}"))
    out.append(("unlabelled numbers paced (FP)", f"{unl['paced']}/{unl['count']}"))
    for p, c in unl["by_pattern"].items():
        out.append((f"  pattern {p}", f"{c['paced']}/{c['count']}"))
    for t, c in unl["by_tag"].items():
        out.append((f"  situation {t}", f"{c['paced']}/{c['count']}"))
    out.append(("false positives, total", str(m["false_positives"])))
    out.append(("handset_486 watched, median min", f"{hs['watched']}/{hs['count']}, "
                                                    f"{fmt(hs['watch_delay_min']['median'])}"))
    for r in m["routes"]:
        out.append((f"route {r['route']} {r['code']} {r['start'][11:16]}-{r['end'][11:16]}",
                    f"elevated {r['delay_min']:+.1f} min" if r["elevated"] else "missed"))
    sp = m["spurious_routes"]
    out.append(("spurious route elevations", f"{len(sp)}" + (f" ({' '.join(sp)})" if 0 < len(sp) <= 3 else "")))
    out.append(("events for numbers not in truth", str(m["numbers_not_in_truth"])))
    out.append(("ignored lines", str(m["ignored_lines"]) + "".join(
        f" {k}={v}" for k, v in sorted(m["ignored_kinds"].items()))))
    return out


def table(runs):
    cols = [rows(m) for m in runs]
    names = [name for name, _ in cols[0]]
    w0 = max(len(n) for n in names) + 2
    ws = [max([len(m["label"])] + [len(v) for _, v in c]) + 2 for m, c in zip(runs, cols)]
    lines = ["".ljust(w0) + "".join(m["label"].ljust(w) for m, w in zip(runs, ws))]
    for i, name in enumerate(names):
        lines.append(name.ljust(w0) + "".join(c[i][1].ljust(w) for c, w in zip(cols, ws)))
    return "\n".join(line.rstrip() for line in lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth", required=True)
    ap.add_argument("--events", required=True, help="the replay's JSON lines")
    ap.add_argument("--label", default="events")
    ap.add_argument("--compare", nargs=2, metavar=("LABEL2", "EVENTS2"), help="a second run, in its own column")
    ap.add_argument("--json", action="store_true", help="print the metrics as JSON")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 if an unlabelled number was paced or a labelled one missed")
    a = ap.parse_args()
    with open(a.truth) as f:
        truth = json.load(f)
    runs = [score(truth, a.events, a.label)]
    if a.compare:
        runs.append(score(truth, a.compare[1], a.compare[0]))
    if a.json:
        print(json.dumps(runs[0][0] if len(runs) == 1 else {"runs": [m for m, _ in runs]}))
    else:
        print(table([m for m, _ in runs]))
    fails = [f"{m['label']}: {line}" for m, fl in runs for line in fl]
    if a.strict and fails:
        print("\n".join(fails), file=sys.stderr if a.json else sys.stdout)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
