"""SIP over raw UDP for tests that play both peers of the relay themselves:
a small message model (parse, build, encode), the requests and responses of
a call, and the mutations a network fuzzer applies to them.

Text is held as latin-1 so that any byte survives a parse/encode round trip
(a mutation that writes invalid UTF-8 writes exactly those bytes). Standard
library only.
"""
import random
import re
import socket
import time

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type", "k": "supported",
           "s": "subject", "e": "content-encoding", "o": "event"}
METHODS = ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE", "INFO", "PRACK",
           "REFER", "NOTIFY", "MESSAGE", "SUBSCRIBE", "REGISTER", "PUBLISH"]


def _key(name):
    n = name.strip().lower()
    return COMPACT.get(n, n)


def param(value, name):
    """The value of ;name=... in a header value (None when absent, "" when bare)."""
    if value is None:
        return None
    for part in value.split(";")[1:]:
        k, eq, v = part.partition("=")
        if k.strip().lower() == name:
            return v.strip() if eq else ""
    return None


def uri_of(value):
    """The URI of a name-addr or addr-spec header value."""
    if value is None:
        return None
    if "<" in value and ">" in value:
        return value[value.index("<") + 1:value.index(">")]
    return value.split(";")[0].strip()


def with_tag(value, tag):
    return value if param(value, "tag") is not None else f"{value};tag={tag}"


class Msg:
    """One SIP message: its first line, its headers in order as [name, value]
    pairs, and its body bytes."""

    def __init__(self, first, headers=(), body=b""):
        self.first = first
        self.headers = [list(x) for x in headers]
        self.body = body

    @classmethod
    def parse(cls, data):
        """The message in a datagram, or None when it is not SIP enough to read."""
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            head, body = data.rstrip(b"\r\n"), b""
        lines = head.decode("latin-1").split("\r\n")
        msg = cls(lines[0].lstrip())
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and msg.headers:
                msg.headers[-1][1] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            if colon:
                msg.headers.append([name.strip(), value.strip()])
        msg.body = body
        parts = msg.first.split(" ", 2)
        if msg.is_request:
            return msg if len(parts) == 3 and parts[2].startswith("SIP/2.0") else None
        return msg if len(parts) >= 2 and parts[1].isdigit() else None  # the phrase may be empty

    def copy(self):
        return Msg(self.first, self.headers, self.body)

    @property
    def is_request(self):
        return not self.first.startswith("SIP/")

    @property
    def method(self):
        return self.first.split(" ", 1)[0] if self.is_request else None

    @property
    def status(self):
        return None if self.is_request else int(self.first.split(" ", 2)[1])

    @property
    def ruri(self):
        return self.first.split(" ")[1] if self.is_request else None

    def get(self, name):
        k = _key(name)
        for n, v in self.headers:
            if _key(n) == k:
                return v
        return None

    def get_all(self, name):
        k = _key(name)
        return [v for n, v in self.headers if _key(n) == k]

    def index(self, name):
        k = _key(name)
        return [i for i, (n, _) in enumerate(self.headers) if _key(n) == k]

    def set(self, name, value):
        """Replaces the first `name` header (or appends one)."""
        at = self.index(name)
        if at:
            self.headers[at[0]][1] = value
        else:
            self.headers.insert(max(len(self.headers) - 1, 0), [name, value])
        return self

    def remove(self, name):
        k = _key(name)
        self.headers = [x for x in self.headers if _key(x[0]) != k]
        return self

    def cseq(self):
        """(number, method) of the CSeq header; None for what does not parse."""
        v = (self.get("CSeq") or "").split()
        num = int(v[0]) if v and v[0].isdigit() else None
        return num, (v[1] if len(v) > 1 else None)

    def tag(self, name):
        return param(self.get(name), "tag")

    def branch(self):
        return param(self.get("Via"), "branch")

    def call_id(self):
        return self.get("Call-ID")

    def encode(self):
        head = self.first + "\r\n" + "".join(f"{n}: {v}\r\n" for n, v in self.headers) + "\r\n"
        return head.encode("latin-1", "replace") + self.body

    def __repr__(self):
        return f"<{self.first} {self.get('CSeq')}>"


