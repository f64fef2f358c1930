#!/usr/bin/env python3
"""Is the relay's memory flat under steady load? Not a CI test: a
measurement (README "Performance").

  tests/bench/rss_soak.py SIPBENCH_DIR BIN [RATE] [SECONDS]

SIPBENCH_DIR holds `sipbench` (SIPp UAC -> BIN on 127.0.0.1:5060 -> SIPp
UAS on 5070, in a private network namespace, every call answered, held
500 ms and hung up by the dialer). Every 10 s it prints the daemon's RSS and
sofia's transaction tables (`show info`); at the end, the RSS once the
longest transaction linger has filled (the sample at 60 s) against the
largest after it, and the calls SIPp saw fail. Exits 1 if any call failed
or the RSS grew by more than 5% after 60 s, not counting the numbers' call
logs: those grow by design until they hold the history (`window_log_bytes`,
at most 64 KB a number: docs/pacing.md "Windows"), and the harness's 1,000
numbers each call several times a second. Their growth is printed apart."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402  (the stats-socket request the tests use)

WARM_S = 60  # Timer J (32 s) filled, and some


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def daemon_pid(sock):
    """The daemon's pid, found by its stats socket (BIN may be a wrapper
    that execs it)."""
    for _ in range(100):
        p = subprocess.run(["pgrep", "-f", f"stats_socket={sock}"], capture_output=True, text=True)
        for pid in p.stdout.split():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "sippacer":
                        return int(pid)
            except OSError:
                pass
        time.sleep(0.1)
    return None


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    bench, binary = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    rate = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    secs = int(sys.argv[4]) if len(sys.argv) > 4 else 600
    out = tempfile.mkdtemp(prefix="sippacer-rss-soak-")
    sock = os.path.join(out, "stats.sock")
    proxy = f"{binary} --listen=127.0.0.1:5060 --trunk=127.0.0.1:5070 --stats_socket={sock}"
    run = subprocess.Popen([os.path.join(bench, "sipbench"), "run", "--netns", "--label", "soak", "--proxy", proxy,
                            "--rate", str(rate), "--duration", str(secs), "--out", os.path.join(out, "run")],
                           cwd=bench, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pid = daemon_pid(sock)
    if pid is None:
        print(run.communicate()[0])
        return 1
    start = time.time()
    samples = []
    print(" t(s)  rss(MiB)  logs(MiB)  server_tx  client_tx  calls  invites  cpu(us/call)")
    last_cpu, last_invites = h.cpu_seconds(pid), 0
    while run.poll() is None:
        time.sleep(10)
        try:
            info, rss, cpu = h.stats_request(sock, "show info"), rss_mb(pid), h.cpu_seconds(pid)
        except (OSError, ValueError):
            continue
        t = time.time() - start
        logs = info["window_log_bytes"] / 2**20
        samples.append((t, rss, logs))
        # The daemon's CPU over the last 10 s, per INVITE it took in then:
        # a cost that grows with time shows here before calls fail.
        invites = info["invites_total"]
        per_call = (cpu - last_cpu) * 1e6 / max(1, invites - last_invites)
        last_cpu, last_invites = cpu, invites
        print(f"{t:5.0f}  {rss:8.1f}  {logs:9.1f}  {info['sip_server_transactions']:9d}"
              f"  {info['sip_client_transactions']:9d}"
              f"  {info['calls_active']:5d}  {info['invites_total']:8d}  {per_call:12.0f}", flush=True)
    lines = run.stdout.read().strip().splitlines()
    result = json.loads(lines[-1])["runs"][0] if lines and lines[-1].startswith("{") else {}
    failed = result.get("calls_failed", -1)
    warm = [(rss, logs) for t, rss, logs in samples if t >= WARM_S]
    if not warm:
        print("\n".join(lines[-5:]))
        return 1
    growth = (max(r for r, _ in warm) - warm[0][0]) / warm[0][0] * 100
    rest = [r - logs for r, logs in warm]
    rest_growth = (max(rest) - rest[0]) / rest[0] * 100
    print(f"rate {rate}/s for {secs} s: calls {result.get('calls_attempted')} failed {failed}; "
          f"RSS {warm[0][0]:.1f} MiB at {WARM_S} s, at most {max(r for r, _ in warm):.1f} MiB after ({growth:+.1f}%); "
          f"less the call logs ({warm[0][1]:.1f} -> {warm[-1][1]:.1f} MiB) {rest[0]:.1f} MiB, at most "
          f"{max(rest):.1f} MiB after ({rest_growth:+.1f}%); CPU {result.get('proxy_cpu_us_per_call')} us a call")
    return 0 if failed == 0 and rest_growth <= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
