#!/usr/bin/env bash
# Builds sparkify's Debian package: build/sparkify_VERSION_ARCH.deb (Release, without the tests,
# portable: no -march=native, so that the package runs on any x86-64 machine).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh package
cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DSPARKIFY_NATIVE=OFF >/dev/null
cmake --build build-deb -j "$(nproc)" >/dev/null
(cd build-deb && cpack -G DEB >/dev/null)
ls build-deb/*.deb
