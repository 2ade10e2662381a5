#!/usr/bin/env bash
# Installs every Debian package Quanyu's build, tests and benchmarks need.
# Idempotent: packages already present are skipped; `apt-get update` runs at
# most once per invocation and only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  clang libclang-rt-14-dev            # libFuzzer targets
  libboost-dev                        # Boost.Asio / Beast (header-only)
  libsimdjson-dev nlohmann-json3-dev
  librocksdb-dev libzstd-dev zlib1g-dev libxxhash-dev libssl-dev
  libroaring-dev
  libnlopt-dev libeigen3-dev          # model fitting (CLV, churn, propensity)
  libxgboost-dev                      # gradient-boosted trees (propensity)
  libtomlplusplus-dev libcli11-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nodejs npm                          # test clients (@segment/analytics-node, sa-sdk-node), the dashboard's build
  chromium fonts-noto-cjk             # the dashboard's end-to-end tests (headless), Chinese glyphs
  wrk nginx-light bc                  # benchmarks: load generator, HTTP ceiling, arithmetic
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # nodejs/npm may come from elsewhere on the image; a working binary is enough.
    if [[ "$p" == nodejs && -x "$(command -v node || true)" ]]; then continue; fi
    if [[ "$p" == npm && -x "$(command -v npm || true)" ]]; then continue; fi
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi
