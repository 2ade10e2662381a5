#!/usr/bin/env bash
# Installs dependencies, builds, loads a simulated omni-channel world into
# ./demo-data and serves it, with the dashboard, on http://localhost:8080
# (Ctrl-C stops).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh quanyu
./scripts/build-web.sh
exec ./build/quanyu demo --data demo-data --listen 127.0.0.1:8080 "$@"
