"""A network-level mutation fuzzer against the live daemon. The script plays
both peers over raw UDP on loopback: one socket is the dialer (on the
--listen side, allowed by --allow), one is the carrier --trunk points to,
so it controls every byte either side sends. Each iteration runs a real call
flow (answer and BYE from either side, CANCEL before or racing the 200,
4xx/6xx finals with Reason, a digest challenge, re-INVITE and UPDATE/INFO
from either side, early-dialog requests, glare, a second INVITE, crossing
BYEs, retransmissions, late and repeated 2xx) and applies seeded mutations
to its messages: drops, duplicates, reordering, broken or missing headers,
wrong CSeq, tags, Call-ID, Via, Contact, Record-Route, Content-Length,
bodies, truncation, folding, bad UTF-8, very long values, and stray
requests and responses (sipflow.py). After each flow both peers behave
again and end the call cleanly.

What must hold: the daemon never exits, answers `show info` after every
iteration, sends only datagrams that parse as SIP, relays a clean control
call end to end every few iterations,
frees every call, transaction and dialog once sofia's timers have run,
writes CDRs that are JSON, and stops on SIGTERM with calls still up, with
exit code 0 and a log without sanitizer reports (under the ASan build with
detect_leaks=1 a leak fails the exit code too). A failure names the seed and
the iteration (rerun it alone with `--seed S --only I`) and saves the
packets that iteration sent.

Each daemon bug it found has a reproducer, a fixed packet sequence
(`--repro NAME`). Those still open are in KNOWN below, and the random flows
leave their sequences out (`--without`); the fixed ones (FIXED) run before
every fuzz run.

    test_relay_net_fuzz.py [--seed S] [--iterations N] [--only I] [--trace] [--repro NAME]
    env: SIPPACER_NETFUZZ_SEED, SIPPACER_NETFUZZ_ITERATIONS (tests/fuzz/README.md)
"""
import argparse
import json
import os
import re
import select
import signal
import socket
import sys
import time
import traceback

import harness as h
import sipflow as sf

STEP = 0.4       # how long a flow waits for the relay's next message
SETTLE = 2.5     # how long a call may take to end cleanly before the next flow
CALLERS = 8      # fuzzed calls share this many caller numbers (pacing sees repeats)
# Sequences that reach a daemon bug still open, each with its reproducer
# (--repro NAME); --without NAME leaves them out of the random flows.
KNOWN = {}
# Bugs it found that are fixed: their reproducers run before every fuzz run.
FIXED = {
    "dup-max-forwards": "an INVITE with two Max-Forwards headers crashed the daemon (SEGV): sofia lists the "
                        "second copy on sip_error with its own class, read as an error header (fixed: 400)",
    "folded-uri": "a Contact folded inside its URI became the request line of what the relay sent to that peer "
                  "(fixed: the dialer's INVITE gets 400; a carrier's 2xx keeps the trunk's address as target)",
    "ack-dns": "an ACK to a 2xx whose Contact or Record-Route does not resolve was never freed (fixed: sofia-sip "
               "patch 0006; on the stock sofia-sip it still leaks, so it runs on the patched build only)",
    "early-reinvite": "an INVITE relayed in the dialog before the answer (a second INVITE with a new branch, or a "
                      "re-INVITE in the early dialog) answered 2xx leaked a client transaction and dropped the "
                      "ACK of the first 2xx (fixed: 491)",
    "double-to-tag": "an INVITE whose To had two tag parameters was relayed, and the dialer could never hang it "
                     "up (fixed: an INVITE with a To tag for no dialog gets 481)",
    "cancel-challenge": "a 401/407 for an INVITE the dialer had cancelled sent the INVITE to the trunk again "
                        "(fixed: the call ends)",
}
ARGS = NET = NET_DAEMON = None  # set by main()
SANITIZER = re.compile(r"ERROR: AddressSanitizer|runtime error|LeakSanitizer|Assertion .* failed|"
                       r"AddressSanitizer:DEADLYSIGNAL|terminate called")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=int(os.environ.get("SIPPACER_NETFUZZ_SEED", "20240611")))
    p.add_argument("--iterations", type=int, default=int(os.environ.get("SIPPACER_NETFUZZ_ITERATIONS", "90")))
    p.add_argument("--only", type=int, default=None, help="run this one iteration")
    p.add_argument("--first", type=int, default=0, help="the first iteration to run")
    p.add_argument("--control-every", type=int, default=10)
    p.add_argument("--trace", action="store_true", help="print each iteration's steps")
    p.add_argument("--flow", default=None, help="run only this flow (flow_answer, flow_cancel, ...)")
    p.add_argument("--rate", type=float, default=None, help="mutate this fraction of messages")
    p.add_argument("--without", default=",".join(sorted(KNOWN)),
                   help="leave out of the random flows the sequences that reach these open bugs (default: all "
                        "of KNOWN; '' fuzzes them too): " + ", ".join(sorted(KNOWN)))
    p.add_argument("--repro", default=None, help="run only this reproducer of a bug found (or 'all'): "
                   + ", ".join(REPRODUCERS))
    return p.parse_args()


class Net:
    """The two peers' sockets, and which call each arriving message is for."""

    def __init__(self, daemon_port, carrier_sock, dialer_sock):
        self.daemon = ("127.0.0.1", daemon_port)
        self.socks = {"dialer": dialer_sock, "carrier": carrier_sock}
        self.keys = {}       # (side, kind, value) -> Call
        self.calls = []
        self.ending = []     # settling calls not finished yet: they act on their own
        self.current = None  # the call a flow is scripting; others answer themselves
        self.log = []        # this iteration's traffic: (time, side, "sent"/"received", bytes)
        self.unparsed = []

    def send(self, side, data, dest=None):
        self.log.append((time.time(), side, "sent", data))
        try:
            self.socks[side].sendto(data, dest or self.daemon)
        except OSError:
            pass  # larger than a datagram

    def register(self, call, side, kind, value):
        if value:
            self.keys[(side, kind, value)] = call

    def pump(self, timeout):
        """Reads what arrives within `timeout` (returning once something did)
        and hands each message to its call; lets ending calls act."""
        socks = list(self.socks.values())
        ready, _, _ = select.select(socks, [], [], max(timeout, 0))
        while ready:
            for s in ready:
                try:
                    data, addr = s.recvfrom(65536)
                except OSError:
                    continue
                side = "dialer" if s is self.socks["dialer"] else "carrier"
                self.log.append((time.time(), side, "received", data))
                self.deliver(side, data, addr)
            ready, _, _ = select.select(socks, [], [], 0)
        self.ending = [c for c in self.ending if not c.finished()]
        for c in self.ending:
            c.tick()

    def deliver(self, side, data, addr):
        msg = sf.Msg.parse(data)
        if msg is None:
            self.unparsed.append(data)
            return
        call = self.lookup(side, msg)
        if call is None:
            orphan_answer(self, side, msg, addr)
            return
        call.observe(side, msg, addr)
        if call is self.current and not call.settling:
            call.inbox.append((side, msg, addr))
        else:
            call.auto(side, msg, addr)
            if call not in self.ending and not call.finished():
                self.ending.append(call)  # a late answer may need a BYE

    def lookup(self, side, msg):
        keys = [("cid", msg.call_id()), ("branch", msg.branch()),
                ("tag", msg.tag("To") if msg.is_request else msg.tag("From"))]
        for kind, value in keys:
            call = self.keys.get((side, kind, value))
            if call is not None:
                self.register(call, side, "cid", msg.call_id())
                return call
        if side == "carrier" and msg.method == "INVITE" and msg.tag("To") is None:
            return self.new_trunk_invite(msg)
        return None

    def new_trunk_invite(self, msg):
        """A new INVITE at the carrier: the call whose mark is in the SDP, or
        whose callee it dials, or the flow running now."""
        body = msg.body.decode("latin-1")
        user = (sf.uri_of(msg.ruri) or "").split("@")[0].replace("sip:", "")
        for c in reversed(self.calls):
            if c.c_invite is None and (f"s={c.mark}\r" in body or user == c.callee):
                return c
        c = self.current
        return c if c is not None and c.c_invite is None else None


def orphan_answer(net, side, msg, addr):
    """Messages for no call we know: answer requests like a strict UA would."""
    if msg.is_request and msg.method != "ACK":
        code = 486 if msg.method == "INVITE" else 481
        net.send(side, sf.response(msg, code, to_tag="orphan").encode(), addr)
    elif not msg.is_request and msg.cseq()[1] == "INVITE" and 200 <= msg.status < 300:
        # An answer to an INVITE we lost track of: acknowledge and hang up.
        uri = sf.uri_of(msg.get("Contact")) or f"sip:127.0.0.1:{net.daemon[1]}"
        port = net.socks[side].getsockname()[1]
        for method, n in (("ACK", msg.cseq()[0] or 1), ("BYE", (msg.cseq()[0] or 1) + 1)):
            via = f"SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKorphan{os.urandom(5).hex()};rport"
            net.send(side, sf.request(method, uri, via, msg.get("From"), msg.get("To"), msg.call_id(), n).encode())


def new_branch():
    return "z9hG4bK" + os.urandom(6).hex()


