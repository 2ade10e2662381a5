#!/usr/bin/env bash
# Builds every libFuzzer target (fuzz/*_fuzz.cc) with clang and runs each for
# SECONDS seconds on a scratch copy of its seed corpus (fuzz/corpus/<name>/,
# <name> being the target without "_fuzz"), so the repository is never
# modified. Exits non-zero if any target crashes, leaks or trips a sanitizer;
# the reproducer is left in the scratch directory and its path printed.
#
#   scripts/run-fuzz.sh [SECONDS]        (default 60)
#
# Environment: QUANYU_FUZZ_BUILD_DIR (default build-fuzz), QUANYU_FUZZ_JOBS
# (ninja -j, default 2), QUANYU_FUZZ_KEEP=1 keeps the scratch directory.
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [SECONDS]" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${QUANYU_FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${QUANYU_FUZZ_JOBS:-2}"

# Instrument every library, not just the target's own file, for coverage
# feedback (fuzzer-no-link) and sanitizers; the targets add -fsanitize=fuzzer.
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
  -DQUANYU_BUILD_FUZZ=ON -DQUANYU_BUILD_TESTS=OFF -DQUANYU_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" >/dev/null

targets=()
for src in "$root"/fuzz/*_fuzz.cc; do
  targets+=("$(basename "$src" .cc)")
done
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "no fuzz targets in $root/fuzz" >&2
  exit 2
fi
ninja -C "$build" -j "$jobs" "${targets[@]}"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/quanyu-fuzz.XXXXXX")"
failed=()
for target in "${targets[@]}"; do
  name="${target%_fuzz}"
  corpus="$scratch/$name/corpus"
  artifacts="$scratch/$name/artifacts"
  mkdir -p "$corpus" "$artifacts"
  if [[ -d "$root/fuzz/corpus/$name" ]]; then
    cp -R "$root/fuzz/corpus/$name/." "$corpus/"
  fi
  echo "== $target: ${seconds}s on $(find "$corpus" -type f | wc -l) seeds"
  if "$build/fuzz/$target" "$corpus" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$artifacts/" -rss_limit_mb=2048 -timeout=10 \
       >"$scratch/$name/log" 2>&1; then
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$scratch/$name/log" || true
    echo "== $target: ok"
  else
    tail -n 40 "$scratch/$name/log"
    echo "== $target: FAILED; reproducer(s) in $artifacts, log in $scratch/$name/log" >&2
    failed+=("$target")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "crashed: ${failed[*]}" >&2
  exit 1
fi
if [[ "${QUANYU_FUZZ_KEEP:-0}" != 1 ]]; then
  rm -rf "$scratch"
fi
echo "all ${#targets[@]} fuzz targets ran ${seconds}s without a crash"
