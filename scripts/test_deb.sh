#!/usr/bin/env bash
# Proves the Debian package on a fresh Debian 12 root (../shared/tools/fresh-debian.sh): builds
# it there (scripts/package.sh), then, in the same root, installs it with apt (which resolves
# its Depends), removes the build tree, checks that it carries the man page and the shell
# completions, and runs the installed program: --version, and a small load of generated data.
#   scripts/test_deb.sh [SHARED]   (SHARED: ../shared by default)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${1:-$here/../shared}
install_and_run='set -e
apt-get install -y -qq ./build-deb/sparkify_*.deb >/dev/null
rm -rf build-deb
cd /tmp
command -v sparkify
sparkify --version
dpkg -L sparkify | grep -qx /usr/share/man/man1/sparkify.1
dpkg -L sparkify | grep -qx /usr/share/bash-completion/completions/sparkify
dpkg -L sparkify | grep -qx /usr/share/zsh/vendor-completions/_sparkify
sparkify -q generate --out gen --events 2000 --songs 100 --seed 3
sparkify -q --target sqlite:/tmp/w.db etl --song-data gen/song_data --log-data gen/log_data
sparkify --target sqlite:/tmp/w.db query --format csv "SELECT COUNT(*) FROM songplays"'
exec "$shared/tools/fresh-debian.sh" "$here" "$shared" ./scripts/package.sh "$install_and_run"
