"""The Debian package, built from this build tree and run the way its unit
runs it.

cpack -G DEB; the control fields (Depends from dpkg-shlibdeps, conffiles,
maintainer scripts); dpkg-deb -x into a scratch root (nothing is installed
on this machine); every file in its place; the daemon loads the sofia-sip
shipped in the package (patched build) or Debian's (stock build);
systemd-analyze verify on the unit; both man pages render without a warning.
Then the unit's ExecStart, adapted to the scratch root (its flags file's
/run, /var/lib and /var/log directories moved under it, ports made free),
runs the installed daemon as the unit would: as an unprivileged user whose
only capability is the unit's CAP_NET_BIND_SERVICE (when this test runs as
root), on a port under 1024, with the unit's UMask and LimitNOFILE. It must
answer a SIP OPTIONS, `show info` on its stats socket (and sippacer-ctl),
Prometheus, and relay a call to a SIPp carrier; the shipped logrotate
snippet rotates its CDR file and the daemon reopens it; SIGTERM stops it
with exit 0 and a state file.
"""
import glob
import gzip
import os
import pwd
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402

BUILD = os.environ["SIPPACER_BUILD_DIR"]
CPACK = os.environ.get("SIPPACER_CPACK", "cpack")
VERSION = os.environ["SIPPACER_VERSION"]
SOFIA = os.environ["SIPPACER_SOFIA_BUILD"]  # "patched" or "stock"

wd = h.workdir("packaging")
os.chmod(wd, 0o755)  # the unprivileged daemon walks into its scratch root
t0 = time.time()


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(args, **kw)


# --- Build the package ---------------------------------------------------------
out = os.path.join(wd, "out")
p = run([CPACK, "-G", "DEB", "-B", out, "--config", os.path.join(BUILD, "CPackConfig.cmake")],
        cwd=BUILD, timeout=120)
h.check(p.returncode == 0, f"cpack failed:\n{p.stdout}\n{p.stderr}")
debs = glob.glob(os.path.join(out, "*.deb"))
h.check(len(debs) == 1, f"want one .deb in {out}, got {debs}")
deb = debs[0]
h.check_eq(os.path.basename(deb), f"sippacer_{VERSION}-1_amd64.deb", "package file name")
print(f"packaging: {deb} ({os.path.getsize(deb) // 1024} KiB) in {time.time() - t0:.1f}s")


def field(name):
    return run(["dpkg-deb", "--field", deb, name]).stdout.strip()


h.check_eq(field("Package"), "sippacer", "Package")
h.check_eq(field("Version"), f"{VERSION}-1", "Version")
depends = [d.strip().split()[0] for d in field("Depends").split(",")]
for want in ("adduser", "libc6", "libstdc++6", "libpq5"):
    h.check(want in depends, f"Depends lacks {want}: {depends}")
h.check(any(d.startswith("libabsl") for d in depends), f"Depends lacks Abseil: {depends}")
if "allocator: jemalloc" in run([os.path.join(BUILD, "sippacer"), "--version"]).stdout:
    h.check("libjemalloc2" in depends, f"a jemalloc build must depend on libjemalloc2: {depends}")
if SOFIA == "stock":
    h.check("libsofia-sip-ua0" in depends, f"a stock-sofia build must depend on libsofia-sip-ua0: {depends}")
else:
    h.check("libsofia-sip-ua0" not in depends,
            f"the patched sofia-sip ships inside the package; no libsofia-sip-ua0 dependency: {depends}")
    h.check("libssl3" in depends, f"the shipped sofia-sip's own dependency (libssl3) is missing: {depends}")

control = os.path.join(wd, "control")
h.check(run(["dpkg-deb", "-e", deb, control]).returncode == 0, "dpkg-deb -e failed")
with open(os.path.join(control, "conffiles")) as f:
    h.check_eq(sorted(f.read().split()), ["/etc/logrotate.d/sippacer", "/etc/sippacer/sippacer.flags"], "conffiles")
for script in ("postinst", "prerm", "postrm"):
    path = os.path.join(control, script)
    h.check(os.access(path, os.X_OK), f"{script} is not executable")
    p = run(["sh", "-n", path])
    h.check(p.returncode == 0, f"{script} does not parse: {p.stderr}")
with open(os.path.join(control, "postinst")) as f:
    postinst = f.read()
h.check(re.search(r"adduser .*--system.* sippacer", postinst.replace("\\\n", " ")),
        "postinst does not create the system user sippacer")