def request(method, ruri, via, from_, to, call_id, cseq, contact=None, extra=(), body=b"",
            ctype="application/sdp", max_forwards=70, cseq_method=None):
    h = [["Via", via], ["Max-Forwards", str(max_forwards)], ["From", from_], ["To", to],
         ["Call-ID", call_id], ["CSeq", f"{cseq} {cseq_method or method}"]]
    if contact:
        h.append(["Contact", contact])
    h += [list(x) for x in extra]
    if body:
        h.append(["Content-Type", ctype])
    h.append(["Content-Length", str(len(body))])
    return Msg(f"{method} {ruri} SIP/2.0", h, body)


REASONS = {100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 183: "Session Progress",
           200: "OK", 202: "Accepted", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           407: "Proxy Authentication Required", 408: "Request Timeout", 480: "Temporarily Unavailable",
           481: "Call/Transaction Does Not Exist", 486: "Busy Here", 487: "Request Terminated",
           488: "Not Acceptable Here", 491: "Request Pending", 500: "Server Internal Error",
           503: "Service Unavailable", 600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
           606: "Not Acceptable", 608: "Rejected"}


def response(req, code, to_tag=None, contact=None, extra=(), body=b"", ctype="application/sdp", reason=None):
    """A response to `req` (a Msg as received): its Vias, From, Call-ID and
    CSeq copied, To given `to_tag` unless it has one."""
    h = [["Via", v] for v in req.get_all("Via")]
    h += [["Record-Route", v] for v in req.get_all("Record-Route")]
    to = req.get("To") or ""
    if to_tag and code > 100:
        to = with_tag(to, to_tag)
    h += [["From", req.get("From") or ""], ["To", to], ["Call-ID", req.call_id() or ""],
          ["CSeq", req.get("CSeq") or ""]]
    if contact:
        h.append(["Contact", contact])
    h += [list(x) for x in extra]
    if body:
        h.append(["Content-Type", ctype])
    h.append(["Content-Length", str(len(body))])
    return Msg(f"SIP/2.0 {code} {reason or REASONS.get(code, 'Whatever')}", h, body)


def sdp(label, port=40000, version=1):
    """A small offer/answer; `label` lands in s= (the relay passes bodies on)."""
    return (f"v=0\r\no=- {port} {version} IN IP4 127.0.0.1\r\ns={label}\r\nc=IN IP4 127.0.0.1\r\n"
            f"t=0 0\r\nm=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
            "a=sendrecv\r\n").encode()


def new_id(rng, n=10):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def udp_socket(timeout=None):
    """A UDP socket on 127.0.0.1 at a free port: one peer of the relay."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(timeout)
    return s


def datagrams(sock, timeout):
    """(data, source) of each datagram `sock` receives within `timeout`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            yield sock.recvfrom(65535)
        except socket.timeout:
            return


def wait_message(sock, want, timeout=2.0):
    """(message, source) of the first message `want(msg)` accepts within
    `timeout`, else (None, None); anything else received meanwhile (a
    provisional answer, another message) is skipped."""
    for data, addr in datagrams(sock, timeout):
        msg = Msg.parse(data)
        if msg is not None and want(msg):
            return msg, addr
    return None, None


# --- mutations -----------------------------------------------------------------
#
# Each structural mutation takes (rng, msg, env) and changes msg in place;
# env has `daemon_port`, `carrier_port`, `dialer_port`, `without`. Raw
# mutations take (rng, bytes) and return bytes. Every address a mutation
# writes is a loopback IP literal or no address at all, never a host name:
# nothing waits on a DNS server or on a host that drops packets, so sofia's
# transactions end on their usual timers.

BAD_UTF8 = ["\xff\xfe", "\xc3\x28", "\xe2\x82", "\xf0\x9f\x98", "\xc0\xaf", "\xed\xa0\x80", "\x80"]


def _junk(rng, n):
    return "".join(chr(rng.choice(list(range(0x21, 0x7f)) + [0x80, 0xff, 0xc3])) for _ in range(n))


def _long(rng):
    return rng.choice(["A", "9", "x;", "%41", "\xff"]) * rng.choice([300, 1024, 4096, 16384, 60000])


