"""Shared pieces of the integration tests: free ports, the real sippacer
daemon, SIPp as dialer and carrier, and the stats socket.

Standard library only. Every process a test starts is killed at exit, even
when the test fails; every test works in its own temp directory and picks
its own free ports, so tests can run side by side.
"""
import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

SIPPACER_BIN = os.path.abspath(os.environ.get("SIPPACER_BIN", "build/sippacer"))
SIPPACER_CTL = os.path.abspath(os.environ.get("SIPPACER_CTL", "build/sippacer-ctl"))
SIPP_DIR = os.environ.get(
    "SIPPACER_SIPP_DIR", os.path.join(os.path.dirname(__file__), "..", "sipp"))
SIPP = os.environ.get("SIPP", "sipp")

_children = []


def _kill_children():
    for p in _children:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass


atexit.register(_kill_children)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def check_eq(got, want, what):
    if got != want:
        fail(f"{what}: got {got!r}, want {want!r}")


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on `host` right now."""
    for _ in range(200):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((host, 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


def cpu_seconds(pid):
    """The CPU (user + system) process `pid` has used, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workdir(name):
    d = tempfile.mkdtemp(prefix=f"sippacer-{name}-")
    return d


def spawn(args, log_path, cwd=None, env=None):
    log = open(log_path, "ab")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                         env=env, start_new_session=True)
    _children.append(p)
    return p


