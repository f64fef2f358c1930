"""A trunk that authenticates by digest: with --trunk_auth_user and the
password file, sippacer answers the 401 itself and the call connects; with
a wrong password the carrier's refusal reaches the dialer; without
credentials the challenge ends the call. The password never shows."""
import os

import harness as h

wd = h.workdir("relay-digest")
secret = os.path.join(wd, "trunk.pw")
with open(secret, "w") as f:
    f.write("s3cret-pw\n")
wrong = os.path.join(wd, "wrong.pw")
with open(wrong, "w") as f:
    f.write("not-it\n")

carrier = h.Carrier(wd, scenario="carrier_digest.xml").start()
d = h.Daemon(wd, carrier.port, extra=["--trunk_auth_user=trunkuser", f"--trunk_auth_password_file={secret}"]).start()
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")] * 2, rate=5, name="right")
h.check_eq(res["finals"], {200: 2}, "finals with the right credentials")
rx = [m for dirn, m in h.sipp_messages(wd, "carrier") if dirn == "received" and h.first_line(m).startswith("INVITE ")]
h.check(any((h.header(m, "Authorization") or "").startswith("Digest") for m in rx), "no Authorization sent")
policy = str(d.request("show policy")) + str(d.request("show info"))
h.check("s3cret" not in policy and "s3cret" not in d.log(), "the password leaked")
h.wait_idle(d)
d.stop()

d = h.Daemon(wd, carrier.port, extra=["--trunk_auth_user=trunkuser", f"--trunk_auth_password_file={wrong}"]).start()
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")], name="wrong")
h.check_eq(res["finals"], {403: 1}, "finals with a wrong password")
d.stop()

d = h.Daemon(wd, carrier.port).start()
res = h.run_dialer(wd, d.port, [("15551230001", "15550001200")], name="none", extra=["-aa"][0:0])
h.check_eq(list(res["finals"]), [401], "without credentials the challenge ends the call")
d.stop()
carrier.stop()
print("relay digest: ok")
