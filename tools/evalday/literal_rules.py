#!/usr/bin/env python3
"""The seed's literal rules, as an operator would first write them, for
comparison with sippacer's detector on the same day:

  throttle   when 603s are >= 15% of a number's calls over the last 15 min
  quarantine when 603s are >  5% of a number's calls over the last 4 h

counting every 603 (before or after ring), judged after each call once the
window holds --min-attempts calls (20, the seed's "a minimum number of
attempts"). Reads the day's CDR lines, prints state events in the shape
sippacer-replay prints, so score.py reads both. Calls are judged as they
were recorded (as in a dry run: pacing here does not remove later calls).
"""
import argparse
import collections
import datetime as dt
import json


def when(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cdr")
    ap.add_argument("--min-attempts", type=int, default=20)
    args = ap.parse_args()
    finals = []
    with open(args.cdr) as f:
        for line in f:
            r = json.loads(line)
            at = when(r["ts"]) + dt.timedelta(milliseconds=r["setup_ms"])
            finals.append((at, r["caller"], r["code"] == 603))
    finals.sort()
    rules = [("quarantined", dt.timedelta(hours=4), lambda rate: rate > 0.05, "603>5%/4h:quarantine"),
             ("throttled", dt.timedelta(minutes=15), lambda rate: rate >= 0.15, "603>=15%/15m:throttle")]
    recent = collections.defaultdict(collections.deque)  # number -> (at, is603), last 4 h
    state = {}
    for at, number, is603 in finals:
        calls = recent[number]
        calls.append((at, is603))
        while calls and at - calls[0][0] > dt.timedelta(hours=4):
            calls.popleft()
        for to, window, passes, text in rules:
            inside = [d for t, d in calls if at - t <= window]
            if len(inside) < args.min_attempts:
                continue
            rate = sum(inside) / len(inside)
            rank = {"throttled": 1, "quarantined": 2}
            if passes(rate) and rank[to] > rank.get(state.get(number, ""), 0):
                print(json.dumps({"event": "state", "number": number, "from": state.get(number, "healthy"),
                                  "to": to, "at": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                                  "reason": f"603 {100 * rate:.1f}% of {len(inside)} calls (rule {text})"}))
                state[number] = to
                break


if __name__ == "__main__":
    main()
