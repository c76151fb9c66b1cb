#!/usr/bin/env bats
# report -o FILE replaces only a regular file, atomically, keeping its mode and owner; follows a
# symlink to the file it names; writes straight into a character device or a FIFO.

load helpers

setup() {
  : "${SPARKIFY:?SPARKIFY must name the binary under test}"
  TMP=$(mktemp -d)
  cd "$TMP"
  DB="sqlite:$TMP/w.db"
  unset SPARKIFY_TARGET SPARKIFY_LOG_DATA SPARKIFY_SONG_DATA SPARKIFY_LOG_JSONPATH SPARKIFY_CONFIG
  printf '%s\n' '{"page":"NextSong","userId":"7","ts":1541990258796,"level":"free"}' > day.json
  sp -q --target "$DB" etl --log-data day.json
  sp --target "$DB" report --format csv > expected.csv
}

need_root() {
  [ "$(id -u)" -eq 0 ] || skip "needs root"
}

@test "report -o through a symlink replaces the file it names and keeps the link" {
  mkdir reports
  echo old > reports/real.csv
  ln -s reports/real.csv link.csv
  run sp --target "$DB" report --format csv -o link.csv
  [ "$status" -eq 0 ]
  [ -L link.csv ]
  [ "$(readlink link.csv)" = reports/real.csv ]
  cmp reports/real.csv expected.csv
  [ "$(ls reports)" = real.csv ]
}

@test "report -o through a dangling symlink creates the file it names" {
  ln -s made.csv link.csv
  run sp --target "$DB" report --format csv -o link.csv
  [ "$status" -eq 0 ]
  [ -L link.csv ]
  cmp made.csv expected.csv
}

@test "report -o over an existing file keeps its mode" {
  echo old > kept.csv
  chmod 640 kept.csv
  run sp --target "$DB" report --format csv -o kept.csv
  [ "$status" -eq 0 ]
  [ "$(stat -c %a kept.csv)" = 640 ]
  cmp kept.csv expected.csv
}

@test "report -o over an existing file keeps its owner and group when run as root" {
  need_root
  echo old > kept.csv
  chown nobody:nogroup kept.csv
  chmod 604 kept.csv
  run sp --target "$DB" report --format csv -o kept.csv
  [ "$status" -eq 0 ]
  [ "$(stat -c '%U:%G %a' kept.csv)" = "nobody:nogroup 604" ]
  cmp kept.csv expected.csv
}

@test "report -o makes a new file as creat() would: 0666 less the umask" {
  umask 027
  run sp --target "$DB" report --format csv -o new.csv
  [ "$status" -eq 0 ]
  [ "$(stat -c %a new.csv)" = 640 ]
  umask 0
  run sp --target "$DB" report --format csv -o open.csv
  [ "$(stat -c %a open.csv)" = 666 ]
}

@test "report -o into a full device fails with exit 1 naming ENOSPC, and the device stays a device" {
  need_root
  # /dev/full's own device numbers, in a node of the test's own, so that a failure of this test
  # cannot replace the machine's /dev/full.
  mknod full c 1 7 || skip "cannot make device nodes here"
  run sp --target "$DB" report --format csv -o full
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: full: cannot write: No space left on device" ]
  [ -c full ]
  [ "$(ls)" = "$(printf 'day.json\nexpected.csv\nfull\nw.db')" ]
}

@test "report -o into a character device writes straight into it" {
  need_root
  # /dev/null's device numbers in a node of the test's own: never the machine's /dev/null.
  mknod null c 1 3 || skip "cannot make device nodes here"
  run sp --target "$DB" report --format csv -o null
  [ "$status" -eq 0 ]
  [ -c null ]
  [ "$(ls)" = "$(printf 'day.json\nexpected.csv\nnull\nw.db')" ]
}

@test "report -o into a FIFO writes the report into it, and the FIFO stays a FIFO" {
  mkfifo pipe
  timeout 20 cat pipe > received.csv &
  reader=$!
  run timeout 20 "$SPARKIFY" --target "$DB" report --format csv -o pipe
  wait "$reader" || true
  [ "$status" -eq 0 ]
  [ -p pipe ]
  cmp received.csv expected.csv
}

@test "report -o into a directory is refused, exit 1, and nothing is left in it" {
  mkdir out
  run sp --target "$DB" report --format csv -o out
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: out: a directory, not a file to write the report to" ]
  [ "$(ls out)" = "" ]
}
