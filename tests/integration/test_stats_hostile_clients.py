"""Junk, oversized lines, many clients at once and a client that never reads
do not break the stats socket, the daemon or the relay."""
import socket
import threading

import harness as h

wd = h.workdir("stats-hostile")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port).start()


def raw(data, read=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(d.socket_path)
    s.sendall(data)
    out = b""
    if read:
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
                if out.endswith(b"\n") and data.count(b"\n") <= out.count(b"\n"):
                    break
        except socket.timeout:
            pass
    s.close()
    return out.decode(errors="replace")


h.check('"error"' in raw(b"\x00\xff\xfe garbage\n"), "junk gets an error")
h.check('"error"' in raw(b"show number abc\n"), "a bad number gets an error")
h.check('"error"' in raw(b"set policy min_attempts=0\n"), "a bad policy value gets an error")
h.check_eq(d.request("show policy")["min_attempts"], 5, "policy after a refused update")
h.check("line too long" in raw(b"x" * 10000 + b"\n"), "an oversized line is refused")
two = raw(b"bogus\nshow info\n")
h.check(two.count("\n") == 2 and '"version"' in two, f"the connection stays usable after an error: {two!r}")

errors = []


def client():
    try:
        if d.request("show info")["version"] == "":
            errors.append("empty version")
    except Exception as e:  # noqa: BLE001 - any failure is the test's failure
        errors.append(repr(e))


threads = [threading.Thread(target=client) for _ in range(50)]
for t in threads:
    t.start()
for t in threads:
    t.join()
h.check_eq(errors, [], "50 concurrent clients")

# A client that asks and never reads: its answers pile up until the daemon drops it.
hog = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
hog.connect(d.socket_path)
hog.setblocking(False)
try:
    for _ in range(20000):
        hog.send(b"help\nshow codes\n")
except (BlockingIOError, BrokenPipeError, ConnectionResetError):
    pass
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")] * 3, rate=10)
h.check_eq(res["finals"], {200: 3}, "calls relayed while a client hogs the socket")
h.check_eq(d.request("show info")["invites_total"], 3, "show info still answers")
hog.close()
d.stop()
carrier.stop()
print("stats hostile clients: ok")
