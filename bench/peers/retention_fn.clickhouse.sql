-- Query 2, weekly retention (ClickHouse 18.16), with the retention() aggregate
-- function: the textbook ClickHouse form, timed beside retention.clickhouse.sql
-- (which must give the same rows). Definition, shared by every engine of
-- bench/query_peers.sh:
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
-- How: the cohort per person (GROUP BY over the Product Viewed events) joined
-- back to every event of the person; retention(w = c, w = c + 1, ..., w = c + 7)
-- per person gives [1, active in c+1, ..., active in c+7]. 18.16 needs the
-- ALL/ANY strictness on a JOIN; the right side (one row per person) is the
-- hash table.
SELECT cohort, count() AS persons,
       sum(r[2]) AS p1, sum(r[3]) AS p2, sum(r[4]) AS p3, sum(r[5]) AS p4,
       sum(r[6]) AS p5, sum(r[7]) AS p6, sum(r[8]) AS p7
FROM
(
    SELECT one_id, cohort,
           retention(w = cohort, w = cohort + 1, w = cohort + 2, w = cohort + 3,
                     w = cohort + 4, w = cohort + 5, w = cohort + 6, w = cohort + 7) AS r
    FROM
    (
        SELECT one_id, intDiv(intDiv(ts, 1000000) - {start_s}, 604800) AS w
        FROM events
        WHERE one_id != 0
    )
    ALL INNER JOIN
    (
        SELECT one_id, min(intDiv(intDiv(ts, 1000000) - {start_s}, 604800)) AS cohort
        FROM events
        WHERE one_id != 0 AND event = 'Product Viewed'
        GROUP BY one_id
    ) USING one_id
    GROUP BY one_id, cohort
)
GROUP BY cohort
ORDER BY cohort
