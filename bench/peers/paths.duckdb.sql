-- Query 4, top-20 paths (DuckDB). Definition, shared by every engine of
-- bench/query_peers.sh; it is the native paths query (docs/metrics.md
-- "Paths") with {"scope": "journey", "granularity": "event", "steps": 4,
-- "collapse_repeats": true, "top": 20} and no anchor:
--   Rows: every journey event with one_id != 0, over the whole data set
--   (the simulated 90 days lie inside the native range [2026-01-01,
--   2026-04-01)). Journey events are the types track, page, screen and
--   track_signup; identify, alias, profile updates, ... are not steps.
--   A person's sequence: its journey events ordered by (ts, event)
--   (microseconds, then the event value in byte order for equal times — the
--   native tie order is event name, then node, and at event granularity the
--   node is the event name), mapped to the event value (name, or type when the
--   name is empty), with runs of consecutive equal values collapsed to one.
--   Its path = the first 4 values of that sequence; a sequence of fewer than 4
--   values gets one "(end)" appended (so a path has 2 to 4 values, "(end)"
--   counting as one of them). Every person with a journey event has a path.
--   Result: the 20 most frequent paths, [path, persons], path = the values
--   joined with " > ", persons = persons with that path; ordered by persons
--   descending, then path ascending (byte order).
-- How: one window sort per person gives the row number and the previous
-- event; rows equal to their predecessor are dropped, and min_by(event, rn, 4)
-- keeps the first 4 survivors in order (faster than list() + list_filter, or
-- a second window for the row number); shorter lists get "(end)" appended.
WITH marked AS (
    SELECT one_id, event, row_number() OVER w AS rn, lag(event) OVER w AS prev
    FROM events
    WHERE one_id <> 0 AND type IN ('track', 'page', 'screen', 'track_signup')
    WINDOW w AS (PARTITION BY one_id ORDER BY ts, event)
),
paths AS (
    SELECT min_by(event, rn, 4) AS p
    FROM marked
    WHERE prev IS NULL OR prev <> event
    GROUP BY one_id
)
SELECT array_to_string(CASE WHEN len(p) < 4 THEN list_append(p, '(end)') ELSE p END, ' > ') AS path,
       count(*) AS persons
FROM paths
GROUP BY path
ORDER BY persons DESC, path
LIMIT 20