class Call:
    """One call as both peers see it. The flow scripts it step by step; once
    it settles (and for every call of an earlier iteration) each peer answers
    what arrives and ends the call cleanly: ACK what needs it, answer
    requests, CANCEL or BYE from the dialer, a final or BYE from the carrier."""

    def __init__(self, net, n, rng, caller, callee):
        self.net, self.n, self.caller, self.callee = net, n, caller, callee
        self.mark = f"fz{n}-{sf.new_id(rng, 6)}"
        self.dport = net.socks["dialer"].getsockname()[1]
        self.cport = net.socks["carrier"].getsockname()[1]
        self.d_cid = f"{self.mark}@127.0.0.1"
        self.d_tag = "d" + sf.new_id(rng, 8)
        self.d_from = f"\"Caller {n}\" <sip:{caller}@127.0.0.1>;tag={self.d_tag}"
        self.d_to = f"<sip:{callee}@127.0.0.1:{net.daemon[1]}>"
        self.d_cseq = rng.randint(1, 5000)
        self.c_cseq = rng.randint(1, 5000)
        self.c_tag = "c" + sf.new_id(rng, 8)
        self.d_invite = None      # the INVITE as intended (clean)
        self.d_sent = {}          # branch -> method, for what the dialer sent
        self.d_resp = None        # the last response to the INVITE (echoes what the relay parsed)
        self.d_final = None
        self.d_ok = None          # the 2xx: the dialer's dialog
        self.d_bye = None         # None, "sent", "done"
        self.d_bye_at = self.d_cancel_at = 0
        self.d_bye_tries = self.d_cancel_tries = 0
        self.c_invite = None      # the INVITE the carrier's dialog comes from, as it arrived
        self.c_addr = None
        self.c_pending = {}       # branch -> (INVITE, addr): every initial INVITE the carrier got
        self.c_finals = {}        # branch -> the carrier's final (clean), resent on retransmissions
        self.c_cancelled = set()  # branches the relay cancelled
        self.c_acked = set()      # branches whose final the relay ACKed
        self.c_final_at = {}      # branch -> (when the final was last sent, how often)
        self.c_hold = False       # the carrier leaves the INVITE ringing (until CANCEL)
        self.c_sent = {}
        self.c_ack = None
        self.c_bye = None
        self.c_bye_at = 0
        self.c_bye_tries = 0
        self.inbox = []
        self.settling = False
        self.settle_at = 0
        net.calls.append(self)
        for side, tag in (("dialer", self.d_tag), ("carrier", self.c_tag)):
            net.register(self, side, "tag", tag)
        net.register(self, "dialer", "cid", self.d_cid)

    @property
    def c_final(self):
        return self.c_finals.get(self.c_invite.branch()) if self.c_invite is not None else None

    @c_final.setter
    def c_final(self, msg):
        self.c_finals[self.c_invite.branch()] = msg
        self.c_final_at[self.c_invite.branch()] = (time.time(), 0)

    # --- the dialer's side -------------------------------------------------

    def d_via(self):
        branch = new_branch()
        return f"SIP/2.0/UDP 127.0.0.1:{self.dport};branch={branch};rport", branch

    def d_make_invite(self, rng):
        via, branch = self.d_via()
        extra = []
        if rng.random() < 0.3:
            extra.append(["P-Asserted-Identity", f"<sip:+{self.caller}@127.0.0.1>"])
        if rng.random() < 0.2:
            extra.append(["Supported", "100rel, timer"])
        self.d_invite = sf.request("INVITE", f"sip:{self.callee}@127.0.0.1:{self.net.daemon[1]}", via, self.d_from,
                                   self.d_to, self.d_cid, self.d_cseq,
                                   contact=f"<sip:{self.caller}@127.0.0.1:{self.dport}>",
                                   extra=extra, body=sf.sdp(self.mark, 40000 + self.n % 20000))
        self.d_sent[branch] = "INVITE"
        self.net.register(self, "dialer", "branch", branch)
        return self.d_invite

    def d_dialog(self):
        """(Call-ID, From, To, request-URI) of the dialer's dialog: from the 2xx as received."""
        src = self.d_ok or self.d_resp
        if src is not None:
            uri = sf.uri_of(src.get("Contact")) or f"sip:{self.callee}@127.0.0.1:{self.net.daemon[1]}"
            return src.call_id(), src.get("From"), src.get("To"), uri
        return self.d_cid, self.d_from, self.d_to, f"sip:{self.callee}@127.0.0.1:{self.net.daemon[1]}"

    def d_request(self, method, body=b"", cseq=None):
        cid, frm, to, uri = self.d_dialog()
        if cseq is None:
            self.d_cseq += 1
            cseq = self.d_cseq
        via, branch = self.d_via()
        contact = f"<sip:{self.caller}@127.0.0.1:{self.dport}>" if method in ("INVITE", "UPDATE") else None
        m = sf.request(method, uri, via, frm, to, cid, cseq, contact=contact, body=body)
        self.d_sent[branch] = method
        self.net.register(self, "dialer", "branch", branch)
        return m

    def d_ack_for(self, resp):
        """The ACK for a final to an INVITE: hop by hop (its branch) for an
        error, a new transaction in the dialog for a 2xx."""
        num = resp.cseq()[0] or self.d_cseq
        if resp.status >= 300:
            via = resp.get("Via") or self.d_via()[0]
            return sf.request("ACK", self.d_invite.ruri, via, resp.get("From"), resp.get("To"), resp.call_id(), num)
        uri = sf.uri_of(resp.get("Contact")) or self.d_invite.ruri
        return sf.request("ACK", uri, self.d_via()[0], resp.get("From"), resp.get("To"), resp.call_id(), num)

    def d_cancel(self):
        """A CANCEL matching the INVITE as the relay read it (from its last response)."""
        src = self.d_resp or self.d_invite
        num = src.cseq()[0] or self.d_invite.cseq()[0]
        to = src.get("To") or self.d_to
        tag = sf.param(to, "tag")
        to = to.replace(f";tag={tag}", "") if tag else to
        return sf.request("CANCEL", self.d_invite.ruri, src.get("Via") or self.d_invite.get("Via"), src.get("From"),
                          to, src.call_id(), num)

    # --- the carrier's side ------------------------------------------------

    def c_contact(self):
        return f"<sip:{self.callee}@127.0.0.1:{self.cport}>"

    def c_reply(self, code, body=b"", extra=(), tag=None, req=None):
        req = req or self.c_invite
        ok = code < 300 and req.method in ("INVITE", "UPDATE")
        return sf.response(req, code, to_tag=tag or self.c_tag, contact=self.c_contact() if ok else None,
                           extra=extra, body=body)

    def c_request(self, method, body=b""):
        """An in-dialog request from the carrier, from the INVITE it got."""
        inv = self.c_invite
        self.c_cseq += 1
        branch = new_branch()
        to = inv.get("From")
        frm = sf.with_tag(inv.get("To"), self.c_tag)
        if self.c_ack is not None:  # the ACK carries the tags the relay settled on
            to, frm = self.c_ack.get("From"), self.c_ack.get("To")
        uri = sf.uri_of(inv.get("Contact")) or f"sip:127.0.0.1:{self.net.daemon[1]}"
        contact = self.c_contact() if method in ("INVITE", "UPDATE") else None
        m = sf.request(method, uri, f"SIP/2.0/UDP 127.0.0.1:{self.cport};branch={branch};rport", frm, to,
                       inv.call_id(), self.c_cseq, contact=contact, body=body)
        self.c_sent[branch] = method
        self.net.register(self, "carrier", "branch", branch)
        return m

    def c_ack_for(self, resp):
        return sf.request("ACK", sf.uri_of(resp.get("Contact")) or self.c_invite.ruri,
                          f"SIP/2.0/UDP 127.0.0.1:{self.cport};branch={new_branch()};rport",
                          resp.get("From"), resp.get("To"), resp.call_id(), resp.cseq()[0] or self.c_cseq)

    # --- what arrives --------------------------------------------------------

    def observe(self, side, msg, addr):
        """Keeps each peer's view of the call current, whoever handles the message."""
        num, method = msg.cseq()
        if side == "dialer" and not msg.is_request:
            if method == "INVITE" and self.d_invite is not None and (
                    msg.branch() == self.d_invite.branch() or num == self.d_invite.cseq()[0]):
                self.d_resp = msg
                if msg.status >= 200 and self.d_final is None:
                    self.d_final = msg.status
                if 200 <= msg.status < 300 and self.d_ok is None:
                    self.d_ok = msg
            elif method == "BYE" and msg.status >= 200:
                self.d_bye = "done" if msg.status < 300 else self.d_bye
        elif side == "dialer" and msg.method == "BYE":
            self.d_bye = "done"
        elif side == "carrier" and msg.is_request:
            if msg.method == "INVITE" and msg.tag("To") is None:
                self.c_pending.setdefault(msg.branch(), (msg, addr))
                final = self.c_final
                if self.c_invite is None or (msg.branch() not in self.c_finals and final is not None
                                             and final.status >= 300):
                    # The first INVITE, or the relay's next one (with credentials).
                    self.c_invite, self.c_addr = msg, addr
                    self.net.register(self, "carrier", "cid", msg.call_id())
            elif msg.method == "CANCEL":
                self.c_cancelled.add(msg.branch())
            elif msg.method == "ACK":
                if msg.branch() in self.c_pending:  # the ACK of an error final
                    self.c_acked.add(msg.branch())
                elif msg.tag("To") is not None:  # the ACK of a 2xx
                    self.c_acked.update(b for b, f in self.c_finals.items() if f.status < 300)
                    self.c_ack = self.c_ack or msg
            elif msg.method == "BYE":
                self.c_bye = "done"
        elif side == "carrier" and method == "BYE" and msg.status >= 200:
            self.c_bye = "done" if msg.status < 300 else self.c_bye

    def c_answer_pending(self, branch):
        """The final for an initial INVITE the carrier has not answered: 487 once cancelled."""
        req, addr = self.c_pending[branch]
        final = self.c_reply(487 if branch in self.c_cancelled else 486, req=req)
        self.c_finals[branch] = final
        self.c_final_at[branch] = (time.time(), 0)
        self.net.send("carrier", final.encode(), addr)

    def auto(self, side, msg, addr):
        """The peer's own answer to what arrives (no mutation)."""
        net = self.net
        if msg.is_request:
            if msg.method == "ACK":
                return
            b = msg.branch()
            if side == "carrier" and msg.method == "INVITE" and msg.tag("To") is not None and self.c_hold:
                return
            if side == "carrier" and msg.method == "INVITE" and msg.tag("To") is None:
                if b in self.c_finals:
                    net.send(side, self.c_finals[b].encode(), addr)
                elif (self.settling and not self.c_hold) or b in self.c_cancelled:
                    self.c_answer_pending(b)
                return
            if side == "carrier" and msg.method == "CANCEL" and b in self.c_pending:
                net.send(side, sf.response(msg, 200, to_tag=self.c_tag).encode(), addr)
                if b not in self.c_finals:
                    self.c_answer_pending(b)
                return
            tag = self.d_tag if side == "dialer" else self.c_tag
            body = sf.sdp(self.mark + "-re", 41000) if msg.method == "INVITE" else b""
            contact = (f"<sip:{self.caller}@127.0.0.1:{self.dport}>" if side == "dialer" else self.c_contact()) \
                if msg.method in ("INVITE", "UPDATE") else None
            net.send(side, sf.response(msg, 200, to_tag=tag, contact=contact, body=body).encode(), addr)
            return
        num, method = msg.cseq()
        if method == "INVITE" and msg.status >= 200:
            if side == "dialer" and self.d_invite is not None:
                if msg.status < 300 or self.d_sent.get(msg.branch()) == "INVITE":
                    net.send(side, self.d_ack_for(msg).encode())
            elif side == "carrier" and msg.status < 300 and self.c_invite is not None:
                net.send(side, self.c_ack_for(msg).encode())

    def drain_inbox(self):
        pending, self.inbox = self.inbox, []
        for side, msg, addr in pending:
            self.auto(side, msg, addr)

    def settle(self):
        if not self.settling:
            self.settling = True
            self.settle_at = time.time()
            self.net.ending.append(self)
            self.drain_inbox()

    def tick(self):
        """Ending the call: what each peer does when nothing arrives."""
        now = time.time()
        net = self.net
        if self.d_ok is not None and self.d_bye != "done":
            if self.d_bye_tries < 3 and now - self.d_bye_at > 1.0:
                self.d_bye_tries += 1
                self.d_bye_at = now
                self.d_bye = "sent"
                net.send("dialer", self.d_request("BYE").encode())
        elif self.d_invite is not None and self.d_final is None and self.d_cancel_tries < 2 \
                and now - self.d_cancel_at > 1.0:
            self.d_cancel_tries += 1
            self.d_cancel_at = now
            net.send("dialer", self.d_cancel().encode())
        if not self.c_hold and now - self.settle_at > 0.3:
            for b in self.c_pending:
                if b not in self.c_finals:
                    self.c_answer_pending(b)
        for b, final in self.c_finals.items():  # a final is repeated until ACKed (timer G)
            at, count = self.c_final_at.get(b, (0, 0))
            if b not in self.c_acked and b in self.c_pending and count < 6 and now - at > 0.5 * 2 ** count:
                self.c_final_at[b] = (now, count + 1)
                net.send("carrier", final.encode(), self.c_pending[b][1])
        if self.carrier_up() and self.c_bye != "done" and now - self.settle_at > 1.5 and \
                (self.d_ok is None or self.d_bye_tries >= 2) and self.c_bye_tries < 3 and now - self.c_bye_at > 1.0:
            self.c_bye_tries += 1
            self.c_bye_at = now
            net.send("carrier", self.c_request("BYE").encode(), self.c_addr)

    def carrier_up(self):
        return any(f.status < 300 for f in self.c_finals.values())

    def finished(self):
        dialer_done = self.d_invite is None or self.d_bye == "done" or (self.d_final or 0) >= 300 or (
            self.d_final is None and self.d_resp is None and time.time() - self.settle_at > 0.6)
        carrier_done = all(b in self.c_finals and (b in self.c_acked or self.c_final_at.get(b, (0, 0))[1] >= 6)
                           for b in self.c_pending) and (
            not self.carrier_up() or self.c_bye == "done" or self.d_bye == "done")
        return dialer_done and carrier_done


