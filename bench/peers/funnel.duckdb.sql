-- Query 1, funnel (DuckDB). Definition, shared by every engine of
-- bench/query_peers.sh (the native implementation must match it exactly):
--   Rows: every event with one_id != 0, over the whole data set.
--   Steps: 1 'Product Viewed', 2 'Product Added', 3 'Checkout Started',
--          4 'Order Completed' (the event column; an event matches at most
--          one step).
--   A person (one_id) reaches step k if it has events e1..ek, ei matching step
--   i, in time order (ts in microseconds, non-decreasing) and within the
--   window: floor(ek.ts / 1e6) - floor(e1.ts / 1e6) <= 604800 (7 days,
--   inclusive, in whole UTC seconds because ClickHouse 18.16's windowFunnel
--   takes DateTime only). This is windowFunnel's default (non-strict) mode.
--   Result: one row [step1, step2, step3, step4] = persons reaching at least
--   that step (a person is counted at every step up to its deepest).
-- How: ClickHouse's greedy scan, as ASOF joins. The best chain through a
-- step-k event starts at the latest start of any chain that reached step k-1
-- at or before it (a later start leaves more of the window). Those starts
-- only grow along a person's timeline, so it is the start carried by the
-- latest *valid* step-(k-1) event at or before it: one ASOF join per step,
-- keeping the step-k events within 604800 s of that start.
WITH steps AS (
    SELECT one_id, ts, ts // 1000000 AS t, event
    FROM events
    WHERE one_id <> 0
      AND event IN ('Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed')
),
e1 AS (SELECT one_id, ts, t AS s FROM steps WHERE event = 'Product Viewed'),
e2 AS (
    SELECT e.one_id, e.ts, p.s
    FROM (SELECT * FROM steps WHERE event = 'Product Added') e
    ASOF JOIN e1 p ON e.one_id = p.one_id AND e.ts >= p.ts
    WHERE e.t - p.s <= 604800
),
e3 AS (
    SELECT e.one_id, e.ts, p.s
    FROM (SELECT * FROM steps WHERE event = 'Checkout Started') e
    ASOF JOIN e2 p ON e.one_id = p.one_id AND e.ts >= p.ts
    WHERE e.t - p.s <= 604800
),
e4 AS (
    SELECT e.one_id, e.ts, p.s
    FROM (SELECT * FROM steps WHERE event = 'Order Completed') e
    ASOF JOIN e3 p ON e.one_id = p.one_id AND e.ts >= p.ts
    WHERE e.t - p.s <= 604800
)
SELECT (SELECT count(DISTINCT one_id) FROM e1) AS step1,
       (SELECT count(DISTINCT one_id) FROM e2) AS step2,
       (SELECT count(DISTINCT one_id) FROM e3) AS step3,
       (SELECT count(DISTINCT one_id) FROM e4) AS step4
