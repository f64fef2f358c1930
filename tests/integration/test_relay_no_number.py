"""Calls whose caller ID is no number (From user "sipp", as SIPp's built-in
UAC sends) are forwarded and counted in the totals, carriers and codes
(/metrics too), counted in invites_without_number and logged naming the
header; no number is tracked. With --no_number=refuse they get the pacing
refusal code and a CDR with "paced":"no_number"."""
import json
import urllib.request

import harness as h
import sipflow as sf


def call(d, dialer, carrier, name, from_user="sipp", answer=486):
    req = sf.request("INVITE", f"sip:15550007777@127.0.0.1:{d.port}",
                     f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-{name};rport",
                     f"<sip:{from_user}@127.0.0.1>;tag=d-{name}", "<sip:15550007777@127.0.0.1>", f"{name}@x", 1,
                     contact=f"<sip:d@127.0.0.1:{dialer.port}>", body=sf.sdp("offer"))
    dialer.send(req, ("127.0.0.1", d.port))
    if carrier is not None:
        inv, addr = carrier.wait(lambda m: m.method == "INVITE" and m.get("From", ) and "sipp" in m.get("From"),
                                 f"INVITE {name} at the carrier")
        carrier.send(sf.response(inv, answer, to_tag="c"), addr)
    fin, _ = dialer.wait(lambda m: not m.is_request and m.status >= 200 and m.call_id() == f"{name}@x", f"final {name}")
    dialer.send(sf.request("ACK", req.ruri, req.get("Via"), req.get("From"), fin.get("To"), req.call_id(), 1),
                ("127.0.0.1", d.port))
    return fin


wd = h.workdir("relay-no-number")
dialer, carrier = sf.Peer(), sf.Peer()
metrics_port = h.free_port()
cdr = f"{wd}/cdr.jsonl"
d = h.Daemon(wd, carrier.port, extra=[f"--metrics_listen=127.0.0.1:{metrics_port}", f"--cdr_file={cdr}"]).start()
for i in range(5):
    h.check_eq(call(d, dialer, carrier, f"nn{i}").status, 486, "a call from 'sipp' is forwarded")
info = d.request("show info")
h.check_eq((info["invites_forwarded"], info["invites_without_number"], info["numbers_tracked"]), (5, 5, 0),
           "forwarded, without a number, tracked")
h.check_eq(d.request("show codes")["codes"], {"486": 5}, "show codes counts them")
body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=3).read().decode()
h.check('sippacer_responses_total{code="486"} 5' in body, "sippacer_responses_total counts them")
h.check("sippacer_invites_without_number_total 5" in body, "sippacer_invites_without_number_total")
h.check("no number (From user 'sipp')" in d.log(), f"the log names the header:\n{d.log()[-1500:]}")
d.stop()

d = h.Daemon(wd, carrier.port, extra=["--no_number=refuse", f"--cdr_file={cdr}"]).start()
fin = call(d, dialer, None, "nnr")
h.check_eq(fin.status, 480, "--no_number=refuse")
h.check("caller ID is no number" in (fin.get("Reason") or ""), f"Reason: {fin.get('Reason')}")
h.check(not carrier.quiet(sf.is_method("INVITE"), 0.5), "a refused call reached the carrier")
d.stop()
with open(cdr) as f:
    rows = {r["a_call_id"]: r for r in (json.loads(line) for line in f if line.strip())}
h.check_eq((rows["nnr@x"]["code"], rows["nnr@x"]["paced"]), (480, "no_number"), "CDR of a refused call")
h.check_eq(rows["nn0@x"]["paced"], None, "CDR of a forwarded call")
print("relay no number: ok")
