#!/usr/bin/env bash
# Installs dependencies, builds everything and runs every test: unit, golden,
# integration with the real SDK clients from npm, crash and bad-input tests,
# and a short run of each libFuzzer target.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
./scripts/build-web.sh
./scripts/build.sh
export QUANYU_BIN="$PWD/build/quanyu"
LOG=$(mktemp)
ctest --test-dir build --output-on-failure -j2 --timeout 900 | tee "$LOG"
TESTS=$(grep -oE 'tests passed, [0-9]+ tests failed out of [0-9]+' "$LOG" | grep -oE '[0-9]+$')
rm -f "$LOG"
FUZZ_TARGETS=$(ls fuzz/*_fuzz.cc | wc -l)
./scripts/run-fuzz.sh "${QUANYU_FUZZ_SECONDS:-30}"
# ctest stopped the script above on any failure (set -e + pipefail).
echo "summary: $((TESTS + FUZZ_TARGETS)) passed, 0 failed"