class Fuzz:
    """One iteration's choices: how often and how its messages are mutated."""

    def __init__(self, net, rng, env):
        self.net, self.rng, self.env = net, rng, env
        self.rate = rng.choice([0.0, 0.1, 0.2, 0.35, 0.6])
        self.held = []    # reordered: sent after the next message
        self.later = []   # duplicated late: sent once the flow is over
        self.events = []
        self.problems = []  # what the relay did wrong, seen by a flow

    def send(self, side, msg, what, dest=None, clean=False):
        """Sends msg from `side`, mutated at this iteration's rate."""
        rng = self.rng
        data, ops = msg.encode(), []
        if not clean and rng.random() < self.rate:
            op = rng.choices(["mutate", "drop", "dup", "hold", "later"], [10, 2, 2, 1, 1])[0]
            if op == "mutate":
                data, ops = sf.mutate(rng, msg, self.env, rng.choice([1, 1, 1, 2, 3]))
                if "ack-dns" in ARGS.without and not sf.hosts_are_literal(data):
                    data, ops = msg.encode(), ["(undone: a host to look up)"]
                if "dup-max-forwards" in ARGS.without and sf.repeats_single_number(data):
                    data, ops = msg.encode(), ["(undone: a single header twice)"]
                if "folded-uri" in ARGS.without and sf.uri_is_folded(data):
                    data, ops = msg.encode(), ["(undone: a folded URI)"]
            else:
                ops = [op]
        self.events.append(f"{side} {what}: {','.join(ops) or 'clean'}")
        held, self.held = self.held, []
        if ops == ["drop"]:
            pass
        elif ops == ["hold"]:
            self.held.append((side, data, dest))
        else:
            self.net.send(side, data, dest)
            if ops == ["dup"]:
                self.net.send(side, data, dest)
            if ops == ["later"]:
                self.later.append((side, data, dest))
        for item in held:
            self.net.send(*item)
        return data

    def flush(self):
        for item in self.held + self.later:
            self.net.send(*item)
        self.held, self.later = [], []

    def expect(self, call, side, pred, timeout=STEP, lossy=False):
        """The first message for `call` at `side` that satisfies pred, within
        timeout; lossy: sometimes ignore it, as if lost, and wait for the
        relay's retransmission."""
        deadline = time.time() + timeout
        skipped = False
        while True:
            found = next((i for i, (s, m, _) in enumerate(call.inbox) if s == side and pred(m)), None)
            if found is not None:
                _, m, a = call.inbox.pop(found)
                if lossy and not skipped and self.rng.random() < 0.05:
                    skipped = True
                    deadline = time.time() + 1.2
                    self.events.append(f"{side} ignores {m.first[:40]}")
                    continue
                return m, a
            left = deadline - time.time()
            if left <= 0:
                return None, None
            self.net.pump(min(left, 0.05))


def is_req(method):
    return lambda m: m.is_request and m.method == method


def is_resp(method, final=False):
    return lambda m: not m.is_request and m.cseq()[1] == method and (not final or m.status >= 200)


# --- the flows ---------------------------------------------------------------
#
# Each flow drives one call with fz (sends are mutated at fz.rate) and may
# stop at any step that does not arrive; the call then settles.


def start_call(fz, c, provisional=None):
    """INVITE from the dialer to the INVITE at the carrier; None when it never arrives."""
    rng = fz.rng
    inv = c.d_make_invite(rng)
    fz.send("dialer", inv, "INVITE")
    if rng.random() < 0.1:  # the dialer's own retransmission
        fz.net.pump(0.05)
        fz.send("dialer", inv, "INVITE again")
    maybe_inject(fz, c)
    got, _ = fz.expect(c, "carrier", is_req("INVITE"), lossy=True)
    if got is None or c.c_invite is None:
        return None
    codes = provisional
    if codes is None:
        codes = rng.choice([[100], [100, 180], [180], [100, 183], [183, 180], []])
    for code in codes:
        body = sf.sdp(c.mark + "-early", 42000) if code == 183 and rng.random() < 0.7 else b""
        extra = [["Require", "100rel"], ["RSeq", str(rng.randint(1, 9))]] if code == 183 and rng.random() < 0.2 else []
        fz.send("carrier", c.c_reply(code, body=body, extra=extra), str(code), c.c_addr)
    return got


def answer(fz, c, ack=True):
    """The carrier answers 200 and the dialer ACKs it; True when the call is up."""
    rng = fz.rng
    ok = c.c_reply(200, body=sf.sdp(c.mark + "-answer", 43000))
    c.c_final = ok
    fz.send("carrier", ok, "200 INVITE", c.c_addr)
    final, _ = fz.expect(c, "dialer", is_resp("INVITE", final=True), lossy=True)
    if final is None:
        return False
    if final.status >= 300:
        fz.send("dialer", c.d_ack_for(final), "ACK error", clean=True)
        return False
    if not ack:
        return True
    send_ack(fz, c, final)
    got, _ = fz.expect(c, "carrier", is_req("ACK"))
    if got is not None and rng.random() < 0.15:  # the carrier repeats its 2xx anyway
        fz.send("carrier", ok, "200 INVITE after ACK", c.c_addr)
        again, _ = fz.expect(c, "dialer", is_resp("INVITE", final=True))
        if again is not None:
            fz.send("dialer", c.d_ack_for(again), "ACK again")
    return True


def send_ack(fz, c, final):
    ack = c.d_ack_for(final)
    if fz.rng.random() < 0.2:
        ack.body = sf.sdp(c.mark + "-ack", 44000)
        ack.set("Content-Type", "application/sdp").set("Content-Length", str(len(ack.body)))
    fz.send("dialer", ack, "ACK")


def hang_up(fz, c, from_dialer):
    if from_dialer:
        c.d_bye = "sent"
        fz.send("dialer", c.d_request("BYE"), "BYE")
        got, addr = fz.expect(c, "carrier", is_req("BYE"), lossy=True)
        if got is not None:
            fz.send("carrier", sf.response(got, 200, to_tag=c.c_tag), "200 BYE", addr)
            fz.expect(c, "dialer", is_resp("BYE", final=True))
    else:
        fz.send("carrier", c.c_request("BYE"), "carrier BYE", c.c_addr)
        got, addr = fz.expect(c, "dialer", is_req("BYE"), lossy=True)
        if got is not None:
            fz.send("dialer", sf.response(got, 200, to_tag=c.d_tag), "200 BYE", addr)
            fz.expect(c, "carrier", is_resp("BYE", final=True))


