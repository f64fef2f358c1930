-- Final codes by hour of day (in the session's time zone), last :days days.
-- psql -v days=7 -f codes_by_hour.sql
SELECT extract(hour FROM ts)::int AS hour,
       count(*) FILTER (WHERE paced IS NULL AND NOT refused_by_acl) AS attempts,
       count(*) FILTER (WHERE code BETWEEN 200 AND 299)           AS answered,
       count(*) FILTER (WHERE code = 603 AND paced IS NULL)       AS c603,
       count(*) FILTER (WHERE code = 480)                         AS c480,
       count(*) FILTER (WHERE code = 486)                         AS c486
FROM sippacer_cdr
WHERE ts > now() - make_interval(days => :days)
GROUP BY 1
ORDER BY 1;
