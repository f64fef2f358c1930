-- Distribution of final codes per originating number, last :hours hours.
-- psql -v hours=24 -f codes_by_number.sql
SELECT caller,
       count(*) FILTER (WHERE paced IS NULL AND NOT refused_by_acl)              AS attempts,
       count(*) FILTER (WHERE code BETWEEN 200 AND 299)                        AS answered,
       count(*) FILTER (WHERE code = 603 AND paced IS NULL)                    AS c603,
       count(*) FILTER (WHERE code = 603 AND pre_ring AND paced IS NULL)       AS c603_pre_ring,
       count(*) FILTER (WHERE network_blocked)                                 AS c603_plus,
       count(*) FILTER (WHERE code = 608)                                      AS c608,
       count(*) FILTER (WHERE code = 480 AND paced IS NULL)                    AS c480,
       count(*) FILTER (WHERE code = 486)                                      AS c486,
       count(*) FILTER (WHERE code IN (404, 410))                              AS c404_410,
       count(*) FILTER (WHERE code = 503 AND paced IS NULL)                    AS c503,
       count(*) FILTER (WHERE paced IS NOT NULL)                               AS paced
FROM sippacer_cdr
WHERE ts > now() - make_interval(hours => :hours)
GROUP BY caller
ORDER BY c603 DESC, attempts DESC, caller;
