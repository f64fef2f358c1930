"""TCP connections cannot starve the daemon. A connection idle after its
messages is closed after --tcp_idle_timeout. At a tiny fd limit, the
connections that do not fit are no log flood (sofia's per-packet warning is
rate-limited), and once they are gone the daemon serves TCP calls again.
(A connection that never sends a byte is not closed: sofia 1.12.11 arms no
idle timer when it accepts one.)"""
import os
import socket
import time

import harness as h


def options(port, branch):
    return (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK{branch}\r\n"
            f"From: <sip:probe@127.0.0.1>;tag={branch}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: {branch}@idle\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


wd = h.workdir("relay-tcp-idle")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=["--tcp_idle_timeout=2s"])
d.args = ["prlimit", "--nofile=96:96"] + d.args  # hard limit too: it cannot raise it
d.start()

# 1. Connections idle after one request each are closed by the daemon.
conns = []
for i in range(30):
    c = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    c.sendall(options(d.port, f"o{i}"))
    h.check(c.recv(65536).startswith(b"SIP/2.0 200"), "OPTIONS over TCP answered")
    conns.append(c)
closed = 0
deadline = time.time() + 40  # the idle timeout, after sofia's transaction linger
for c in conns:
    c.settimeout(max(0.1, deadline - time.time()))
    try:
        closed += c.recv(1) == b""
    except ConnectionResetError:
        closed += 1
    except socket.timeout:
        pass
    c.close()
h.check_eq(closed, 30, "idle connections closed by the daemon")

# 2. More silent connections than descriptors: no log flood, and recovery.
size_before = os.path.getsize(d.log_path)
silent = []
for _ in range(150):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(0.5)
    try:
        c.connect(("127.0.0.1", d.port))
        silent.append(c)
    except OSError:
        c.close()
time.sleep(3)
grown = os.path.getsize(d.log_path) - size_before
h.check(grown < 16 * 1024, f"log growth at the fd limit: {grown} bytes")
for c in silent:
    c.close()
h.wait_for(lambda: d.request("show info", timeout=2)["calls_active"] == 0, timeout=20,
           what="the stats socket once the connections are gone")
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")] * 2, rate=5, transport="t1", name="tcp")
h.check_eq(res["finals"], {200: 2}, "TCP calls afterwards")
h.wait_idle(d)
d.stop()
carrier.stop()
print("relay TCP idle: ok")
