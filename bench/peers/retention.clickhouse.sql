-- Query 2, weekly retention (ClickHouse 18.16). Definition, shared by every
-- engine of bench/query_peers.sh (the native implementation must match it):
--   Rows: every event with one_id != 0, over the whole data set.
--   week(e) = floor((floor(e.ts / 1e6) - START_S) / 604800): whole weeks since
--   START_S (UTC seconds; query_peers.sh passes the Monday on or before
--   the simulator's start: 2025-12-29T00:00:00Z, ISO weeks as Quanyu counts). 90 days give weeks 0..12 (12 has
--   6 days).
--   cohort(person) = the smallest week of its 'Product Viewed' events; a person
--   without one is in no cohort.
--   Result: one row per cohort c that has persons, ascending:
--   [cohort, persons, p1, ..., p7], pn = persons of cohort c with at least one
--   event (any event) in week c + n (period 0 = persons: the cohort's own
--   Product Viewed); 0 where week c + n is past the data.
-- How: one pass, one GROUP BY one_id: the cohort (minIf) and a bit mask of
-- the weeks the person was active (groupBitOr), then one bit test per
-- period. retention_fn.clickhouse.sql computes the same with the retention()
-- aggregate function, which needs the cohort on every row and so a JOIN; it is
-- timed beside this one (query_peers.sh checks both give the same rows).
SELECT cohort, count() AS persons,
       sum(bitTest(weeks, cohort + 1)) AS p1, sum(bitTest(weeks, cohort + 2)) AS p2,
       sum(bitTest(weeks, cohort + 3)) AS p3, sum(bitTest(weeks, cohort + 4)) AS p4,
       sum(bitTest(weeks, cohort + 5)) AS p5, sum(bitTest(weeks, cohort + 6)) AS p6,
       sum(bitTest(weeks, cohort + 7)) AS p7
FROM
(
    SELECT one_id,
           minIf(w, event = 'Product Viewed') AS cohort,
           countIf(event = 'Product Viewed') AS viewed,
           groupBitOr(toUInt64(bitShiftLeft(toUInt64(1), w))) AS weeks
    FROM
    (
        SELECT one_id, event, intDiv(intDiv(ts, 1000000) - {start_s}, 604800) AS w
        FROM events
        WHERE one_id != 0
    )
    GROUP BY one_id
    HAVING viewed > 0
)
GROUP BY cohort
ORDER BY cohort
