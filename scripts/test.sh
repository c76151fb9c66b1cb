#!/usr/bin/env bash
# The whole test suite: install what it needs; check formatting; build with clang (warnings
# are errors) and run the unit tests; then build and run everything twice with gcc, once as
# shipped (optimised, -Werror) and once under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test

jobs=$(nproc)
run_suite() {
  local dir=$1
  shift
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j "$jobs" >/dev/null
  (cd "$dir" && ctest --output-on-failure -j "$jobs")
}

echo "== clang-format"
clang-format --dry-run --Werror src/*.[ch] src/lib/*.[ch] src/lib/*.cpp tests/unit/*.c
echo "== clang build, unit tests"
CC=clang CXX=clang++ cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-clang -j "$jobs" >/dev/null
(cd build-clang && ctest --output-on-failure -j "$jobs" -R '^unit_')

echo "== release build"
run_suite build -DCMAKE_BUILD_TYPE=Release
echo "== ASan + UBSan build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DSPARKIFY_SANITIZE=ON
