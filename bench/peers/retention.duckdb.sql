-- Query 2, weekly retention (DuckDB). Definition, shared by every engine of
-- bench/query_peers.sh (the native implementation must match it exactly):
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
-- How: the distinct (person, week) pairs joined to the cohort per person
-- (faster here than one GROUP BY with a bit mask of weeks).
WITH person_week AS (
    SELECT DISTINCT one_id, (ts // 1000000 - {start_s}) // 604800 AS w
    FROM events
    WHERE one_id <> 0
),
cohort AS (
    SELECT one_id, min((ts // 1000000 - {start_s}) // 604800) AS c
    FROM events
    WHERE one_id <> 0 AND event = 'Product Viewed'
    GROUP BY one_id
)
SELECT c AS cohort,
       count(*) FILTER (WHERE w = c) AS persons,
       count(*) FILTER (WHERE w = c + 1) AS p1, count(*) FILTER (WHERE w = c + 2) AS p2,
       count(*) FILTER (WHERE w = c + 3) AS p3, count(*) FILTER (WHERE w = c + 4) AS p4,
       count(*) FILTER (WHERE w = c + 5) AS p5, count(*) FILTER (WHERE w = c + 6) AS p6,
       count(*) FILTER (WHERE w = c + 7) AS p7
FROM cohort JOIN person_week USING (one_id)
GROUP BY c
ORDER BY c
