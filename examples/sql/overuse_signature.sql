-- The overuse signature: a number's hourly volume spikes (at least :spike
-- times its average hourly volume over the previous :days days), and in the
-- same or the next hour its 603 rate rises above its own baseline.
-- psql -v spike=2 -v days=7 -f overuse_signature.sql
WITH hourly AS (
  SELECT caller, date_trunc('hour', ts) AS hour,
         count(*) AS attempts,
         count(*) FILTER (WHERE code = 603) AS c603
  FROM sippacer_cdr
  WHERE ts > now() - make_interval(days => :days) AND paced IS NULL AND NOT refused_by_acl
  GROUP BY 1, 2
), baseline AS (
  SELECT h.caller, h.hour, h.attempts, h.c603,
         avg(p.attempts)                                   AS base_attempts,
         sum(p.c603)::numeric / nullif(sum(p.attempts), 0) AS base_603_rate
  FROM hourly h
  JOIN hourly p ON p.caller = h.caller AND p.hour < h.hour
  GROUP BY h.caller, h.hour, h.attempts, h.c603
)
SELECT s.caller, s.hour AS spike_hour, s.attempts AS spike_attempts,
       round(s.base_attempts, 1) AS base_attempts,
       n.hour AS rise_hour,
       round(n.c603::numeric / n.attempts, 4) AS rate_603,
       round(coalesce(s.base_603_rate, 0), 4) AS base_603_rate
FROM baseline s
JOIN hourly n ON n.caller = s.caller AND n.hour IN (s.hour, s.hour + interval '1 hour')
WHERE s.attempts >= :spike * s.base_attempts
  AND n.c603::numeric / n.attempts > coalesce(s.base_603_rate, 0)
ORDER BY s.caller, s.hour, n.hour;
