"""The stats socket as an operator's tool: `set policy` is logged with who
asked (SO_PEERCRED), streamed as a `policy` event and kept in --state_file
over a restart (unless the flag changed since); quarantine of a number never
seen says it is pre-emptive, release with nothing to release creates no
entry; help, format=csv, quit and prompt as on HAProxy's socket; requests
on one connection are answered in order; `watch` shows paced numbers first;
subscribers get a last {"event":"stopping"} and the socket file goes away
on a clean stop."""
import json
import os
import socket
import time

import harness as h

wd = h.workdir("stats-operator")
state = os.path.join(wd, "state.jsonl")
carrier = h.Carrier(wd).start()
port = h.free_port()
# Pacing never fires on its own here: only the operator paces.
extra = [f"--state_file={state}", "--min_attempts=100000"]
d = h.Daemon(wd, carrier.port, listen_port=port, extra=extra).start()


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(d.socket_path)
    return s


def read_until(s, end, buf=b""):
    """Reads until the bytes received end with `end`; returns them."""
    while not buf.endswith(end):
        chunk = s.recv(65536)
        if not chunk:
            h.fail(f"connection closed waiting for {end!r}; got {buf!r}")
        buf += chunk
    return buf


def read_lines(s, n):
    buf = b""
    while buf.count(b"\n") < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf.decode().splitlines()


def text_answer(request):
    """A multi-line answer: its lines, up to the empty line that ends it."""
    s = connect()
    s.sendall(request.encode() + b"\n")
    out = read_until(s, b"\n\n").decode()
    s.close()
    return out[:-2].split("\n")


events = connect()
events.sendall(b"subscribe\n")
h.check_eq(json.loads(read_lines(events, 1)[0]), {"subscribed": True}, "subscribe answer")

# 1. set policy: answered with what changed, logged with who, a policy event.
a = d.request("set policy dry_run=yes number_cpm=5")
h.check_eq((a["dry_run"], a["number_cpm"], a["changed"]), (True, 5, ["number_cpm", "dry_run"]), "set policy answer")
h.check_eq(a["flags"], {"number_cpm": 0, "dry_run": False}, "the flags' values of what was set live")
h.check(a["set_by"].startswith("uid=") and " pid=" in a["set_by"], f"set_by: {a['set_by']}")
e = json.loads(read_lines(events, 1)[0])
h.check_eq((e["event"], e["from"], e["to"]), ("policy", {"number_cpm": 0, "dry_run": False},
                                              {"number_cpm": 5, "dry_run": True}), "policy event")
h.check_eq(e["by"], a["set_by"], "the event says who")
h.check_eq(e["reason"], "number_cpm 0 -> 5, dry_run false -> true", "the event's reason")
h.wait_for(lambda: "policy set by uid=" in d.log(), what="the policy change in the log")
h.check(f"policy set by {a['set_by']}: number_cpm 0 -> 5, dry_run false -> true" in d.log(),
        f"log line of set policy:\n{d.log()}")
h.check_eq(d.request("show info")["dry_run"], True, "dry run is live")

# 2. Requests on one connection are answered in order, the SIP-thread ones too.
s = connect()
s.sendall(b"set policy number_cpm=7\nshow policy\nshow info\n")
lines = read_lines(s, 3)
s.close()
h.check_eq(len(lines), 3, f"three answers: {lines}")
h.check_eq(json.loads(lines[0])["changed"], ["number_cpm"], "first answer: set policy")
h.check_eq(json.loads(lines[1])["number_cpm"], 7, "second answer: show policy, after the change")
h.check("version" in json.loads(lines[2]), "third answer: show info")
read_lines(events, 1)  # its policy event

# 3. Quarantine of a number never seen: done, and said to be pre-emptive.
calls = [("15551230001", "15550000603" if i % 2 else "15550001200") for i in range(10)]
calls += [("15551230002", "15550000603" if i % 5 == 0 else "15550001200") for i in range(10)]
calls += [(f"155512400{i:02d}", "15550001200") for i in range(1, 6)]
res = h.run_dialer(wd, d.port, calls, rate=50)
h.check_eq(res["failed"], 0, "failed calls")
h.wait_idle(d)
tracked = d.request("show info")["numbers_tracked"]
h.check_eq(tracked, 7, "numbers tracked after the calls")
q = d.request("quarantine +1 (555) 999-0001 for=2h")
h.check_eq((q["state"], q["preemptive"], q["from"]), ("quarantined", True, "healthy"), "pre-emptive quarantine")
h.check("not tracked" in q["message"], f"message: {q['message']}")
h.check_eq(d.request("show info")["numbers_tracked"], tracked + 1, "a pre-emptive quarantine is tracked")
r = d.request("release 15559990002")
h.check_eq((r["released"], r["state"]), (False, "healthy"), "release of a number never seen")
h.check_eq(r["message"], "+15559990002 is not tracked: nothing to release", "its message")
r = d.request("release 15551230002")
h.check_eq(r["message"], "+15551230002 is healthy: nothing to release", "release of a healthy number")
h.check_eq(d.request("show info")["numbers_tracked"], tracked + 1, "a release creates no entry")
h.check("error" in d.request("show number 15559990002"), "still not tracked")
r = d.request("release 15559990001")
h.check_eq((r["released"], r["from"], r["state"]), (True, "quarantined", "healthy"), "release of the quarantine")

# 4. watch: five paced numbers and two healthy ones with more 603s: --limit=5 shows the paced ones.
for i in range(1, 6):
    h.check_eq(d.request(f"quarantine 155512400{i:02d}")["preemptive"], False, "quarantine of a tracked number")
