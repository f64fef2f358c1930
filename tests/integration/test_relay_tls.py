"""TLS toward a trunk: Debian's Kamailio as the carrier, listening on TLS
only for SIP (its certificate from a CA made here with openssl). A call to
sips:127.0.0.1:PORT goes over TLS with our TLS address in Via and Contact,
is answered, and its BYE crosses the same way; a refusal (486) reaches the
dialer. The carrier's certificate is verified against --tls_ca: with
another CA the call fails at once with 503 (and fails over to a second
trunk); with --tls_verify=false it goes through."""
import os
import subprocess
import time

import harness as h
import sipflow as sf

CFG = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
auto_aliases=no
enable_tls=yes
listen=tls:127.0.0.1:{tls_port}
listen=udp:127.0.0.1:{udp_port}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tls.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
loadmodule "siputils.so"
modparam("tls", "config", "{wd}/tls.cfg")
request_route {{
    if (is_method("OPTIONS")) {{ sl_send_reply("200", "OK"); exit; }}
    xlog("L_NOTICE", "REQ $rm $rU proto=$pr via=$hdr(Via) contact=$hdr(Contact)\\n");
    if (has_totag()) {{
        if (is_method("BYE")) {{ sl_send_reply("200", "OK"); exit; }}
        exit;
    }}
    if (is_method("ACK") || is_method("CANCEL")) exit;
    if ($rU == "busy") {{ sl_send_reply("486", "Busy Here"); exit; }}
    append_to_reply("Contact: <sip:carrier@127.0.0.1:{tls_port};transport=tls>\\r\\n");
    sl_send_reply("200", "OK");
    exit;
}}
"""
TLS_CFG = """[server:default]
method = TLSv1.2+
certificate = {wd}/server.crt
private_key = {wd}/server.key
verify_certificate = no
require_certificate = no
[client:default]
method = TLSv1.2+
verify_certificate = no
"""


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_certs(wd):
    for ca in ("ca", "otherca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{wd}/{ca}.key", "-out",
                f"{wd}/{ca}.crt", "-days", "30", "-subj", f"/CN=Test {ca}", "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{wd}/server.key", "-out", f"{wd}/server.csr",
            "-subj", "/CN=carrier.test")
    with open(f"{wd}/server.ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", f"{wd}/server.csr", "-CA", f"{wd}/ca.crt", "-CAkey", f"{wd}/ca.key",
            "-CAcreateserial", "-out", f"{wd}/server.crt", "-days", "30", "-extfile", f"{wd}/server.ext")


def call(d, dialer, user, name):
    req = sf.request("INVITE", f"sip:{user}@127.0.0.1:{d.port}",
                     f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-{name};rport",
                     f"<sip:15551230006@127.0.0.1>;tag=d-{name}", f"<sip:{user}@127.0.0.1>", f"{name}@x", 1,
                     contact=f"<sip:d@127.0.0.1:{dialer.port}>", body=sf.sdp("offer"))
    dialer.send(req, ("127.0.0.1", d.port))
    fin, _ = dialer.wait(lambda m: not m.is_request and m.status >= 200 and m.call_id() == f"{name}@x",
                         f"final answer for {name}", timeout=8)
    return req, fin


def ack(d, dialer, req, fin, target=None):
    dialer.send(sf.request("ACK", target or req.ruri, f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-a{time.time_ns()}",
                           req.get("From"), fin.get("To"), req.call_id(), 1), ("127.0.0.1", d.port))


wd = h.workdir("relay-tls")
make_certs(wd)
tls_port, udp_port, our_tls = h.free_port(), h.free_port(), h.free_port()
with open(f"{wd}/kamailio.cfg", "w") as f:
    f.write(CFG.format(tls_port=tls_port, udp_port=udp_port, wd=wd))
with open(f"{wd}/tls.cfg", "w") as f:
    f.write(TLS_CFG.format(wd=wd))
os.makedirs(f"{wd}/kam-run", exist_ok=True)
kam = h.spawn(["kamailio", "-f", f"{wd}/kamailio.cfg", "-DD", "-E", "-Y", f"{wd}/kam-run", "-m", "64", "-M", "8"],
              f"{wd}/kamailio.log")
try:
    h.wait_for(lambda: kam.poll() is not None or h.sip_options_ping("127.0.0.1", udp_port) is not None,
               what="Kamailio answering")
    h.check(kam.poll() is None, f"kamailio exited:\n{open(f'{wd}/kamailio.log').read()[-2000:]}")
    dialer, backup = sf.Peer(), sf.Peer()
    trunk = f"sips:127.0.0.1:{tls_port}"

    # Verified against our CA: a refusal, then an answered call and its BYE.
    d = h.Daemon(wd, None, extra=[f"--trunk={trunk}", f"--tls_ca={wd}/ca.crt",
                                  f"--tls_listen=127.0.0.1:{our_tls}"]).start()
    req, fin = call(d, dialer, "busy", "tls1")
    h.check_eq(fin.status, 486, "the TLS carrier's 486 at the dialer")
    ack(d, dialer, req, fin)
    req, fin = call(d, dialer, "15550006666", "tls2")
    h.check_eq(fin.status, 200, "the TLS carrier's 200 at the dialer")
    ack(d, dialer, req, fin, sf.uri_of(fin.get("Contact")))
    dialer.send(sf.request("BYE", sf.uri_of(fin.get("Contact")),
                           f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-bye{time.time_ns()}",
                           req.get("From"), fin.get("To"), req.call_id(), 2), ("127.0.0.1", d.port))
    bye_ok, _ = dialer.wait(lambda m: m.status == 200 and m.cseq()[1] == "BYE", "200 to the BYE over TLS")
    log = open(f"{wd}/kamailio.log").read()
    h.check(f"REQ INVITE 15550006666 proto=tls via=SIP/2.0/TLS 127.0.0.1:{our_tls}" in log,
            f"the INVITE arrived over TLS from our TLS address:\n{log[-1500:]}")
    h.check(f"contact=<sip:127.0.0.1:{our_tls};transport=tls>" in log, "our TLS Contact at the carrier")
    h.check("REQ BYE" in log and "proto=tls" in log.split("REQ BYE")[-1].split("\n")[0], "the BYE over TLS")
    d.stop()

    # Another CA: the handshake's verification fails at once; the next trunk takes the call.
    d = h.Daemon(wd, None, extra=[f"--trunk={trunk},127.0.0.1:{backup.port}", f"--tls_ca={wd}/otherca.crt",
                                  f"--tls_listen=127.0.0.1:{our_tls}"]).start()
    t0 = time.time()
    req = sf.request("INVITE", f"sip:15550006666@127.0.0.1:{d.port}",
                     f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-tls3;rport",
                     "<sip:15551230006@127.0.0.1>;tag=d-tls3", "<sip:15550006666@127.0.0.1>", "tls3@x", 1,
                     contact=f"<sip:d@127.0.0.1:{dialer.port}>", body=sf.sdp("offer"))
    dialer.send(req, ("127.0.0.1", d.port))
    inv, addr = backup.wait(sf.is_method("INVITE"), "the call at the next trunk after a certificate from another CA")
    h.check(time.time() - t0 < 3, f"an unverifiable certificate cost {time.time() - t0:.1f} s")
    backup.send(sf.response(inv, 486, to_tag="b"), addr)
    fin, _ = dialer.wait(lambda m: m.status == 486, "486 from the next trunk")
    ack(d, dialer, req, fin)
    h.check_eq(d.request("show trunks")["trunks"][0]["unavailable"], 1, "the TLS trunk counted unavailable")
    d.stop()

    # --tls_verify=false accepts it.
    d = h.Daemon(wd, None, extra=[f"--trunk={trunk}", f"--tls_ca={wd}/otherca.crt", "--tls_verify=false",
                                  f"--tls_listen=127.0.0.1:{our_tls}"]).start()
    req, fin = call(d, dialer, "busy", "tls4")
    h.check_eq(fin.status, 486, "with --tls_verify=false the carrier is reached")
    ack(d, dialer, req, fin)
    d.stop()
finally:
    if kam.poll() is None:
        os.killpg(kam.pid, 15)
        kam.wait(10)
print("relay tls: ok")