def _number_variants(rng, n):
    return rng.choice([str(n + rng.randint(1, 1000)), str(max(n - 1, 0)), "0", "4294967295", "4294967296",
                       "-1", "99999999999999999999", "abc", "", " 1 ", "1.5", str(2 ** 31)])


def m_via_branch(rng, msg, env):
    at = msg.index("Via")
    if not at:
        return
    v = msg.headers[at[0]][1]
    b = param(v, "branch")
    base = v.replace(f";branch={b}", "") if b is not None else v
    choice = rng.choice(["random", "empty", "nocookie", "long", "remove", "cookie_only", "two", "case"])
    newb = {"random": "z9hG4bK" + new_id(rng), "empty": "", "nocookie": new_id(rng, 6),
            "long": "z9hG4bK" + "b" * rng.choice([200, 5000]), "cookie_only": "z9hG4bK",
            "case": "Z9HG4BK" + (b or "")[7:]}.get(choice)
    if choice == "remove":
        msg.headers[at[0]][1] = base
    elif choice == "two":
        msg.headers[at[0]][1] = f"{base};branch=z9hG4bK{new_id(rng)};branch={b}"
    else:
        msg.headers[at[0]][1] = f"{base};branch={newb}"


def m_via_extra(rng, msg, env):
    d = env["daemon_port"]
    via = rng.choice([f"SIP/2.0/UDP 127.0.0.1:{d};branch=z9hG4bK{new_id(rng)}",  # our own: a loop
                      f"SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bK{new_id(rng)};received=127.0.0.3;rport=9",
                      "SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKx", "SIP/2.0/UDP", "garbage",
                      f"SIP/2.0/UDP [::1]:{env['carrier_port']};branch=z9hG4bK{new_id(rng)}",
                      "SIP/2.0/UDP [::zz;branch=z9hG4bK1",
                      "SIP/2.0/SCTP 127.0.0.5;branch=z9hG4bK2;maddr=127.0.0.6;ttl=1",
                      ", ".join(f"SIP/2.0/UDP 127.0.0.{i + 10}:9;branch=z9hG4bK{i}" for i in range(40))])
    at = msg.index("Via")
    pos = rng.choice([at[0] if at else 0, (at[-1] + 1) if at else 1])
    msg.headers.insert(pos, ["Via", via])


def m_via_sentby(rng, msg, env):
    at = msg.index("Via")
    if not at:
        return
    v = msg.headers[at[0]][1]
    proto, _, rest = v.partition(" ")
    params = rest.split(";", 1)[1] if ";" in rest else ""
    host = rng.choice(["127.0.0.1:1", "127.0.0.1", "127.0.0.2:9", "[::1]:5060", "", "127.0.0.1:0",
                       "127.0.0.1:99999", "127.0.0.1:-5", "[::zz]", "127.0.0.1:" + "9" * 30])
    if rng.random() < 0.5:
        params = params.replace(";rport", "").replace("rport;", "").replace("rport", "")
    msg.headers[at[0]][1] = f"{proto} {host}" + (f";{params}" if params else "")


def m_cseq_num(rng, msg, env):
    num, method = msg.cseq()
    msg.set("CSeq", f"{_number_variants(rng, num or 1)} {method or ''}".strip())


def m_cseq_method(rng, msg, env):
    num, method = msg.cseq()
    other = rng.choice(METHODS + [(method or "INVITE").lower(), "FOO", "", "INVITE INVITE", _junk(rng, 8)])
    msg.set("CSeq", f"{num if num is not None else 1} {other}")


def m_call_id(rng, msg, env):
    msg.set("Call-ID", rng.choice([new_id(rng) + "@x", "", " ", _long(rng), "a b c", "\xff\xfe@bad",
                                   (msg.call_id() or "") + "x", (msg.call_id() or "").upper()]))


def m_tag(rng, msg, env):
    name = rng.choice(["From", "To"])
    v = msg.get(name)
    if v is None:
        return
    t = param(v, "tag")
    base = v.replace(f";tag={t}", "") if t is not None else v
    value = rng.choice([f"{base};tag={new_id(rng, 8)}", base, f"{base};tag=", f"{base};tag={t or 'a'};tag=x",
                        f"{base};tag={'t' * rng.choice([300, 9000])}", f"{base};tag=\xff\xfe",
                        f"{base};tag=\"quoted\""])
    if value.endswith(";tag=x") and "double-to-tag" in env.get("without", ""):
        value = base
    msg.set(name, value)


