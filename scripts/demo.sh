#!/usr/bin/env bash
# The main job on the embedded default, from a fresh machine: install what the build needs,
# build, write a sample dataset, create the tables, load it (checking the data before the
# commit), and print the report, also as an HTML page with charts (sparkify-report.html).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh build
# The demo needs no test packages: BUILD_TESTING=OFF leaves tests/ out of the build (the test
# command turns it on again). cmake's output is kept and shown when a step fails.
. scripts/quietly.sh
quietly cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
quietly cmake --build build -j "$(nproc)"

./build/sparkify generate --force --out sample --events 100000 --songs 5000 --seed 42  # a rerun rewrites it
./build/sparkify --target sqlite:sparkify.db create-tables --force  # a rerun starts afresh
./build/sparkify --target sqlite:sparkify.db etl --check --song-data sample/song_data --log-data sample/log_data
./build/sparkify --target sqlite:sparkify.db report
./build/sparkify --target sqlite:sparkify.db report --format html -o sparkify-report.html
