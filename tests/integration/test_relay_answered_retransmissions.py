"""Requests and answers sent again after a transaction has been answered,
and the relay has let it go, are handled as RFC 3261 and RFC 6026 ask
(sofia patches 0015 and 0016 free what such a transaction no longer needs).
The test plays both peers on raw UDP through one call, then:

- the dialer sends its INVITE again after its ACK: it is absorbed, no new
  INVITE reaches the carrier (the patched build sends nothing back, RFC
  6026's Accepted state; the stock one sends its 200 again: printed);
- the dialer sends its BYE again after the 200: the same 200 comes back
  (Timer J), and no second BYE reaches the carrier;
- the carrier sends its 200 to our BYE again: nothing reaches the dialer."""
import random
import time

import harness as h
import sipflow as sf


def is_final(method):
    return lambda m: m.status is not None and m.status >= 200 and m.cseq()[1] == method


wd = h.workdir("relay-answered-retransmissions")
carrier, dialer = sf.udp_socket(), sf.udp_socket()
cport, dport = carrier.getsockname()[1], dialer.getsockname()[1]
d = h.Daemon(wd, cport).start()
patched = d.request("show info")["sofia_sip"] == "patched"
rng = random.Random(11)
daemon = ("127.0.0.1", d.port)

call_id = sf.new_id(rng) + "@dialer"
invite = sf.request("INVITE", "sip:15550001300@127.0.0.1", f"SIP/2.0/UDP 127.0.0.1:{dport};branch=z9hG4bK{sf.new_id(rng)}",
                    "<sip:15551230001@127.0.0.1>;tag=d1", "<sip:15550001300@127.0.0.1>", call_id, 1,
                    contact=f"<sip:dialer@127.0.0.1:{dport}>", body=sf.sdp("dialer"))
dialer.sendto(invite.encode(), daemon)
b_invite, b_addr = sf.wait_message(carrier, lambda m: m.method == "INVITE")
h.check(b_invite is not None, "the INVITE reaches the carrier")
carrier.sendto(sf.response(b_invite, 200, to_tag="c1", contact=f"<sip:carrier@127.0.0.1:{cport}>",
                           body=sf.sdp("carrier")).encode(), b_addr)
a_ok, _ = sf.wait_message(dialer, is_final("INVITE"))
h.check(a_ok is not None and a_ok.status == 200, "the 200 reaches the dialer")
ack = sf.request("ACK", sf.uri_of(a_ok.get("Contact")), f"SIP/2.0/UDP 127.0.0.1:{dport};branch=z9hG4bK{sf.new_id(rng)}",
                 a_ok.get("From"), a_ok.get("To"), call_id, 1)
dialer.sendto(ack.encode(), daemon)
h.check(sf.wait_message(carrier, lambda m: m.method == "ACK")[0] is not None, "the ACK reaches the carrier")

# The INVITE again, after the ACK: the same transaction, absorbed.
time.sleep(0.2)
dialer.sendto(invite.encode(), daemon)
h.check(sf.wait_message(carrier, lambda m: m.method == "INVITE", timeout=1.0)[0] is None,
        "the INVITE sent again after the ACK does not reach the carrier")
answer, _ = sf.wait_message(dialer, is_final("INVITE"), timeout=0.5)
if patched:
    h.check(answer is None, f"the INVITE sent again after the ACK is absorbed (RFC 6026): {answer}")
else:
    print(f"stock sofia-sip: the INVITE sent again after the ACK got {answer.status if answer else 'nothing'}")

# The call ends; the dialer's BYE is answered, then sent again.
bye = sf.request("BYE", sf.uri_of(a_ok.get("Contact")), f"SIP/2.0/UDP 127.0.0.1:{dport};branch=z9hG4bK{sf.new_id(rng)}",
                 a_ok.get("From"), a_ok.get("To"), call_id, 2)
dialer.sendto(bye.encode(), daemon)
b_bye, addr = sf.wait_message(carrier, lambda m: m.method == "BYE")
h.check(b_bye is not None, "the BYE reaches the carrier")
bye_ok = sf.response(b_bye, 200)
carrier.sendto(bye_ok.encode(), addr)
first, _ = sf.wait_message(dialer, is_final("BYE"))
h.check(first is not None and first.status == 200, "the dialer's BYE is answered 200")
h.wait_idle(d)
time.sleep(0.2)  # the relay has let both BYE transactions go

for i in (1, 2):
    dialer.sendto(bye.encode(), daemon)
    again, _ = sf.wait_message(dialer, is_final("BYE"), timeout=1.5)
    h.check(again is not None, f"the BYE sent again (#{i}) is answered")
    h.check_eq((again.status, again.cseq(), again.tag("To"), again.branch()),
               (first.status, first.cseq(), first.tag("To"), first.branch()), f"the same answer (#{i})")
h.check(sf.wait_message(carrier, lambda m: m.method == "BYE", timeout=0.5)[0] is None, "no second BYE reaches the carrier")

# The carrier's 200 to our BYE again: dropped, as the transaction did.
carrier.sendto(bye_ok.encode(), addr)
h.check(sf.wait_message(dialer, lambda m: m.status is not None, timeout=0.5)[0] is None,
        "the carrier's 200 sent again reaches nobody")
h.check_eq(d.request("show info")["calls_active"], 0, "no call left")
d.stop()
print("relay answered retransmissions: ok")
