-- sippacer CDR table: one row per call attempt (docs/cdr.md).
-- sippacer creates it itself when missing; this file is the same DDL for DBAs.
CREATE TABLE IF NOT EXISTS sippacer_cdr (
  id              bigserial PRIMARY KEY,
  ts              timestamptz NOT NULL,
  caller          text NOT NULL,
  callee          text NOT NULL,
  carrier         text NOT NULL DEFAULT 'unknown',
  trunk           text,
  code            integer NOT NULL,
  reason          text NOT NULL DEFAULT '',
  pre_ring        boolean NOT NULL,
  network_blocked boolean NOT NULL DEFAULT false,
  reason_header   text,
  pdd_ms          integer,
  setup_ms        integer NOT NULL,
  duration_s      integer,
  ended_by        text,
  -- refused by sippacer itself: pacing (throttle, quarantine), every trunk at
  -- its limit (trunk_limit), no usable caller number (no_number); NULL for a
  -- call that was forwarded
  paced           text CONSTRAINT sippacer_cdr_paced_check
                  CHECK (paced IN ('throttle', 'quarantine', 'trunk_limit', 'no_number')),
  -- --dry_run: what pacing would have done to this forwarded call
  would_pace      text CHECK (would_pace IN ('throttle', 'quarantine')),
  refused_by_acl  boolean NOT NULL DEFAULT false,
  a_call_id       text NOT NULL,
  b_call_id       text
);
-- Columns added in later releases, for tables made before them. Looked up first:
-- ALTER TABLE locks out every reader, even when the column is there, and
-- sippacer runs this on each connect, beside long dashboard queries.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute
                 WHERE attrelid = 'sippacer_cdr'::regclass AND attname = 'trunk' AND NOT attisdropped) THEN
    ALTER TABLE sippacer_cdr ADD COLUMN trunk text;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_attribute
                 WHERE attrelid = 'sippacer_cdr'::regclass AND attname = 'would_pace' AND NOT attisdropped) THEN
    ALTER TABLE sippacer_cdr ADD COLUMN would_pace text CHECK (would_pace IN ('throttle', 'quarantine'));
  END IF;
  -- Refusals other than pacing's (trunk_limit, no_number) are newer than the
  -- first check on paced.
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'sippacer_cdr'::regclass AND contype = 'c'
                   AND pg_get_constraintdef(oid) LIKE '%no_number%') THEN
    ALTER TABLE sippacer_cdr DROP CONSTRAINT IF EXISTS sippacer_cdr_paced_check;
    ALTER TABLE sippacer_cdr ADD CONSTRAINT sippacer_cdr_paced_check
      CHECK (paced IN ('throttle', 'quarantine', 'trunk_limit', 'no_number'));
  END IF;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS sippacer_cdr_call ON sippacer_cdr (a_call_id, ts);
CREATE INDEX IF NOT EXISTS sippacer_cdr_caller_ts ON sippacer_cdr (caller, ts);
CREATE INDEX IF NOT EXISTS sippacer_cdr_ts ON sippacer_cdr (ts);
CREATE INDEX IF NOT EXISTS sippacer_cdr_carrier_ts ON sippacer_cdr (carrier, ts);
