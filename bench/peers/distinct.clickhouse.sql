-- Query 3, distinct persons per event (ClickHouse 18.16). Definition, shared
-- by every engine of bench/query_peers.sh (the native implementation must
-- match it exactly):
--   Rows: every event with one_id != 0, over the whole data set.
--   Result: one row per distinct event value, ordered by event (byte order):
--   [event, persons], persons = number of distinct one_id with that event.
--   event is the stored name (track name, or page/screen name, so page
--   "Landing" and screen "Landing" are one value), or the type ("identify")
--   when the name is empty, exactly as bench/query_export writes it — except
--   that events without a name are one value, '(none)', as Quanyu's trends
--   breakdown by event reports them.
SELECT if(event = type, '(none)', event) AS e, uniqExact(one_id) AS persons
FROM events
WHERE one_id != 0
GROUP BY e
ORDER BY e
