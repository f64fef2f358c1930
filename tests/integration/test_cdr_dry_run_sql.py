"""The shipped SQL stays right in --dry_run: a forwarded call is written with
"paced" NULL (nothing refused it) and "would_pace" saying what pacing would
have done, so codes_by_number.sql and alert_603_rate.sql count every call the
carrier answered, during the day of dry run the README recommends. A table
from before would_pace, whose paced check knew only throttle and quarantine,
is brought up to date when the daemon connects: refusals for no caller number
(and, the same way, every trunk at its limit) land in it."""
import os

import harness as h
from pacing_flow import A, B, PHASE1, PHASE2, RULES

SQL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "sql")
wd = h.workdir("cdr-dry-run-sql")
pg = h.Postgres(wd).start()
# The table as an older release made it.
pg.query("""CREATE TABLE sippacer_cdr (
  id bigserial PRIMARY KEY, ts timestamptz NOT NULL, caller text NOT NULL, callee text NOT NULL,
  carrier text NOT NULL DEFAULT 'unknown', code integer NOT NULL, reason text NOT NULL DEFAULT '',
  pre_ring boolean NOT NULL, network_blocked boolean NOT NULL DEFAULT false, reason_header text,
  pdd_ms integer, setup_ms integer NOT NULL, duration_s integer, ended_by text,
  paced text CHECK (paced IN ('throttle', 'quarantine')), refused_by_acl boolean NOT NULL DEFAULT false,
  a_call_id text NOT NULL, b_call_id text)""")
carrier = h.Carrier(wd).start()
d = h.Daemon(wd, carrier.port, extra=RULES + ["--dry_run", f"--cdr_postgres={pg.conninfo()}"]).start()
for name, plan in (("p1", PHASE1), ("p2", PHASE2)):
    res = h.run_dialer(wd, d.port, plan, rate=10, name=name)
    h.check_eq(res["failed"], 0, f"failed calls in {name}")
    h.wait_idle(d)
h.check_eq(d.request(f"show number {A}")["state"], "quarantined", "A's state in dry run")
h.wait_for(lambda: pg.query("SELECT count(*) FROM sippacer_cdr") == [["40"]], timeout=20, what="40 rows")
h.check_eq(pg.query("SELECT count(*) FROM sippacer_cdr WHERE paced IS NOT NULL"), [["0"]], "rows marked refused")
would = pg.query(f"SELECT count(*) FROM sippacer_cdr WHERE caller = '+{A}' AND would_pace IS NOT NULL")
h.check(int(would[0][0]) >= 5, f"A's forwarded calls say what pacing would have done: {would}")
by_number = {r[0]: r for r in pg.query(os.path.join(SQL, "codes_by_number.sql"), {"hours": 24})}
h.check_eq((by_number[f"+{A}"][1], by_number[f"+{A}"][3]), ("20", "13"), "A's attempts and 603s (codes_by_number.sql)")
h.check_eq(by_number[f"+{B}"][1], "20", "B's attempts")
alert = pg.query(os.path.join(SQL, "alert_603_rate.sql"), {"min_attempts": 10})
h.check([r for r in alert if r[0] == f"+{A}"], f"the 603 alert names A in dry run: {alert}")
d.stop()

# A refusal that is not pacing's lands in the migrated table.
d = h.Daemon(wd, carrier.port, extra=["--no_number=refuse", f"--cdr_postgres={pg.conninfo()}"]).start()
res = h.run_dialer(wd, d.port, [("sipp", "15550001200")], rate=10, name="nonum")
h.wait_for(lambda: pg.query("SELECT paced, code FROM sippacer_cdr WHERE caller = 'sipp'") == [["no_number", "480"]],
           timeout=20, what="the no_number refusal's row")
d.stop()
carrier.stop()
pg.stop()
print("cdr dry-run SQL: ok")