# Run postinst configure with the commands it calls stubbed (nothing on this
# machine changes): a fresh install creates the group, then the user.
stubs = os.path.join(wd, "stubs")
os.makedirs(stubs)
calls_log = os.path.join(wd, "stub-calls")
for cmd, rc in (("getent", 2), ("addgroup", 0), ("adduser", 0), ("dpkg-statoverride", 1), ("chown", 0),
                ("chmod", 0), ("systemctl", 0)):
    with open(os.path.join(stubs, cmd), "w") as f:
        f.write(f'#!/bin/sh\necho "{cmd} $*" >>"{calls_log}"\nexit {rc}\n')
    os.chmod(os.path.join(stubs, cmd), 0o755)
p = run([os.path.join(control, "postinst"), "configure", ""], env=dict(os.environ, PATH=f"{stubs}:/usr/bin:/bin"))
h.check(p.returncode == 0, f"postinst configure failed: {p.stdout}{p.stderr}")
with open(calls_log) as f:
    calls = [line.split()[0] for line in f if not line.startswith("getent")]
h.check(calls[:2] == ["addgroup", "adduser"], f"postinst on a fresh system ran {calls}")

# --- Unpack it into a scratch root ------------------------------------------------
root = os.path.join(wd, "root")
h.check(run(["dpkg-deb", "-x", deb, root]).returncode == 0, "dpkg-deb -x failed")
os.chmod(root, 0o755)
R = lambda path: os.path.join(root, path.lstrip("/"))  # noqa: E731
for path in ("/usr/sbin/sippacer", "/usr/bin/sippacer-ctl", "/usr/bin/sippacer-replay"):
    h.check(os.access(R(path), os.X_OK), f"{path} missing or not executable")
for path in ("/usr/share/man/man8/sippacer.8.gz", "/usr/share/man/man8/sippacer-ctl.8.gz",
             "/usr/lib/systemd/system/sippacer.service", "/etc/sippacer/sippacer.flags",
             "/etc/logrotate.d/sippacer", "/usr/share/doc/sippacer/copyright",
             "/usr/share/doc/sippacer/README.md", "/usr/share/doc/sippacer/docs/flags.md",
             "/usr/share/doc/sippacer/examples/sippacer.flags", "/usr/share/doc/sippacer/examples/sql/schema.sql"):
    h.check(os.path.isfile(R(path)), f"{path} missing from the package")
h.check(os.access(R("/usr/share/doc/sippacer/examples/demo.sh"), os.X_OK), "examples/demo.sh lost its x bit")

private_lib = R("/usr/lib/sippacer/libsofia-sip-ua.so.0")
runpath = run(["readelf", "-d", R("/usr/sbin/sippacer")]).stdout
ldd = run(["ldd", R("/usr/sbin/sippacer")]).stdout
sofia_line = next((line for line in ldd.splitlines() if "libsofia-sip-ua" in line), "")
if SOFIA == "stock":
    h.check(not os.path.exists(private_lib), "a stock-sofia package ships no private sofia-sip")
    h.check("RUNPATH" not in runpath and "RPATH" not in runpath, f"stock build keeps an RPATH:\n{runpath}")
    h.check(root not in sofia_line and "=> /" in sofia_line, f"sofia-sip not resolved to the system's: {sofia_line}")
else:
    h.check(os.path.isfile(private_lib), "the patched sofia-sip is not in /usr/lib/sippacer")
    h.check("[$ORIGIN/../lib/sippacer]" in runpath, f"RUNPATH is not $ORIGIN/../lib/sippacer:\n{runpath}")
    h.check(f"=> {root}/usr/sbin/../lib/sippacer/libsofia-sip-ua.so.0" in sofia_line,
            f"the installed daemon does not load the shipped sofia-sip: {sofia_line}")
for exe in ("/usr/sbin/sippacer", "/usr/bin/sippacer-ctl", "/usr/bin/sippacer-replay"):
    dyn = run(["readelf", "-d", R(exe)]).stdout
    h.check(os.path.abspath(BUILD) not in dyn and "build-sofia" not in dyn, f"{exe} still points at the build tree")
    h.check("not found" not in run(["ldd", R(exe)]).stdout, f"{exe}: a library is not found")

