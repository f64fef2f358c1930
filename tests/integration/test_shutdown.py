"""SIGTERM with calls up: the daemon exits 0 within its bound, hangs up the
answered calls on both legs and writes their CDRs. The event loop runs on
until the BYEs are answered (bounded): a carrier that ignores the first BYE
gets the retransmission and answers it."""
import json
import os
import subprocess
import time

import harness as h

wd = h.workdir("shutdown")
carrier = h.Carrier(wd, scenario="carrier_slow_bye.xml").start()
d = h.Daemon(wd, carrier.port, extra=[f"--cdr_file={wd}/cdr.jsonl"]).start()
csv = h.write_calls(wd, [("15551230001", "15550001200")] * 3, "long.csv")
dialer = subprocess.Popen([h.SIPP, "-sf", os.path.join(h.SIPP_DIR, "dialer.xml"), "-inf", csv, "-i", "127.0.0.1",
                           "-p", str(h.free_port()), f"127.0.0.1:{d.port}", "-m", "3", "-r", "10", "-d", "60000",
                           "-nostdin", "-timeout", "30", "-default_behaviors", "all,-abortunexp"],
                          cwd=wd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
h._children.append(dialer)
h.wait_for(lambda: d.request("show info")["calls_active"] == 3, what="3 calls up")
time.sleep(0.3)
d.stop()  # exits 0 or fails the test
byes = [m for dirn, m in h.sipp_messages(wd, "carrier") if dirn == "received" and h.first_line(m).startswith("BYE ")]
h.check(len(byes) >= 6, f"BYEs (with retransmissions) to the carrier at shutdown: {len(byes)}")
answered = [m for dirn, m in h.sipp_messages(wd, "carrier") if dirn == "sent" and h.first_line(m).startswith("SIP/2.0 200")
            and "BYE" in (h.header(m, "CSeq") or "")]
h.check_eq(len(answered), 3, "BYEs the carrier answered")
rows = [json.loads(l) for l in open(os.path.join(wd, "cdr.jsonl"))]
h.check_eq([(r["code"], r["ended_by"]) for r in rows], [(200, "shutdown")] * 3, "CDRs of the calls cut by shutdown")
carrier.stop()
print("shutdown: ok")