top = d.request("show numbers sort=603 limit=5")["numbers"]
h.check_eq([n["state"] for n in top], ["quarantined"] * 5, "show numbers: paced first")
p = h.ctl(d.socket_path, "watch", "--count=1", "--limit=5")
h.check_eq(p.returncode, 0, f"watch exit code: {p.stderr}")
rows = [line.split() for line in p.stdout.splitlines() if line.startswith("+1")]
h.check_eq([r[1] for r in rows], ["quarantined"] * 5, f"watch frame shows the 5 quarantined numbers:\n{p.stdout}")
h.check("+15551230001" not in p.stdout, f"healthy numbers come after:\n{p.stdout}")
p = h.ctl(d.socket_path, "watch", "--count=1", "--limit=3")
h.check("2 more paced numbers" in p.stdout, f"watch says what the limit hides:\n{p.stdout}")

# 5. help: one line per request, ended by an empty line.
help_lines = text_answer("help")
h.check(len(help_lines) >= 15 and all(" : " in line for line in help_lines), f"help: {help_lines}")
for req in ("quit", "prompt", "show numbers [state=S] [sort=CODE|attempts] [limit=N] [format=csv]"):
    h.check(any(line.strip().startswith(req + " ") for line in help_lines), f"help lacks {req}")
p = h.ctl(d.socket_path, "help")
h.check(p.returncode == 0 and "set policy KEY=VALUE" in p.stdout, f"sippacer-ctl help:\n{p.stdout}")

# 6. format=csv.
rows = text_answer("show numbers sort=603 format=csv")
h.check(rows[0].startswith("# number,state,reason,"), f"csv header: {rows[0]}")
h.check_eq(len(rows), 1 + 8, "csv: header and one row per number")
head = rows[0][2:].split(",")
first = dict(zip(head, rows[1].split(",")))
h.check_eq(first["state"], "quarantined", "csv: paced numbers first")
row_a = [r for r in rows if r.startswith("+15551230001,")][0]
h.check_eq(dict(zip(head, row_a.split(",")))["603"], "5", "csv: 603 count of +15551230001")
for what in ("carriers", "countries", "areas", "trunks", "hours"):
    rows = text_answer(f"show {what} format=csv")
    h.check(rows[0].startswith("# ") and len(rows) >= 2, f"show {what} format=csv: {rows}")
h.check("error" in d.request("show info format=csv"), "csv where there is none: an error")
p = h.ctl(d.socket_path, "show", "carriers", "format=csv")
h.check(p.returncode == 0 and p.stdout.startswith("# carrier,attempts,"), f"sippacer-ctl csv:\n{p.stdout}")

# 7. quit closes the connection after the answers before it.
s = connect()
s.sendall(b"show codes\nquit\nshow info\n")
buf = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
s.close()
h.check_eq(buf.count(b"\n"), 1, f"one answer before quit, nothing after: {buf!r}")
h.check(b'"codes"' in buf, "the answer before quit")

# 8. prompt: a "> " after each answer, the connection kept; prompt again turns it off.
s = connect()
s.sendall(b"prompt\n")
h.check_eq(read_until(s, b"> "), b"\n> ", "prompt on")
s.sendall(b"show policy\n")
out = read_until(s, b"\n\n> ")
h.check_eq(json.loads(out[:-4])["number_cpm"], 7, "an answer in interactive mode")
s.sendall(b"\n")
h.check_eq(read_until(s, b"> "), b"\n> ", "an empty line: the prompt again")
s.sendall(b"show trunks format=csv\n")
out = read_until(s, b"\n\n> ")
h.check(out.startswith(b"# name,uri,") and not out.endswith(b"\n\n\n> "), f"csv in interactive mode: {out!r}")
s.sendall(b"bogus\n")
h.check(b'"error"' in read_until(s, b"\n\n> "), "an error in interactive mode")
s.sendall(b"prompt\n")
h.check_eq(json.loads(read_lines(s, 1)[0]), {"prompt": False}, "prompt off")
s.sendall(b"show info\n")
h.check("version" in json.loads(read_lines(s, 1)[0]), "the connection stays after prompt off")
s.close()

# 9. A line sent without its newline before the client closes still gets its answer.
s = connect()
s.sendall(b"show codes")
s.shutdown(socket.SHUT_WR)
h.check(b'"codes"' in read_until(s, b"\n"), "the last line without a newline")
s.close()

# 10. SIGTERM: subscribers get a last line, the socket file is removed.
d.stop()
buf = b""
events.settimeout(5)
while True:
    chunk = events.recv(65536)
    if not chunk:
        break
    buf += chunk
last = json.loads(buf.decode().splitlines()[-1])
h.check_eq(last["event"], "stopping", f"last event: {buf!r}")
h.check(not os.path.exists(d.socket_path), "socket file removed on a clean stop")

# 11. The live policy comes back after a restart, and the log says it overrides the flags.
d = h.Daemon(wd, carrier.port, listen_port=port, extra=extra).start()
p = d.request("show policy")
h.check_eq((p["dry_run"], p["number_cpm"]), (True, 7), "the live policy after a restart")
h.check_eq(p["flags"], {"number_cpm": 0, "dry_run": False}, "and the flags it overrides")
h.wait_for(lambda: "override the flags" in d.log(), what="the override in the log")
h.check("number_cpm=7 (--number_cpm=0), dry_run=true (--dry_run=false)" in d.log(), f"start log:\n{d.log()}")
d.stop()
# A flag changed since the live setting: the flag wins for that key.
d = h.Daemon(wd, carrier.port, listen_port=port, extra=extra + ["--number_cpm=3"]).start()
p = d.request("show policy")
h.check_eq((p["dry_run"], p["number_cpm"]), (True, 3), "a changed flag wins, the other live setting stays")
d.stop()
carrier.stop()
print("stats operator: ok")
