#!/usr/bin/env python3
"""What being in a fleet costs a node: CPU per call at a fixed rate, alone
and with --redis (docs/fleet.md). Not a CI test: a measurement.

  tests/bench/fleet_cost.py SIPBENCH_DIR BIN [RATE] [SECONDS] [REPEATS]

SIPBENCH_DIR holds `sipbench` (SIPp UAC -> BIN on 127.0.0.1:5060 -> SIPp
UAS on 5070, 1,000 caller-ID numbers). Three ways, alternated in each
repeat so that drift hits all of them alike:

  alone     no --redis
  redis     --redis: the node pushes its counts every second
  pair      --redis, and a second node's counts for the same 1,000 numbers
            at the same rate arrive every second (published here, as
            another node would): the node also folds them into its windows
            and replays them to its pacer as evidence

redis-server runs outside the measured process tree; its own CPU per call
is printed apart. Prints the medians and each way's CPU per call against
`alone`."""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402  (cpu_seconds)


def resp(sock, *args):
    out = f"*{len(args)}\r\n"
    for a in args:
        a = str(a)
        out += f"${len(a.encode())}\r\n{a}\r\n"
    sock.sendall(out.encode())
    return read_reply(sock.makefile("rb"))


def read_reply(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind in (b"+", b"-"):
        return rest.decode()
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    if kind == b"*":
        return [read_reply(f) for _ in range(int(rest))]
    raise ValueError(line)


class Peer(threading.Thread):
    """Publishes, every second, what a second node carrying the same 1,000
    numbers at `rate` calls/s would: each number's absolute counts in the
    current bucket (all answered 200)."""

    def __init__(self, port, rate):
        super().__init__(daemon=True)
        self.port, self.rate = port, rate
        self.stop = threading.Event()

    def run(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        prefix = None
        while prefix is None and not self.stop.is_set():
            keys = resp(s, "KEYS", "sippacer:*:nodes")
            prefix = keys[0][: -len("nodes")] if keys else None
            time.sleep(0.2)
        if prefix is None:
            return
        width = int(prefix.split(":")[1])
        counts = {}
        n = 0
        while not self.stop.wait(1.0):
            epoch = int(time.time()) // width
            lines = [f"node peer {int(time.time() * 1000)}"]
            for i in range(self.rate):  # one second of the peer's calls, round robin
                number = 15551200000 + (n % 1000)
                n += 1
                key = (number, epoch)
                counts[key] = counts.get(key, 0) + 1
            for (number, e), c in counts.items():
                if e != epoch:
                    continue
                outcomes = [c] + [0] * 16
                lines.append(f"n {number} {e} {c},0,0,0," + ",".join(map(str, outcomes)))
            resp(s, "PUBLISH", prefix + "counts", "\n".join(lines) + "\n")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    bench, binary = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    rate = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    secs = int(sys.argv[4]) if len(sys.argv) > 4 else 15
    repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    out = tempfile.mkdtemp(prefix="sippacer-fleet-cost-")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", out], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    results = {w: [] for w in ("alone", "redis", "pair")}
    try:
        for rep in range(repeats):
            for way in results:
                sock = os.path.join(out, f"{way}-{rep}.sock")
                cmd = f"{binary} --listen=127.0.0.1:5060 --trunk=127.0.0.1:5070 --stats_socket={sock}"
                if way != "alone":
                    cmd += f" --redis=127.0.0.1:{port} --node_id=bench"
                with socket.create_connection(("127.0.0.1", port)) as s:
                    resp(s, "FLUSHALL")
                peer = Peer(port, rate) if way == "pair" else None
                if peer:
                    peer.start()
                redis_before = h.cpu_seconds(redis.pid)
                p = subprocess.run([os.path.join(bench, "sipbench"), "run", "--proxy", cmd, "--rate", str(rate),
                                    "--duration", str(secs), "--label", f"{way}-{rep}",
                                    "--out", os.path.join(out, f"{way}-{rep}")],
                                   cwd=bench, capture_output=True, text=True)
                redis_s = h.cpu_seconds(redis.pid) - redis_before
                if peer:
                    peer.stop.set()
                    peer.join(5)
                try:
                    run = json.loads(p.stdout.strip().splitlines()[-1])["runs"][0]
                except (IndexError, ValueError, KeyError):
                    print(f"{way}-{rep}: no result\n{p.stderr[-2000:]}", file=sys.stderr)
                    continue
                calls = max(1, run.get("calls_total") or run.get("calls_successful") or rate * secs)
                run["redis_cpu_us_per_call"] = redis_s / calls * 1e6
                results[way].append(run)
                print(f"{way}-{rep}: {run.get('proxy_cpu_us_per_call')} us/call, "
                      f"achieved {run.get('achieved_cps')}/s, failed {run.get('calls_failed')}", file=sys.stderr)
    finally:
        redis.kill()
    def med(rs, key, sub=None):
        v = [(r.get(key) or {}).get(sub) if sub else r.get(key) for r in rs]
        v = [x for x in v if x is not None]
        return statistics.median(v) if v else float("nan")
    base = med(results["alone"], "proxy_cpu_us_per_call")
    print(f"| way | runs | failed | achieved calls/s | sippacer CPU/call | vs alone | redis-server CPU/call | "
          f"p99 INVITE->200 |")
    print("|---|---|---|---|---|---|---|---|")
    for way, rs in results.items():
        cpu = med(rs, "proxy_cpu_us_per_call")
        print(f"| {way} | {len(rs)} | {sum(r.get('calls_failed', 0) for r in rs)} | {med(rs, 'achieved_cps'):.0f} | "
              f"{cpu:.0f} us | {100 * (cpu / base - 1):+.1f}% | "
              f"{med(rs, 'redis_cpu_us_per_call'):.1f} us | {med(rs, 'sipp_invite_to_200_ms', 'p99'):.1f} ms |")
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