def m_contact(rng, msg, env):
    c = env["carrier_port"]
    value = rng.choice(["*", "<sip:@127.0.0.1>", "<sip:127.0.0.1:1>", "garbage", "<sip:x@[::zz]>",
                        "<tel:+15551234567>", f"<sips:x@127.0.0.1:{c}>", f"<sip:x@127.0.0.1:{c};transport=tcp>",
                        f"<sip:x@127.0.0.1:{c}>;expires=99999999999", "<sip:x@127.0.0.1:0>", "<>", "<sip:",
                        ", ".join(f"<sip:u{i}@127.0.0.1:{c}>" for i in range(50)), f"<sip:{_long(rng)}@127.0.0.1>",
                        f"\"\xff\xfe\" <sip:x@127.0.0.1:{c}>", None])
    if value is None:
        msg.remove("Contact")
    else:
        msg.set("Contact", value)


def m_record_route(rng, msg, env):
    c = env["carrier_port"]
    values = rng.choice([[f"<sip:127.0.0.1:{c};lr>"], [f"<sip:127.0.0.1:{c}>"], ["garbage"], ["<sip:127.0.0.1:1;lr>"],
                         [f"<sip:127.0.0.1:{env['daemon_port']};lr>"], ["<sip:[::zz];lr>"],
                         [f"<sip:127.0.0.{i + 2}:9;lr>" for i in range(30)], [f"<sip:127.0.0.1:{c};lr;{_long(rng)}>"]])
    at = msg.index("Via")
    pos = (at[-1] + 1) if at else 1
    for v in values:
        msg.headers.insert(pos, [rng.choice(["Record-Route", "Route"]), v])


def m_max_forwards(rng, msg, env):
    v = rng.choice(["0", "1", "2", "-1", "256", "70000", "99999999999", "abc", "", None, "dup"])
    if v is None:
        msg.remove("Max-Forwards")
    elif v == "dup":
        msg.headers.insert(1, ["Max-Forwards", "3"])
    else:
        msg.set("Max-Forwards", v)


def m_content_length(rng, msg, env):
    n = len(msg.body)
    v = rng.choice([str(n + rng.randint(1, 50)), str(max(n - rng.randint(1, 50), 0)), "99999", "4294967296",
                    "-5", "abc", "", None, "0", "dup"])
    if v is None:
        msg.remove("Content-Length")
    elif v == "dup":
        msg.headers.insert(1, ["Content-Length", str(n + 7)])
    else:
        msg.set("Content-Length", v)


def m_content_type(rng, msg, env):
    v = rng.choice(["application", "multipart/mixed", "multipart/mixed;boundary=", "text/plain;charset=\xff",
                    "application/sdp;" + "a=b;" * 200, "/", "application/isup;version=itu-t92+", None])
    if v is None:
        msg.remove("Content-Type")
    else:
        msg.set("Content-Type", v)


def _set_body(msg, body, fix_length=True):
    msg.body = body
    if fix_length:
        msg.set("Content-Length", str(len(body)))


def m_body(rng, msg, env):
    b = msg.body or sdp("fz")
    choice = rng.choice(["random", "utf8", "truncate", "huge", "weird_sdp", "empty", "multipart"])
    if choice == "random":
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2000)))
    elif choice == "utf8":
        body = b + "".join(rng.choice(BAD_UTF8) for _ in range(5)).encode("latin-1")
    elif choice == "truncate":
        body = b[:rng.randrange(len(b))]
    elif choice == "huge":
        body = b + b"a=x-pad:" + b"P" * rng.choice([8000, 30000, 60000]) + b"\r\n"
    elif choice == "weird_sdp":
        body = b"v=0\r\no=\r\ns=\r\nc=IN IP6 ::zz\r\nm=audio -1 RTP/AVP\r\nm=video 99999999999 x\r\n" + b"a=\r\n" * 50
    elif choice == "multipart":
        msg.set("Content-Type", "multipart/mixed;boundary=zz")
        body = (b"--zz\r\nContent-Type: application/sdp\r\n\r\n" + b +
                b"\r\n--zz\r\nContent-Type: x\r\n\r\n\xff\r\n--zz--")
    else:
        body = b""
    _set_body(msg, body, fix_length=rng.random() < 0.8)