def pick_code(rng, method):
    if rng.random() < 0.7:
        return 200
    return rng.choice([200, 488, 491, 500, 481, 403] if method == "INVITE" else [200, 481, 500, 405, 415])


def in_dialog(fz, c, method, from_dialer, body=b""):
    """One request across the relay and its answer back; the final or None."""
    rng = fz.rng
    if from_dialer:
        fz.send("dialer", c.d_request(method, body=body), method)
        got, addr = fz.expect(c, "carrier", is_req(method))
        if got is None:
            return None
        code = pick_code(rng, method)
        rbody = sf.sdp(c.mark + "-re-answer", 45000) if method == "INVITE" and code == 200 else b""
        fz.send("carrier", c.c_reply(code, body=rbody, req=got), f"{code} {method}", addr)
        final, _ = fz.expect(c, "dialer", is_resp(method, final=True))
        if final is not None and method == "INVITE":
            fz.send("dialer", c.d_ack_for(final), "ACK re-INVITE")
            if final.status < 300:
                fz.expect(c, "carrier", is_req("ACK"))
        return final
    fz.send("carrier", c.c_request(method, body=body), "carrier " + method, c.c_addr)
    got, addr = fz.expect(c, "dialer", is_req(method))
    if got is None:
        return None
    code = pick_code(rng, method)
    rbody = sf.sdp(c.mark + "-re-answer", 46000) if method == "INVITE" and code == 200 else b""
    contact = f"<sip:{c.caller}@127.0.0.1:{c.dport}>" if method in ("INVITE", "UPDATE") else None
    fz.send("dialer", sf.response(got, code, to_tag=c.d_tag, contact=contact, body=rbody), f"{code} {method}", addr)
    final, _ = fz.expect(c, "carrier", is_resp(method, final=True))
    if final is not None and method == "INVITE" and final.status < 300:
        fz.send("carrier", c.c_ack_for(final), "carrier ACK re-INVITE", c.c_addr)
        fz.expect(c, "dialer", is_req("ACK"))
    return final


def flow_answer(fz, c):
    if start_call(fz, c) and answer(fz, c):
        maybe_inject(fz, c)
        hang_up(fz, c, from_dialer=fz.rng.random() < 0.5)


def flow_reinvite(fz, c):
    if start_call(fz, c) and answer(fz, c):
        for _ in range(fz.rng.randint(1, 2)):
            in_dialog(fz, c, "INVITE", fz.rng.random() < 0.5, body=sf.sdp(c.mark + "-hold", 47000, 2))
            maybe_inject(fz, c)
        hang_up(fz, c, from_dialer=fz.rng.random() < 0.5)


def flow_in_dialog(fz, c):
    if start_call(fz, c) and answer(fz, c):
        for _ in range(fz.rng.randint(1, 3)):
            method = fz.rng.choice(["UPDATE", "INFO", "INFO", "OPTIONS", "MESSAGE", "NOTIFY", "REFER", "PRACK"])
            body = sf.sdp(c.mark + "-upd", 48000, 3) if method == "UPDATE" else b""
            in_dialog(fz, c, method, fz.rng.random() < 0.5, body=body)
            maybe_inject(fz, c)
        hang_up(fz, c, from_dialer=fz.rng.random() < 0.5)


def flow_early(fz, c):
    """Requests inside the early dialog (after a 183, before the answer),
    re-INVITE and BYE among them."""
    rng = fz.rng
    if start_call(fz, c, provisional=[]) is None:
        return
    fz.send("carrier", c.c_reply(183, body=sf.sdp(c.mark + "-early", 42000),
                                 extra=[["Require", "100rel"], ["RSeq", "1"]]), "183 100rel", c.c_addr)
    early, _ = fz.expect(c, "dialer", lambda m: not m.is_request and m.status in (180, 183))
    for _ in range(rng.randint(1, 2)):
        method = rng.choice(["PRACK", "UPDATE", "INFO", "INVITE", "OPTIONS"])
        if method == "INVITE" and "early-reinvite" in ARGS.without:
            method = "UPDATE"
        body = sf.sdp(c.mark + "-early-offer", 42002, 2) if method in ("INVITE", "UPDATE") else b""
        in_dialog(fz, c, method, early is not None and rng.random() < 0.7, body=body)
    if rng.random() < 0.3:  # a BYE before the answer, from either side
        if rng.random() < 0.5:
            fz.send("dialer", c.d_request("BYE"), "early BYE")
        else:
            fz.send("carrier", c.c_request("BYE"), "carrier early BYE", c.c_addr)
        fz.net.pump(0.1)
    if answer(fz, c):
        hang_up(fz, c, from_dialer=rng.random() < 0.5)


def flow_second_invite(fz, c):
    """The dialer sends its INVITE again with a new branch while it rings
    (sofia matches it to the call's dialog); the carrier answers either."""
    rng = fz.rng
    if start_call(fz, c, provisional=[180]) is None:
        return
    first_invite = c.c_invite
    again = c.d_invite.copy()
    again.set("Via", c.d_via()[0])
    if rng.random() < 0.6:
        c.d_cseq += 1
        again.set("CSeq", f"{c.d_cseq} INVITE")
    fz.send("dialer", again, "INVITE, new branch")
    second, addr = fz.expect(c, "carrier", lambda m: m.is_request and m.method == "INVITE" and
                             m.branch() != first_invite.branch())
    order = rng.choice(["second-first", "first-second", "first-only"])
    if second is not None and order != "first-only":
        code = rng.choice([200, 200, 486, 491])
        c.c_finals[second.branch()] = c.c_reply(code, body=sf.sdp(c.mark + "-2", 43002) if code == 200 else b"",
                                                req=second)
        if order == "second-first":
            fz.send("carrier", c.c_finals[second.branch()], f"{code} second INVITE", addr)
            resp, _ = fz.expect(c, "dialer", is_resp("INVITE", final=True))
            if resp is not None:
                fz.send("dialer", c.d_ack_for(resp), f"ACK {resp.status}")
                fz.net.pump(0.1)
    if answer(fz, c):
        if second is not None and order == "first-second":
            fz.send("carrier", c.c_finals[second.branch()], "final for the second INVITE", addr)
            resp, _ = fz.expect(c, "dialer", is_resp("INVITE", final=True))
            if resp is not None:
                fz.send("dialer", c.d_ack_for(resp), f"ACK {resp.status}")
        fz.net.pump(0.1)
        hang_up(fz, c, from_dialer=rng.random() < 0.5)


def flow_unacked(fz, c):
    """Things that happen between the 2xx and its ACK: a CANCEL, a
    re-INVITE or UPDATE from either side, a BYE, or no ACK for a while."""
    rng = fz.rng
    if not (start_call(fz, c) and answer(fz, c, ack=False)):
        return
    what = rng.choice(["cancel", "reinvite", "carrier-reinvite", "update", "bye", "carrier-bye", "late-ack"])
    fz.events.append("before the ACK: " + what)
    if what == "cancel":
        fz.send("dialer", c.d_cancel(), "CANCEL after 200")
        fz.expect(c, "dialer", is_resp("CANCEL", final=True))
    elif what in ("reinvite", "carrier-reinvite", "update"):
        method = "UPDATE" if what == "update" else "INVITE"
        in_dialog(fz, c, method, what != "carrier-reinvite", body=sf.sdp(c.mark + "-u", 47004, 2))
    elif what == "bye":
        hang_up(fz, c, from_dialer=True)
    elif what == "carrier-bye":
        hang_up(fz, c, from_dialer=False)
    else:
        fz.net.pump(0.6)  # the relay retransmits its 2xx meanwhile
    if c.d_ok is not None:
        send_ack(fz, c, c.d_ok)
        fz.expect(c, "carrier", is_req("ACK"))
    if c.d_bye != "done" and c.c_bye != "done":
        hang_up(fz, c, from_dialer=rng.random() < 0.5)


def flow_crossing(fz, c):
    """Requests that cross: BYE from both sides at once, or two re-INVITEs
    from one side answered out of order, or a BYE while a re-INVITE is pending."""
    rng = fz.rng
    if not (start_call(fz, c) and answer(fz, c)):
        return
    what = rng.choice(["bye-bye", "two-reinvites", "bye-during-reinvite"])
    fz.events.append("crossing: " + what)
    if what == "bye-bye":
        reqs = [("dialer", c.d_request("BYE"), None), ("carrier", c.c_request("BYE"), c.c_addr)]
        rng.shuffle(reqs)
        for side, m, dest in reqs:
            fz.send(side, m, f"{side} BYE", dest)
        for side in ("carrier", "dialer"):
            got, addr = fz.expect(c, side, is_req("BYE"))
            if got is not None:
                tag = c.c_tag if side == "carrier" else c.d_tag
                fz.send(side, sf.response(got, rng.choice([200, 481]), to_tag=tag), "answer crossing BYE", addr)
        return
    from_dialer = rng.random() < 0.5
    side, other = ("dialer", "carrier") if from_dialer else ("carrier", "dialer")
    first = c.d_request("INVITE", body=sf.sdp(c.mark + "-x1", 47010, 2)) if from_dialer else \
        c.c_request("INVITE", body=sf.sdp(c.mark + "-x1", 47010, 2))
    fz.send(side, first, f"{side} re-INVITE", None if from_dialer else c.c_addr)
    got1, addr1 = fz.expect(c, other, is_req("INVITE"))
    if what == "bye-during-reinvite":
        hang_up(fz, c, from_dialer=rng.random() < 0.5)
        if got1 is not None:
            fz.send(other, sf.response(got1, 200, to_tag=c.c_tag if other == "carrier" else c.d_tag,
                                       body=sf.sdp(c.mark, 47012)), "late 200 re-INVITE", addr1)
        return
    second = c.d_request("INVITE", body=sf.sdp(c.mark + "-x2", 47014, 3)) if from_dialer else \
        c.c_request("INVITE", body=sf.sdp(c.mark + "-x2", 47014, 3))
    fz.send(side, second, f"{side} second re-INVITE", None if from_dialer else c.c_addr)
    got2, addr2 = fz.expect(c, other, is_req("INVITE"))
    tag = c.c_tag if other == "carrier" else c.d_tag
    answers = [(got1, addr1), (got2, addr2)]
    rng.shuffle(answers)
    for got, addr in answers:
        if got is not None:
            code = rng.choice([200, 200, 491, 500])
            fz.send(other, sf.response(got, code, to_tag=tag, body=sf.sdp(c.mark, 47016) if code == 200 else b"",
                                       contact=f"<sip:x@127.0.0.1:{c.cport if other == 'carrier' else c.dport}>"),
                    f"{code} re-INVITE", addr)
    for _ in range(2):
        resp, _ = fz.expect(c, side, is_resp("INVITE", final=True))
        if resp is not None and resp.status < 300:
            ack = c.d_ack_for(resp) if from_dialer else c.c_ack_for(resp)
            fz.send(side, ack, "ACK re-INVITE", None if from_dialer else c.c_addr)
    fz.net.pump(0.1)
    hang_up(fz, c, from_dialer=rng.random() < 0.5)


