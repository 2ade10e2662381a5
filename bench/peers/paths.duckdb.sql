-- Query 4, top-20 paths (DuckDB). Definition, shared by every engine of
-- bench/query_peers.sh (the native implementation must match it exactly):
--   Rows: every event with one_id != 0, over the whole data set.
--   A person's sequence: its events ordered by (ts, event) (microseconds,
--   then the event value in byte order for equal times), mapped to the event
--   value (as in query 3: name, or type when the name is empty), with runs of
--   consecutive equal values collapsed to one. Its path = the first 4 values
--   of that sequence; persons whose collapsed sequence has fewer than 4 values
--   have no path. (The sequence starts at the person's first event.)
--   Result: the 20 most frequent paths, [path, persons], path = the 4 values
--   joined with " > ", persons = persons with that path; ordered by persons
--   descending, then path ascending (byte order).
-- How: one window sort per person gives the row number and the previous
-- event; rows equal to their predecessor are dropped, and min_by(event, rn, 4)
-- keeps the first 4 survivors in order (faster than list() + list_filter, or
-- a second window for the row number).
WITH marked AS (
    SELECT one_id, event, row_number() OVER w AS rn, lag(event) OVER w AS prev
    FROM events
    WHERE one_id <> 0
    WINDOW w AS (PARTITION BY one_id ORDER BY ts, event)
),
paths AS (
    SELECT min_by(event, rn, 4) AS p
    FROM marked
    WHERE prev IS NULL OR prev <> event
    GROUP BY one_id
)
SELECT array_to_string(p, ' > ') AS path, count(*) AS persons
FROM paths
WHERE len(p) = 4
GROUP BY path
ORDER BY persons DESC, path
LIMIT 20
