"""--cdr_postgres against a real PostgreSQL: exactly one row per call, none
lost or doubled while the server is stopped and started in the middle of
traffic; the dashboard and alert SQL in examples/sql return the expected
figures on those rows. The server's NOTICEs reach the log as timestamped
lines; `show info`'s last_error is one line and goes once the server is back;
a database that cannot be reached is a warning at start, not at the first
call."""
import os
import re

import harness as h

SQL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "sql")
wd = h.workdir("cdr-pg")
pg = h.Postgres(wd).start()
# A table from before the trunk column: the daemon adds it when it connects.
pg.query(os.path.join(SQL, "schema.sql"))
pg.query("ALTER TABLE sippacer_cdr DROP COLUMN trunk")
carriers = os.path.join(wd, "carriers.csv")
with open(carriers, "w") as f:
    f.write("1555000,Acme Mobile\n")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=[f"--cdr_postgres={pg.conninfo()}", f"--carriers={carriers}",
                                      "--min_attempts=100000"]).start()
A, B = "15551230001", "15551230002"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (ERROR|WARN|INFO|DEBUG) ")

# The writer connects at start, before any call; the schema's
# "already exists, skipping" NOTICEs come through our log, not raw on stderr.
h.wait_for(lambda: "connected to PostgreSQL" in d.log(), what="the connection at start")
notices = [l for l in d.log().splitlines() if "NOTICE" in l]
h.check(notices, f"no NOTICE from the server in the log:\n{d.log()}")
h.check(all(STAMP.match(l) and " cdr: postgres: NOTICE: " in l for l in notices), f"NOTICE lines: {notices}")


def plan(n):
    calls = []
    for i in range(n):
        calls.append((A, "15550000603" if i % 4 == 0 else "15550001200"))  # A: 25% 603
        calls.append((B, "15550001200" if i % 10 else "15550000480"))        # B: 10% 480
    return calls


res = h.run_dialer(wd, d.port, plan(20), rate=50, hold_ms=20, name="first")
h.check_eq(res["failed"], 0, "failed calls before the restart")
h.wait_for(lambda: pg.query("SELECT count(*) FROM sippacer_cdr") == [["40"]], timeout=20, what="40 rows")

pg.stop()
res = h.run_dialer(wd, d.port, plan(20), rate=50, hold_ms=20, name="while-down")
h.check_eq(res["failed"], 0, "failed calls while PostgreSQL is down")
h.wait_idle(d)
h.wait_for(lambda: d.request("show info")["cdr"].get("postgres_connected") is False, what="the writer to notice")
h.check_eq(d.request("show info")["cdr"]["queued"], 40, "CDRs queued while the database is down")
err = d.request("show info")["cdr"].get("last_error", "")
h.check(err.startswith("postgres: ") and "\n" not in err and "\t" not in err, f"last_error while down: {err!r}")
shown = h.ctl(d.socket_path, "show", "info").stdout
h.check([l for l in shown.splitlines() if err in l], f"sippacer-ctl show info breaks last_error:\n{shown}")
pg.start()
h.wait_for(lambda: pg.query("SELECT count(*) FROM sippacer_cdr") == [["80"]], timeout=40, what="80 rows after restart")
h.wait_for(lambda: "last_error" not in d.request("show info")["cdr"], what="last_error to go once the server is back")
h.check_eq(pg.query("SELECT count(DISTINCT a_call_id) FROM sippacer_cdr"), [["80"]], "distinct calls")
trunk = d.request("show trunks")["trunks"][0]["name"]
h.check_eq(pg.query("SELECT trunk, count(*) FROM sippacer_cdr GROUP BY 1"), [[trunk, "80"]], "rows per trunk")
pg.query(os.path.join(SQL, "schema.sql"))  # the DBA's file runs again on the live table
rows = pg.query("SELECT caller, code, count(*) FROM sippacer_cdr GROUP BY 1, 2 ORDER BY 1, 2")
h.check_eq(rows, [["+15551230001", "200", "30"], ["+15551230001", "603", "10"],
                  ["+15551230002", "200", "36"], ["+15551230002", "480", "4"]], "rows per caller and code")