def m_display(rng, msg, env):
    name = rng.choice(["From", "To", "P-Asserted-Identity"])
    v = msg.get(name) or "<sip:15551230000@127.0.0.1>"
    addr = v[v.index("<"):] if "<" in v else f"<{v}>"
    disp = rng.choice(["\"" + "".join(rng.choice(BAD_UTF8) for _ in range(3)) + "\"", "\"unbalanced",
                       "\"ctl\x01\x1b\x7f\"", "\"" + "N" * rng.choice([200, 8000]) + "\"", "\"a\\\"b\\\\\"",
                       "plain token", "\"\"", "\"\x00nul\""])
    msg.set(name, f"{disp} {addr}")


def m_user(rng, msg, env):
    name = rng.choice(["From", "P-Asserted-Identity", "Remote-Party-ID", "To"])
    user = rng.choice(["+15551230001", "015551230001", "tel:+1555", "abc", "9" * rng.choice([16, 40, 400]), "",
                       "%00", "+", "1555;user=phone", "\xff\xfe", "+44 20 7946 0000", "*67" + "5551230001"])
    tag = msg.tag(name) if name in ("From", "To") else None
    uri = rng.choice([f"<sip:{user}@127.0.0.1>", f"<tel:{user}>", f"sip:{user}@127.0.0.1", f"<sip:{user}@>"])
    rpid = ";party=calling;privacy=full" if name == "Remote-Party-ID" else ""
    msg.set(name, uri + (f";tag={tag}" if tag else "") + rpid)
    if rng.random() < 0.3:
        msg.set("Privacy", rng.choice(["id", "none", "header;user", _junk(rng, 10)]))


def m_ruri(rng, msg, env):
    if not msg.is_request:
        return
    method, ruri, ver = msg.first.split(" ", 2)
    ruri = rng.choice(["sip:127.0.0.1", f"sip:{_long(rng)}@127.0.0.1", "sips:1555@127.0.0.1", "tel:+15550001200",
                       "sip:15550001200@127.0.0.1;user=phone?Subject=x&Priority=urgent", "garbage", "sip:@",
                       "sip:15550001200@[::zz]", "sip:15550001200@127.0.0.1:0", "http://x/", "sip:\xff\xfe@127.0.0.1",
                       ruri + ";maddr=127.0.0.7;transport=tcp"])
    msg.first = f"{method} {ruri} {ver}"


def m_first_line(rng, msg, env):
    parts = msg.first.split(" ", 2)
    if msg.is_request:
        parts[0] = rng.choice([parts[0].lower(), "FOO", parts[0] + "X", rng.choice(METHODS), ""])
        if rng.random() < 0.3:
            parts[2] = rng.choice(["SIP/3.0", "SIP/1.0", "SIP/2.0 trailing", "HTTP/1.1"])
    else:
        parts[0] = rng.choice(["SIP/2.0", "SIP/2.0", "SIP/3.0", "sip/2.0"])
        parts[1] = rng.choice(["99", "0", "199", "299", "700", "1000", "-200", "2000000000", "20O", parts[1]])
        if len(parts) > 2:
            parts[2] = rng.choice(["", "\xff\xfe", "R" * 5000, parts[2]])
    msg.first = " ".join(parts)


def m_fold(rng, msg, env):
    if not msg.headers:
        return
    i = rng.randrange(len(msg.headers))
    name, value = msg.headers[i]
    cut = rng.randrange(len(value) + 1)
    msg.headers[i][1] = value[:cut] + "\r\n" + rng.choice([" ", "\t", "   "]) + value[cut:]


def m_long_header(rng, msg, env):
    if rng.random() < 0.5 or not msg.headers:
        msg.headers.insert(1, [rng.choice(["X-Long", "Subject", "User-Agent", "Warning"]), _long(rng)])
    else:
        i = rng.randrange(len(msg.headers))
        msg.headers[i][1] += _long(rng)


