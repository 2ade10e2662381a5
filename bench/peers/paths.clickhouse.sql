-- Query 4, top-20 paths (ClickHouse 18.16). Definition, shared by every engine
-- of bench/query_peers.sh; it is the native paths query (docs/metrics.md
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
-- How: groupArray((ts, event)) per person, arraySort (tuples sort by ts, then
-- event), then arrayFilter against the array shifted by one to collapse runs
-- (18.16 has no arrayCompact; comparing with seq[i - 1] inside the lambda
-- would copy seq for every element, which made it twice as slow), and
-- arraySlice to 4 or arrayPushBack of "(end)".
SELECT arrayStringConcat(p, ' > ') AS path, count() AS persons
FROM
(
    SELECT if(length(c) < 4, arrayPushBack(c, '(end)'), arraySlice(c, 1, 4)) AS p
    FROM
    (
        SELECT arrayFilter((x, prev, i) -> i = 1 OR x != prev,
                           seq, arrayPushFront(arrayPopBack(seq), ''), arrayEnumerate(seq)) AS c
        FROM
        (
            SELECT one_id, arrayMap(x -> x.2, arraySort(groupArray((ts, event)))) AS seq
            FROM events
            WHERE one_id != 0 AND type IN ('track', 'page', 'screen', 'track_signup')
            GROUP BY one_id
        )
    )
)
GROUP BY p
ORDER BY persons DESC, path
LIMIT 20