def flow_cancel(fz, c):
    """CANCEL before the answer; the carrier says 487 (sometimes 200 after it)."""
    rng = fz.rng
    if start_call(fz, c) is None:
        return
    fz.send("dialer", c.d_cancel(), "CANCEL")
    got, addr = fz.expect(c, "carrier", is_req("CANCEL"), lossy=True)
    if got is None:
        return
    fz.send("carrier", sf.response(got, 200, to_tag=c.c_tag), "200 CANCEL", addr)
    if rng.random() < 0.2 and "cancel-challenge" not in ARGS.without:
        # A challenge instead of 487: nothing may be sent to the trunk again.
        cancel_then_challenge(fz, c, rng.choice([401, 407]))
        return
    c.c_final = c.c_reply(487)
    fz.send("carrier", c.c_final, "487", c.c_addr)
    if rng.random() < 0.3:  # late 2xx after the 487, another fork's tag
        fz.send("carrier", c.c_reply(200, body=sf.sdp(c.mark, 43000), tag="late" + c.c_tag), "late 200", c.c_addr)
        fz.expect(c, "carrier", lambda m: m.is_request and m.method in ("ACK", "BYE"))
    final, _ = fz.expect(c, "dialer", is_resp("INVITE", final=True))
    if final is not None:
        fz.send("dialer", c.d_ack_for(final), "ACK 487")


def flow_cancel_race(fz, c):
    """The dialer's CANCEL and the carrier's 200 cross: the relay must ACK and
    hang up the trunk leg and tell the dialer 487, or pass the 200 on."""
    rng = fz.rng
    if start_call(fz, c) is None:
        return
    ok = c.c_reply(200, body=sf.sdp(c.mark, 43000))
    c.c_final = ok
    first = [("dialer", c.d_cancel(), "CANCEL", None), ("carrier", ok, "200 INVITE", c.c_addr)]
    rng.shuffle(first)
    for side, msg, what, dest in first:
        fz.send(side, msg, what, dest)
    got, addr = fz.expect(c, "carrier", is_req("CANCEL"))
    if got is not None:
        fz.send("carrier", sf.response(got, 200, to_tag=c.c_tag), "200 CANCEL", addr)
    final, _ = fz.expect(c, "dialer", is_resp("INVITE", final=True))
    if final is not None:
        fz.send("dialer", c.d_ack_for(final), f"ACK {final.status}")
    got, addr = fz.expect(c, "carrier", is_req("BYE"))
    if got is not None:
        fz.send("carrier", sf.response(got, 200, to_tag=c.c_tag), "200 BYE", addr)


def cancel_then_challenge(fz, c, code):
    name = "WWW-Authenticate" if code == 401 else "Proxy-Authenticate"
    c.c_final = c.c_reply(code, extra=[[name, 'Digest realm="trunk", nonce="%s"' % os.urandom(5).hex()]])
    fz.send("carrier", c.c_final, f"{code} after CANCEL", c.c_addr, clean=True)
    first = c.c_invite.branch()
    again, _ = fz.expect(c, "carrier", lambda m: m.is_request and m.method == "INVITE" and m.branch() != first,
                         timeout=1.0)
    if again is not None:
        fz.problems.append("the dialer had cancelled, yet a challenge for the cancelled INVITE sent a new "
                           "INVITE to the trunk:\n" + again.encode().decode("latin-1")[:600])


REJECTS = [404, 480, 486, 500, 503, 600, 603, 603, 603, 604, 606, 608, 408, 488]


def flow_reject(fz, c):
    """A 4xx/5xx/6xx final, a 603 often with a Reason and Retry-After."""
    rng = fz.rng
    if start_call(fz, c) is None:
        return
    code = rng.choice(REJECTS)
    extra = []
    if code == 603 and rng.random() < 0.6:
        extra.append(["Reason", rng.choice(["SIP;cause=603;text=\"Network Blocked\"",
                                            "Q.850;cause=21;text=\"Call Rejected\"",
                                            "SIP;cause=603;text=\"Spam \xff\xfe\""])])
    if rng.random() < 0.3:
        extra.append(["Retry-After", str(rng.randint(0, 3600))])
    if rng.random() < 0.2:
        extra.append(["Warning", "399 carrier \"policy\""])
    reject, addr = c.c_reply(code, extra=extra), c.c_addr
    c.c_final = reject
    fz.send("carrier", reject, str(code), addr)
    final, _ = fz.expect(c, "dialer", is_resp("INVITE", final=True), lossy=True)
    if final is not None:
        fz.send("dialer", c.d_ack_for(final), f"ACK {final.status}")
    if rng.random() < 0.2:  # the final again, after the relay's ACK
        fz.send("carrier", reject, f"{code} again", addr)


def flow_auth(fz, c):
    """A digest challenge from the trunk: the relay retries with credentials."""
    rng = fz.rng
    if start_call(fz, c) is None:
        return
    code = rng.choice([401, 407])
    name = "WWW-Authenticate" if code == 401 else "Proxy-Authenticate"
    chal = rng.choice(['Digest realm="trunk", nonce="%s", algorithm=MD5, qop="auth"' % sf.new_id(rng),
                       'Digest realm="trunk", nonce="%s"' % sf.new_id(rng),
                       'Digest realm="trunk", nonce="n", algorithm=SHA-256, qop="auth-int"',
                       'Basic realm="x"', 'Digest realm=""', 'Digest nonce="' + "n" * 3000 + '"'])
    challenge = c.c_reply(code, extra=[[name, chal]])
    c.c_final = challenge
    fz.send("carrier", challenge, str(code), c.c_addr)
    if rng.random() < 0.2:  # a second challenge for the retry
        first = c.c_invite.branch()
        got, addr = fz.expect(c, "carrier", lambda m: m.is_request and m.method == "INVITE" and m.branch() != first)
        if got is not None:
            c.c_invite, c.c_addr = got, addr
            challenge = c.c_reply(code, extra=[[name, chal]])
            c.c_final = challenge
            fz.send("carrier", challenge, f"{code} again", addr)
    again, addr = fz.expect(c, "carrier", lambda m: m.is_request and m.method == "INVITE" and
                            (m.get("Authorization") or m.get("Proxy-Authorization")))
    if again is None:
        final, _ = fz.expect(c, "dialer", is_resp("INVITE", final=True))
        if final is not None:
            fz.send("dialer", c.d_ack_for(final), f"ACK {final.status}")
        return
    c.c_invite, c.c_addr = again, addr
    if rng.random() < 0.3:
        refusal = c.c_reply(403)
        c.c_final = refusal
        fz.send("carrier", refusal, "403", addr)
        final, _ = fz.expect(c, "dialer", is_resp("INVITE", final=True))
        if final is not None:
            fz.send("dialer", c.d_ack_for(final), "ACK 403")
    elif answer(fz, c):
        hang_up(fz, c, from_dialer=True)


def flow_glare(fz, c):
    """Both sides send a re-INVITE at once."""
    rng = fz.rng
    if not (start_call(fz, c) and answer(fz, c)):
        return
    dreq = c.d_request("INVITE", body=sf.sdp(c.mark + "-g1", 47000, 2))
    creq = c.c_request("INVITE", body=sf.sdp(c.mark + "-g2", 47002, 2))
    fz.send("dialer", dreq, "glare INVITE")
    fz.send("carrier", creq, "carrier glare INVITE", c.c_addr)
    finals = 0
    deadline = time.time() + 1.5
    while finals < 2 and time.time() < deadline:  # until both re-INVITEs have their answer
        k, got = first_of(fz, c, [("carrier", is_req("INVITE")), ("dialer", is_req("INVITE")),
                                  ("dialer", is_resp("INVITE", final=True)),
                                  ("carrier", is_resp("INVITE", final=True))], timeout=deadline - time.time())
        if k == 0:
            fz.send("carrier", c.c_reply(rng.choice([491, 200]), req=got), "glare answer", c.c_addr)
        elif k == 1:
            fz.send("dialer", sf.response(got, 491, to_tag=c.d_tag), "491")
        elif k == 2:
            finals += 1
            fz.send("dialer", c.d_ack_for(got), f"ACK {got.status}")
        elif k == 3:
            finals += 1
            if got.status < 300:
                fz.send("carrier", c.c_ack_for(got), "carrier ACK", c.c_addr)
    hang_up(fz, c, from_dialer=rng.random() < 0.5)