# --- The unit ------------------------------------------------------------------------
unit_path = R("/usr/lib/systemd/system/sippacer.service")
unit = {}
with open(unit_path) as f:
    for line in f:
        line = line.strip()
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            unit.setdefault(key, value)
exec_start = shlex.split(unit["ExecStart"])
h.check_eq(exec_start, ["/usr/sbin/sippacer", "--flagfile=/etc/sippacer/sippacer.flags"], "ExecStart")
for key, want in (("User", "sippacer"), ("RuntimeDirectory", "sippacer"), ("StateDirectory", "sippacer"),
                  ("LogsDirectory", "sippacer"), ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                  ("ProtectHome", "yes"), ("PrivateTmp", "yes"), ("CapabilityBoundingSet", "CAP_NET_BIND_SERVICE"),
                  ("AmbientCapabilities", "CAP_NET_BIND_SERVICE"), ("ExecReload", "/bin/kill -HUP $MAINPID")):
    h.check_eq(unit.get(key), want, f"unit {key}")

if shutil.which("systemd-analyze"):
    # verify checks that ExecStart exists and that the man: pages open, on
    # this machine: point both at the scratch root.
    vdir = os.path.join(wd, "verify")
    os.makedirs(vdir)
    with open(unit_path) as f:
        text = f.read()
    text = text.replace("ExecStart=/usr/sbin/", f"ExecStart={root}/usr/sbin/")
    with open(os.path.join(vdir, "sippacer.service"), "w") as f:
        f.write(text)
    env = dict(os.environ, MANPATH=R("/usr/share/man"), SYSTEMD_LOG_LEVEL="notice")
    p = run(["systemd-analyze", "verify", os.path.join(vdir, "sippacer.service")], env=env, cwd=vdir)
    h.check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
            f"systemd-analyze verify (rc {p.returncode}):\n{p.stdout}{p.stderr}")
    print("packaging: systemd-analyze verify: clean")
else:
    print("packaging: no systemd-analyze; unit not verified")

# --- The man pages ----------------------------------------------------------------------
man_env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
man_env.pop("MAN_KEEP_FORMATTING", None)
for page in ("sippacer.8.gz", "sippacer-ctl.8.gz"):
    path = R(f"/usr/share/man/man8/{page}")
    with gzip.open(path, "rt") as f:
        source = f.read()
    p = run(["groff", "-man", "-ww", "-z"], input=source)
    h.check(p.returncode == 0 and not p.stderr.strip(), f"groff -ww on {page}:\n{p.stderr}")
    if shutil.which("man"):
        p = run(["man", "--warnings", "-l", path], env=man_env)
        h.check(p.returncode == 0 and not p.stderr.strip(), f"man --warnings -l {page}:\n{p.stderr}")
        h.check("SYNOPSIS" in p.stdout, f"{page} renders without a SYNOPSIS")
# Every flag the daemon defines is in its man page.
p = run([R("/usr/sbin/sippacer"), "--helpfull"])
flags = set(re.findall(r"^\s+--(\w+) \(", p.stdout, re.M))
builtin = {"flagfile", "fromenv", "tryfromenv", "undefok", "help", "helpfull", "helpshort", "helppackage",
           "helpmatch", "helpon", "version", "only_check_args"}
flags -= builtin
h.check(len(flags) > 30, f"--helpfull listed {len(flags)} flags:\n{p.stdout[:2000]}")
with gzip.open(R("/usr/share/man/man8/sippacer.8.gz"), "rt") as f:
    man_text = f.read().replace("\\-", "-")
missing = sorted(f for f in flags if f"--{f}" not in man_text)
h.check(not missing, f"flags missing from sippacer(8): {missing}")
# Every option and request `sippacer-ctl --help` names is in its man page.
p = run([R("/usr/bin/sippacer-ctl"), "--help"])
h.check(p.returncode == 0, f"sippacer-ctl --help: rc {p.returncode}")
with gzip.open(R("/usr/share/man/man8/sippacer-ctl.8.gz"), "rt") as f:
    ctl_man = re.sub(r"\\f[BIRP]|\\c|\\~", "", f.read()).replace("\\-", "-")
options = set(re.findall(r"--[a-z_]+", "\n".join(
    line for line in p.stdout.splitlines() if line.lstrip().startswith("--"))))
h.check(len(options) >= 5, f"sippacer-ctl --help listed options {options}")
requests = {m.strip() for m in re.findall(r"^  ([a-z][a-z ]*[a-z])(?:$| [A-Z\[])", p.stdout, re.M)}
h.check(len(requests) >= 10, f"sippacer-ctl --help listed requests {requests}")
missing = sorted(x for x in options | requests if x not in ctl_man)
h.check(not missing, f"missing from sippacer-ctl(8): {missing}")

# --- Run the installed daemon as the unit does -------------------------------------------
as_root = os.geteuid() == 0
if as_root:
    user = pwd.getpwnam("nobody")
    uid, gid = user.pw_uid, user.pw_gid
