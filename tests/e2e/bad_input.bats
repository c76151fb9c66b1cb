#!/usr/bin/env bats
# Bad input: a one-line error naming the file and line (or option) and the reason, a
# non-zero exit (1 for data, 2 for usage and configuration), and nothing written.

load helpers



# run_bad CONTENT EXPECTED_MESSAGE: a log file holding a good line then CONTENT on line 2.
run_bad() {
  mkdir -p bad
  printf '%s\n%s\n' "$good_event" "$1" > bad/day2.json
  run sp --target "$DB" etl --log-data bad
  [ "$status" -eq 1 ]
  [[ "$output" == *"bad/day2.json:2: $2"* ]]
  [ "${#lines[@]}" -eq 1 ]
  assert_unchanged
}

@test "a malformed JSON line is reported with file, line and reason" {
  prepare_warehouse
  run_bad '{"artist": "x", "ts": }' "field 'ts': malformed JSON"
}

@test "a truncated JSON line is reported" {
  prepare_warehouse
  run_bad '{"artist": "x", "ts": 1541990258796' "malformed JSON"
}

@test "invalid UTF-8 is reported" {
  prepare_warehouse
  run_bad "$(printf '{"artist": "\xff\xfe", "page": "NextSong"}')" "invalid UTF-8"
}

@test "a value that cannot be coerced to its column's type is reported with the field" {
  prepare_warehouse
  run_bad '{"page": "NextSong", "userId": "7", "ts": "yesterday"}' "field 'ts': expected a big integer, found \"yesterday\""
}

@test "a fractional number in an integer column is reported" {
  prepare_warehouse
  run_bad '{"page": "Home", "sessionId": 1.5}' "field 'sessionId': expected an integer, found 1.5"
}

@test "a JSON value that is not an object is reported" {
  prepare_warehouse
  run_bad '[1, 2, 3]' "expected a JSON object"
}

@test "trailing garbage after an object is reported" {
  prepare_warehouse
  run_bad '{"page": "Home"} x' "malformed JSON"
}

@test "a NextSong event without ts is reported" {
  prepare_warehouse
  run_bad '{"page": "NextSong", "userId": "7"}' "NextSong event without ts"
}

@test "a truncated .gz file is reported and nothing is written" {
  prepare_warehouse
  mkdir gz
  for i in $(seq 1 2000); do printf '%s\n' "$good_event"; done | gzip -c > full.gz
  head -c $(( $(stat -c %s full.gz) / 2 )) full.gz > gz/day.json.gz
  run sp --target "$DB" etl --log-data gz
  [ "$status" -eq 1 ]
  [[ "$output" == *"gz/day.json.gz: truncated gzip data"* ]]
  assert_unchanged
}

@test "a gzip-compressed log file is read transparently" {
  mkdir gz
  printf '%s\n' "$good_event" | gzip -c > gz/day.json.gz
  sp -q --target "$DB" etl --log-data gz
  [ "$(q 'SELECT user_id, start_time FROM songplays')" = "7,2018-11-12 02:37:38.796" ]
}

@test "a missing source path is reported" {
  prepare_warehouse
  run sp --target "$DB" etl --log-data "$TMP/no/such/dir"
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: $TMP/no/such/dir: No such file or directory" ]
  assert_unchanged
}

@test "a glob that matches nothing is reported" {
  run sp --target "$DB" etl --log-data "$TMP/*.nothing"
  [ "$status" -eq 1 ]
  [[ "$output" == *"no file matches this pattern"* ]]
}

@test "an unreadable file is reported" {
  command -v runuser >/dev/null && [ "$(id -u)" -eq 0 ] || skip "needs root to run as another user"
  mkdir -p locked
  printf '%s\n' "$good_event" > locked/day.json
  chmod 000 locked/day.json
  chmod 777 "$TMP"
  run runuser -u nobody -- "$SPARKIFY" --target "sqlite:$TMP/nobody.db" etl --log-data locked
  [ "$status" -eq 1 ]
  [[ "$output" == *"locked/day.json: cannot open: Permission denied"* ]]
}

@test "a song file without song_id is reported with its line" {
  prepare_warehouse
  mkdir songs
  printf '{"num_songs": 1,\n "artist_id": "AR1", "title": "T"}' > songs/TRX.json
  run sp --target "$DB" etl --song-data songs
  [ "$status" -eq 1 ]
  [[ "$output" == *"songs/TRX.json:1: song_id is missing or empty"* ]]
  assert_unchanged
}

