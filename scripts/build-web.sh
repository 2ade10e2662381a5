#!/usr/bin/env bash
# Installs the dashboard's npm packages from web/package-lock.json and
# builds it into web/dist, which `quanyu serve` serves at /.
set -euo pipefail
cd "$(dirname "$0")/../web"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