else:
    uid, gid = os.geteuid(), os.getegid()


def privileged_free_port():
    for port in range(1023, 600, -1):
        try:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            u.bind(("127.0.0.1", port))
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    h.fail("no free port under 1024")


sip_port = privileged_free_port() if as_root else h.free_port()
metrics_port = h.free_port()
carrier = h.Carrier(os.path.join(wd, "carrier"), port=None)
os.makedirs(carrier.wd)

# RuntimeDirectory=, StateDirectory=, LogsDirectory=: made by systemd, owned by User=.
dirs = {"/run/sippacer": 0o755, "/var/lib/sippacer": 0o755, "/var/log/sippacer": 0o755}
for d, mode in dirs.items():
    os.makedirs(R(d), exist_ok=True)
    os.chmod(R(d), mode)
    os.chown(R(d), uid, gid)
for parent in ("/run", "/var", "/var/lib", "/var/log", "/etc", "/etc/sippacer"):
    os.chmod(R(parent), 0o755)

flagfile = R("/etc/sippacer/sippacer.flags")
with open(flagfile) as f:
    shipped = f.read()
active = [line for line in shipped.splitlines() if line.startswith("--")]
h.check("--stats_socket=/run/sippacer/sippacer.sock" in active, f"flags file: stats socket not in /run: {active}")
h.check(not any(line.startswith("--trunk") for line in active), "the shipped flags file must not name a trunk")
adapted = shipped
for d in dirs:
    adapted = adapted.replace(f"={d}/", f"={R(d)}/")
adapted = adapted.replace("--listen=0.0.0.0:5060", f"--listen=127.0.0.1:{sip_port}")
adapted = adapted.replace("--metrics_listen=127.0.0.1:9464", f"--metrics_listen=127.0.0.1:{metrics_port}")
h.check(f"--listen=127.0.0.1:{sip_port}" in adapted and str(metrics_port) in adapted,
        "flags file: --listen=0.0.0.0:5060 or --metrics_listen=127.0.0.1:9464 changed; adapt this test")
adapted += f"\n# added by the test: the SIPp carrier\n--trunk=127.0.0.1:{carrier.port}\n"
with open(flagfile, "w") as f:
    f.write(adapted)

# Without a trunk the daemon must refuse to start, with exit 2 (not restarted).
p = run([R("/usr/sbin/sippacer"), f"--flagfile={flagfile}", "--trunk="], timeout=10)
h.check(p.returncode == 2 and "--trunk" in p.stderr, f"no trunk: rc {p.returncode}, {p.stderr!r}")

argv = [R(exec_start[0])] + [a.replace("=/etc/", f"={root}/etc/") for a in exec_start[1:]]
nofile = int(unit.get("LimitNOFILE", "65536"))
# Raising the hard limit needs CAP_SYS_RESOURCE, which a container's root may lack.
nofile = min(nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
umask = unit.get("UMask", "0022")
prefix = ["prlimit", f"--nofile={nofile}:{nofile}", "--"]
if as_root:
    caps = ",".join("+" + c.lower().removeprefix("cap_") for c in unit["AmbientCapabilities"].split())
    bound = ",".join("+" + c.lower().removeprefix("cap_") for c in unit["CapabilityBoundingSet"].split())
    prefix += ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", f"--inh-caps=-all,{caps}",
               f"--ambient-caps=-all,{caps}", f"--bounding-set=-all,{bound}", "--no-new-privs", "--"]
log_path = os.path.join(wd, "sippacer.log")
daemon = h.spawn(["sh", "-c", f'umask {umask} && exec "$@"', "sh"] + prefix + argv, log_path, cwd="/")


def log():
    with open(log_path, errors="replace") as f:
        return f.read()


def request(line):
    return h.stats_request(R("/run/sippacer/sippacer.sock"), line, timeout=5)


def answers_options():
    if daemon.poll() is not None:
        h.fail(f"the installed daemon exited with {daemon.returncode}:\n{log()}")
    return h.sip_options_ping("127.0.0.1", sip_port) == 200


