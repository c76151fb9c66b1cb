#!/usr/bin/env bats
# Every error is one line: control characters in file names, in the SQL and in a server's or
# SQLite's message are printed escaped (\n, \x1b), never raw.

load helpers

ESC=$'\e'

@test "a file name holding a newline and an escape sequence is printed escaped, on one line" {
  name=$'bad\nname'"$ESC"'[31m.json'
  printf '%s\n' '{"ts": oops}' > "$name"
  run sp --target "$DB" etl --log-data "$name"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == 'sparkify: '*'bad\nname\x1b[31m.json:1: '* ]]
  [[ "$output" != *"$ESC"* ]]
  # A terminal title sequence (no '[', which would make the name a glob).
  run sp --target "$DB" etl --log-data "$TMP/missing"$'\n'"$ESC]0;pwned"$'\a'
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *'missing\n\x1b]0;pwned\x07: No such file or directory' ]]
}

@test "SQLite's message and the SQL it names are printed escaped" {
  sp -q --target "$DB" create-tables
  run sp --target "$DB" query "SELECT * FROM \"x${ESC}[31m"$'\n'"y\""
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *'no such table: x\x1b[31m\ny'* ]]
  [[ "$output" != *"$ESC"* ]]
}

@test "a warehouse path with control characters is escaped in the summary and the dry-run header" {
  printf '%s\n' '{"page":"NextSong","userId":"7","ts":1541990258796,"level":"free"}' > day.json
  run sp --target "sqlite:$TMP/w"$'\t'"x${ESC}[0m.db" etl --log-data day.json
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *'into sqlite:'"$TMP"'/w\tx\x1b[0m.db in '* ]]
  run sp --dry-run --target "sqlite:$TMP/a"$'\n'"b.db" query "SELECT 1"
  [ "${lines[0]}" = '-- dry run on sqlite:'"$TMP"'/a\nb.db: the statements sparkify would run; no warehouse is connected and nothing is written' ]
}

@test "a usage error repeats an argument escaped" {
  run sp query --format "x${ESC}[1m" "SELECT 1"
  [ "$status" -eq 2 ]
  [ "$output" = 'sparkify query: --format takes table, csv or json, not '"'"'x\x1b[1m'"'"' (see `sparkify query --help`)' ]
}

@test "a check's name and sample key from the data are printed escaped, one line each" {
  printf '%s\n' '{"page":"NextSong","userId":"7","ts":1541990258796,"level":"free"}' > day.json
  sp -q --target "$DB" etl --log-data day.json
  sp -q --target "$DB" query --write "UPDATE songplays SET user_id = 'a' || char(10) || 'b' || char(27)"
  printf '[first\tline]\nsql = SELECT 1\nexpect = 2\n' > checks.ini
  run sp --target "$DB" check --checks checks.ini
  [ "$status" -eq 1 ]
  [[ "$output" == *'FAIL  songplays.user_id in users '*'(sample: user_id=a\nb\x1b)'* ]]
  [[ "$output" == *'FAIL  first\tline '* ]]
  [[ "$output" != *"$ESC"* ]]
}
