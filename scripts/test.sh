#!/usr/bin/env bash
# The whole test suite: install what it needs; check formatting; build with clang (warnings
# are errors) and run the unit tests; then build and run everything twice with gcc, once as
# shipped (optimised, -Werror) and once under AddressSanitizer + UndefinedBehaviorSanitizer.
# The JSON fuzzer (the CTest test fuzz_json) runs once, with the release suite: it is its own
# sanitized clang build either way; so do the Redshift stand-in's own tests (standin.bats).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test

jobs=$(nproc)
. scripts/quietly.sh
# Tests are always on here (a build directory left configured without them by the demo would
# otherwise make ctest find nothing), and a run that finds no test fails.
run_suite() {
  local dir=$1 select=$2
  shift 2
  quietly cmake -S . -B "$dir" -DBUILD_TESTING=ON "$@"
  quietly cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure --no-tests=error -j "$jobs" $select)
}

echo "== clang-format"
clang-format --dry-run --Werror src/*.[ch] src/lib/*/*.[ch] src/lib/*/*.cpp tests/unit/*.c tools/*.c tests/fuzz/*.cpp
echo "== clang build, unit tests"
CC=clang CXX=clang++ quietly cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON
quietly cmake --build build-clang -j "$jobs"
(cd build-clang && ctest --output-on-failure --no-tests=error -j "$jobs" -R '^unit_')

echo "== release build (and the fuzzer, which builds its own clang ASan + UBSan + libFuzzer)"
run_suite build "" -DCMAKE_BUILD_TYPE=Release
echo "== ASan + UBSan build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan "-LE fuzz|standin" -DCMAKE_BUILD_TYPE=Debug -DSPARKIFY_SANITIZE=ON