@test "a truncated song file is reported" {
  prepare_warehouse
  mkdir songs
  printf '{"song_id": "S1", "title": "T"}\n{"song_id": "S2",\n "title": ' > songs/TRX.json
  run sp --target "$DB" etl --song-data songs
  [ "$status" -eq 1 ]
  [[ "$output" == *"songs/TRX.json:2: malformed JSON"* ]]
  assert_unchanged
}

@test "--max-errors N skips up to N bad records into load_errors" {
  mkdir logs
  {
    printf '%s\n' "$good_event"
    printf '{"page": "NextSong", "ts": \n'
    printf '%s\n' "$good_event"
    printf '{"page": "Home", "status": "oops"}\n'
  } > logs/day.json
  run sp --target "$DB" etl --max-errors 2 --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"2 bad records skipped"* ]]
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = 2 ]
  [ "$(q 'SELECT line, reason FROM load_errors ORDER BY line')" = "$(printf '%s\n%s' \
    "2,malformed JSON: unbalanced or incomplete object" \
    "4,\"field 'status': expected an integer, found \"\"oops\"\"\"")" ]
  [ "$(q 'SELECT raw FROM load_errors WHERE line = 4')" = '"{""page"": ""Home"", ""status"": ""oops""}"' ]
  [ "$(q "SELECT COUNT(*) FROM load_errors WHERE source LIKE '%/logs/day.json'")" = 2 ]
}

@test "one bad record more than --max-errors fails the run and writes nothing" {
  prepare_warehouse
  mkdir logs
  printf '{"ts": x}\n{"ts": y}\n' > logs/day.json
  run sp --target "$DB" etl --max-errors 1 --log-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == *"logs/day.json:2: field 'ts': malformed JSON"*"more than --max-errors 1 bad records"* ]]
  assert_unchanged
}

@test "bad command-line values are usage errors (exit 2)" {
  run sp etl --max-errors many --log-data x
  [ "$status" -eq 2 ]
  [[ "$output" == *"--max-errors takes a number"* ]]
  run sp --progress sometimes etl
  [ "$status" -eq 2 ]
  run sp frobnicate
  [ "$status" -eq 2 ]
  [[ "$output" == *"unknown command 'frobnicate'"* ]]
  run sp --target "sqlite:$TMP/x.db" etl
  [ "$status" -eq 2 ]
  [[ "$output" == *"nothing to load"* ]]
}

@test "a target that is not understood is a usage error that does not print the password" {
  run sp --target "mysql://admin:hunter2@db:3306/x" create-tables
  [ "$status" -eq 2 ]
  [[ "$output" == *"mysql://admin:***@db:3306/x"* ]]
  [[ "$output" != *hunter2* ]]
}

@test "querying a warehouse that does not exist says what to do" {
  run sp --target "sqlite:$TMP/none.db" query "SELECT 1"
  [ "$status" -eq 1 ]
  [[ "$output" == *"run \`sparkify create-tables\` and \`sparkify etl\` first"* ]]
  [ ! -e none.db ]
}

@test "a failing query names the SQL" {
  sp -q --target "$DB" create-tables
  run sp --target "$DB" query "SELECT nope FROM songplays"
  [ "$status" -eq 1 ]
  [[ "$output" == *"no such column: nope [SELECT nope FROM songplays]"* ]]
}

@test "a file that is not a database is reported" {
  echo "not a database" > junk.db
  run sp --target "sqlite:$TMP/junk.db" query "SELECT 1"
  [ "$status" -eq 1 ]
  [[ "$output" == *"junk.db"*"not a database"* ]]
}

@test "a JSONPaths file that never ends is refused after a megabyte, not read until memory runs out" {
  prepare_warehouse
  run sp --target "$DB" etl --log-data first --log-jsonpath /dev/zero
  [ "$status" -eq 1 ]
  [[ "$output" == *"/dev/zero: more than 1 MB of content"* ]]
  assert_unchanged
}

