"""Everything the dashboards and the alert rules query is served: the real
daemon relays a few calls, then every metric name in examples/grafana/*.json
(the panels' Prometheus queries) and examples/prometheus/*.yml (the rules'
expressions) must have series in its /metrics, and `promtool check metrics`
must find nothing to say about the scrape. The build, start time, process
and per-number series carry the right values."""
import glob
import os
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402
import promql  # noqa: E402

tool = promql.promtool()
wd = h.workdir("prometheus-metrics")
carrier = h.Carrier(wd).start()
mport = h.free_port()
# Nothing listens on the CDR database's port: the CDR series are served and
# sippacer_cdr_postgres_up reads 0, as SippacerCdrPostgresDown expects.
pg = f"host=127.0.0.1 port={h.free_port()} dbname=sippacer connect_timeout=1"
before = time.time()
d = h.Daemon(wd, carrier.port, extra=[f"--metrics_listen=127.0.0.1:{mport}", f"--cdr_postgres={pg}",
                                      "--min_attempts=100000"]).start()
after = time.time()
A = "15551230001"
calls = [(A, "15550000603" if i % 10 < 3 else "15550001200") for i in range(10)]
res = h.run_dialer(wd, d.port, calls, rate=50, hold_ms=20)
h.check_eq(res["failed"], 0, "failed calls")
h.wait_idle(d)
info = d.request("show info")

body = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5).read().decode()
with open(os.path.join(wd, "metrics.txt"), "w") as f:
    f.write(body)
p = subprocess.run([tool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=30)
h.check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
        f"promtool check metrics (scrape in {wd}/metrics.txt):\n{p.stdout}{p.stderr}")
types, helps, samples = promql.parse_exposition(body)
served = {name for name, _, _ in samples}

# Every name a dashboard or a rule reads. Histogram parts (_bucket, _sum,
# _count) are series of their own in the scrape, so they match as named.
used = {}
for path in sorted(glob.glob(os.path.join(promql.ROOT, "examples", "grafana", "*.json"))):
    for expr in promql.grafana_exprs(path):
        for name in promql.metric_names(expr):
            used.setdefault(name, os.path.relpath(path, promql.ROOT))
rules = sorted(glob.glob(os.path.join(promql.ROOT, "examples", "prometheus", "*.yml")))
h.check(rules, "no rules in examples/prometheus")
for path in rules:
    exprs, recorded = promql.rule_exprs(path)
    h.check(exprs, f"no expressions read from {path}")
    for expr in exprs:
        for name in promql.metric_names(expr) - recorded:
            used.setdefault(name, os.path.relpath(path, promql.ROOT))
for name in ("sippacer_responses_total", "sippacer_post_dial_delay_seconds_bucket",
             "sippacer_carrier_responses_total", "sippacer_cdr_queued", "up"):
    h.check(name in used, f"{name} not found in the dashboards and rules: reading them failed")
missing = sorted(f"{n} ({where})" for n, where in used.items()
                 if n not in served and not promql.FROM_PROMETHEUS.match(n))
h.check(not missing, f"used but not served: {', '.join(missing)}")
for name in used:
    base = name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[:-len(suffix)] in types:
            base = name[:-len(suffix)]
            h.check_eq(types[base], "histogram", f"type of {base} (read as {name})")
    h.check(promql.FROM_PROMETHEUS.match(name) or base in helps, f"{base} has no HELP")


def value(name, **labels):
    found = [v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items())]
    h.check(len(found) == 1, f"{name}{labels}: {len(found)} series")
    return found[0]


build = [l for n, l, _ in samples if n == "sippacer_build_info"]
h.check_eq(len(build), 1, "sippacer_build_info series")
h.check_eq(build[0]["version"], info["version"], "build_info version (show info)")
h.check_eq(build[0]["sofia_sip"], info["sofia_sip"], "build_info sofia_sip (show info)")
h.check_eq(build[0]["build_type"], os.environ.get("SIPPACER_BUILD_TYPE", build[0]["build_type"]),
           "build_info build_type")
h.check_eq(value("sippacer_build_info"), 1.0, "sippacer_build_info value")
start = value("sippacer_start_time_seconds")
h.check(before - 1 <= start <= after + 1, f"sippacer_start_time_seconds {start} not in [{before}, {after}]")
h.check("sippacer_uptime_seconds" not in types, "sippacer_uptime_seconds is still served")

# process_*: against what /proc says about the daemon right after the scrape.
pid = d.proc.pid
proc_start = value("process_start_time_seconds")
h.check(before - 2 <= proc_start <= start + 1, f"process_start_time_seconds {proc_start}, daemon start {start}")
cpu_now = h.cpu_seconds(pid)
cpu = value("process_cpu_seconds_total")
h.check(0 <= cpu <= cpu_now + 0.02, f"process_cpu_seconds_total {cpu}, /proc says {cpu_now} after")
rss, vsz = value("process_resident_memory_bytes"), value("process_virtual_memory_bytes")
h.check(1e6 < rss <= vsz, f"process_resident_memory_bytes {rss}, process_virtual_memory_bytes {vsz}")
fds, max_fds = value("process_open_fds"), value("process_max_fds")
open_now = len(os.listdir(f"/proc/{pid}/fd"))
h.check(abs(fds - open_now) <= 3 and fds < max_fds, f"process_open_fds {fds} (/proc: {open_now}), max {max_fds}")

# The worst number's 603 ratio with its attempts, over the window both name.
h.check_eq(value("sippacer_number_603_ratio", number="+" + A), 0.3, "603 ratio of A")
h.check_eq(value("sippacer_number_attempts", number="+" + A), 10.0, "attempts of A")
seconds = d.request("show number " + A)["window_s"]
hours, minutes = divmod(seconds // 60, 60)
window = "over the last " + (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
for name in ("sippacer_number_603_ratio", "sippacer_number_attempts"):
    h.check(window in helps[name], f"HELP of {name} does not name the window ({window}): {helps[name]}")
h.check_eq(value("sippacer_cdr_postgres_up"), 0.0, "sippacer_cdr_postgres_up with the database down")
bounds = [l["le"] for n, l, _ in samples if n == "sippacer_post_dial_delay_seconds_bucket"]
h.check(bounds[:4] == ["0.1", "0.25", "0.5", "1"] and bounds[-1] == "+Inf", f"PDD buckets: {bounds}")
h.check_eq(value("sippacer_post_dial_delay_seconds_count"), 7.0, "calls that rang (the 200s)")

# A clean stop would wait 10 s for a database that never comes (the CDR
# drain); test_shutdown covers stopping.
os.killpg(d.proc.pid, signal.SIGKILL)
d.proc.wait()
carrier.stop()
print(f"prometheus metrics: ok ({len(used)} names used, {len(types)} families served)")
