"""Trunk names resolved per RFC 3263 against a real DNS server (Debian's
dnsmasq, started here on a loopback port; --dns_resolv_conf points sofia's
resolver at it with its 'port' line): --trunk=sip:trunk.test has NAPTR ->
SRV records of two priorities. The first target's port is closed: the
INVITE goes to the second at once. Then the first target is a silent peer:
after --trunk_timeout the INVITE goes to the second. A name with no records
fails over to the next trunk in --trunk."""
import os
import shutil
import socket
import subprocess
import time

import harness as h
import sipflow as sf

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
if not os.path.exists(DNSMASQ):
    h.fail("dnsmasq is not installed (tools/install-deps.sh installs dnsmasq-base)")


def start_dns(wd, port, srv):
    """dnsmasq answering for trunk.test: `srv` is [(priority, port)]."""
    args = [DNSMASQ, "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
            "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--local=/test/", "--local-ttl=0",
            f"--pid-file={wd}/dnsmasq.pid", "--log-queries", "--log-facility=-",
            "--naptr-record=trunk.test,10,50,S,SIP+D2U,,_sip._udp.trunk.test",
            "--host-record=trunk.test,127.0.0.1"]
    for i, (priority, target_port) in enumerate(srv):
        args += [f"--srv-host=_sip._udp.trunk.test,t{i}.trunk.test,{target_port},{priority},0",
                 f"--host-record=t{i}.trunk.test,127.0.0.1"]
    proc = h.spawn(args, f"{wd}/dnsmasq.log")
    time.sleep(0.5)
    h.check(proc.poll() is None, f"dnsmasq did not start:\n{open(f'{wd}/dnsmasq.log').read()}")
    return proc


def call(d, dialer, name):
    req = sf.request("INVITE", f"sip:15550005555@127.0.0.1:{d.port}",
                     f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-{name};rport",
                     f"<sip:15551230005@127.0.0.1>;tag=d-{name}", "<sip:15550005555@127.0.0.1>", f"{name}@x", 1,
                     contact=f"<sip:d@127.0.0.1:{dialer.port}>", extra=[["X-Test", name]], body=sf.sdp("offer"))
    dialer.send(req, ("127.0.0.1", d.port))
    return req


def answer(d, dialer, peer, req, name, what, timeout=3):
    inv, addr = peer.wait(lambda m: m.method == "INVITE" and m.get("X-Test") == name, what, timeout=timeout)
    peer.send(sf.response(inv, 486, to_tag="t"), addr)
    fin, _ = dialer.wait(lambda m: m.status == 486 and m.call_id() == f"{name}@x", f"486 for {name}")
    dialer.send(sf.request("ACK", req.ruri, req.get("Via"), req.get("From"), fin.get("To"), req.call_id(), 1),
                ("127.0.0.1", d.port))
    return inv


wd = h.workdir("relay-dns")
dns_port = h.free_port()
with open(f"{wd}/resolv.conf", "w") as f:
    f.write(f"nameserver 127.0.0.1\nport {dns_port}\n")
dialer, second, silent, backup = sf.Peer(), sf.Peer(), sf.Peer(), sf.Peer()
closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
closed.bind(("127.0.0.1", 0))
closed_port = closed.getsockname()[1]
closed.close()

# 1. SRV priority 10 on a closed port, priority 20 on a peer.
dns = start_dns(wd, dns_port, [(10, closed_port), (20, second.port)])
try:
    d = h.Daemon(wd, None, extra=["--trunk=sip:trunk.test", f"--dns_resolv_conf={wd}/resolv.conf",
                                  "--trunk_timeout=2s"]).start()
    t0 = time.time()
    req = call(d, dialer, "srv1")
    inv = answer(d, dialer, second, req, "srv1", "INVITE at the second SRV target")
    h.check(time.time() - t0 < 1.5, f"the closed first target cost {time.time() - t0:.1f} s")
    h.check("trunk.test" in inv.ruri, f"the request-URI keeps the trunk's name: {inv.ruri}")
    d.stop()
finally:
    dns.terminate()
    dns.wait()
queries = open(f"{wd}/dnsmasq.log").read()
h.check("NAPTR" in queries and "SRV" in queries, f"NAPTR and SRV were asked:\n{queries[-2000:]}")

# 2. The first target answers nothing: after --trunk_timeout, the second.
dns = start_dns(wd, dns_port, [(10, silent.port), (20, second.port)])
try:
    d = h.Daemon(wd, None, extra=["--trunk=sip:trunk.test", f"--dns_resolv_conf={wd}/resolv.conf",
                                  "--trunk_timeout=2s"]).start()
    t0 = time.time()
    req = call(d, dialer, "srv2")
    silent.wait(lambda m: m.method == "INVITE" and m.get("X-Test") == "srv2", "INVITE at the silent first target")
    answer(d, dialer, second, req, "srv2", "INVITE at the second target after the timeout", timeout=5)
    h.check(1.5 < time.time() - t0 < 4.5, f"the silent target cost {time.time() - t0:.1f} s, not --trunk_timeout")
    d.stop()

    # 3. A name without records: the next trunk in --trunk.
    d = h.Daemon(wd, None, extra=[f"--trunk=sip:nowhere.test,127.0.0.1:{backup.port}",
                                  f"--dns_resolv_conf={wd}/resolv.conf"]).start()
    req = call(d, dialer, "nxd")
    answer(d, dialer, backup, req, "nxd", "INVITE at the backup trunk after a name that does not resolve")
    trunks = d.request("show trunks")["trunks"]
    h.check_eq((trunks[0]["failovers"], trunks[0]["unavailable"]), (1, 1), "the unresolvable trunk's counts")
    d.stop()
finally:
    dns.terminate()
    dns.wait()
print("relay dns: ok")
