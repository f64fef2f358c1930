-- The operator's alert line (docs/pacing.md): numbers whose 603 share of attempts
-- exceeds 5% over the rolling last 4 hours, with at least :min_attempts
-- attempts. Pull them from dialing and check their label on handsets.
-- psql -v min_attempts=20 -f alert_603_rate.sql
SELECT caller,
       count(*)                                   AS attempts,
       count(*) FILTER (WHERE code = 603)         AS c603,
       round(count(*) FILTER (WHERE code = 603)::numeric / count(*), 4) AS rate_603,
       count(*) FILTER (WHERE network_blocked)    AS c603_plus
FROM sippacer_cdr
WHERE ts > now() - interval '4 hours'
  AND paced IS NULL AND NOT refused_by_acl
GROUP BY caller
HAVING count(*) >= :min_attempts
   AND count(*) FILTER (WHERE code = 603)::numeric / count(*) > 0.05
ORDER BY rate_603 DESC, caller;
