#!/usr/bin/env bash
# Installs the Debian packages sparkify needs: `deps.sh build` for building and running,
# `deps.sh package` for building the .deb (scripts/package.sh),
# `deps.sh test` for the test suite, `deps.sh bench` for the benchmark. Skips apt-get when
# everything is present.
set -euo pipefail

build_packages=(build-essential cmake pkg-config libsqlite3-dev libsimdjson-dev zlib1g-dev
                libinih-dev libxxhash-dev libcjson-dev libpq-dev libcurl4-openssl-dev libxml2-dev libssl-dev
                python3)
# python3 (build): tools/help_docs.py writes the man page and the shell completions; zsh (test):
# install.bats runs the zsh completion.
# openssl: the Redshift stand-in's TLS certificate (scripts/redshift_standin.sh); the stand-in
# also needs Python's moto and boto3, which Debian does not package (tests skip without them).
test_packages=(libcmocka-dev bats python3 util-linux time clang clang-format postgresql curl sqlfluff openssl jq
               chromium python3-pil libclang-rt-14-dev zsh)
bench_packages=(python3 time postgresql)

packages=("${build_packages[@]}")
case "${1:-build}" in
  test) packages+=("${test_packages[@]}") ;;
  bench) packages+=("${bench_packages[@]}") ;;
  package) packages+=(file dpkg-dev) ;; # CPack's .deb: dpkg-shlibdeps, and `file` to find binaries
esac
# Node.js and npm run the peers (DuckDB's Node API, nodejs-polars) in the benchmark and its
# test; a machine that already has a node on PATH keeps it.
if { [ "${1:-build}" = test ] || [ "${1:-build}" = bench ]; } && ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