@test "a small gzip song file that inflates to 70 MB loads through a bounded window, not whole" {
  prepare_warehouse
  mkdir songs
  python3 -c '
import gzip, sys
with gzip.open(sys.argv[1], "wb", compresslevel=9) as f:
    for i in range(70 * 1024 * 1024 // 40):
        f.write(b"{\"song_id\": \"S%07d\", \"title\": \"t\"}\n" % (i % 100))' songs/bomb.json.gz
  [ "$(stat -c %s songs/bomb.json.gz)" -lt 1000000 ]
  run /usr/bin/time -f 'max_rss_kb %M' "$SPARKIFY" --target "$DB" etl --song-data songs
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 0 log and 1 song objects"* ]]
  [ "$(q 'SELECT COUNT(*) FROM songs')" = 100 ]
  # AddressSanitizer's shadow memory and quarantine make a sanitized build's size meaningless.
  if ! grep -qa __asan_init "$SPARKIFY"; then
    rss=$(printf '%s\n' "$output" | sed -n 's/^max_rss_kb //p')
    [ "$rss" -lt 60000 ]
  fi
}

@test "a song file too large to read whole streams, and an object over 4 MB in it is a bad record at its line" {
  prepare_warehouse
  mkdir songs
  python3 - songs/big.json <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(120000):
        f.write(json.dumps({"song_id": "S%06d" % i, "title": "t" * 60, "artist_id": "A%d" % (i % 50),
                            "artist_name": "n", "duration": 100.5, "year": 2000}) + "\n")
PY
  [ "$(stat -c %s songs/big.json)" -gt 9000000 ]
  run sp --target "$DB" etl --song-data songs
  [ "$status" -eq 0 ]
  [ "$(q 'SELECT COUNT(*) FROM songs')" = 120000 ]
  [ "$(q 'SELECT COUNT(*) FROM artists')" = 50 ]
  # The same objects split into 12 files give the same tables.
  mkdir split
  split -l 10000 -d --additional-suffix=.json songs/big.json split/part-
  sp -q --target "sqlite:$TMP/split.db" etl --song-data split
  for t in songs artists song_lookup; do
    test_cmp "$(DB=sqlite:$TMP/split.db q "SELECT * FROM $t ORDER BY 1, 2, 3, 4, 5")" "$(q "SELECT * FROM $t ORDER BY 1, 2, 3, 4, 5")"
  done
  # An object over COPY's 4 MB limit on line 3 of a large file.
  mkdir huge
  python3 - huge/songs.json <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    f.write('{"song_id": "S1", "title": "a"}\n{"song_id": "S2", "title": "b"}\n')
    f.write(json.dumps({"song_id": "S3", "title": "x" * (5 << 20)}) + "\n")
    for i in range(4, 200000):
        f.write('{"song_id": "S%d", "title": "c"}\n' % i)
PY
  run sp --target "$DB" etl --song-data huge
  [ "$status" -eq 1 ]
  [[ "$output" == *"huge/songs.json:3: JSON object larger than 4 MB (Redshift COPY's limit)"* ]]
}

@test "event files given as --song-data are named for what they are, not met with advice to skip records" {
  mkdir -p logs
  printf '%s\n' '{"artist":"A","page":"NextSong","ts":1541121934796,"userId":"7","song":"S","length":1.5}' \
    '{"page":"Home","ts":1541121934797,"userId":"7"}' > logs/day.json
  before=$(sha256sum "$TMP/w.db" 2>/dev/null || echo none)
  run sp --target "$DB" etl --song-data logs
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: $TMP/logs/day.json:1: not a song record (no song_id, title, artist, duration, year or num_songs, all absent or null): this looks like event data given as --song-data; are --song-data and --log-data swapped? Nothing was written" ]
  # Under --max-errors the records are bad records like any other, until there are too many.
  run sp --target "$DB" etl --max-errors 1 --song-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == "sparkify: $TMP/logs/day.json:2: not a song record"* ]]
  [ "$(sha256sum "$TMP/w.db" 2>/dev/null || echo none)" = "$before" ]
  # A song record that lacks only some fields keeps the reason of its own.
  printf '%s\n' '{"num_songs":1,"title":"T","artist_id":"AR1","artist_name":"N","duration":1.0}' > logs/day.json
  run sp --target "$DB" etl --song-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == *"day.json:1: song_id is missing or empty; nothing was written"* ]]
}

@test "song files given as --log-data load as COPY loads them, with a warning that the options look swapped" {
  swapped_songs
  run sp --target "$DB" etl --log-data songs
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "$swapped_warning" ]
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = 0 ]
  # One real event among them: no warning.
  printf '%s\n' '{"page":"Home","ts":1541121934796,"userId":"7"}' > songs/c.json
  run sp --target "sqlite:$TMP/other.db" etl --log-data songs
  [ "$status" -eq 0 ]
  [[ "$output" != *"warning"* ]]
}
