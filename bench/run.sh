#!/usr/bin/env bash
# Runs the benchmarks of issues 2 and 3 and appends the figures to
# bench/RESULTS.md:
#   1. HTTP ingest with wrk (Segment batches of 100, keep-alive, durable acks)
#      beside nginx answering a static 200 on the same machine (the ceiling);
#   2. bulk import of simulator JSONL beside a bare simdjson parse of it;
#   3. the log beside RocksDB WriteBatch(sync=true) on the same records;
#   4. the store: bytes and resident memory per event; 5. the simulator;
#   6. One-ID resolution throughput on one thread beside a plain union-find,
#      and the graph's memory per identifier and per person;
#   7. profile lookup latency with and without ingest running.
# Usage: bench/run.sh [--quick] [--only=SECTIONS] [--no-build] [size flags]
#   --quick                  smaller sizes, for a smoke run (not appended)
#   --only=a,b               run only these sections: http, import, log, store,
#                            sim, identity, lookup (default: all)
#   --no-build               use the binaries already in $QUANYU_BUILD_DIR
#   --identity-persons=N     simulated persons for 6 (default 1100000: ~10.9 M
#                            identify + track events; --quick 100000)
#   --identity-repeat=N      graph builds for 6; best and median (default 3)
#   --lookup-persons=N       simulated persons for 7 (default 100000; --quick 20000)
#   --lookup-seconds=S       lookups under ingest for 7 (default 20; --quick 5)
# QUANYU_BUILD_DIR picks the build directory (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0; ONLY=all; BUILD=1
ID_PERSONS=""; ID_REPEAT=3; LOOKUP_PERSONS=""; LOOKUP_SECONDS=""
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --only=*) ONLY=${arg#--only=} ;;
    --no-build) BUILD=0 ;;
    --identity-persons=*) ID_PERSONS=${arg#*=} ;;
    --identity-repeat=*) ID_REPEAT=${arg#*=} ;;
    --lookup-persons=*) LOOKUP_PERSONS=${arg#*=} ;;
    --lookup-seconds=*) LOOKUP_SECONDS=${arg#*=} ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
want() { [[ "$ONLY" == all || ",$ONLY," == *",$1,"* ]]; }
: "${ID_PERSONS:=$([[ $QUICK == 1 ]] && echo 100000 || echo 1100000)}"
: "${LOOKUP_PERSONS:=$([[ $QUICK == 1 ]] && echo 20000 || echo 100000)}"
: "${LOOKUP_SECONDS:=$([[ $QUICK == 1 ]] && echo 5 || echo 20)}"
B=${QUANYU_BUILD_DIR:-build}; Q=$B/quanyu
if [[ $BUILD == 1 ]]; then
  ./scripts/install-deps.sh >/dev/null
  QUANYU_BUILD_DIR=$B ./scripts/build.sh >/dev/null
fi
WORK=$(mktemp -d /tmp/quanyu-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
OUT=$WORK/results.md
DURATION=$([[ $QUICK == 1 ]] && echo 5s || echo 20s)
PERSONS=$([[ $QUICK == 1 ]] && echo 20000 || echo 200000)

{
  echo "## $(date -u +%Y-%m-%d) — $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo
} > "$OUT"

# --- 1. HTTP ingest vs nginx ---------------------------------------------------
if want http; then
PORT=18400; NGX_PORT=18401
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<NGX
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx;
  proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  server { listen 127.0.0.1:$NGX_PORT; location / { return 200 '{"success":true}'; } }
}
NGX
nginx -c "$WORK/nginx/nginx.conf"
wrk_result() { grep RESULT | sed 's/RESULT //'; }
field() { echo "$1" | tr ' ' '\n' | grep "^$2=" | cut -d= -f2; }

NGX=$(wrk -t2 -c64 -d$DURATION -s bench/http/static.lua http://127.0.0.1:$NGX_PORT/ | wrk_result)
kill "$(cat "$WORK/nginx/nginx.pid")"

KEY=$($Q source add bench --type server --data "$WORK/http-data" 2>/dev/null)
$Q serve --data "$WORK/http-data" --listen 127.0.0.1:$PORT >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
ING=$(WRITE_KEY=$KEY wrk -t2 -c64 -d$DURATION -s bench/http/ingest.lua http://127.0.0.1:$PORT | wrk_result)
ACCEPTED=$(curl -s http://127.0.0.1:$PORT/metrics | awk '/^quanyu_events_accepted_total/ {s+=$2} END {print s+0}')
kill -TERM $SERVER; wait $SERVER || true
ING_REQ=$(field "$ING" requests); ING_S=$(field "$ING" duration_s)
NGX_REQ=$(field "$NGX" requests); NGX_S=$(field "$NGX" duration_s)
{
  echo "### HTTP ingest (wrk -t2 -c64 -d$DURATION, Segment batches of 100 events, fsync before ack)"
  echo
  echo "| server | requests/s | events/s | p50 ms | p99 ms | errors |"
  echo "|---|---|---|---|---|---|"
  printf "| quanyu /v1/batch | %.0f | %.0f (durable: %s in total) | %s | %s | %s |\n" \
    "$(echo "$ING_REQ / $ING_S" | bc -l)" "$(echo "$ACCEPTED / $ING_S" | bc -l)" "$ACCEPTED" \
    "$(field "$ING" p50_ms)" "$(field "$ING" p99_ms)" "$(field "$ING" errors)"
  printf "| nginx static 200 (ceiling) | %.0f | — | %s | %s | %s |\n" \
    "$(echo "$NGX_REQ / $NGX_S" | bc -l)" "$(field "$NGX" p50_ms)" "$(field "$NGX" p99_ms)" "$(field "$NGX" errors)"
  echo
  echo "wrk shares the 2 cores with the server under test."
  echo
} >> "$OUT"
fi

# --- 2. Bulk import vs bare simdjson -------------------------------------------
if want import; then
$Q sim --persons $PERSONS --output "$WORK/sim.jsonl" 2>/dev/null
LINES=$(wc -l < "$WORK/sim.jsonl")
PARSE=$($B/bench/jsonl_parse_bench "$WORK/sim.jsonl")
START=$(date +%s.%N)
$Q import "$WORK/sim.jsonl" --data "$WORK/import-data" --source sim >/dev/null 2>&1
END=$(date +%s.%N)
IMPORT_EPS=$(echo "$LINES / ($END - $START)" | bc -l)
{
  echo "### Bulk import of simulator JSONL ($LINES events, $(du -m "$WORK/sim.jsonl" | cut -f1) MB)"
  echo
  echo "| path | events/s |"
  echo "|---|---|"
  printf "| quanyu import (parse, normalize, dedupe, log fsync, store) | %.0f |\n" "$IMPORT_EPS"
  printf "| bare simdjson parse of each line (the limit) | %s |\n" "$PARSE"
  echo
} >> "$OUT"
fi

# --- 3-5. Log, store, simulator -------------------------------------------------
{
  if want log; then
    echo "### Log: durable appends beside RocksDB WriteBatch(sync=true)"
    echo
    $B/bench/log_bench
    echo
  fi
  if want store; then
    echo "### Store"
    echo
    $B/bench/store_bench --n=$([[ $QUICK == 1 ]] && echo 200000 || echo 2000000)
    echo
  fi
  if want sim; then
    echo "### Simulator"
    echo
    $B/bench/sim_bench $([[ $QUICK == 1 ]] && echo 100000 || echo 1000000)
    echo
  fi
} >> "$OUT" 2>&1

# --- 6. One-ID resolution throughput and memory -----------------------------------
if want identity; then
  {
    echo "### One-ID resolution, one thread ($ID_PERSONS simulated persons, identify + track events)"
    echo
    echo '```'
    $B/bench/identity_bench --persons="$ID_PERSONS" --repeat="$ID_REPEAT"
    echo '```'
    echo
  } >> "$OUT" 2>&1
fi

# --- 7. Profile lookup latency under ingest ------------------------------------------
if want lookup; then
  {
    echo "### Profile lookup latency (LookupPerson + ProfileJson), with and without ingest"
    echo
    echo '```'
    $B/bench/profile_lookup_bench --persons="$LOOKUP_PERSONS" --seconds="$LOOKUP_SECONDS" \
      --idle-seconds=$([[ $QUICK == 1 ]] && echo 3 || echo 10)
    echo '```'
    echo
  } >> "$OUT" 2>&1
fi

cat "$OUT"
if [[ $QUICK == 0 ]]; then
  { echo; cat "$OUT"; } >> bench/RESULTS.md
  echo "appended to bench/RESULTS.md"
fi
