-- Query 4, top-20 paths (ClickHouse 18.16). Definition, shared by every engine
-- of bench/query_peers.sh (the native implementation must match it exactly):
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
-- How: groupArray((ts, event)) per person, arraySort (tuples sort by ts, then
-- event), then arrayFilter against the array shifted by one to collapse runs
-- (18.16 has no arrayCompact; comparing with seq[i - 1] inside the lambda
-- would copy seq for every element, which made it twice as slow), and
-- arraySlice to 4.
SELECT arrayStringConcat(p, ' > ') AS path, count() AS persons
FROM
(
    SELECT arraySlice(arrayFilter((x, prev, i) -> i = 1 OR x != prev,
                                  seq, arrayPushFront(arrayPopBack(seq), ''), arrayEnumerate(seq)), 1, 4) AS p
    FROM
    (
        SELECT one_id, arrayMap(x -> x.2, arraySort(groupArray((ts, event)))) AS seq
        FROM events
        WHERE one_id != 0
        GROUP BY one_id
    )
)
WHERE length(p) = 4
GROUP BY p
ORDER BY persons DESC, path
LIMIT 20