class Daemon:
    """The real build/sippacer on loopback."""

    def __init__(self, wd, trunk_port, extra=(), listen_port=None, host="127.0.0.1"):
        self.wd = wd
        self.host = host
        self.port = listen_port or free_port(host)
        self.trunk_port = trunk_port
        self.socket_path = os.path.join(wd, "stats.sock")
        self.log_path = os.path.join(wd, "sippacer.log")
        self.args = [SIPPACER_BIN,
                     f"--listen={host}:{self.port}",
                     f"--stats_socket={self.socket_path}"] + list(extra)
        if trunk_port is not None:  # None: the test gives --trunk or --trunks_file itself
            self.args.insert(2, f"--trunk=127.0.0.1:{trunk_port}")
        self.proc = None

    def start(self, timeout=10, ready="stats"):
        """Starts the daemon and waits until it answers: on the stats socket
        (ready="stats") or to a SIP OPTIONS ping (ready="sip")."""
        self.proc = spawn(self.args, self.log_path, cwd=self.wd)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail(f"sippacer exited with {self.proc.returncode} at start:\n{self.log()}")
            try:
                if ready == "sip":
                    if sip_options_ping(self.host, self.port) == 200:
                        return self
                else:
                    self.request("show info")
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        fail(f"sippacer did not become ready ({ready}):\n{self.log()}")

    def request(self, line, timeout=5):
        """Sends one stats-socket request, returns the decoded JSON answer."""
        return stats_request(self.socket_path, line, timeout)

    def stop(self, expect_rc=0, timeout=15):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            fail(f"sippacer did not exit within {timeout}s of SIGTERM")
        if expect_rc is not None and rc != expect_rc:
            fail(f"sippacer exited {rc}, want {expect_rc}:\n{self.log()[-4000:]}")
        return rc

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def sip_options_ping(host, port, timeout=0.5, source_host="127.0.0.1"):
    """Sends one OPTIONS over UDP; returns the response code, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.bind((source_host, 0))
        lport = s.getsockname()[1]
        branch = "z9hG4bK" + os.urandom(6).hex()
        msg = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {source_host}:{lport};branch={branch};rport\r\n"
               f"From: <sip:probe@{source_host}>;tag={os.urandom(4).hex()}\r\n"
               f"To: <sip:{host}:{port}>\r\n"
               f"Call-ID: {os.urandom(8).hex()}@{source_host}\r\n"
               "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        s.sendto(msg.encode(), (host, port))
        data, _ = s.recvfrom(65536)
        first = data.split(b"\r\n", 1)[0].decode(errors="replace").split()
        return int(first[1]) if len(first) > 1 and first[0] == "SIP/2.0" else None
    except (OSError, ValueError):
        return None
    finally:
        s.close()


def run_sippacer(args, timeout=10):
    """Runs the daemon binary to completion (for flag validation tests)."""
    return subprocess.run([SIPPACER_BIN] + list(args), capture_output=True,
                          text=True, timeout=timeout)


def ctl(socket_path, *args, timeout=10):
    return subprocess.run([SIPPACER_CTL, f"--socket={socket_path}"] + list(args),
                          capture_output=True, text=True, timeout=timeout)


class Carrier:
    """SIPp playing the carrier trunk (tests/sipp/carrier.xml by default):
    the dialed number's last four digits choose each call's answer."""

    def __init__(self, wd, scenario="carrier.xml", port=None, transport="u1",
                 extra=(), host="127.0.0.1"):
        self.wd = wd
        self.port = port or free_port(host)
        self.args = [SIPP, "-sf", os.path.join(SIPP_DIR, scenario),
                     "-i", host, "-p", str(self.port), "-t", transport,
                     "-nostdin", "-trace_msg", "-trace_err",
                     "-buff_size", "1048576",
                     "-default_behaviors", "all,-abortunexp"] + list(extra)
        self.proc = None

    def start(self):
        self.proc = spawn(self.args, os.path.join(self.wd, "carrier.out"), cwd=self.wd)
        time.sleep(0.3)
        if self.proc.poll() is not None:
            fail(f"carrier SIPp exited at start:\n{open(os.path.join(self.wd, 'carrier.out')).read()}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def messages(self):
        """Everything the carrier received and sent (SIPp -trace_msg)."""
        out = ""
        for f in sorted(os.listdir(self.wd)):
            if f.startswith(os.path.splitext(self.args[2].split('/')[-1])[0]) and f.endswith("_messages.log"):
                with open(os.path.join(self.wd, f), errors="replace") as fh:
                    out += fh.read()
        return out


KAMAILIO_PROXY_CFG = """#!KAMAILIO
# A transaction-stateful, record-routing proxy in front of sippacer, as a
# dialer platform would put one: every new request goes to {target}.
debug=1
log_stderror=yes
fork=yes
children=1
auto_aliases=no
disable_tcp=yes
dns=no
rev_dns=no
listen=udp:127.0.0.1:{port}
alias="127.0.0.1:{port}"
loadpath "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "pv.so"
request_route {{
  if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
  if (has_totag()) {{
    if (loose_route()) {{ t_relay(); exit; }}
    if (is_method("ACK")) {{ if (t_check_trans()) t_relay(); exit; }}
    sl_send_reply("404", "Not here");
    exit;
  }}
  if (is_method("CANCEL")) {{ if (t_check_trans()) t_relay(); exit; }}
  t_check_trans();
  if (is_method("INVITE")) record_route();
  $du = "sip:127.0.0.1:{target}";
  if (!t_relay()) sl_reply_error();
  exit;
}}
"""


class Kamailio:
    """Debian's Kamailio as a stateful proxy in front of `target_port`."""

    def __init__(self, wd, target_port):
        self.wd = wd
        self.port = free_port()
        self.cfg = os.path.join(wd, "kamailio.cfg")
        with open(self.cfg, "w") as f:
            f.write(KAMAILIO_PROXY_CFG.format(port=self.port, target=target_port))
        self.rundir = os.path.join(wd, "kamailio-run")
        os.makedirs(self.rundir, exist_ok=True)
        self.proc = None

    def start(self):
        self.proc = spawn(["kamailio", "-f", self.cfg, "-DD", "-E", "-Y", self.rundir, "-m", "64", "-M", "8"],
                          os.path.join(self.wd, "kamailio.log"))
        wait_for(lambda: self.proc.poll() is not None or sip_options_ping("127.0.0.1", self.port) is not None,
                 what="Kamailio answering")
        if self.proc.poll() is not None:
            fail(f"kamailio exited at start:\n{open(os.path.join(self.wd, 'kamailio.log')).read()[-2000:]}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)


class Redis:
    """Debian's redis-server on a loopback port, nothing saved to disk: a
    restart starts it empty, as a lost Redis comes back."""

    def __init__(self, wd, port=None):
        self.wd = wd
        self.port = port or free_port()
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.wd,
                "--protected-mode", "no"]
        self.proc = spawn(args, os.path.join(self.wd, f"redis-{self.starts}.log"), cwd=self.wd)
        wait_for(lambda: self.ping(), timeout=10, what="redis-server to answer PING")
        return self

    def ping(self):
        try:
            return self.cli("PING").strip() == "PONG"
        except (OSError, subprocess.SubprocessError):
            return False

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), "--raw"] + list(args),
                              capture_output=True, text=True, timeout=10).stdout

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def write_calls(wd, calls, name="calls.csv"):
    """calls: list of (caller, callee). Returns the SIPp injection file path."""
    path = os.path.join(wd, name)
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n")
        for caller, callee in calls:
            f.write(f"{caller};{callee}\n")
    return path


def run_dialer(wd, target_port, calls, rate=50, scenario="dialer.xml",
               hold_ms=100, transport="u1", timeout=120, extra=(),
               host="127.0.0.1", name="dialer"):
    """SIPp as the dialer: one call per (caller, callee), to completion.
    Returns a dict: rc, successful, failed, finals {code: count}, out."""
    csv = write_calls(wd, calls, f"{name}.csv")
    port = free_port(host)
    args = [SIPP, "-sf", os.path.join(SIPP_DIR, scenario), "-inf", csv,
            "-i", host, "-p", str(port), "-t", transport,
            f"127.0.0.1:{target_port}", "-m", str(len(calls)),
            "-r", str(rate), "-d", str(hold_ms), "-l", "5000",
            "-nostdin", "-trace_stat", "-trace_counts", "-trace_err", "-trace_msg",
            "-buff_size", "1048576", "-timeout", str(timeout), "-timeout_error",
            "-default_behaviors", "all,-abortunexp"] + list(extra)
    sub = os.path.join(wd, name)
    os.makedirs(sub, exist_ok=True)
    p = subprocess.run(args, cwd=sub, capture_output=True, text=True,
                       timeout=timeout + 30)
    res = {"rc": p.returncode, "out": p.stdout + p.stderr, "dir": sub}
    res.update(_read_stat(sub))
    res["finals"] = _read_finals(sub)
    return res


