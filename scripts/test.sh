#!/usr/bin/env bash
# Installs dependencies, builds everything and runs every test: unit, golden,
# integration with the real SDK clients from npm, crash and bad-input tests,
# and a short run of each libFuzzer target.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
QUANYU_BUILD_DIR=build ./scripts/build.sh -DQUANYU_BUILD_BENCH=ON
export QUANYU_BIN="$PWD/build/quanyu"
ctest --test-dir build --output-on-failure -j2 --timeout 900
./scripts/run-fuzz.sh "${QUANYU_FUZZ_SECONDS:-30}"
