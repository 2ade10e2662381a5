#!/usr/bin/env bash
# ClickHouse peer of the query benchmark (bench/query_peers.sh, issue 4).
#
# Starts a private clickhouse-server (Debian's 18.16) as the current user, with
# its own config and data path in a temporary directory, listening on
# 127.0.0.1 only on a free port (the system service is never used); loads the
# events TSV written by bench/query_export; runs each query of QUERIES once to
# warm up and then RUNS times; writes the engine's result JSON; stops the
# server on exit.
#
# Usage: bench/peers/clickhouse.sh EVENTS.tsv OUT.json START_S [RUNS]
#   START_S   the range start in UTC seconds (the simulator's start_us / 1e6);
#             replaces {start_s} in the SQL
#   RUNS      timed runs per query after the warm-up (default 5)
# Environment: QUERIES (default "funnel retention retention_fn distinct paths"),
#   CH_THREADS (max_threads, default 2 = the machine's cores),
#   CH_KEEP=1 keeps the temporary directory (server log, data) for inspection.
#
# Timing: wall time of each query as clickhouse-client --time reports it (from
# sending the query to the last result byte; the result is a few rows), so the
# client's start-up and the load are not counted. Loading (INSERT of the TSV
# plus OPTIMIZE FINAL into one part) is timed separately as load_ms.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TSV=$(realpath "$1"); OUT_JSON=$(realpath -m "$2"); START_S=$3; RUNS=${4:-5}
QUERIES=${QUERIES:-funnel retention retention_fn distinct paths}
CH_THREADS=${CH_THREADS:-2}

command -v clickhouse-server >/dev/null || { echo "clickhouse.sh: clickhouse-server missing: run bench/peers/setup.sh" >&2; exit 1; }
DIR=$(mktemp -d /tmp/quanyu-clickhouse.XXXXXX)
SERVER=""
cleanup() {
  if [[ -n "$SERVER" ]] && kill -0 "$SERVER" 2>/dev/null; then
    kill -TERM "$SERVER" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER" 2>/dev/null || true
  fi
  if [[ "${CH_KEEP:-0}" == 1 ]]; then echo "clickhouse.sh: kept $DIR" >&2; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

# A free loopback port: bind port 0 and read what the kernel picked.
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")

mkdir -p "$DIR/data/tmp" "$DIR/data/user_files" "$DIR/data/format_schemas"
cat > "$DIR/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$DIR/server.log</log>
    <errorlog>$DIR/server.err.log</errorlog>
    <size>100M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>$PORT</tcp_port>
  <path>$DIR/data/</path>
  <tmp_path>$DIR/data/tmp/</tmp_path>
  <user_files_path>$DIR/data/user_files/</user_files_path>
  <format_schema_path>$DIR/data/format_schemas/</format_schema_path>
  <users_config>$DIR/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>1073741824</mark_cache_size>
  <max_concurrent_queries>8</max_concurrent_queries>
</yandex>
XML
cat > "$DIR/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_threads>$CH_THREADS</max_threads>
      <max_memory_usage>16000000000</max_memory_usage>
      <use_uncompressed_cache>0</use_uncompressed_cache>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
XML

clickhouse-server --config-file="$DIR/config.xml" >"$DIR/stdout.log" 2>&1 &
SERVER=$!
CH() { clickhouse-client --host 127.0.0.1 --port "$PORT" "$@" </dev/null; }
for i in $(seq 300); do
  if CH -q "SELECT 1" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null || [[ $i == 300 ]]; then
    echo "clickhouse.sh: server did not start; its log:" >&2
    tail -20 "$DIR/stdout.log" "$DIR/server.err.log" >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.1
done
VERSION=$(CH -q "SELECT version()")

# Sort key (one_id, ts): every query here is per person (funnel, retention,
# paths) or groups by person (distinct), so each person's events are
# contiguous and arrive in time order — windowFunnel then needs no sort and
# sees same-second events in microsecond order, and GROUP BY one_id reads
# runs of one key. (event, one_id, ts) would let the funnel's event filter
# skip granules, but breaks the per-person time order and helps only it.
# Plain String columns: LowCardinality is still experimental in 18.16.
CH -q "CREATE TABLE events (
  one_id UInt32, ts Int64, event String, type String, channel String,
  source String, campaign String, revenue Nullable(Float64)
) ENGINE = MergeTree ORDER BY (one_id, ts)"
LOAD_START=$(date +%s%N)
clickhouse-client --host 127.0.0.1 --port "$PORT" -q "INSERT INTO events FORMAT TabSeparated" < "$TSV"
CH -q "OPTIMIZE TABLE events FINAL"
LOAD_MS=$(( ($(date +%s%N) - LOAD_START) / 1000000 ))
EVENTS=$(CH -q "SELECT count() FROM events")
echo "clickhouse $VERSION: loaded $EVENTS events in $LOAD_MS ms (port $PORT)" >&2

# Per query: <q>.times_ms (one line per timed run) and <q>.rows.json.
RES="$DIR/results"; mkdir -p "$RES"
for q in $QUERIES; do
  sql="$HERE/$q.clickhouse.sql"
  [[ -f "$sql" ]] || { echo "clickhouse.sh: no $sql" >&2; exit 1; }
  text=$(sed "s/{start_s}/$START_S/g" "$sql")
  : > "$RES/$q.times_ms"
  for run in $(seq 0 "$RUNS"); do
    if ! CH --time --format=JSONCompact --output_format_json_quote_64bit_integers=0 -q "$text" >"$RES/$q.out.json" 2>"$RES/$q.err"; then
      echo "clickhouse.sh: query $q failed:" >&2; cat "$RES/$q.err" >&2; exit 1
    fi
    # --time prints the elapsed seconds as the last line on stderr.
    secs=$(tail -n1 "$RES/$q.err")
    [[ $run == 0 ]] || awk -v s="$secs" 'BEGIN { printf "%.3f\n", s * 1000 }' >> "$RES/$q.times_ms"
  done
  node -e "const r=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));
           process.stdout.write(JSON.stringify({columns:r.meta.map(m=>m.name),rows:r.data}))" \
    "$RES/$q.out.json" > "$RES/$q.rows.json"
  echo "clickhouse $q: $(paste -sd' ' "$RES/$q.times_ms") ms" >&2
done

node "$HERE/engine_json.mjs" --engine=clickhouse --version="$VERSION" --threads="$CH_THREADS" \
  --events="$EVENTS" --load-ms="$LOAD_MS" --dir="$RES" --queries="$QUERIES" > "$OUT_JSON"
