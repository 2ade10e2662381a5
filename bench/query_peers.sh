#!/usr/bin/env bash
# Query benchmark of issue 4: on the same data in the same run, the analysis
# queries (funnel, retention, distinct persons per event, top paths) in
# Quanyu beside two peers, DuckDB (@duckdb/node-api, in memory) and ClickHouse
# (Debian's clickhouse-server 18.16, MergeTree). The exact definition of each
# query is in the comment at the top of bench/peers/<query>.<engine>.sql.
#
#   1. bench/peers/setup.sh (idempotent: apt clickhouse-*, npm ci for DuckDB);
#   2. builds quanyu and bench/query_export (unless --no-build);
#   3. `quanyu sim` into a data directory cached under $QUANYU_QUERY_CACHE
#      (default /tmp/quanyu-query-cache), reused for the same persons, seed and
#      days; the export (events + resolved one_id, TSV) is redone whenever
#      query_export is newer than it, since One-ID decides the persons;
#   4. each engine runs each query once to warm up, then --runs times: best and
#      median wall time, query time only (loading is reported apart);
#   5. checks that every engine gives the same rows for every query (a clear
#      MISMATCH otherwise, and exit status 1) and writes $OUT/peers.json.
#
# Usage: bench/query_peers.sh [--persons=N] [--seed=S] [--days=D] [--runs=R]
#                             [--engines=clickhouse,duckdb,quanyu] [--out=DIR]
#                             [--no-build] [--fresh]
#   --persons=N   simulated persons (default 1000000: ~21 M events)
#   --runs=R      timed runs per query after one warm-up (default 5)
#   --engines=    which engines to run (default: all three; quanyu is skipped
#                 while the binary has no `query` subcommand)
#   --out=DIR     where peers.json and the engines' files go (default $OUT or
#                 /tmp/quanyu-query-peers)
#   --fresh       regenerate the cached data directory and export
# QUANYU_BUILD_DIR picks the build directory (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS=1000000; SEED=42; DAYS=90; RUNS=5; ENGINES=clickhouse,duckdb,quanyu
OUT=${OUT:-/tmp/quanyu-query-peers}; BUILD=1; FRESH=0
for arg in "$@"; do
  case "$arg" in
    --persons=*) PERSONS=${arg#*=} ;;
    --seed=*) SEED=${arg#*=} ;;
    --days=*) DAYS=${arg#*=} ;;
    --runs=*) RUNS=${arg#*=} ;;
    --engines=*) ENGINES=${arg#*=} ;;
    --out=*) OUT=${arg#*=} ;;
    --no-build) BUILD=0 ;;
    --fresh) FRESH=1 ;;
    *) echo "query_peers.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