def _read_stat(d):
    for f in os.listdir(d):
        if f.endswith(".csv") and not f.endswith("_counts.csv") and "_" in f:
            with open(os.path.join(d, f)) as fh:
                lines = [l.rstrip("\n") for l in fh if l.strip()]
            if len(lines) < 2:
                continue
            head = lines[0].split(";")
            last = lines[-1].split(";")
            row = dict(zip(head, last))
            return {"successful": int(row.get("SuccessfulCall(C)", 0)),
                    "failed": int(row.get("FailedCall(C)", 0))}
    return {"successful": 0, "failed": 0}


def _read_finals(d):
    """Final responses the dialer received, {code: count}, from -trace_msg."""
    finals = {}
    for f in os.listdir(d):
        if f.endswith("_messages.log"):
            with open(os.path.join(d, f), errors="replace") as fh:
                text = fh.read()
            for block in text.split("----------------------------------------------- "):
                if "message received" not in block:
                    continue
                for line in block.splitlines():
                    if line.startswith("SIP/2.0 "):
                        code = int(line.split()[1])
                        if code >= 200 and "CSeq: 1 INVITE" in block.replace("CSeq:  ", "CSeq: "):
                            finals[code] = finals.get(code, 0) + 1
                        break
    return finals


def wait_for(pred, timeout=10, interval=0.1, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    fail(f"timed out waiting for {what} (last: {last!r})")


def sipp_messages(directory, prefix=""):
    """Every message SIPp logged (-trace_msg) in `directory` whose log file
    starts with `prefix`: a list of (direction, text), direction "sent" or
    "received", text with CRLF folded to LF."""
    out = []
    for f in sorted(os.listdir(directory)):
        if not (f.startswith(prefix) and f.endswith("_messages.log")):
            continue
        with open(os.path.join(directory, f), errors="replace") as fh:
            blocks = fh.read().split("----------------------------------------------- ")
        for b in blocks:
            lines = b.split("\n", 2)
            if len(lines) < 3:
                continue
            head = lines[1]
            direction = "sent" if "message sent" in head else "received" if "message received" in head else None
            if direction:
                out.append((direction, lines[2].replace("\r", "").strip("\n") + "\n"))
    return out


def header(msg, name):
    """First value of header `name` in a SIP message text, or None."""
    for line in msg.split("\n")[1:]:
        if not line.strip():
            break
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


def first_line(msg):
    return msg.split("\n", 1)[0].strip()


def stats_request(socket_path, line, timeout=5):
    """Sends one request to a daemon's stats socket, returns the decoded JSON answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(socket_path)
        s.sendall(line.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    return json.loads(buf.decode())


def wait_idle(daemon, timeout=15):
    """Waits until no call is active in the daemon."""
    return wait_for(lambda: daemon.request("show info")["calls_active"] == 0,
                    timeout=timeout, what="calls_active to return to 0")


class Postgres:
    """A throwaway PostgreSQL server from Debian's packages on a loopback
    port, its data in the test's temp directory. As root, the server runs as
    the `postgres` user (PostgreSQL refuses to run as root)."""

    def __init__(self, wd):
        import glob
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            fail("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = bins[-1]
        self.port = free_port()
        self.dir = os.path.join(wd, "pg")
        self.log = os.path.join(wd, "pg.log")
        os.makedirs(self.dir, exist_ok=True)
        self.as_root = os.geteuid() == 0
        if self.as_root:
            import shutil
            shutil.chown(wd, "postgres")
            shutil.chown(self.dir, "postgres")
        self._run(["initdb", "-D", self.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"])

    def _run(self, argv, check=True):
        cmd = [os.path.join(self.bin, argv[0])] + argv[1:]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            fail(f"{' '.join(argv[:2])} failed:\n{p.stdout}{p.stderr}")
        return p

    def start(self):
        self._run(["pg_ctl", "-D", self.dir, "-l", self.log, "-w", "-t", "60", "start",
                   "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"])
        atexit.register(self.stop)
        return self

    def stop(self):
        self._run(["pg_ctl", "-D", self.dir, "-m", "fast", "-w", "stop"], check=False)

    def conninfo(self):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def query(self, sql, variables=None):
        """Rows of a query as lists of strings (psql -At)."""
        argv = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                "-At", "-F", "|", "-v", "ON_ERROR_STOP=1"]
        for k, v in (variables or {}).items():
            argv += ["-v", f"{k}={v}"]
        if os.path.isfile(sql):
            argv += ["-f", sql]
        else:
            argv += ["-c", sql]
        p = subprocess.run([os.path.join(self.bin, argv[0])] + argv[1:], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            fail(f"psql failed on {sql[:80]}:\n{p.stderr}")
        return [line.split("|") for line in p.stdout.splitlines() if line]
