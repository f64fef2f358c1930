"""What the stats socket, sippacer-ctl and /metrics report is exactly what
the carrier answered: number A 30x603 before ring and 70x200, number B
100x200."""
import json
import os
import subprocess
import urllib.request

import harness as h

wd = h.workdir("stats-counts")
carriers = os.path.join(wd, "carriers.csv")
with open(carriers, "w") as f:
    f.write("# prefix,carrier\n1555000,Acme Mobile\n1555,Generic US\n")
carrier = h.Carrier(wd).start()
mport = h.free_port()
# Pacing never fires here (min_attempts above the traffic): counts stay exact.
d = h.Daemon(wd, carrier.port, extra=[f"--metrics_listen=127.0.0.1:{mport}", f"--carriers={carriers}",
                                      "--min_attempts=100000", "--timezone=America/New_York"]).start()
A, B = "15551230001", "15551230002"
calls = []
for i in range(100):
    calls.append((A, "15550000603" if i % 10 < 3 else "15550001200"))
    calls.append((B, "15550001200"))
res = h.run_dialer(wd, d.port, calls, rate=100, hold_ms=20)
h.check_eq(res["failed"], 0, "failed calls")
h.wait_idle(d)

a = d.request("show number +1 (555) 123-0001")
h.check_eq(a["number"], "+15551230001", "normalised number")
h.check_eq(a["state"], "healthy", "state of A")
h.check_eq(a["attempts"], 100, "attempts of A")
h.check_eq(a["codes"], {"200": 70, "603": 30}, "codes of A")
h.check_eq(a["pre_ring_603"], 30, "pre_ring_603 of A")
h.check_eq(a["network_blocked"], 0, "network_blocked of A")
h.check_eq(a["rates"]["603"], 0.3, "603 rate of A")
h.check_eq(a["rates"]["200"], 0.7, "200 rate of A")
b = d.request("show number 5551230002")
h.check_eq((b["attempts"], b["codes"], b["pre_ring_603"]), (100, {"200": 100}, 0), "B")

top = d.request("show numbers sort=603 limit=1")["numbers"]
h.check_eq([n["number"] for n in top], ["+15551230001"], "worst number by 603")
both = d.request("show numbers sort=attempts")["numbers"]
h.check_eq([n["number"] for n in both], ["+15551230001", "+15551230002"], "sort by attempts, ties by number")
h.check_eq(d.request("show numbers state=quarantined")["numbers"], [], "no quarantined numbers")
car = {c["carrier"]: c for c in d.request("show carriers")["carriers"]}
h.check_eq(car["Acme Mobile"]["attempts"], 200, "attempts at Acme Mobile (longest prefix)")
h.check_eq(car["Acme Mobile"]["codes"], {"200": 170, "603": 30}, "codes at Acme Mobile")
h.check_eq(car["Generic US"]["attempts"], 0, "attempts at the shorter prefix")
hours = d.request("show hours")["hours"]
h.check_eq(len(hours), 24, "hours")
h.check_eq(sum(x["attempts"] for x in hours), 200, "attempts over the hours")
countries = d.request("show countries")["countries"]
h.check_eq([(c["country_code"], c["attempts"]) for c in countries], [("+1", 200)], "countries")
h.check_eq(d.request("show codes")["codes"], {"200": 170, "603": 30}, "show codes")
trunks = d.request("show trunks")["trunks"]
h.check_eq(len(trunks), 1, "trunks (--trunk)")
t = trunks[0]
h.check(t["name"] and t["uri"], f"trunk name and uri: {t}")
h.check_eq((t["attempts"], t["answered"], t["calls_active"], t["failovers"]), (200, 170, 0, 0),
           "trunk attempts, answered, active, failovers")
h.check_eq(t["responses"], {"1xx": 0, "2xx": 170, "3xx": 0, "4xx": 0, "5xx": 0, "6xx": 30}, "trunk responses")
h.check_eq((t["refused_max_calls"], t["refused_max_cps"], t["timeouts"], t["unavailable"]), (0, 0, 0, 0),
           "trunk refusals, timeouts, 503s")

body = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5).read().decode()
for line in ['sippacer_responses_total{code="603"} 30', 'sippacer_responses_total{code="200"} 170',
             'sippacer_invites_forwarded_total 200', 'sippacer_pre_ring_603_total 30',
             'sippacer_carrier_responses_total{carrier="Acme Mobile",code="603"} 30',
             'sippacer_numbers{state="healthy"} 2', 'sippacer_calls_active 0',
             'sippacer_number_603_ratio{number="+15551230001"} 0.3',
             f'sippacer_trunk_attempts_total{{trunk="{t["name"]}"}} 200',
             f'sippacer_trunk_responses_total{{trunk="{t["name"]}",class="6xx"}} 30',
             f'sippacer_trunk_refused_total{{trunk="{t["name"]}",reason="max_cps"}} 0',
             f'sippacer_trunk_calls_active{{trunk="{t["name"]}"}} 0']:
    h.check(line in body.splitlines(), f"/metrics lacks '{line}'")
try:
    urllib.request.urlopen(f"http://127.0.0.1:{mport}/other", timeout=5)
    h.fail("/other did not 404")
except urllib.error.HTTPError as e:
    h.check_eq(e.code, 404, "status of /other")

p = h.ctl(d.socket_path, "show", "number", A)
h.check_eq(p.returncode, 0, "sippacer-ctl exit code")
h.check("30.0%" in p.stdout and "+15551230001" in p.stdout and "603: 30" in p.stdout,
        f"sippacer-ctl show number:\n{p.stdout}")
p = h.ctl(d.socket_path, "--json", "show", "info")
h.check_eq(json.loads(p.stdout)["invites_total"], 200, "sippacer-ctl --json show info")
p = h.ctl(d.socket_path, "watch", "--count=1", "--limit=5")
h.check(p.returncode == 0 and "+15551230001" in p.stdout and "30.0%" in p.stdout, f"watch frame:\n{p.stdout}")
p = h.ctl(d.socket_path, "show", "trunks")
h.check(p.returncode == 0 and "FAILOVERS" in p.stdout and t["name"] in p.stdout,
        f"sippacer-ctl show trunks:\n{p.stdout}")
p = h.ctl(d.socket_path, "show", "number", "+19999999999")
h.check_eq(p.returncode, 1, "sippacer-ctl exit code on an error answer")
d.stop()
carrier.stop()
print("stats counts: ok")