FLOWS = [flow_answer, flow_answer, flow_reinvite, flow_in_dialog, flow_early, flow_cancel, flow_cancel,
         flow_cancel_race, flow_reject, flow_reject, flow_auth, flow_glare, flow_second_invite,
         flow_unacked, flow_crossing]


# --- stray messages, injected between steps ------------------------------------


def maybe_inject(fz, c):
    if fz.rng.random() < fz.rate:
        inj = fz.rng.choice(INJECTIONS)
        fz.events.append("inject " + inj.__name__)
        inj(fz, c)


def inj_stray_ack(fz, c):
    ack = c.d_request("ACK", cseq=fz.rng.choice([c.d_cseq + 7, 0, c.d_invite.cseq()[0]]))
    if fz.rng.random() < 0.5:  # no To tag: sofia may match it to the dialog anyway
        ack.set("To", c.d_to)
    fz.send("dialer", ack, "stray ACK", clean=True)


def inj_wrong_cancel(fz, c):
    cancel = c.d_cancel()
    if fz.rng.random() < 0.5:
        cancel.set("CSeq", f"{(cancel.cseq()[0] or 1) + 1} CANCEL")
    else:
        cancel.set("Via", c.d_via()[0])
    fz.send("dialer", cancel, "wrong CANCEL", clean=True)


def inj_unsent_response(fz, c):
    """A response from the carrier to something the relay never sent."""
    rng = fz.rng
    base = c.c_invite or c.d_invite
    r = sf.response(base, rng.choice([180, 200, 404, 487, 603]), to_tag="stray")
    r.set("Via", f"SIP/2.0/UDP 127.0.0.1:{fz.net.daemon[1]};branch=z9hG4bK{sf.new_id(rng)};rport")
    if rng.random() < 0.5:
        r.set("Call-ID", sf.new_id(rng) + "@nowhere")
    fz.send("carrier", r, "unsent response", c.c_addr, clean=True)


def inj_method_mismatch(fz, c):
    """The carrier answers the INVITE's transaction with a CSeq of another method."""
    if c.c_invite is None:
        return
    r = c.c_reply(200)
    r.set("CSeq", f"{c.c_invite.cseq()[0]} {fz.rng.choice(['BYE', 'CANCEL', 'ACK', 'UPDATE'])}")
    fz.send("carrier", r, "CSeq method mismatch", c.c_addr, clean=True)


def inj_out_of_dialog(fz, c):
    rng = fz.rng
    side = rng.choice(["dialer", "carrier"])
    method = rng.choice(["BYE", "INVITE", "UPDATE", "NOTIFY", "CANCEL", "PRACK"])
    port = c.dport if side == "dialer" else c.cport
    m = sf.request(method, f"sip:15550001200@127.0.0.1:{fz.net.daemon[1]}",
                   f"SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{sf.new_id(rng)};rport",
                   f"<sip:1555{rng.randint(0, 9999999):07d}@127.0.0.1>;tag=ood", "<sip:15550001200@127.0.0.1>;tag=x",
                   sf.new_id(rng) + "@ood", 1, contact=f"<sip:127.0.0.1:{port}>")
    fz.send(side, m, f"out-of-dialog {method}", clean=True)


def inj_loop(fz, c):
    inv = c.d_invite.copy()
    inv.headers.insert(0, ["Via", f"SIP/2.0/UDP 127.0.0.1:{fz.net.daemon[1]};branch=z9hG4bKloop{sf.new_id(fz.rng)}"])
    inv.set("Call-ID", sf.new_id(fz.rng) + "@loop")
    fz.send("dialer", inv, "looped INVITE", clean=True)


def inj_dialer_response(fz, c):
    r = sf.response(c.d_invite, fz.rng.choice([200, 180, 486]), to_tag="d-stray")
    fz.send("dialer", r, "response from the dialer", clean=True)


def inj_options(fz, c):
    if c.d_ok is not None and fz.rng.random() < 0.5:
        fz.send("dialer", c.d_request("OPTIONS"), "in-dialog OPTIONS", clean=True)
    elif c.c_invite is not None:
        fz.send("carrier", c.c_request("OPTIONS"), "carrier OPTIONS", c.c_addr, clean=True)


def inj_second_invite(fz, c):
    """The same dialog's INVITE again with a new branch (a re-INVITE before the answer)."""
    if "early-reinvite" in ARGS.without:
        return
    inv = c.d_invite.copy()
    inv.set("Via", c.d_via()[0])
    inv.set("CSeq", f"{c.d_invite.cseq()[0] + 1} INVITE")
    fz.send("dialer", inv, "second INVITE", clean=True)


INJECTIONS = [inj_stray_ack, inj_wrong_cancel, inj_unsent_response, inj_method_mismatch, inj_out_of_dialog,
              inj_loop, inj_dialer_response, inj_options, inj_second_invite]


# --- the oracle ----------------------------------------------------------------


def control_call(net, d, n, why):
    """A clean call end to end: INVITE, 180, 200, ACK, BYE, each seen relayed."""
    rng = sf.rng_for("control", n)
    c = Call(net, 900000 + n, rng, f"1555{8000000 + n:07d}", f"1555{9000000 + n:07d}")
    net.current = c
    fz = Fuzz(net, rng, {})
    fz.rate = 0

    def step(side, pred, what):
        got, addr = fz.expect(c, side, pred, timeout=5)
        if got is None:
            die(d, f"control call after {why}: {what} never arrived", f"control {n}")
        return got, addr

    fz.send("dialer", c.d_make_invite(rng), "INVITE")
    inv, _ = step("carrier", is_req("INVITE"), "the INVITE at the carrier")
    h.check(f"s={c.mark}" in inv.body.decode("latin-1"), f"control call: SDP not passed on: {inv.body!r}")
    fz.send("carrier", c.c_reply(180), "180", c.c_addr)
    step("dialer", lambda m: not m.is_request and m.status == 180, "the 180 at the dialer")
    c.c_final = c.c_reply(200, body=sf.sdp(c.mark + "-answer", 43000))
    fz.send("carrier", c.c_final, "200", c.c_addr)
    ok, _ = step("dialer", is_resp("INVITE", final=True), "the 200 at the dialer")
    h.check(ok.status == 200, f"control call after {why}: the dialer got {ok.first}")
    fz.send("dialer", c.d_ack_for(ok), "ACK")
    step("carrier", is_req("ACK"), "the ACK at the carrier")
    fz.send("dialer", c.d_request("BYE"), "BYE")
    bye, addr = step("carrier", is_req("BYE"), "the BYE at the carrier")
    fz.send("carrier", sf.response(bye, 200, to_tag=c.c_tag), "200 BYE", addr)
    step("dialer", is_resp("BYE", final=True), "the BYE's 200 at the dialer")
    c.d_bye = c.c_bye = "done"
    net.current = None
    c.settle()


def sanitizer_lines(d):
    return [line for line in d.log().splitlines() if SANITIZER.search(line)]


def save_packets(path):
    """This iteration's traffic, for a reproducer: one JSON object a line."""
    start = NET.log[0][0] if NET.log else 0
    with open(path, "w") as f:
        for t, side, direction, data in NET.log:
            f.write(json.dumps({"t": round(t - start, 4), "side": side, "dir": direction,
                                "data": data.decode("latin-1")}) + "\n")


def die(d, what, iteration, events=()):
    log = d.log()
    lines = log.splitlines()
    first = next((i for i, line in enumerate(lines) if SANITIZER.search(line)), None)
    excerpt = "\n".join(lines[first:first + 60]) if first is not None else "\n".join(lines[-40:])
    packets = os.path.join(d.wd, "netfuzz-packets.jsonl")
    save_packets(packets)
    steps = "\n    ".join(events) if events else "(none)"
    rerun = f"--seed {ARGS.seed} --only {iteration}" if isinstance(iteration, int) else f"--seed {ARGS.seed}"
    if ARGS.repro or str(iteration).startswith("reproducer"):
        rerun = f"--repro {ARGS.repro or str(iteration).split()[-1]}"
    h.fail(f"{what}\n  seed {ARGS.seed}, iteration {iteration}: rerun with "
           f"`{os.path.basename(__file__)} {rerun}`\n"
           f"  steps of that iteration:\n    {steps}\n  packets: {packets}\n  daemon log {d.log_path}:\n{excerpt}")


def alive(d, iteration, events):
    if d.proc.poll() is not None:
        die(d, f"the daemon exited with {d.proc.returncode}", iteration, events)
    try:
        d.request("show info", timeout=5)
    except (OSError, ValueError) as e:
        die(d, f"the stats socket stopped answering ({e})", iteration, events)
    bad = sanitizer_lines(d)
    if bad:
        die(d, f"sanitizer report: {bad[0]}", iteration, events)


def run_iteration(net, env, i):
    rng = sf.rng_for(ARGS.seed, i)
    caller = f"1555{1230000 + rng.randrange(CALLERS):07d}"
    callee = f"1555{rng.randint(0, 9999999):07d}"
    c = Call(net, i, rng, caller, callee)
    fz = Fuzz(net, rng, env)
    flows = [f for f in FLOWS if not (f is flow_second_invite and "early-reinvite" in ARGS.without)]
    flow = rng.choice(flows)
    if ARGS.flow:
        flow = globals()[ARGS.flow]
    if ARGS.rate is not None:
        fz.rate = ARGS.rate
    fz.events.append(f"{flow.__name__} rate={fz.rate}")
    net.current, net.log = c, []
    started = time.time()
    try:
        flow(fz, c)
    except Exception:  # a bug of this script: still say which iteration
        die(NET_DAEMON, "the fuzzer itself failed:\n" + traceback.format_exc(), i, fz.events)
    fz.flush()
    net.current = None
    c.settle()
    deadline = time.time() + SETTLE
    while time.time() < deadline and not c.finished():
        net.pump(0.05)
    net.pump(0.02)
    if ARGS.trace:
        print(f"iteration {i} ({time.time() - started:.1f} s):\n  " + "\n  ".join(fz.events), file=sys.stderr)
    return fz.events, fz.problems


