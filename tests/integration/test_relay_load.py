"""1,000 calls at 100 calls/s through the relay with zero failures, every one
counted, and none left active."""
import harness as h

wd = h.workdir("relay-load")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port).start()
calls = [(f"1555123{i % 50:04d}", "15550001200") for i in range(1000)]
res = h.run_dialer(wd, d.port, calls, rate=100, hold_ms=100, timeout=120, extra=["-trace_msg"][0:0])
h.check_eq(res["failed"], 0, "failed calls")
h.check_eq(res["successful"], 1000, "successful calls")
h.wait_idle(d)
info = d.request("show info")
h.check_eq(info["invites_forwarded"], 1000, "invites_forwarded")
h.check_eq(d.request("show codes")["codes"], {"200": 1000}, "show codes")
h.check_eq(info["numbers_tracked"], 50, "numbers_tracked")
d.stop()
carrier.stop()
print("relay load: ok")
