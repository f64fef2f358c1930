-- Final codes by terminating carrier (--carriers), with 4xx and 6xx shares
-- of attempts, last :hours hours. Paced and ACL-refused INVITEs never reached
-- a carrier and are left out.
SELECT carrier,
       count(*)                                                     AS attempts,
       count(*) FILTER (WHERE code BETWEEN 200 AND 299)             AS answered,
       count(*) FILTER (WHERE code BETWEEN 400 AND 499)             AS c4xx,
       count(*) FILTER (WHERE code BETWEEN 600 AND 699)             AS c6xx,
       round(count(*) FILTER (WHERE code BETWEEN 400 AND 499)::numeric / count(*), 4) AS share_4xx,
       round(count(*) FILTER (WHERE code BETWEEN 600 AND 699)::numeric / count(*), 4) AS share_6xx
FROM sippacer_cdr
WHERE ts > now() - make_interval(hours => :hours)
  AND paced IS NULL AND NOT refused_by_acl
GROUP BY carrier
ORDER BY attempts DESC, carrier;
