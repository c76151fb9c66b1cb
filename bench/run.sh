#!/usr/bin/env bash
# The benchmark, one command: installs what it needs, builds sparkify (Release) and the floor's
# programs (bench/floor), installs the peers' Node packages (DuckDB, Polars) from npm, generates
# (and caches) the datasets, and times sparkify against the peers and the floor on each in the
# same run. Options are passed to bench.py (see `bench/run.sh --help`).
# SPARKIFY_BIN=path skips sparkify's build and measures that binary (the test suite does this).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."

scripts/deps.sh bench
binary=${SPARKIFY_BIN:-}
if [ -z "$binary" ]; then
  # Without the tests: the uploader bench.py runs (tools/upload_files) is built all the same.
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build build-bench -j "$(nproc)" >/dev/null
  binary=build-bench/sparkify
fi
# A project of its own, so that the main build is untouched by it.
cmake -S bench/floor -B build-bench-floor -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench-floor -j "$(nproc)" >/dev/null
# From the lock file; --prefer-offline installs from npm's cache when it holds the packages.
if [ ! -d bench/node_modules/@duckdb/node-api ] || [ ! -d bench/node_modules/nodejs-polars ] ||
   [ ! -d bench/node_modules/nodejs-polars-linux-x64-gnu ]; then
  (cd bench && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi
exec python3 bench/bench.py --sparkify "$binary" --floor build-bench-floor "$@"
