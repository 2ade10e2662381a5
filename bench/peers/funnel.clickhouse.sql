-- Query 1, funnel (ClickHouse 18.16). Definition, shared by every engine of
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
-- The WHERE on event is the usual pre-filter (it does not change the result).
-- windowFunnel orders by whole seconds only (a stable sort, and only if rows
-- came out of order); the table's (one_id, ts) sort key delivers each
-- person's events in microsecond order, which settles same-second steps.
SELECT
    countIf(level >= 1) AS step1,
    countIf(level >= 2) AS step2,
    countIf(level >= 3) AS step3,
    countIf(level >= 4) AS step4
FROM
(
    SELECT
        one_id,
        windowFunnel(604800)(toDateTime(intDiv(ts, 1000000)),
            event = 'Product Viewed', event = 'Product Added',
            event = 'Checkout Started', event = 'Order Completed') AS level
    FROM events
    WHERE one_id != 0
      AND event IN ('Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed')
    GROUP BY one_id
)
