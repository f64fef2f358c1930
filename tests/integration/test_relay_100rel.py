"""100rel (RFC 3262) per leg: a carrier's reliable provisional is PRACKed by
sippacer and its SDP reaches the dialer; a dialer that requires 100rel gets
every provisional reliably and its PRACKs are answered; one that supports
it gets a reliable 183 with SDP; one that does not gets the 183 and its SDP
without RSeq. Several reliable provisionals before the dialer's first PRACK
(which aborted sofia-sip's timers once) leave the daemon up. A dialer that
never PRACKs gets 503 and the carrier's answered leg is hung up. Both peers
are raw UDP sockets, so every header is checked as sent."""
import time

import harness as h
import sipflow as sf

Peer, is_status, is_method = sf.Peer, sf.is_status, sf.is_method
SDP_ANSWER = sf.sdp("carrier-early-media", port=41000)


def call(d, dialer, trunk, call_id, dialer_100rel, provisionals):
    """Sends an INVITE from `dialer` with `dialer_100rel` headers; the trunk
    answers each of `provisionals` (code, reliable?, with SDP?) at once.
    Returns (INVITE at trunk, its source, the dialer's INVITE)."""
    dst = ("127.0.0.1", d.port)
    invite = sf.request("INVITE", f"sip:15550002222@127.0.0.1:{d.port}",
                        f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-{call_id.split('@')[0]};rport",
                        "<sip:15551230002@127.0.0.1>;tag=d1", "<sip:15550002222@127.0.0.1>", call_id, 1,
                        contact=f"<sip:d@127.0.0.1:{dialer.port}>", extra=dialer_100rel, body=sf.sdp("dialer-offer"))
    dialer.send(invite, dst)
    inv, taddr = trunk.wait(is_method("INVITE"), "INVITE at the trunk")
    rseq = 0
    for code, reliable, with_sdp in provisionals:
        extra = [["Require", "100rel"], ["RSeq", str(rseq + 1)]] if reliable else []
        rseq += reliable
        trunk.send(sf.response(inv, code, to_tag="c1", contact=f"<sip:c@127.0.0.1:{trunk.port}>", extra=extra,
                               body=SDP_ANSWER if with_sdp else b""), taddr)
    return inv, taddr, invite


def finish(d, dialer, trunk, inv, taddr, invite):
    """The carrier answers 200; the dialer ACKs and hangs up."""
    trunk.send(sf.response(inv, 200, to_tag="c1", contact=f"<sip:c@127.0.0.1:{trunk.port}>", body=SDP_ANSWER), taddr)
    ok, _ = dialer.wait(is_status(200), "200 at the dialer")
    dst = ("127.0.0.1", d.port)
    to = ok.get("To")
    dialer.send(sf.request("ACK", sf.uri_of(ok.get("Contact")), f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-a{time.time_ns()}",
                           invite.get("From"), to, invite.call_id(), 1), dst)
    trunk.wait(is_method("ACK"), "ACK at the trunk")
    dialer.send(sf.request("BYE", sf.uri_of(ok.get("Contact")), f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-b{time.time_ns()}",
                           invite.get("From"), to, invite.call_id(), 2), dst)
    bye, baddr = trunk.wait(is_method("BYE"), "BYE at the trunk")
    trunk.send(sf.response(bye, 200), baddr)
    dialer.wait(is_status(200), "200 to the BYE")


def prack(d, dialer, invite, provisional):
    """The dialer PRACKs `provisional`; returns the answer."""
    rack = f"{provisional.get('RSeq')} 1 INVITE"
    dialer.send(sf.request("PRACK", sf.uri_of(provisional.get("Contact")),
                           f"SIP/2.0/UDP 127.0.0.1:{dialer.port};branch=z9hG4bK-p{time.time_ns()}",
                           invite.get("From"), provisional.get("To"), invite.call_id(), 10 + int(provisional.get("RSeq")),
                           extra=[["RAck", rack]]), ("127.0.0.1", d.port))
    return dialer.wait(lambda m: not m.is_request and m.cseq()[1] == "PRACK", "answer to the PRACK")[0]


wd = h.workdir("relay-100rel")
trunk, dialer = Peer(), Peer()
d = h.Daemon(wd, trunk.port).start()

# 1. A dialer that does not know 100rel; the carrier's reliable 183 with SDP.
inv, taddr, invite = call(d, dialer, trunk, "rel-none@x", [], [(183, True, True)])
h.check("100rel" not in (inv.get("Supported") or ""), "Supported: 100rel offered for a dialer without it")
pr, paddr = trunk.wait(is_method("PRACK"), "PRACK of the carrier's reliable 183")
h.check_eq(pr.get("RAck"), f"1 {inv.cseq()[0]} INVITE", "RAck of our PRACK")
h.check_eq(pr.tag("To"), "c1", "our PRACK is in the carrier's early dialog")
trunk.send(sf.response(pr, 200), paddr)
p183, _ = dialer.wait(is_status(183), "183 at the dialer")
h.check_eq(p183.body, SDP_ANSWER, "the carrier's early SDP at the dialer")
h.check(p183.get("RSeq") is None and "100rel" not in (p183.get("Require") or ""),
        f"an unreliable 183 for a dialer without 100rel:\n{p183.encode().decode()}")
