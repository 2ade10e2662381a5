#!/usr/bin/env bash
# Installs the peer engines of the query benchmark (bench/query_peers.sh):
# Debian's clickhouse-server and clickhouse-client (18.16), and DuckDB's Node
# API pinned in bench/peers/package-lock.json. Idempotent: packages already
# present are skipped, `apt-get update` runs only when something is missing,
# and `npm ci` only when node_modules does not match the lock file.
# Deliberately not part of scripts/install-deps.sh: CI never needs the peers.
# The clickhouse-server package's own service is never started (the benchmark
# runs a private server, bench/peers/clickhouse.sh).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(clickhouse-server clickhouse-client)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "peers/setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  # policy-rc.d on containers refuses to start the service; that is fine here.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "peers/setup: clickhouse-server and clickhouse-client present"
fi

# npm ci records the lock it installed in node_modules/.package-lock.json;
# reinstall only when package-lock.json changed since or the binding fails to load.
if [[ -f node_modules/.package-lock.json && ! package-lock.json -nt node_modules/.package-lock.json ]] &&
   node --input-type=module -e "await import('@duckdb/node-api')" 2>/dev/null; then
  echo "peers/setup: @duckdb/node-api present"
else
  echo "peers/setup: npm ci"
  npm ci --no-audit --no-fund
fi