def drain(net, d, timeout):
    """Lets every call end and sofia's timers run; the last `show info`."""
    deadline = time.time() + timeout
    info = d.request("show info")
    while time.time() < deadline:
        net.pump(0.25)
        info = d.request("show info")
        if (info["calls_active"], info["calls_tracked"], info["sip_server_transactions"],
                info["sip_client_transactions"], info["sip_dialogs"]) == (0, 0, 0, 0, 0):
            break
    return info


def shutdown_with_calls(net, d):
    """SIGTERM with a call ringing, one answered and one in a re-INVITE the
    carrier has not answered: the relay finishes or hangs them up and exits 0."""
    rng = sf.rng_for(ARGS.seed, "shutdown")
    fz = Fuzz(net, rng, {})
    fz.rate = 0
    calls = [Call(net, 800000 + k, rng, f"1555{7000000 + k:07d}", f"1555{7100000 + k:07d}") for k in range(3)]
    ringing, answered, reinvite = calls
    try:
        for c in calls:
            net.current = c
            fz.send("dialer", c.d_make_invite(rng), "INVITE")
            need(fz, c, "carrier", is_req("INVITE"), "the INVITE at the carrier")
            fz.send("carrier", c.c_reply(180), "180", c.c_addr)
            need(fz, c, "dialer", lambda m: not m.is_request and m.status == 180, "the 180 at the dialer")
            if c is ringing:
                continue
            c.c_final = c.c_reply(200, body=sf.sdp(c.mark, 43000))
            fz.send("carrier", c.c_final, "200", c.c_addr)
            ok, _ = need(fz, c, "dialer", is_resp("INVITE", final=True), "the 200 at the dialer")
            fz.send("dialer", c.d_ack_for(ok), "ACK")
            need(fz, c, "carrier", is_req("ACK"), "the ACK at the carrier")
        net.current = reinvite
        fz.send("dialer", reinvite.d_request("INVITE", body=sf.sdp(reinvite.mark, 47020, 2)), "re-INVITE")
        need(fz, reinvite, "carrier", is_req("INVITE"), "the re-INVITE at the carrier")  # left unanswered
    except ReproStop as e:
        die(d, f"before SIGTERM, a clean call: {e}", "shutdown")
    net.current = None
    ringing.c_hold = reinvite.c_hold = True
    for c in calls:
        c.settle()
    d.proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 30
    answered_at = time.time() + 1.0  # the ringing call is answered while the relay drains
    while d.proc.poll() is None and time.time() < deadline:
        net.pump(0.05)
        if ringing.c_hold and time.time() > answered_at:
            ringing.c_hold = False
            ringing.c_final = ringing.c_reply(200, body=sf.sdp(ringing.mark, 43000))
            net.send("carrier", ringing.c_final.encode(), ringing.c_addr)
    if d.proc.poll() is None:
        die(d, "the daemon did not exit within 30 s of SIGTERM", "shutdown")
    return d.proc.returncode, [c.d_bye == "done" or c.c_bye == "done" for c in (answered, reinvite)]


# --- reproducers of bugs found --------------------------------------------------
#
# Each drives one fixed packet sequence (no mutation) and returns what the
# relay did wrong that it can see at once; leaks show in the drain after it.
# `--repro NAME` runs one and fails while the bug is there. Those not in
# KNOWN (fixed) run before every fuzz run.


def scripted(net, name, n):
    rng = sf.rng_for("repro-" + name, n)
    c = Call(net, 700000 + n, rng, f"1555{6000000 + n:07d}", f"1555{6100000 + n:07d}")
    fz = Fuzz(net, rng, {})
    fz.rate = 0
    net.current = c
    return c, fz


def need(fz, c, side, pred, what, timeout=5):
    got, addr = fz.expect(c, side, pred, timeout=timeout)
    if got is None:
        raise ReproStop(f"{what} never arrived")
    return got, addr


class ReproStop(Exception):
    pass


def first_of(fz, c, waits, timeout=5):
    """(index, message) of the first of several (side, pred) to arrive, or (None, None)."""
    deadline = time.time() + timeout
    while True:
        for k, (side, pred) in enumerate(waits):
            got, _ = fz.expect(c, side, pred, timeout=0)
            if got is not None:
                return k, got
        if time.time() > deadline:
            return None, None
        fz.net.pump(0.05)


def repro_early_reinvite(net, d):
    """INVITE; 180; the same INVITE again with a new branch and CSeq+1 (sofia
    matches it to the call's dialog). Either the relay refuses it (491), or
    relays it as a re-INVITE, the carrier answers it 200 and it is ACKed.
    Then the carrier answers the first INVITE 200, the dialer ACKs it and
    hangs up. Expected: the carrier gets every ACK and, after sofia's
    timers, no transaction is left."""
    c, fz = scripted(net, "early-reinvite", 1)
    problems = []
    fz.send("dialer", c.d_make_invite(fz.rng), "INVITE")
    inv, _ = need(fz, c, "carrier", is_req("INVITE"), "the INVITE at the carrier")
    fz.send("carrier", c.c_reply(180), "180", c.c_addr)
    need(fz, c, "dialer", lambda m: not m.is_request and m.status == 180, "the 180 at the dialer")
    again = c.d_invite.copy()
    again.set("Via", c.d_via()[0])
    again.set("CSeq", f"{c.d_cseq + 1} INVITE")
    c.d_cseq += 1
    fz.send("dialer", again, "the INVITE, new branch")
    k, got = first_of(fz, c, [("carrier", lambda m: m.is_request and m.method == "INVITE" and
                                m.branch() != inv.branch()),
                               ("dialer", lambda m: is_resp("INVITE", final=True)(m) and m.cseq()[0] == c.d_cseq)])
    if k is None:
        raise ReproStop("the second INVITE got no answer and did not reach the carrier")
    if k == 1:  # refused: the dialer ACKs the refusal
        fz.send("dialer", c.d_ack_for(got), f"ACK {got.status}")
    else:
        second, addr = got, c.c_pending[got.branch()][1]
        c.c_finals[second.branch()] = c.c_reply(200, body=sf.sdp(c.mark + "-2", 43002), req=second)
        fz.send("carrier", c.c_finals[second.branch()], "200 second INVITE", addr)
        ok2, _ = need(fz, c, "dialer", is_resp("INVITE", final=True), "the second INVITE's 200 at the dialer")
        fz.send("dialer", c.d_ack_for(ok2), "ACK second")
        need(fz, c, "carrier", is_req("ACK"), "the ACK of the second INVITE at the carrier")
    c.c_final = c.c_reply(200, body=sf.sdp(c.mark + "-1", 43000))
    fz.send("carrier", c.c_final, "200 first INVITE", c.c_addr)
    ok1, _ = need(fz, c, "dialer", is_resp("INVITE", final=True), "the first INVITE's 200 at the dialer")
    fz.send("dialer", c.d_ack_for(ok1), "ACK first")
    if fz.expect(c, "carrier", is_req("ACK"), timeout=1.0)[0] is None:
        problems.append("the dialer's ACK of the first INVITE's 2xx never reached the carrier")
    hang_up(fz, c, from_dialer=True)
    return c, problems


def repro_double_to_tag(net, d):
    """An INVITE whose To has two tag parameters; answered 200 and ACKed; the
    dialer hangs up with a BYE built from the relay's own 200. Expected: the
    INVITE is refused, or the BYE reaches the carrier and its 200 the dialer."""
    c, fz = scripted(net, "double-to-tag", 1)
    inv = c.d_make_invite(fz.rng)
    inv.set("To", c.d_to + ";tag=a1;tag=b2")
    fz.send("dialer", inv, "INVITE, To with two tags")
    k, got = first_of(fz, c, [("carrier", is_req("INVITE")), ("dialer", is_resp("INVITE", final=True))])
    if k is None:
        raise ReproStop("the INVITE got no answer and did not reach the carrier")
    if k == 1:  # refused
        fz.send("dialer", c.d_ack_for(got), f"ACK {got.status}")
        return c, []
    fz.send("carrier", c.c_reply(180), "180", c.c_addr)
    c.c_final = c.c_reply(200, body=sf.sdp(c.mark, 43000))
    fz.send("carrier", c.c_final, "200", c.c_addr)
    ok, _ = need(fz, c, "dialer", is_resp("INVITE", final=True), "the final at the dialer")
    fz.send("dialer", c.d_ack_for(ok), "ACK")
    if ok.status >= 300:
        return c, []
    need(fz, c, "carrier", is_req("ACK"), "the ACK at the carrier")
    fz.send("dialer", c.d_request("BYE"), "BYE")
    bye, addr = fz.expect(c, "carrier", is_req("BYE"), timeout=2)
    if bye is None:
        answer = fz.expect(c, "dialer", is_resp("BYE", final=True), timeout=1)[0]
        c.d_bye_tries = 3  # the carrier hangs up in the clean-up instead
        return c, [f"the dialer's BYE (To as in the relay's 200: {ok.get('To')}) got "
                   f"{answer.first if answer else 'no answer'}, not relayed: the dialer cannot end the call"]
    fz.send("carrier", sf.response(bye, 200, to_tag=c.c_tag), "200 BYE", addr)
    fz.expect(c, "dialer", is_resp("BYE", final=True))
    return c, []


def repro_cancel_challenge(net, d):
    """INVITE; 180; the dialer CANCELs; the carrier answers the CANCEL 200 and
    the INVITE 401 with a digest challenge. Expected: the dialer gets 487 and
    nothing more goes to the trunk."""
    c, fz = scripted(net, "cancel-challenge", 1)
    fz.send("dialer", c.d_make_invite(fz.rng), "INVITE")
    need(fz, c, "carrier", is_req("INVITE"), "the INVITE at the carrier")
    fz.send("carrier", c.c_reply(180), "180", c.c_addr)
    need(fz, c, "dialer", lambda m: not m.is_request and m.status == 180, "the 180 at the dialer")
    fz.send("dialer", c.d_cancel(), "CANCEL")
    cancel, addr = need(fz, c, "carrier", is_req("CANCEL"), "the CANCEL at the carrier")
    fz.send("carrier", sf.response(cancel, 200, to_tag=c.c_tag), "200 CANCEL", addr)
    cancel_then_challenge(fz, c, 401)
    final, _ = need(fz, c, "dialer", is_resp("INVITE", final=True), "the 487 at the dialer")
    fz.send("dialer", c.d_ack_for(final), "ACK")
    return c, fz.problems