def m_drop_header(rng, msg, env):
    msg.remove(rng.choice(["Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards", "Contact", "Content-Length"]))


def m_dup_header(rng, msg, env):
    name = rng.choice(["From", "To", "Call-ID", "CSeq", "Via", "Contact", "Content-Type"])
    v = msg.get(name)
    other = {"CSeq": "77 BYE", "Call-ID": "other@x", "From": "<sip:other@x>;tag=o", "To": "<sip:other@x>;tag=t",
             "Via": "SIP/2.0/UDP 127.0.0.1:2;branch=z9hG4bKdup"}.get(name, v or "x")
    msg.headers.insert(rng.randrange(len(msg.headers) + 1), [name, rng.choice([v or other, other])])


def m_reason(rng, msg, env):
    msg.headers.insert(1, ["Reason", rng.choice([
        "SIP;cause=603;text=\"Network Blocked\"", "Q.850;cause=21;text=\"Call rejected\"",
        "SIP;cause=99999999999999;text=\"x\"", "SIP;text=\"unbalanced", "garbage", "SIP;cause=;text=",
        "SIP;cause=608;text=\"" + "".join(rng.choice(BAD_UTF8) for _ in range(4)) + "\"",
        "Q.850;cause=16, SIP;cause=200;text=\"Call completed elsewhere\"",
        "SIP;cause=603;text=\"" + "T" * 9000 + "\""])])


def m_extensions(rng, msg, env):
    name, value = rng.choice([("Require", "100rel"), ("Require", "foo-unknown"), ("Supported", "100rel, timer"),
                              ("RSeq", rng.choice(["1", "0", "-1", "abc", "4294967296"])),
                              ("RAck", rng.choice(["1 1 INVITE", "x y z", "1 1", "4294967296 1 INVITE"])),
                              ("Session-Expires", rng.choice(["90;refresher=uac", "0", "abc"])),
                              ("Min-SE", "99999999999"), ("Allow", _junk(rng, 30)), ("Expires", "-1"),
                              ("Retry-After", rng.choice(["5", "-1", "abc", "99999999999 (x)"])),
                              ("Call-Info", "<http://x>;purpose=" + _junk(rng, 12)),
                              ("Warning", "399 host \"" + _junk(rng, 20) + "\""),
                              ("Event", "refer;id=" + _junk(rng, 5)),
                              ("WWW-Authenticate", "Digest realm=\"x\", nonce=\"" + _junk(rng, 12) + "\""),
                              ("Proxy-Authenticate", "Digest realm=, nonce, algorithm=SHA-999"),
                              ("Authorization", "Digest username=\"\xff\", response=\"\"")])
    msg.headers.insert(rng.randrange(1, len(msg.headers) + 1), [name, value])


def m_compact(rng, msg, env):
    long_to_compact = {v: k for k, v in COMPACT.items()}
    for h in msg.headers:
        r = rng.random()
        if r < 0.3 and _key(h[0]) in long_to_compact:
            h[0] = long_to_compact[_key(h[0])]
        elif r < 0.5:
            h[0] = rng.choice([h[0].upper(), h[0].lower(), h[0] + " ", h[0] + "\t"])


def m_shuffle(rng, msg, env):
    rng.shuffle(msg.headers)


MUTATIONS = {f.__name__[2:]: f for f in [
    m_via_branch, m_via_extra, m_via_sentby, m_cseq_num, m_cseq_method, m_call_id, m_tag, m_contact,
    m_record_route, m_max_forwards, m_content_length, m_content_type, m_body, m_display, m_user, m_ruri,
    m_first_line, m_fold, m_long_header, m_drop_header, m_dup_header, m_reason, m_extensions, m_compact,
    m_shuffle]}


def r_truncate(rng, data):
    return data[:rng.randrange(1, len(data))] if len(data) > 1 else data


def r_bitflip(rng, data):
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    return bytes(b)


def r_lf_only(rng, data):
    head, sep, body = data.partition(b"\r\n\r\n")
    return head.replace(b"\r\n", b"\n") + b"\n\n" + body


