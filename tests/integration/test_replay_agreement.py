"""Live and replayed decisions agree: calls go through the real daemon in
--dry_run with --cdr_file, every event is read from `subscribe`; then
build/sippacer-replay runs the same flags over the CDR file the daemon
wrote, and must print the same events (kind, number, from, to, rule), at
the same times within a second or two (the daemon ticks on its own clock)."""
import json
import os
import re
import socket
import subprocess
import time

import harness as h

A, B, C, W = "15551230001", "15551230002", "15551230003", "15551230004"
POLICY = ["--rules=603pre>=20%/10m:throttle,603pre>=35%/10m:quarantine,"
          "603+>=5%/10m:quarantine,486>=40%/10m:watch",
          "--min_attempts=5", "--false_alarm_rate=0.5", "--timezone=UTC",
          "--throttled_cpm=6000", "--quarantine_for=0", "--dry_run"]
ANSWER, DECLINE_PRE_RING, DECLINE_AFTER_RING = "15550001200", "15550000603", "15550001603"
BLOCKED, BUSY = "15550002603", "15550001486"

wd = h.workdir("replay-agreement")
cdr = os.path.join(wd, "cdr.jsonl")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=POLICY + [f"--cdr_file={cdr}"]).start()
events = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
events.connect(d.socket_path)
events.sendall(b"subscribe\n")
events.settimeout(1)

plan = []
for i in range(12):
    plan.append((A, DECLINE_PRE_RING if i % 3 == 0 else ANSWER))        # 33%: throttled
    plan.append((B, DECLINE_AFTER_RING if i % 4 == 0 else ANSWER))      # people declining: nothing
    plan.append((W, BUSY if i % 2 == 0 else ANSWER))                    # 50% busy: watched
for i in range(10):
    plan.append((A, DECLINE_PRE_RING))                                  # 100%: quarantined
    plan.append((C, BLOCKED if i % 2 == 0 else ANSWER))                 # 603+: quarantined
res = h.run_dialer(wd, d.port, plan, rate=10, name="calls")
h.check_eq(res["failed"], 0, "failed calls")
h.wait_idle(d)
time.sleep(1.5)

buf = b""
try:
    while True:
        chunk = events.recv(65536)
        if not chunk:
            break
        buf += chunk
except socket.timeout:
    pass
live = [json.loads(l) for l in buf.decode().splitlines() if l.startswith('{"event"')]
d.stop()
carrier.stop()

replay = subprocess.run([os.environ["SIPPACER_REPLAY"]] + POLICY + ["--summary", cdr],
                        capture_output=True, text=True, timeout=60)
h.check_eq(replay.returncode, 0, f"replay exit code ({replay.stderr})")
replayed = [json.loads(l) for l in replay.stdout.splitlines()]
h.check("calls 56 from 4 numbers" in replay.stderr, f"replay summary: {replay.stderr}")


def key(e):
    rule = re.search(r"rule ([^)]*)\)", e.get("reason", ""))
    return (e["event"], e.get("number", e.get("route")), e["from"], e["to"], rule.group(1) if rule else "")


def at(e):
    return time.mktime(time.strptime(e["at"][:19], "%Y-%m-%dT%H:%M:%S")) + float(e["at"][19:23] or 0)


want = [("state", f"+{A}", "healthy", "throttled", "603pre>=20%/10m:throttle"),
        ("watch", f"+{W}", "normal", "watch", "486>=40%/10m:watch"),
        ("state", f"+{A}", "throttled", "quarantined", "603pre>=35%/10m:quarantine"),
        ("state", f"+{C}", "healthy", "quarantined", "603+>=5%/10m:quarantine")]
h.check_eq(sorted(key(e) for e in live), sorted(want), "live events")
h.check_eq([key(e) for e in replayed], [key(e) for e in live], "replayed events, in order")
for a, b in zip(live, replayed):
    h.check(abs(at(a) - at(b)) <= 2.0, f"event times differ: live {a['at']} replay {b['at']}")
    strip = lambda r: re.sub(r" in [0-9hms.]+,", ",", r)
    h.check_eq(strip(b["reason"]), strip(a["reason"]), "reason text")
print(f"replay agreement: {len(live)} events agree")

# The replay takes the daemon's pacing flags with the daemon's checks: a bad
# value exits 2 with one line naming the flag.
for args, flag in ((["--rules=603pre>=15%/1h:explode"], "--rules"), (["--min_attempts=many"], "--min_attempts"),
                   (["--false_alarm_rate=2"], "--false_alarm_rate"), (["--no_such_flag=1"], "--no_such_flag"),
                   (["--cdr_postgres=dbname=x", "--since=yesterday"], "--since"), ([], "CDR files")):
    p = subprocess.run([os.environ["SIPPACER_REPLAY"]] + args + ([cdr] if args and "--cdr_postgres" not in args[0] else []),
                       capture_output=True, text=True, timeout=30)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    h.check_eq(p.returncode, 2, f"replay exit code for {args}")
    h.check(len(lines) == 1 and flag in lines[0], f"replay {args}: want one line naming {flag}, got {p.stderr!r}")
p = subprocess.run([os.environ["SIPPACER_REPLAY"], cdr, "--no_such_flag=1"], capture_output=True, text=True, timeout=30)
h.check(p.returncode == 2 and "--no_such_flag" in p.stderr, f"an unknown flag after the file: {p.stderr!r}")
print("replay flags: bad values refused")
