"""Every bad start stops the daemon: exit 2, one line naming the flag (a bad
value, an unknown flag, a missing --flagfile, an address in use, a file it
cannot write). --help lists every flag by group with its default, --version
says what was built; the same for sippacer-replay and sippacer-ctl. Log
lines carry a timestamp, obey --log_level, and go to syslog(3) with
--log_target=syslog."""
import os
import re
import socket
import subprocess
import time

import harness as h

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
REPLAY = os.environ.get("SIPPACER_REPLAY", os.path.join(os.path.dirname(h.SIPPACER_BIN), "sippacer-replay"))
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (ERROR|WARN|INFO|DEBUG) [\w-]+: ")

wd = h.workdir("flags")


def write(name, text):
    path = os.path.join(wd, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def isolated():
    """Flags for a run that gets as far as binding: its own ports and socket."""
    sock = os.path.join(wd, f"s{time.monotonic_ns()}.sock")
    return [f"--listen=127.0.0.1:{h.free_port()}", f"--stats_socket={sock}"]


def refused(args, flag, binary=None):
    p = subprocess.run([binary or h.SIPPACER_BIN] + list(args), capture_output=True, text=True, timeout=30)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    h.check_eq(p.returncode, 2, f"exit code for {args} ({p.stderr!r})")
    h.check(len(lines) == 1 and flag in lines[0], f"{args}: want one line naming {flag}, got {p.stderr!r}")
    h.check("password" not in p.stdout, "output mentions a password")
    return lines[0]


T = "--trunk=127.0.0.1:5070"
cases = [
    ([], "--trunk"),
    ([T, "--listen=nohost:99999"], "--listen"),
    (["--trunk=sip:carrier.example.net;transport=sctp"], "--trunk"),
    (["--trunk=sips:carrier.example.net", "--tls_ca=/nonexistent/ca.pem"], "--tls_ca"),
    (["--trunk=sips:carrier.example.net", "--tls_cert=/nonexistent/c.pem"], "--tls_cert"),
    ([T, "--trunk_timeout=1s"], "--trunk_timeout"),
    ([T, "--timer_j=0s"], "--timer_j"),
    ([T, "--dns_resolv_conf=/nonexistent/resolv.conf"], "--dns_resolv_conf"),
    ([T, "--trunks_file=/etc/hostname"], "--trunks_file"),
    ([T, "--allow=10.0.0.0/33"], "--allow"),
    ([T, "--caller_id=pai,smoke"], "--caller_id"),
    ([T, "--default_country_code=0044"], "--default_country_code"),
    ([T, "--timezone=Mars/Olympus"], "--timezone"),
    ([T, "--rules=603>=15%/15m:explode"], "--rules"),
    ([T, "--rules=488>10%/1h:throttle"], "--rules"),
    ([T, "--min_attempts=0"], "--min_attempts"),
    ([T, "--min_attempts=many"], "--min_attempts"),
    ([T, "--throttled_cpm=0"], "--throttled_cpm"),
    ([T, "--quarantine_for=soon"], "--quarantine_for"),
    ([T, "--reject_code=200"], "--reject_code"),
    ([T, "--metrics_listen=localhost"], "--metrics_listen"),
    ([T, "--cdr_file=/nonexistent/dir/cdr.jsonl"], "--cdr_file"),
    ([T, "--carriers=/nonexistent.csv"], "--carriers"),
    ([T, "--max_numbers=-5"], "--max_numbers"),
    ([T, "--trunk_auth_user=bob"], "--trunk_auth_password_file"),
    ([T, "--no_such_flag=1"], "--no_such_flag"),
    ([T, "--tcp_idle_timeout=0"], "--tcp_idle_timeout"),
    ([T, "--ring_timeout=2h"], "--ring_timeout"),
    ([T, "--tcp_max_connections=0"], "--tcp_max_connections"),
    ([T, "--pass_headers=Identity,X Bad"], "--pass_headers"),
    ([T, "--pass_headers=Via"], "--pass_headers"),
    ([T, "--refer=maybe"], "--refer"),
    ([T, "--no_number=drop"], "--no_number"),
    ([T, "--strip_headers=X:"], "--strip_headers"),
    ([T, "--tcp_max_per_source=5000"], "--tcp_max_per_source"),
    ([T, "--false_alarm_rate=0"], "--false_alarm_rate"),
    ([T, "--baseline_days=-1"], "--baseline_days"),
    ([T, "--rules=603pre>=15%/1h:panic"], "--rules"),
    # What Abseil itself would refuse with several lines and exit 1.
    ([T, "--dry_run=maybe"], "--dry_run"),
    ([T, "--hour_guard="], "--hour_guard"),
    ([T, "--tls_verify=perhaps"], "--tls_verify"),
    ([T, "--nodry_run=true"], "--dry_run"),
    ([T, "--tcp_max_connections=many"], "--tcp_max_connections"),
    ([T, "--tcp_max_per_source=99999999999"], "--tcp_max_per_source"),
    ([T, "--nolisten"], "--listen"),
    ([T, "--listen"], "--listen"),
    ([T, "--trunk_listen", "--listen=127.0.0.1:5062"], "--trunk_listen"),
    ([T, "-no_such_flag"], "--no_such_flag"),
    ([T, "--flagfile=/nonexistent/sippacer.flags"], "--flagfile"),
    ([T, "--flagfile=" + write("unknown.flags", "# a comment\n  --no_such_flag_in_file=1\n")], "--no_such_flag_in_file"),
    ([T, "--flagfile=" + write("bool.flags", "--dry_run=maybe\n")], "--dry_run"),
    ([T, "--flagfile=" + write("words.flags", "listen 127.0.0.1:5060\n")], "--flagfile"),
    ([T, "--flagfile=" + write("self.flags", f"--flagfile={wd}/self.flags\n")], "--flagfile"),
    ([T, "--fromenv=listen"], "--fromenv"),
    ([T, "--log_level=loud"], "--log_level"),
    ([T, "--log_target=file"], "--log_target"),
    # Refused once running: a file it cannot write, a state file it cannot read.
    ([T, f"--cdr_file={wd}"] + isolated(), "--cdr_file"),
    ([T, "--state_file=" + write("state.jsonl", "not a state line\n")] + isolated(), "--state_file"),
]
for args, flag in cases:
    refused(args, flag)
# An unknown flag listed in --undefok is no problem (nor its --no form): the
# one line is about what is really wrong.
refused(["--gone_flag=1", "--nogone_flag", "--undefok=gone_flag"], "--trunk")
# The shipped flag file reads.
p = subprocess.run([h.SIPPACER_BIN, f"--flagfile={REPO}/examples/sippacer.flags", "--only_check_args"],
                   capture_output=True, text=True, timeout=30)
h.check(p.returncode == 0 and not p.stderr, f"examples/sippacer.flags: {p.returncode} {p.stderr!r}")

# Addresses and sockets in use: a running daemon holds them.
metrics_port = h.free_port()
held = h.Daemon(h.workdir("flags-held"), 5070, extra=[f"--metrics_listen=127.0.0.1:{metrics_port}"]).start()
in_use = [
    ([T, f"--listen=127.0.0.1:{held.port}", f"--stats_socket={wd}/other1.sock"], "--listen"),
    ([T, f"--stats_socket={held.socket_path}", f"--listen=127.0.0.1:{h.free_port()}"], "--stats_socket"),
    ([T, f"--metrics_listen=127.0.0.1:{metrics_port}"] + isolated(), "--metrics_listen"),
    ([T, f"--trunk_listen=127.0.0.1:{held.port}"] + isolated(), "--trunk_listen"),
    (["--trunk=sips:127.0.0.1:5071", f"--tls_listen=127.0.0.1:{held.port}"] + isolated(), "--tls_listen"),
]
for args, flag in in_use:
    line = refused(args, flag)
    h.check(flag == "--stats_socket" or "in use" in line, f"{flag}: the reason is missing: {line}")
h.check(held.proc.poll() is None, "the running daemon was disturbed")
requests = held.request("help format=json")["commands"]
held.stop()
for line in held.log().splitlines():
    h.check(STAMP.match(line), f"a log line without a timestamp: {line!r}")

# --help: every flag, by group, with its default; no file names, exit 0.
p = subprocess.run([h.SIPPACER_BIN, "--help"], capture_output=True, text=True, timeout=30)
h.check_eq(p.returncode, 0, "--help exit code")
help_text = p.stdout
for group in ("Relay:", "Trunks and TLS:", "Pacing", "Stats:", "CDR:", "State:", "Logging:"):
    h.check(f"\n{group}" in help_text, f"--help has no group {group}")
h.check("Flags in no group" not in help_text, f"a flag is in no --help group:\n{help_text}")
h.check(REPO not in help_text and "/work/" not in help_text, "--help shows a build path")
h.check("Exit codes" in help_text, "--help states the exit codes")
p = subprocess.run([h.SIPPACER_BIN, "--helpfull"], capture_output=True, text=True, timeout=30)
h.check_eq(p.returncode, 0, "--helpfull exit code")
h.check(REPO not in p.stdout, "--helpfull shows a build path")
ours = set()
section_ours = False
for line in p.stdout.splitlines():
    m = re.match(r"\s+Flags from (\S+):", line)
    if m:
        section_ours = not m.group(1).startswith("absl/")
        continue
    m = re.match(r"\s+--(\w+) ", line)
    if m and section_ours:
        ours.add(m.group(1))
h.check(len(ours) > 40, f"--helpfull lists too few flags: {sorted(ours)}")
for name in sorted(ours):
    h.check(re.search(rf"^  --{name}  default: ", help_text, re.M), f"--help does not list --{name}")
for name in ("log_level", "log_target", "no_number"):
    h.check(name in ours, f"--{name} is not a flag")
p = subprocess.run([h.SIPPACER_BIN, "--help=tls"], capture_output=True, text=True, timeout=30)
h.check(p.returncode == 0 and "--tls_ca" in p.stdout and "--cdr_file" not in p.stdout, f"--help=tls: {p.stdout}")

p = subprocess.run([h.SIPPACER_BIN, "--version"], capture_output=True, text=True, timeout=30)
h.check_eq(p.returncode, 0, "--version exit code")
h.check(re.match(r"sippacer \d+\.\d+\.\d+\nbuild: .+\nsofia-sip: (patched|stock) \(sofia-sip-[\w.]+\)\n", p.stdout),
        f"--version: {p.stdout!r}")
# The allocator it names is the one the running daemon uses (a build with
# jemalloc whose malloc is still glibc's would pass by name alone).
allocator = re.search(r"^allocator: (jemalloc|glibc)$", p.stdout, re.M)
h.check(allocator is not None, f"--version names the allocator: {p.stdout!r}")
d = h.Daemon(h.workdir("flags-allocator"), 5999).start()
maps = open(f"/proc/{d.proc.pid}/maps").read()
h.check_eq("libjemalloc" in maps, allocator.group(1) == "jemalloc", f"jemalloc mapped in a daemon built with {allocator.group(1)}")
d.stop()

# sippacer-replay: the same contract.
p = subprocess.run([REPLAY, "--help"], capture_output=True, text=True, timeout=30)
h.check(p.returncode == 0 and "--since" in p.stdout and "--rules" in p.stdout and "Flags in no group" not in p.stdout,
        f"replay --help: {p.returncode} {p.stdout}")
p = subprocess.run([REPLAY, "--version"], capture_output=True, text=True, timeout=30)
h.check(p.returncode == 0 and p.stdout.startswith("sippacer-replay "), f"replay --version: {p.stdout!r}")
cdr = write("cdr.jsonl", "")
for args, flag in (([cdr, "--summary=maybe"], "--summary"), ([cdr, "--flagfile=/nonexistent.flags"], "--flagfile"),
                   ([cdr, "--dry_run=perhaps"], "--dry_run")):
    refused(args, flag, binary=REPLAY)

# sippacer-ctl: its options and every request the daemon serves.
p = subprocess.run([h.SIPPACER_CTL, "--help"], capture_output=True, text=True, timeout=30)
h.check_eq(p.returncode, 0, "sippacer-ctl --help exit code")
for r in requests:
    h.check(f"\n  {r}\n" in p.stdout, f"sippacer-ctl --help does not list '{r}':\n{p.stdout}")
p = subprocess.run([h.SIPPACER_CTL, "--version"], capture_output=True, text=True, timeout=30)
h.check(p.returncode == 0 and p.stdout.startswith("sippacer-ctl "), f"sippacer-ctl --version: {p.stdout!r}")

# --log_level: nothing below it. A sips: trunk makes sofia talk (its TLS
# set-up warnings): its lines carry our timestamp like ours.
quiet = h.Daemon(h.workdir("flags-quiet"), None, extra=["--trunk=sips:127.0.0.1:5071", "--log_level=warn"]).start()
quiet.stop()
lines = quiet.log().splitlines()
h.check(all(STAMP.match(l) for l in lines), f"a line without a timestamp:\n{quiet.log()}")
h.check(not [l for l in lines if " INFO " in l], f"INFO lines at --log_level=warn:\n{quiet.log()}")
sofia_lines = [l for l in lines if " sofia: " in l]


# --log_target=syslog: lines to /dev/log (a socket of the test's own, in a
# mount namespace of the daemon's own), priority by level, nothing on stderr.
def syslog_run(extra, ready=True):
    log_sock = os.path.join(wd, f"log{time.monotonic_ns()}.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(log_sock)
    olddev = os.path.join(wd, "olddev")
    os.makedirs(olddev, exist_ok=True)
    script = ('mount --bind /dev "$1" && mount -t tmpfs tmpfs /dev && for f in "$1"/*; do ln -s "$f" /dev/; done'
              ' && ln -s "$2" /dev/log && shift 2 && exec "$@"')
    wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", olddev, log_sock]
    if ready:
        d = h.Daemon(h.workdir("flags-syslog"), 5070, extra=["--log_target=syslog"] + extra)
        d.args = wrap + d.args
        d.start()
        d.stop()
        out = d.log()
    else:
        p = subprocess.run(wrap + [h.SIPPACER_BIN, T, "--log_target=syslog"] + extra, capture_output=True, text=True,
                           timeout=30)
        h.check_eq(p.returncode, 2, f"exit code with --log_target=syslog ({p.stderr!r})")
        out = p.stderr
    got = []
    srv.settimeout(0.5)
    try:
        while True:
            got.append(srv.recv(65536).decode(errors="replace"))
    except socket.timeout:
        pass
    srv.close()
    return out, got


if subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode != 0:
    print("flags: syslog not tested (no mount namespace here)")
else:
    out, got = syslog_run([])
    h.check_eq(out.strip(), "", "stderr with --log_target=syslog")
    h.check([m for m in got if re.match(r"<30>.*sippacer\[\d+\]: daemon: sippacer .* started", m)],
            f"no 'started' line at LOG_DAEMON|LOG_INFO in syslog: {got}")
    out, got = syslog_run(["--ring_timeout=2h"], ready=False)
    h.check(len(out.strip().splitlines()) == 1 and "--ring_timeout" in out, f"refusal on stderr: {out!r}")
    h.check([m for m in got if re.match(r"<27>.*sippacer\[\d+\]: sippacer: --ring_timeout", m)],
            f"no refusal at LOG_DAEMON|LOG_ERR in syslog: {got}")

print(f"flags: {len(cases)} bad values and {len(in_use)} addresses in use refused; --help lists {len(ours)} flags; "
      f"{len(sofia_lines)} sofia lines timestamped")
