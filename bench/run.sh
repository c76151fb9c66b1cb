#!/usr/bin/env bash
# The benchmark, one command: installs what it needs, builds sparkify (Release), installs
# DuckDB's Node API from npm, generates (and caches) the datasets, and times sparkify against
# DuckDB on each in the same run. Options are passed to bench.py (see `bench/run.sh --help`).
# SPARKIFY_BIN=path skips the build and measures that binary (the test suite does this).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."

scripts/deps.sh bench
binary=${SPARKIFY_BIN:-}
if [ -z "$binary" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-bench -j "$(nproc)" >/dev/null
  binary=build-bench/sparkify
fi
if [ ! -d bench/node_modules/@duckdb/node-api ]; then
  (cd bench && npm ci --no-audit --no-fund --loglevel=error)
fi
exec python3 bench/bench.py --sparkify "$binary" "$@"