by_number = {r[0]: r for r in pg.query(os.path.join(SQL, "codes_by_number.sql"), {"hours": 24})}
h.check_eq(by_number["+15551230001"][1:4], ["40", "30", "10"], "codes_by_number A: attempts, answered, 603")
h.check_eq(by_number["+15551230001"][4], "10", "codes_by_number A: 603 before ring")
h.check_eq(by_number["+15551230002"][7], "4", "codes_by_number B: 480")
hours = pg.query(os.path.join(SQL, "codes_by_hour.sql"), {"days": 1})
h.check_eq(sum(int(r[1]) for r in hours), 80, "codes_by_hour attempts")
h.check_eq(sum(int(r[3]) for r in hours), 10, "codes_by_hour 603s")
carriers_rows = pg.query(os.path.join(SQL, "codes_by_carrier.sql"), {"hours": 24})
h.check_eq(carriers_rows, [["Acme Mobile", "80", "66", "4", "10", "0.0500", "0.1250"]], "codes_by_carrier")
alert = pg.query(os.path.join(SQL, "alert_603_rate.sql"), {"min_attempts": 20})
h.check_eq(alert, [["+15551230001", "40", "10", "0.2500", "0"]], "alert: 603 over 5% in 4 h")
h.check_eq(pg.query(os.path.join(SQL, "alert_603_rate.sql"), {"min_attempts": 50}), [], "alert below min_attempts")

# The overuse signature on rows with a history: 3 quiet hours, then a spike with 603s.
pg.query("""INSERT INTO sippacer_cdr (ts, caller, callee, code, pre_ring, setup_ms, a_call_id)
  SELECT date_trunc('hour', now()) - interval '5 hours' + (h || ' hours')::interval + (i || ' seconds')::interval,
         '+15559990000', '+15550001200', CASE WHEN h = 3 AND i % 3 = 0 THEN 603 ELSE 200 END, true, 10,
         'hist-' || h || '-' || i
  FROM generate_series(0, 3) h, generate_series(1, 30) i WHERE h = 3 OR i <= 5""")
sig = pg.query(os.path.join(SQL, "overuse_signature.sql"), {"spike": 2, "days": 1})
h.check([r for r in sig if r[0] == "+15559990000"], f"overuse signature not found: {sig}")
h.check(not [r for r in sig if r[0] in ("+15551230001", "+15551230002")], f"overuse signature on steady numbers: {sig}")

# sippacer-replay reads the same rows back from PostgreSQL: the last half hour
# (the 80 calls above; the overuse rows are older) under a policy that
# throttles A's 25% pre-ring 603s.
import datetime as dt
import json
import subprocess
now = dt.datetime.now(dt.timezone.utc)
replay = subprocess.run([os.environ["SIPPACER_REPLAY"], f"--cdr_postgres={pg.conninfo()}",
                         f"--since={(now - dt.timedelta(minutes=30)).strftime('%Y-%m-%dT%H:%M:%SZ')}",
                         f"--until={(now + dt.timedelta(minutes=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}",
                         "--rules=603pre>=20%/1h:throttle", "--false_alarm_rate=0.5", "--summary"],
                        capture_output=True, text=True, timeout=60)
h.check_eq(replay.returncode, 0, f"replay from PostgreSQL ({replay.stderr})")
h.check("calls 80 from 2 numbers" in replay.stderr, f"replay summary: {replay.stderr}")
events = [json.loads(l) for l in replay.stdout.splitlines()]
h.check_eq([(e["number"], e["to"]) for e in events], [("+15551230001", "throttled")], "replayed events")
bad = subprocess.run([os.environ["SIPPACER_REPLAY"], "--cdr_postgres=host=127.0.0.1 port=1 connect_timeout=2",
                      "--since=2026-01-01T00:00:00Z", "--until=2026-01-02T00:00:00Z"],
                     capture_output=True, text=True, timeout=60)
h.check(bad.returncode == 1 and "--cdr_postgres: cannot connect" in bad.stderr, f"replay, no database: {bad.stderr}")
d.stop()
for line in d.log().splitlines():
    h.check(STAMP.match(line), f"a log line without a timestamp: {line!r}")

# A --cdr_postgres nobody answers: a warning naming it at start, and the
# daemon runs on.
wd2 = h.workdir("cdr-pg-down")
down = h.Daemon(wd2, carrier.port,
                extra=[f"--cdr_postgres=host=127.0.0.1 port={h.free_port()} user=postgres dbname=postgres"]).start()
h.wait_for(lambda: "--cdr_postgres: cannot connect" in down.log(), timeout=10, what="the warning at start")
warning = [l for l in down.log().splitlines() if "--cdr_postgres: cannot connect" in l]
h.check(len(warning) == 1 and STAMP.match(warning[0]) and " WARN cdr: " in warning[0], f"warning: {warning}")
h.check("Connection refused" in warning[0], f"the warning has no reason: {warning[0]}")
err = down.request("show info")["cdr"].get("last_error", "")
h.check("Connection refused" in err and "\n" not in err, f"last_error: {err!r}")
h.check_eq(down.stop(), 0, "exit code with the database down")
carrier.stop()
print("cdr postgres: ok")