def r_nul(rng, data):
    i = rng.randrange(len(data))
    return data[:i] + b"\x00" * rng.randint(1, 3) + data[i:]


def r_bad_utf8(rng, data):
    i = rng.randrange(len(data))
    return data[:i] + rng.choice(BAD_UTF8).encode("latin-1") + data[i:]


def r_trailing(rng, data):
    return data + rng.choice([b"garbage after the body", b"\r\n\r\n", b"\x00" * 10, data])


def r_spaces(rng, data):
    return data.replace(b": ", rng.choice([b":", b" : ", b":\t", b":    "]), rng.randint(1, 20))


RAW_MUTATIONS = {f.__name__[2:]: f for f in [r_truncate, r_bitflip, r_lf_only, r_nul, r_bad_utf8, r_trailing,
                                               r_spaces]}


def mutate(rng, msg, env, count):
    """Applies `count` random mutations to a copy of msg; returns (bytes, names)."""
    m = msg.copy()
    names = []
    raw = []
    for _ in range(count):
        if rng.random() < 0.2:
            raw.append(rng.choice(sorted(RAW_MUTATIONS)))
        else:
            name = rng.choice(sorted(MUTATIONS))
            MUTATIONS[name](rng, m, env)
            names.append(name)
    data = m.encode()
    for name in raw:
        data = RAW_MUTATIONS[name](rng, data)
        names.append("raw_" + name)
    return data, names


def hosts_are_literal(data):
    """False when a Contact, Route or Record-Route of the message names a
    host that is not an IPv4 literal (one the relay would look up in DNS),
    or when the message no longer parses."""
    msg = Msg.parse(data)
    if msg is None:
        return True  # nothing the relay will route by
    for name in ("Contact", "Route", "Record-Route"):
        for value in msg.get_all(name):
            for part in value.split(","):
                uri = uri_of(part.strip()) or ""
                if uri in ("", "*") or ":" not in uri:
                    continue
                host = uri.split(":", 1)[1].split("@")[-1].split(";")[0].split("?")[0].split(":")[0]
                if not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host):
                    return False
    return True


def uri_is_folded(data):
    """True when a Contact, Route or Record-Route URI of the message has a
    line break (folding) inside it."""
    msg = Msg.parse(data)
    if msg is None:
        return False
    for name in ("Contact", "Route", "Record-Route"):
        for value in msg.get_all(name):
            for part in value.split(","):
                if re.search(r"\s", uri_of(part.strip()) or ""):
                    return True
    return False


SINGLE_NUMBERS = {"max-forwards", "expires", "min-expires", "session-expires", "x", "min-se", "rseq",
                  "content-length", "l", "timestamp", "retry-after"}


def repeats_single_number(data):
    """True when a request carries twice a single-instance header whose
    value is a number (two Max-Forwards, two Expires, ...)."""
    msg = Msg.parse(data)
    if msg is None or not msg.is_request:
        return False
    names = [COMPACT.get(n.strip().lower(), n.strip().lower()) for n, _ in msg.headers]
    return any(names.count(n) > 1 for n in set(names) & SINGLE_NUMBERS)


def rng_for(seed, iteration):
    """The generator of one iteration: the same (seed, iteration) always
    makes the same choices, whatever ran before it."""
    return random.Random(f"{seed}:{iteration}")


# ---- a peer on a UDP socket, for tests that play the dialer or the carrier ----

class Peer:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def send(self, msg, dest):
        self.sock.sendto(msg.encode(), dest)

    def wait(self, pred, what, timeout=3.0):
        """The next message matching `pred` (others skipped), and its source."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.time()))
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                break
            msg = Msg.parse(data)
            if msg is not None and pred(msg):
                return msg, addr
        raise AssertionError(f"no {what}")

    def quiet(self, pred, seconds=0.5):
        """Whatever matching `pred` arrives within `seconds`."""
        out, deadline = [], time.time() + seconds
        while time.time() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.time()))
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                break
            msg = Msg.parse(data)
            if msg is not None and pred(msg):
                out.append(msg)
        return out


def is_status(code):
    return lambda m: not m.is_request and m.status == code


def is_method(method):
    return lambda m: m.is_request and m.method == method
