#!/usr/bin/env bash
# Configures (once) and builds Quanyu into build/ with both cores.
# Usage: scripts/build.sh [ninja targets...]   (default: everything)
# Extra cmake options can be passed in QUANYU_CMAKE_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${QUANYU_BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${QUANYU_CMAKE_ARGS:-} >/dev/null
ninja -C "$BUILD_DIR" -j"$(nproc)" "$@"
