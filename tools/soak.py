#!/usr/bin/env python3
"""Soak: the daemon under steady SIPp load with hostile traffic beside it,
reporting every 10 s what would show a leak or a stall: RSS, open fds,
sofia's transaction and dialog tables, calls in progress, SIPp's failed
calls. A benchmark, not a CI test.

  tools/soak.py [--build build] [--rate 300] [--seconds 600]

The dialer's calls: 90% answered, 5% 603+ Network Blocked, 5% busy. Beside
them, from 127.0.0.2 (outside --allow): random datagrams and INVITEs at 200/s,
and 50 TCP connections opened, used once and left idle, every 10 s."""
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rate", type=int, default=300)
    ap.add_argument("--seconds", type=int, default=600)
    args = ap.parse_args()
    os.environ["SIPPACER_BIN"] = os.path.join(args.build, "sippacer")
    import harness as h  # after SIPPACER_BIN is set

    wd = tempfile.mkdtemp(prefix="sippacer-soak-")
    carrier = h.Carrier(wd)
    carrier.args = [a for a in carrier.args if a not in ("-trace_msg", "-trace_err")]
    carrier.start()
    d = h.Daemon(wd, carrier.port, extra=["--allow=127.0.0.1/32", "--tcp_idle_timeout=20s"]).start()
    rng = random.Random(1)
    csv = os.path.join(wd, "calls.csv")
    with open(csv, "w") as f:
        f.write("SEQUENTIAL\n")
        for i in range(20000):
            r = rng.random()
            callee = "15550002603" if r < 0.05 else "15550000486" if r < 0.10 else "15550001200"
            f.write(f"1555{1000000 + i % 5000:07d};{callee}\n")
    dialer = subprocess.Popen(
        [h.SIPP, "-sf", os.path.join(h.SIPP_DIR, "dialer.xml"), "-inf", csv, "-i", "127.0.0.1",
         "-p", str(h.free_port()), f"127.0.0.1:{d.port}", "-r", str(args.rate), "-d", "100",
         "-l", "20000", "-m", str(args.rate * args.seconds), "-nostdin", "-trace_stat", "-fd", "10",
         "-default_behaviors", "all,-abortunexp"], cwd=wd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    stop = threading.Event()

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
    print(" t(s)  rss(MB)  fds  server_tx  client_tx  dialogs  calls  invites  sipp_failed", flush=True)
    while dialer.poll() is None and time.time() - start < args.seconds + 30:
        time.sleep(10)
        for _ in range(50):  # TCP connections used once and left idle
            try:
                c = socket.create_connection(("127.0.0.1", d.port), timeout=1)
                c.sendall(b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKt\r\n"
                          b"From: <sip:a@b>;tag=1\r\nTo: <sip:x>\r\nCall-ID: t\r\nCSeq: 1 OPTIONS\r\n"
                          b"Content-Length: 0\r\n\r\n")
                c.detach()  # left open on our side, idle
            except OSError:
                pass
        pid = d.proc.pid
        rss = int(next(l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")).split()[1]) / 1024
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        info = d.request("show info")
        failed = "?"
        for f in os.listdir(wd):
            if f.startswith("dialer") and f.endswith(".csv") and "_counts" not in f:
                lines = open(os.path.join(wd, f)).read().strip().splitlines()
                if len(lines) >= 2:
                    cols = lines[0].split(";")
                    failed = lines[-1].split(";")[cols.index("FailedCall(C)")]
        print(f"{time.time() - start:5.0f}  {rss:7.1f}  {fds:3d}  {info['sip_server_transactions']:9d}  "
              f"{info['sip_client_transactions']:9d}  {info['sip_dialogs']:7d}  {info['calls_active']:5d}  "
              f"{info['invites_total']:7d}  {failed}", flush=True)
    stop.set()
    dialer.wait(timeout=60)
    d.stop()
    carrier.stop()


if __name__ == "__main__":
    main()
