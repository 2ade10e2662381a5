-- Query 1, funnel (ClickHouse 18.16). Definition, shared by every engine of
-- bench/query_peers.sh (the native implementation must match it exactly):
--   Rows: every event with one_id != 0, over the whole data set.
--   Steps: 1 'Product Viewed', 2 'Product Added', 3 'Checkout Started',
--          4 'Order Completed' (event name; an event matches at most one step).
--   A person (one_id) reaches step k if it has events e1..ek, ei matching step
--   i, that are in time order (ts, microseconds, non-decreasing; the data has
--   no equal-microsecond step events of one person) and within the window:
--   floor(ek.ts / 1e6) - floor(e1.ts / 1e6) <= 604800 (7 days, inclusive,
--   compared in whole UTC seconds: windowFunnel of 18.16 takes DateTime only).
--   This is windowFunnel's default (non-strict) semantics.
--   Result: one row, [persons reaching step 1, step 2, step 3, step 4]; a person
--   is counted at every step up to the deepest one reached.
-- The WHERE on event is the usual pre-filter (it does not change the result).
-- Input arrives in (one_id, ts) order from the table's sort key, so
-- windowFunnel sees each person's events in microsecond order.
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
