-- Query 1, funnel (DuckDB). Definition, shared by every engine of
-- bench/query_peers.sh (the native implementation must match it exactly):
--   Rows: every event with one_id != 0, over the whole data set.
--   Steps: 1 'Product Viewed', 2 'Product Added', 3 'Checkout Started',
--          4 'Order Completed' (event name; an event matches at most one step).
--   A person (one_id) reaches step k if it has events e1..ek, ei matching step
--   i, that are in time order (ts, microseconds, non-decreasing; the data has
--   no equal-microsecond step events of one person) and within the window:
--   floor(ek.ts / 1e6) - floor(e1.ts / 1e6) <= 604800 (7 days, inclusive,
--   compared in whole UTC seconds, as ClickHouse 18.16's windowFunnel does).
--   This is windowFunnel's default (non-strict) semantics.
--   Result: one row, [persons reaching step 1, step 2, step 3, step 4]; a person
--   is counted at every step up to the deepest one reached.
-- How: ClickHouse's greedy scan as window functions. For a step-k event, the
-- best chain through it starts at the latest start of any chain that reached
-- step k-1 earlier (a later start leaves more of the window); starts only grow
-- along a person's timeline, so "latest" is a running max. s1 = the event's
-- own second for step 1; s_k = running max of the valid s_{k-1} before it,
-- valid if the event is within 604800 s of it. One level of window per step.
WITH steps AS (
    SELECT one_id, ts, ts // 1000000 AS t,
           CASE event WHEN 'Product Viewed' THEN 1 WHEN 'Product Added' THEN 2
                      WHEN 'Checkout Started' THEN 3 ELSE 4 END AS step
    FROM events
    WHERE one_id <> 0
      AND event IN ('Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed')
),
l2 AS (
    SELECT one_id, ts, t, step,
           CASE WHEN step = 2 THEN max(CASE WHEN step = 1 THEN t END) OVER w END AS s2
    FROM steps
    WINDOW w AS (PARTITION BY one_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING)
),
l3 AS (
    SELECT one_id, ts, t, step, s2,
           CASE WHEN step = 3 THEN max(CASE WHEN t - s2 <= 604800 THEN s2 END) OVER w END AS s3
    FROM l2
    WINDOW w AS (PARTITION BY one_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING)
),
l4 AS (
    SELECT one_id, step, s2, s3,
           CASE WHEN step = 4 THEN max(CASE WHEN t - s3 <= 604800 THEN s3 END) OVER w END AS s4,
           t
    FROM l3
    WINDOW w AS (PARTITION BY one_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING)
),
person AS (
    SELECT one_id,
           CASE WHEN bool_or(t - s4 <= 604800) THEN 4
                WHEN bool_or(t - s3 <= 604800) THEN 3
                WHEN bool_or(t - s2 <= 604800) THEN 2
                WHEN bool_or(step = 1) THEN 1 ELSE 0 END AS level
    FROM l4
    GROUP BY one_id
)
SELECT count(*) FILTER (WHERE level >= 1) AS step1,
       count(*) FILTER (WHERE level >= 2) AS step2,
       count(*) FILTER (WHERE level >= 3) AS step3,
       count(*) FILTER (WHERE level >= 4) AS step4
FROM person
