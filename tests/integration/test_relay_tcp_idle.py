"""TCP connections cannot starve the daemon.
1. A connection idle after its messages is closed after --tcp_idle_timeout.
2. A connection that never sends a byte is closed after it too.
3. One source holds at most --tcp_max_per_source connections: its newest go
   (a daemon of its own, with a long idle timeout).
4. At a tiny fd limit, a crowd of silent connections is no log flood and no
   busy loop, the crowd is cut down to the connection cap, and a dialer's
   TCP calls go through while the crowd is still there."""
import os
import socket
import time

import harness as h


def options(port, branch):
    return (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK{branch}\r\n"
            f"From: <sip:probe@127.0.0.1>;tag={branch}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: {branch}@idle\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def closed_by_peer(conns, within):
    """How many of `conns` the daemon closes within `within` seconds."""
    closed = 0
    deadline = time.time() + within
    for c in conns:
        c.settimeout(max(0.05, deadline - time.time()))
        try:
            closed += c.recv(1) == b""
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
    return closed


def connect_from(source, port, n):
    out = []
    for _ in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(0.5)
        try:
            c.bind((source, 0))
            c.connect(("127.0.0.1", port))
            out.append(c)
        except OSError:
            c.close()
    return out


wd = h.workdir("relay-tcp-idle")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=["--tcp_idle_timeout=2s", "--tcp_max_per_source=10"])
d.args = ["prlimit", "--nofile=96:96"] + d.args  # hard limit too: it cannot raise it
d.start()
h.check("--tcp_max_connections lowered to 48" in d.log(), "the connection cap fits the file limit")

# 1. Connections idle after one request each are closed by the daemon.
spoke = []
for i in range(8):
    c = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    c.sendall(options(d.port, f"o{i}"))
    h.check(c.recv(65536).startswith(b"SIP/2.0 200"), "OPTIONS over TCP answered")
    spoke.append(c)
h.check_eq(closed_by_peer(spoke, 40), 8, "connections idle after a request, closed")  # after sofia's linger too

# 2. Connections that never send a byte are closed too.
silent = connect_from("127.0.0.2", d.port, 8)
h.check_eq(closed_by_peer(silent, 6), 8, "silent connections closed after --tcp_idle_timeout")

# 3. One source past --tcp_max_per_source loses its newest connections. A
# daemon of its own, whose idle timeout cannot close the kept ones first
# however slow this machine is.
capped = h.Daemon(h.workdir("relay-tcp-idle-cap"), carrier.port,
                  extra=["--tcp_idle_timeout=60s", "--tcp_max_per_source=10"]).start()
# The daemon tells a connection's age by the sweep (every second) that
# first saw it: the oldest ten are made a sweep before the rest.
kept = connect_from("127.0.0.3", capped.port, 10)
time.sleep(1.5)
newer = connect_from("127.0.0.3", capped.port, 15)
many = kept + newer
h.check_eq(len(many), 25, "25 connections from one source")
h.check_eq(closed_by_peer(newer, 4), 15, "connections past --tcp_max_per_source closed")
h.check_eq(closed_by_peer(kept, 0.1), 0, "a source's oldest connections kept")
for c in spoke + silent + many:
    c.close()
capped.stop()

# 4. A crowd from many sources at the fd limit: no flood, no busy loop, and
# a dialer's TCP calls still go through.
size_before = os.path.getsize(d.log_path)
cpu_before = h.cpu_seconds(d.proc.pid)
crowd = []
for i in range(15):
    crowd += connect_from(f"127.0.1.{i + 1}", d.port, 10)
time.sleep(3)
cpu = h.cpu_seconds(d.proc.pid) - cpu_before
grown = os.path.getsize(d.log_path) - size_before
h.check(grown < 16 * 1024, f"log growth at the fd limit: {grown} bytes")
h.check(cpu < 1.5, f"CPU the daemon spent in 3 s with the crowd: {cpu:.2f} s")
print(f"crowd: {cpu:.2f} s CPU in the daemon, log +{grown} bytes")
info = d.request("show info", timeout=2)
h.check(info["tcp_connections"] <= 48, f"inbound TCP connections past the cap: {info['tcp_connections']}")
h.check(info["tcp_closed_over_limit"] > 0, "connections closed over the limit are counted")
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")] * 2, rate=5, transport="t1", name="tcp")
h.check_eq(res["finals"], {200: 2}, "TCP calls beside the crowd")
for c in crowd:
    c.close()
h.wait_idle(d)
d.stop()
carrier.stop()
print("relay TCP idle: ok")
