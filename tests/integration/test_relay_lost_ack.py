"""A carrier whose 2xx is answered by an ACK it never gets sends the 2xx
again: the relay must ACK it again, or the carrier gives the call up after
64*T1 (RFC 3261 13.3.1.4). The test plays both peers on raw UDP: the carrier
answers, gets our ACK, then sends the same 2xx twice more as if the ACK had
been lost; each time an ACK must come back, the same as the first (the relay
holds the ACK it sent until the call ends, and sofia sends it again for a
2xx that finds it). Then the call ends normally."""
import random

import harness as h
import sipflow as sf


wd = h.workdir("relay-lost-ack")
carrier, dialer = sf.udp_socket(), sf.udp_socket()
cport, dport = carrier.getsockname()[1], dialer.getsockname()[1]
d = h.Daemon(wd, cport).start()
rng = random.Random(7)
daemon = ("127.0.0.1", d.port)

call_id = sf.new_id(rng) + "@dialer"
invite = sf.request("INVITE", "sip:15550001200@127.0.0.1", f"SIP/2.0/UDP 127.0.0.1:{dport};branch=z9hG4bK{sf.new_id(rng)}",
                    "<sip:15551230001@127.0.0.1>;tag=d1", "<sip:15550001200@127.0.0.1>", call_id, 1,
                    contact=f"<sip:dialer@127.0.0.1:{dport}>", body=sf.sdp("dialer"))
dialer.sendto(invite.encode(), daemon)
b_invite, b_addr = sf.wait_message(carrier, lambda m: m.method == "INVITE")
h.check(b_invite is not None, "the INVITE reaches the carrier")
ok = sf.response(b_invite, 200, to_tag="c1", contact=f"<sip:carrier@127.0.0.1:{cport}>", body=sf.sdp("carrier"))
carrier.sendto(ok.encode(), b_addr)

a_ok, _ = sf.wait_message(dialer, lambda m: m.status == 200)
h.check(a_ok is not None, "the 200 reaches the dialer")
ack = sf.request("ACK", sf.uri_of(a_ok.get("Contact")), f"SIP/2.0/UDP 127.0.0.1:{dport};branch=z9hG4bK{sf.new_id(rng)}",
                 a_ok.get("From"), a_ok.get("To"), call_id, 1)
dialer.sendto(ack.encode(), daemon)
first, _ = sf.wait_message(carrier, lambda m: m.method == "ACK")
h.check(first is not None, "our ACK reaches the carrier")

# The carrier did not get it, as far as it knows: its 2xx again, twice.
again = []
for _ in range(2):
    carrier.sendto(ok.encode(), b_addr)
    msg, _ = sf.wait_message(carrier, lambda m: m.method == "ACK", timeout=1.5)
    again.append(msg)
for i, msg in enumerate(again, 1):
    h.check(msg is not None, f"an ACK for the 2xx sent again (#{i})")
    h.check_eq((msg.cseq(), msg.branch(), msg.tag("To")), (first.cseq(), first.branch(), first.tag("To")),
               f"the ACK sent again (#{i}) is the first one")
h.check(sf.wait_message(dialer, lambda m: m.status == 200, timeout=0.5)[0] is None, "the 2xx sent again stays on the trunk side")

bye = sf.request("BYE", sf.uri_of(a_ok.get("Contact")), f"SIP/2.0/UDP 127.0.0.1:{dport};branch=z9hG4bK{sf.new_id(rng)}",
                 a_ok.get("From"), a_ok.get("To"), call_id, 2)
dialer.sendto(bye.encode(), daemon)
b_bye, addr = sf.wait_message(carrier, lambda m: m.method == "BYE")
h.check(b_bye is not None, "the BYE reaches the carrier")
carrier.sendto(sf.response(b_bye, 200).encode(), addr)
h.check(sf.wait_message(dialer, lambda m: m.status == 200 and m.cseq()[1] == "BYE")[0] is not None, "the dialer's BYE is answered")
h.wait_idle(d)
d.stop()
print("relay lost ack: ok")
