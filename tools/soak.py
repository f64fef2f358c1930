#!/usr/bin/env python3
"""Soak: the daemon under steady SIPp load with hostile traffic beside it,
reporting every 10 s what would show a leak or a stall: RSS, open fds,
sofia's transaction and dialog tables, calls in progress, inbound TCP
connections, and the calls SIPp saw fail. A benchmark, not a CI test.

  tools/soak.py [--build build] [--rate 300] [--seconds 600]

The calls (tests/sipp/soak_carrier.xml answers by the dialed number):
  80% answered, held 100 ms, hung up by the dialer;
   5% 603+ Network Blocked (ATIS-1000099 Reason);
   5% CANCELled by the dialer while ringing;
   5% answered, then hung up by the carrier (BYE from the trunk side);
   5% answered, re-INVITEd by the dialer, then hung up by the carrier.
Beside them, from 127.0.0.2 (outside --allow): random datagrams and INVITEs
at 200/s; every 10 s, 50 TCP connections used once and left idle, and 20
that never send a byte (from 127.0.0.3).

At the end: every flow's successful and failed calls; exit 1 if any failed."""
import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("SIPPACER_SIPP_DIR", os.path.join(ROOT, "tests", "sipp"))

# name, share of the rate, SIPp scenario, callee (last digits F CCC, see soak_carrier.xml)
FLOWS = [
    ("answered", 0.80, "dialer.xml", "15550001200"),
    ("603plus", 0.05, "dialer.xml", "15550002603"),
    ("cancel", 0.05, "dialer_cancel.xml", "15550005200"),
    ("carrier_bye", 0.05, "dialer_carrier_bye.xml", "15550006200"),
    ("reinvite", 0.05, "dialer_wait_bye.xml", "15550007200"),
]


def sipp_counts(wd, name):
    """(successful, failed) from a SIPp -trace_stat file in wd/name."""
    d = os.path.join(wd, name)
    for f in os.listdir(d):
        if f.endswith(".csv") and "_counts" not in f and f != "calls.csv":
            lines = open(os.path.join(d, f)).read().strip().splitlines()
            if len(lines) >= 2:
                cols = lines[0].split(";")
                last = lines[-1].split(";")
                return int(last[cols.index("SuccessfulCall(C)")]), int(last[cols.index("FailedCall(C)")])
    return 0, 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rate", type=int, default=300, help="calls per second, all flows together")
    ap.add_argument("--seconds", type=int, default=600)
    args = ap.parse_args()
    os.environ["SIPPACER_BIN"] = os.path.join(args.build, "sippacer")
    import harness as h  # after SIPPACER_BIN is set

    wd = tempfile.mkdtemp(prefix="sippacer-soak-")
    carrier = h.Carrier(wd, scenario="soak_carrier.xml", extra=["-max_socket", "65000"])
    carrier.args = [a for a in carrier.args if a not in ("-trace_msg", "-trace_err")]
    carrier.start()
    d = h.Daemon(wd, carrier.port, extra=["--allow=127.0.0.1/32", "--tcp_idle_timeout=20s"]).start()
    dialers = []
    for n, (name, share, scenario, callee) in enumerate(FLOWS):
        sub = os.path.join(wd, name)
        os.makedirs(sub)
        rate = max(1, round(args.rate * share))
        with open(os.path.join(sub, "calls.csv"), "w") as f:
            f.write("SEQUENTIAL\n")
            for i in range(5000):  # 5,000 caller IDs per flow, reused in turn
                f.write(f"1555{n}{100000 + i:06d};{callee}\n")
        dialers.append(subprocess.Popen(
            [h.SIPP, "-sf", os.path.join(h.SIPP_DIR, scenario), "-inf", "calls.csv", "-i", "127.0.0.1",
             "-p", str(h.free_port()), f"127.0.0.1:{d.port}", "-r", str(rate), "-d", "100",
             "-l", "20000", "-m", str(rate * args.seconds), "-nostdin", "-trace_stat", "-fd", "10",
             "-default_behaviors", "all,-abortunexp"], cwd=sub, stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT))

    stop = threading.Event()
    rng = random.Random(1)

    def hostile():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.2", 0))
        i = 0
        while not stop.is_set():
            i += 1
            if i % 2:
                s.sendto(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 400))), ("127.0.0.1", d.port))
            else:
                s.sendto((f"INVITE sip:1555000{i % 10000:04d}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:9;"
                          f"branch=z9hG4bKh{i}\r\nFrom: <sip:1@h>;tag={i}\r\nTo: <sip:2@h>\r\nCall-ID: h{i}\r\n"
                          "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", d.port))
            time.sleep(1 / 200)

    threading.Thread(target=hostile, daemon=True).start()
    start = time.time()
    held = []
    print(" t(s)  rss(MB)  fds  server_tx  client_tx  dialogs  calls  tcp  invites  ok  failed", flush=True)
    while any(p.poll() is None for p in dialers) and time.time() - start < args.seconds + 60:
        time.sleep(10)
        for _ in range(50):  # TCP connections used once and left idle
            try:
                c = socket.create_connection(("127.0.0.1", d.port), timeout=1)
                c.sendall(b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKt\r\n"
                          b"From: <sip:a@b>;tag=1\r\nTo: <sip:x>\r\nCall-ID: t\r\nCSeq: 1 OPTIONS\r\n"
                          b"Content-Length: 0\r\n\r\n")
                held.append(c)
            except OSError:
                pass
        for _ in range(20):  # connections that never send a byte
            try:
                c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                c.bind(("127.0.0.3", 0))
                c.settimeout(1)
                c.connect(("127.0.0.1", d.port))
                held.append(c)
            except OSError:
                c.close()
        held = held[-2000:]  # our side keeps them open (closed by the daemon)
        pid = d.proc.pid
        rss = int(next(l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")).split()[1]) / 1024
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        info = d.request("show info")
        ok = failed = 0
        for name, *_ in FLOWS:
            s, f = sipp_counts(wd, name)
            ok, failed = ok + s, failed + f
        print(f"{time.time() - start:5.0f}  {rss:7.1f}  {fds:3d}  {info['sip_server_transactions']:9d}  "
              f"{info['sip_client_transactions']:9d}  {info['sip_dialogs']:7d}  {info['calls_active']:5d}  "
              f"{info['tcp_connections']:3d}  {info['invites_total']:7d}  {ok}  {failed}", flush=True)
    stop.set()
    for p in dialers:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
    info = d.request("show info")
    d.stop()
    carrier.stop()
    total_failed = 0
    print("flow          successful  failed")
    for name, *_ in FLOWS:
        s, f = sipp_counts(wd, name)
        total_failed += f
        print(f"{name:12s}  {s:10d}  {f:6d}")
    print(f"late_answers {info['late_answers']}, acks_dropped {info['acks_dropped']}, "
          f"tcp_closed_silent {info['tcp_closed_silent']}, refusals_dropped {info['refusals_dropped']}")
    print(f"work directory: {wd}")
    sys.exit(1 if total_failed else 0)


if __name__ == "__main__":
    main()
