"""A paced INVITE's answer reaches a dialer that sits behind a proxy: with
Kamailio (Debian's package) in front of sippacer, the refusal arrives as
480 with its Retry-After and Reason. With --reject_code=503 the same proxy
delivers 500 without either header (RFC 3261 16.7), which is why 480 is the
default (docs/pacing.md)."""
import harness as h


def refusal_through_proxy(wd, carrier, extra, name):
    d = h.Daemon(wd, carrier.port, extra=extra).start()
    proxy = h.Kamailio(wd, d.port).start()
    d.request("quarantine 15551230001 for=1h")
    res = h.run_dialer(wd, proxy.port, [("15551230001", "15550001200")], name=name)
    answers = [m for dirn, m in h.sipp_messages(res["dir"]) if dirn == "received"
               and h.first_line(m).startswith("SIP/2.0") and not h.first_line(m).startswith("SIP/2.0 100")]
    proxy.stop()
    d.stop()
    h.check(answers, f"{name}: no final answer at the dialer")
    return answers[0]


wd = h.workdir("pacing-behind-proxy")
carrier = h.Carrier(wd).start()

answer = refusal_through_proxy(wd, carrier, [], "default")
h.check_eq(h.first_line(answer), "SIP/2.0 480 Temporarily Unavailable", "the paced INVITE's answer through Kamailio")
retry = int(h.header(answer, "Retry-After") or 0)
h.check(3000 < retry <= 3600, f"Retry-After through Kamailio: {h.header(answer, 'Retry-After')}")
reason = h.header(answer, "Reason") or ""
h.check(reason.startswith('SIP;cause=480;text="sippacer: quarantined'), f"Reason through Kamailio: {reason!r}")

answer = refusal_through_proxy(wd, carrier, ["--reject_code=503"], "reject503")
h.check(h.first_line(answer).startswith("SIP/2.0 500"), f"503 through Kamailio: {h.first_line(answer)}")
h.check(h.header(answer, "Retry-After") is None and h.header(answer, "Reason") is None,
        "a 503 turned 500 by the proxy keeps no Retry-After or Reason")
carrier.stop()
print("pacing behind a proxy: ok")