h.wait_for(answers_options, timeout=15, what=f"SIP OPTIONS answered on 127.0.0.1:{sip_port}")
info = request("show info")
h.check_eq(info.get("version"), VERSION, "show info version")
h.check_eq(info.get("sofia_sip"), SOFIA, "show info sofia_sip")
sock_stat = os.stat(R("/run/sippacer/sippacer.sock"))
h.check_eq(oct(sock_stat.st_mode & 0o777), oct(0o660), "stats socket mode")
h.check_eq(sock_stat.st_uid, uid, "stats socket owner")
p = run([R("/usr/bin/sippacer-ctl"), f"--socket={R('/run/sippacer/sippacer.sock')}", "show", "info"])
h.check(p.returncode == 0 and "sofia_sip" in p.stdout, f"installed sippacer-ctl: rc {p.returncode} {p.stderr}")
with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
    h.check("sippacer_invites_total" in r.read().decode(), "Prometheus text lacks sippacer_invites_total")
print(f"packaging: installed daemon answers OPTIONS on {sip_port} "
      f"({'as nobody with CAP_NET_BIND_SERVICE only' if as_root else 'unprivileged port'}), "
      f"show info, sippacer-ctl, /metrics")

# A call through it, to the SIPp carrier.
carrier.start()
res = h.run_dialer(wd, sip_port, [("15551230001", "12125551200"), ("15551230002", "12125550603")],
                   rate=10, timeout=30)
h.check_eq(res["finals"], {200: 1, 603: 1}, f"finals through the installed daemon ({res['out'][-1500:]})")
cdr = R("/var/log/sippacer/cdr.jsonl")
h.wait_for(lambda: os.path.exists(cdr) and sum(1 for _ in open(cdr)) == 2, timeout=5, what="2 CDR lines")
h.check_eq(os.stat(cdr).st_uid, uid, "CDR file owner")
h.check_eq(oct(os.stat(cdr).st_mode & 0o777), oct(0o640), "CDR file mode (0640, UMask 0027)")

# --- logrotate: rename, then SIGHUP; the daemon reopens the path ------------------------
with open(R("/etc/logrotate.d/sippacer")) as f:
    snippet = f.read()
reload_line = "systemctl --quiet is-active sippacer.service && systemctl reload sippacer.service || true"
h.check(reload_line in snippet, "logrotate snippet's postrotate changed; adapt this test")
if shutil.which("logrotate"):
    conf = os.path.join(wd, "logrotate.conf")
    with open(conf, "w") as f:
        f.write(snippet.replace("/var/log/sippacer/", R("/var/log/sippacer") + "/")
                       .replace(reload_line, f"kill -HUP {daemon.pid}"))
    os.chmod(conf, 0o644)
    p = run(["logrotate", "--force", "--state", os.path.join(wd, "logrotate.state"), conf])
    h.check(p.returncode == 0, f"logrotate failed:\n{p.stdout}{p.stderr}")
    rotated = glob.glob(R("/var/log/sippacer/cdr.jsonl-*"))
    h.check(len(rotated) == 1 and not rotated[0].endswith(".gz"), f"rotated files: {rotated}")
    h.check_eq(sum(1 for _ in open(rotated[0])), 2, "lines in the rotated CDR file")
    h.wait_for(lambda: os.path.exists(cdr), timeout=5, what="the CDR file reopened after SIGHUP")
    h.check("reopened" in log(), f"no 'reopened' line in the log:\n{log()[-2000:]}")
    res = h.run_dialer(wd, sip_port, [("15551230003", "12125551200")], rate=10, timeout=30, name="dialer2")
    h.check_eq(res["finals"], {200: 1}, "final of the call after rotation")
    h.wait_for(lambda: sum(1 for _ in open(cdr)) == 1, timeout=5, what="the next CDR in the new file")
    h.check_eq(sum(1 for _ in open(rotated[0])), 2, "lines in the rotated file after the next call")
    print("packaging: logrotate rotated the CDR file; the daemon reopened it on SIGHUP")
    p = run([R("/usr/bin/sippacer-replay"), "--summary", rotated[0], cdr])
    h.check(p.returncode == 0, f"installed sippacer-replay on the CDRs: rc {p.returncode}\n{p.stderr}")
else:
    print("packaging: no logrotate; rotation not exercised")

# --- Stop --------------------------------------------------------------------------------------
daemon.send_signal(signal.SIGTERM)
try:
    rc = daemon.wait(20)
except subprocess.TimeoutExpired:
    h.fail("the installed daemon did not stop within 20 s of SIGTERM")
h.check(rc == 0, f"the installed daemon exited {rc}:\n{log()[-3000:]}")
h.check(os.path.exists(R("/var/lib/sippacer/state.jsonl")), "no state file in the StateDirectory after SIGTERM")
carrier.stop()
shutil.rmtree(wd, ignore_errors=True)
print(f"packaging: OK in {time.time() - t0:.1f}s")