h.check(not trunk.quiet(is_method("PRACK"), 0.8), "the carrier's 183 was PRACKed twice (retransmitted?)")
finish(d, dialer, trunk, inv, taddr, invite)

# 2. A dialer that supports 100rel: the carrier's reliable 183 with SDP reaches it reliably.
inv, taddr, invite = call(d, dialer, trunk, "rel-sup@x", [["Supported", "100rel, timer"]], [(183, True, True)])
h.check("100rel" in (inv.get("Supported") or ""), "the dialer's Supported: 100rel at the carrier")
pr, paddr = trunk.wait(is_method("PRACK"), "PRACK of the carrier's reliable 183")
trunk.send(sf.response(pr, 200), paddr)
p183, _ = dialer.wait(is_status(183), "183 at the dialer")
h.check(p183.get("RSeq") is not None and "100rel" in (p183.get("Require") or ""), "a reliable 183 to the dialer")
h.check_eq(p183.body, SDP_ANSWER, "the early SDP in the reliable 183")
h.check_eq(prack(d, dialer, invite, p183).status, 200, "our answer to the dialer's PRACK")
finish(d, dialer, trunk, inv, taddr, invite)

# 3. A dialer that requires 100rel; three provisionals before its first PRACK.
inv, taddr, invite = call(d, dialer, trunk, "rel-req@x", [["Supported", "100rel"], ["Require", "100rel"]],
                          [(180, False, False), (183, True, True), (183, True, True)])
for _ in range(2):
    pr, paddr = trunk.wait(is_method("PRACK"), "PRACKs of the carrier's reliable 183s")
    trunk.send(sf.response(pr, 200), paddr)
time.sleep(0.3)
h.check(d.proc.poll() is None, f"the daemon died with provisionals queued for PRACK:\n{d.log()[-3000:]}")
first, _ = dialer.wait(lambda m: not m.is_request and m.status in (180, 183), "a reliable provisional")
h.check(first.get("RSeq") is not None, "every provisional reliable for a dialer requiring 100rel")
seen = {first.status}
last = first
for _ in range(3):
    if prack(d, dialer, invite, last).status != 200:
        h.fail("a PRACK not answered 200")
    more = dialer.quiet(lambda m: not m.is_request and m.status in (180, 183) and m.get("RSeq") != last.get("RSeq"), 0.6)
    if not more:
        break
    last = more[0]
    seen.add(last.status)
h.check_eq(sorted(seen), [180, 183], "the queued provisionals reached the dialer after its PRACKs")
finish(d, dialer, trunk, inv, taddr, invite)

info = d.request("show info")
h.check(info["pracks_sent"] >= 4, f"pracks_sent {info['pracks_sent']}")
h.check_eq(info["calls_active"], 0, "calls_active")
d.stop()


# 4. A dialer that never PRACKs a reliable 183 with SDP: the carrier's 200
#    waits for the PRACK (RFC 3262), sofia gives up after 64*T1
#    (--trunk_timeout) with 503 to the dialer, and the carrier is hung up.
d = h.Daemon(wd, trunk.port, extra=["--trunk_timeout=2s"]).start()
inv, taddr, invite = call(d, dialer, trunk, "rel-gone@x", [["Supported", "100rel"]], [(183, True, True)])
pr, paddr = trunk.wait(is_method("PRACK"), "PRACK of the carrier's reliable 183")
trunk.send(sf.response(pr, 200), paddr)
dialer.wait(lambda m: m.status == 183 and m.get("RSeq") is not None, "a reliable 183 the dialer ignores")
trunk.send(sf.response(inv, 200, to_tag="c1", contact=f"<sip:c@127.0.0.1:{trunk.port}>", body=SDP_ANSWER), taddr)
fin, _ = dialer.wait(lambda m: not m.is_request and m.status >= 200 and m.call_id() == "rel-gone@x",
                     "the dialer's final answer after it never PRACKed", timeout=6)
h.check_eq(fin.status, 503, "a dialer that never PRACKed")
bye, baddr = trunk.wait(is_method("BYE"), "BYE to the carrier's answered leg", timeout=3)
trunk.send(sf.response(bye, 200), baddr)
h.check_eq(d.request("show info")["calls_active"], 0, "calls_active after the PRACK timeout")
d.stop()
print("relay 100rel: ok")