def repro_dup_max_forwards(net, d):
    """One INVITE with `Max-Forwards: 3` and `Max-Forwards: 70`. Expected:
    a 400 (or a call), and the daemon still running."""
    c, fz = scripted(net, "dup-max-forwards", 1)
    inv = c.d_make_invite(fz.rng)
    inv.headers.insert(1, ["Max-Forwards", "3"])
    fz.send("dialer", inv, "INVITE, Max-Forwards twice")
    got, _ = fz.expect(c, "dialer", is_resp("INVITE", final=True), timeout=1.0)
    if got is not None:
        fz.send("dialer", c.d_ack_for(got), "ACK")
    return c, []


def repro_folded_uri(net, d):
    """An INVITE whose Contact is folded inside the URI gets 400. Then a clean
    INVITE; the carrier answers 200 with such a Contact; the dialer ACKs.
    Expected: what the relay sends (the ACK to the carrier) parses as SIP."""
    c, fz = scripted(net, "folded-uri", 1)
    inv = c.d_make_invite(fz.rng)
    inv.set("Contact", f"<sip:1555\r\n\t{c.caller[4:]}@127.0.0.1:{c.dport}>")
    before = len(net.unparsed)
    fz.send("dialer", inv, "INVITE, folded Contact")
    refused, _ = need(fz, c, "dialer", is_resp("INVITE", final=True), "an answer to the folded Contact")
    fz.send("dialer", c.d_ack_for(refused), "ACK")
    if refused.status != 400:
        return c, [f"an INVITE with a folded Contact got {refused.status}, want 400"]
    c, fz = scripted(net, "folded-uri", 2)
    fz.send("dialer", c.d_make_invite(fz.rng), "INVITE")
    need(fz, c, "carrier", is_req("INVITE"), "the INVITE at the carrier")
    ok = c.c_reply(200, body=sf.sdp(c.mark, 43000))
    ok.set("Contact", f"<sip:1555\r\n\t{c.callee[4:]}@127.0.0.1:{c.cport}>")
    c.c_final = ok
    fz.send("carrier", ok, "200, folded Contact", c.c_addr)
    answer, _ = need(fz, c, "dialer", is_resp("INVITE", final=True), "the 200 at the dialer")
    fz.send("dialer", c.d_ack_for(answer), "ACK")
    fz.expect(c, "carrier", is_req("ACK"), timeout=1.0)
    bad = net.unparsed[before:]
    return c, [f"the relay sent {len(bad)} datagrams that are not SIP, first: {bad[0][:120]!r}"] if bad else []


def repro_ack_dns(net, d):
    """INVITE; the carrier answers 200 with `Record-Route: <sip:[::zz];lr>`
    (a host sofia cannot resolve); the dialer ACKs and hangs up. The ACK and
    the BYE cannot reach the carrier (503 DNS Error: fine). Expected: after
    sofia's timers, no transaction is left."""
    c, fz = scripted(net, "ack-dns", 1)
    fz.send("dialer", c.d_make_invite(fz.rng), "INVITE")
    need(fz, c, "carrier", is_req("INVITE"), "the INVITE at the carrier")
    c.c_final = c.c_reply(200, body=sf.sdp(c.mark, 43000), extra=[["Record-Route", "<sip:[::zz];lr>"]])
    fz.send("carrier", c.c_final, "200, unresolvable Record-Route", c.c_addr)
    ok, _ = need(fz, c, "dialer", is_resp("INVITE", final=True), "the 200 at the dialer")
    fz.send("dialer", c.d_ack_for(ok), "ACK")
    c.d_bye = "sent"
    fz.send("dialer", c.d_request("BYE"), "BYE")
    need(fz, c, "dialer", is_resp("BYE", final=True), "an answer to the BYE")
    c.c_bye = "done"  # nothing reaches the carrier: it leaves the call
    c.c_acked.add(c.c_invite.branch())
    return c, []


REPRODUCERS = {"early-reinvite": repro_early_reinvite, "double-to-tag": repro_double_to_tag,
               "cancel-challenge": repro_cancel_challenge, "folded-uri": repro_folded_uri,
               "ack-dns": repro_ack_dns, "dup-max-forwards": repro_dup_max_forwards}  # the crash last


def run_reproducers(net, d, names):
    """Runs each named reproducer; returns the problems seen at once."""
    problems = []
    for name in names:
        net.log = []
        try:
            c, found = REPRODUCERS[name](net, d)
        except ReproStop as e:
            c, found = net.current, [str(e)]
        net.current = None
        c.settle()
        deadline = time.time() + SETTLE
        while time.time() < deadline and not c.finished():
            net.pump(0.05)
        why = KNOWN.get(name) or "fixed, and back: " + FIXED.get(name, "")
        problems += [f"reproducer {name}: {p}\n  ({why})" for p in found]
        if d.proc.poll() is not None:
            die(d, "\n".join(problems + [f"reproducer {name}: the daemon exited with {d.proc.returncode}\n"
                                          f"  ({why})"]), f"reproducer {name}")
        alive(d, f"reproducer {name}", [])
    return problems


def main():
    global ARGS, NET, NET_DAEMON
    ARGS = parse_args()
    wd = h.workdir("relay-net-fuzz")
    secret = os.path.join(wd, "trunk.pw")
    with open(secret, "w") as f:
        f.write("fuzz-pw\n")
    carrier = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    carrier.bind(("127.0.0.1", 0))
    dialer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dialer.bind(("127.0.0.1", 0))
    for s in (carrier, dialer):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    cdr = os.path.join(wd, "cdr.jsonl")
    d = h.Daemon(wd, carrier.getsockname()[1],
                 extra=["--allow=127.0.0.1/32", "--caller_id=pai,rpid,from", f"--cdr_file={cdr}",
                        "--trunk_auth_user=fuzz", f"--trunk_auth_password_file={secret}"]).start()
    net = NET = Net(d.port, carrier, dialer)
    NET_DAEMON = d
    env = {"daemon_port": d.port, "carrier_port": carrier.getsockname()[1],
           "dialer_port": dialer.getsockname()[1], "without": ARGS.without}
    iterations = [ARGS.only] if ARGS.only is not None else list(range(ARGS.first, ARGS.first + ARGS.iterations))
    if ARGS.repro:
        iterations = []
        names = list(REPRODUCERS) if ARGS.repro == "all" else ARGS.repro.split(",")
    else:  # the fixed bugs' reproducers guard against their return
        names = [n for n in REPRODUCERS if n not in KNOWN]
        if d.request("show info")["sofia_sip"] != "patched":
            names.remove("ack-dns")  # fixed in sofia-sip itself (third_party/sofia-sip, patch 0006)
    started = time.time()
    control_call(net, d, 0, "start")
    problems = run_reproducers(net, d, names)
    if problems and not ARGS.repro:
        die(d, "\n".join(problems), "reproducers")
    for k, i in enumerate(iterations):
        unparsed = len(net.unparsed)
        events, problems = run_iteration(net, env, i)
        alive(d, i, events)
        if len(net.unparsed) > unparsed:
            problems.append(f"the relay sent a datagram that is not SIP: {net.unparsed[unparsed][:300]!r}")
        if problems:
            die(d, problems[0], i, events)
        if (k + 1) % ARGS.control_every == 0 or k + 1 == len(iterations):
            control_call(net, d, k + 1, f"iteration {i}")
            alive(d, i, events)
    fuzz_s = time.time() - started
    info = drain(net, d, 40)
    left = (info["calls_active"], info["calls_tracked"], info["sip_server_transactions"],
            info["sip_client_transactions"], info["sip_dialogs"])
    if ARGS.repro and (problems or left != (0, 0, 0, 0, 0)):
        die(d, "\n".join(problems + [f"left after sofia's timers ran (calls active, calls tracked, server "
                                      f"transactions, client transactions, dialogs): {left}"]), "reproducers")
    if left != (0, 0, 0, 0, 0):
        stuck = [c.n for c in net.calls if not c.finished()]
        if names:
            stuck.append(f"(reproducers run: {', '.join(names)})")
        die(d, "left after sofia's timers ran (calls active, calls tracked, server transactions, client "
            f"transactions, dialogs): {left}; calls the peers did not see end: {stuck[:20]}\n"
            f"  show info: {json.dumps(info)}", "all")
    rc, hung_up = shutdown_with_calls(net, d)
    bad = sanitizer_lines(d)
    if rc != 0 or bad:
        die(d, f"the daemon exited {rc} at SIGTERM" + (f" with sanitizer reports: {bad[:3]}" if bad else ""),
            "shutdown")
    h.check(all(hung_up), f"answered calls hung up at SIGTERM (answered, in a re-INVITE): {hung_up}")
    rows = 0
    with open(cdr, encoding="utf-8") as f:
        for line in f:
            try:
                json.loads(line)
            except ValueError as e:
                die(d, f"a CDR line is not JSON ({e}): {line[:200]!r}", "all")
            rows += 1
    if net.unparsed:
        with open(os.path.join(wd, "relay-unparsable.jsonl"), "w") as f:
            for data in net.unparsed:
                f.write(json.dumps(data.decode("latin-1")) + "\n")
    print(f"relay net fuzz: ok (seed {ARGS.seed}, {len(iterations)} iterations in {fuzz_s:.0f}s, "
          f"{rows} CDRs, {len(net.unparsed)} datagrams from the relay unparsable; logs in {wd})")


if __name__ == "__main__":
    main()