want() { [[ ",$ENGINES," == *",$1,"* ]]; }
B=${QUANYU_BUILD_DIR:-build}; Q=$B/quanyu; EXPORT=$B/bench/query_export
CACHE=${QUANYU_QUERY_CACHE:-/tmp/quanyu-query-cache}/persons$PERSONS-seed$SEED-days$DAYS
DATA=$CACHE/data; TSV=$CACHE/events.tsv
mkdir -p "$OUT" "$CACHE"
OUT=$(realpath "$OUT")
WORK=$(mktemp -d /tmp/quanyu-query-peers.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# --- 1-2. Peers and binaries ---------------------------------------------------------
bench/peers/setup.sh
if [[ $BUILD == 1 ]]; then
  if [[ -f $B/build.ninja ]]; then
    ninja -C "$B" quanyu query_export >/dev/null
  else
    QUANYU_BUILD_DIR=$B ./scripts/build.sh quanyu query_export >/dev/null
  fi
fi

# --- 3. Data and export -----------------------------------------------------------------
if [[ $FRESH == 1 || ! -f $DATA/.complete ]]; then
  rm -rf "$DATA" "$TSV"
  echo "query_peers: quanyu sim --persons $PERSONS --seed $SEED --days $DAYS into $DATA" >&2
  "$Q" sim --persons "$PERSONS" --seed "$SEED" --days "$DAYS" --data "$DATA" >&2
  touch "$DATA/.complete"
fi
if [[ ! -f $TSV || $EXPORT -nt $TSV || $DATA/.complete -nt $TSV ]]; then
  "$EXPORT" --data="$DATA" --output="$TSV.tmp"
  mv "$TSV.tmp" "$TSV"
fi
START_US=$(node -e "console.log(JSON.parse(require('fs').readFileSync(process.argv[1])).options.start_us)" "$DATA.sim_truth.json")
START_S=$((START_US / 1000000))
# Retention weeks are ISO weeks (Monday), as Quanyu's retention query counts
# them: the peers count weeks from the Monday on or before the sim's start.
START_S=$((START_S - ((START_S / 86400 + 3) % 7) * 86400))
EVENTS=$(wc -l < "$TSV")
echo "query_peers: $EVENTS events, range start $START_S (UTC s)" >&2

# --- Machine load ---------------------------------------------------------------------------
# The machine is shared (other builds may run): record the load average and
# how busy the CPUs were while nothing of ours ran (a 5 s probe) and during
# each engine's run, so the figures can be read with that in mind.
cpu_sample() { awk '/^cpu / { idle = $5 + $6; total = 0; for (i = 2; i <= NF; i++) total += $i; print idle, total }' /proc/stat; }
busy_pct() {  # busy_pct "IDLE0 TOTAL0" "IDLE1 TOTAL1"
  read -r i0 t0 <<<"$1"; read -r i1 t1 <<<"$2"
  awk -v i0="$i0" -v t0="$t0" -v i1="$i1" -v t1="$t1" 'BEGIN { printf "%.1f", (t1 > t0) ? 100 * (1 - (i1 - i0) / (t1 - t0)) : 0 }'
}
probe_busy() { local a b; a=$(cpu_sample); sleep 5; b=$(cpu_sample); busy_pct "$a" "$b"; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
IDLE_BUSY_BEFORE=$(probe_busy)
echo "query_peers: load average $LOAD_BEFORE; CPUs ${IDLE_BUSY_BEFORE}% busy before the run (others' work)" >&2
declare -A ENGINE_BUSY

run_engine() {  # run_engine NAME COMMAND...: runs it, records CPU busy % over it
  local name=$1; shift
  local a b rc=0
  a=$(cpu_sample)
  "$@" || rc=$?
  b=$(cpu_sample)
  if [[ $rc == 0 ]]; then ENGINE_BUSY[$name]=$(busy_pct "$a" "$b"); fi
  return $rc
}

# --- 4. Engines -----------------------------------------------------------------------------
RESULTS=()
if want clickhouse; then
  run_engine clickhouse bench/peers/clickhouse.sh "$TSV" "$OUT/clickhouse.json" "$START_S" "$RUNS"
  RESULTS+=("$OUT/clickhouse.json")
fi
if want duckdb; then
  run_engine duckdb node bench/peers/duckdb.mjs --tsv="$TSV" --out="$OUT/duckdb.json" \
    --start-s="$START_S" --runs="$RUNS" --threads=2
  RESULTS+=("$OUT/duckdb.json")
fi

# ==== QUANYU ====================================================================================
# On the SAME data directory, $DATA (the TSV the peers load was exported from
# it, with the persons One-ID resolves now), the same rows per query as
# bench/peers/<query>.duckdb.sql defines, and the same timing rule: the
# engine is opened before timing starts (as the peers' load is not timed),
# then warm-up and $RUNS timed runs, best and median wall time, written to
# $OUT/quanyu.json in the shape of bench/peers/engine_json.mjs.
run_native() {
  # bench/query_bench opens the engine on $DATA (not timed, like the peers'
  # load), runs each query cold, once to warm up and $RUNS times.
  local qb=$B/bench/query_bench
  if [[ ! -x $qb ]]; then
    echo "query_peers: quanyu: skipped ($qb not built: ninja -C $B query_bench)" >&2
    return 1
  fi
  "$qb" --data="$DATA" --repeat="$RUNS" --out="$WORK/query_bench.json" || return 1
  node bench/peers/native.mjs --in="$WORK/query_bench.json" --out="$OUT/quanyu.json" \
    --events="$EVENTS" --week0-s="$START_S"
}
if want quanyu; then
  if run_engine quanyu run_native; then RESULTS+=("$OUT/quanyu.json"); else rm -f "$OUT/quanyu.json"; fi
fi
# ==== END OF QUANYU ============================================================================

# --- 5. Agreement and report --------------------------------------------------------------
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
IDLE_BUSY_AFTER=$(probe_busy)
busy_json=$(for k in "${!ENGINE_BUSY[@]}"; do printf '"%s": %s\n' "$k" "${ENGINE_BUSY[$k]}"; done | paste -sd, -)
cat > "$WORK/meta.json" <<JSON
{
 "benchmark": "query_peers (issue 4)",
 "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "commit": "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo '+changes')",
 "persons": $PERSONS, "seed": $SEED, "days": $DAYS, "events": $EVENTS,
 "range_start_s": $START_S, "runs": $RUNS,
 "machine": {
  "cores": $(nproc),
  "memory_gib": $(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo),
  "cpu": "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)",
  "loadavg_before": "$LOAD_BEFORE", "loadavg_after": "$LOAD_AFTER",
  "cpu_busy_pct_idle_probe_before": $IDLE_BUSY_BEFORE,
  "cpu_busy_pct_idle_probe_after": $IDLE_BUSY_AFTER,
  "cpu_busy_pct_during": { $busy_json }
 }
}
JSON
echo "query_peers: load average after $LOAD_AFTER; CPUs ${IDLE_BUSY_AFTER}% busy after the run" >&2
node bench/peers/compare.mjs --out="$OUT/peers.json" --meta="$WORK/meta.json" "${RESULTS[@]}"
