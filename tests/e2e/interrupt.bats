#!/usr/bin/env bats
# SIGINT and SIGTERM end sparkify with one line and exit 130 / 143, leaving the warehouse as it
# was: SQLite's rollback journal (hot or not) is undone by the next connection, and a dropped
# PostgreSQL connection rolls its transaction back.

load helpers

setup_file() {
  GENERATED="$BATS_FILE_TMPDIR/g"
  "$SPARKIFY" -q generate --out "$GENERATED" --events 300000 --songs 20000 --seed 1
  FIRST_DAY=$(find "$GENERATED/log_data" -name '*.json' | sort | head -n 1)
  export GENERATED FIRST_DAY
  pg_server_start
}

teardown_file() {
  pg_server_stop
}

# A warehouse at $1 loaded with the first day's events.
load_first_day() {
  sp -q --target "$1" etl --log-data "$FIRST_DAY"
}

# start_etl TARGET: the whole generated set, in the background ($ETL_PID; stderr in etl.err),
# with SIGINT at its default (a shell's background jobs start with it ignored).
start_etl() {
  env --default-signal=SIGINT "$SPARKIFY" --target "$1" etl --song-data "$GENERATED/song_data" --log-data "$GENERATED/log_data" \
    > etl.out 2> etl.err &
  ETL_PID=$!
}

# stop_etl SIGNAL: sends it and sets $ETL_STATUS.
stop_etl() {
  kill "-$1" "$ETL_PID"
  ETL_STATUS=0
  wait "$ETL_PID" || ETL_STATUS=$?
}

@test "SIGTERM mid-etl prints one line, exits 143, and the next query sees the warehouse as before" {
  load_first_day "$DB"
  cp w.db before.db
  before=$(star_contents)
  start_etl "$DB"
  sleep 0.5
  stop_etl TERM
  [ "$ETL_STATUS" -eq 143 ]
  [ "$(cat etl.err)" = "sparkify: interrupted; nothing was written" ]
  test_cmp "$before" "$(star_contents)"
  [ "$(q 'PRAGMA integrity_check')" = ok ]
  cmp w.db before.db
}

@test "SIGTERM while the commit writes the database file leaves a hot journal that the next query rolls back" {
  load_first_day "$DB"
  cp w.db before.db
  before=$(star_contents)
  start_etl "$DB"
  # A rollback journal is hot once its header is written, just before the database file is.
  hot=
  for _ in $(seq 1 6000); do
    if [ -s w.db-journal ] && [ "$(head -c 1 w.db-journal | od -An -tu1 | tr -d ' ')" != 0 ]; then
      hot=yes
      break
    fi
    kill -0 "$ETL_PID" 2>/dev/null || break
    sleep 0.005
  done
  stop_etl TERM
  [ -n "$hot" ] || skip "the run committed before its journal was seen hot"
  [ "$ETL_STATUS" -eq 143 ]
  [ "$(cat etl.err)" = "sparkify: interrupted; nothing was written" ]
  [ -e w.db-journal ]
  [ "$(q 'PRAGMA integrity_check')" = ok ]
  [ ! -e w.db-journal ]
  test_cmp "$before" "$(star_contents)"
  cmp w.db before.db
}

@test "SIGINT mid-etl prints the same line and exits 130" {
  load_first_day "$DB"
  before=$(star_contents)
  start_etl "$DB"
  sleep 0.5
  stop_etl INT
  [ "$ETL_STATUS" -eq 130 ]
  [ "$(cat etl.err)" = "sparkify: interrupted; nothing was written" ]
  test_cmp "$before" "$(star_contents)"
}

@test "SIGINT under a progress line clears it and ends with the line saying nothing was written" {
  load_first_day "$DB"
  before=$(star_contents)
  COLUMNS=50 env --default-signal=SIGINT "$SPARKIFY" --target "$DB" --progress always etl --song-data "$GENERATED/song_data" --log-data "$GENERATED/log_data" \
    > etl.out 2> etl.err &
  ETL_PID=$!
  # The signal comes once a progress line has been drawn (a slow build, such as the sanitizers',
  # draws its first one later than 0.5 s in).
  for _ in $(seq 1 200); do
    grep -q "objects, " etl.err 2>/dev/null && break
    sleep 0.05
  done
  stop_etl INT
  [ "$ETL_STATUS" -eq 130 ]
  rewrites=$(tr '\r' '\n' < etl.err | sed 's/\x1b\[K//g' | grep -v '^$')
  [[ "$rewrites" == *"objects, "* ]]
  [ -z "$(awk 'length > 50' <<< "$rewrites")" ]
  # The message stands on a line of its own: the progress line was cleared before it.
  [ "$(tail -n 1 <<< "$rewrites")" = "sparkify: interrupted; nothing was written" ]
  [[ "$(cat etl.err)" == *$'\r\033[K'"sparkify: interrupted; nothing was written" ]]
  test_cmp "$before" "$(star_contents)"
}

@test "a background job started with SIGINT ignored keeps ignoring it" {
  load_first_day "$DB"
  "$SPARKIFY" -q --target "$DB" etl --song-data "$GENERATED/song_data" --log-data "$GENERATED/log_data" &
  pid=$!
  sleep 0.5
  kill -INT "$pid"
  status=0
  wait "$pid" || status=$?
  [ "$status" -eq 0 ]
  [ "$(q 'SELECT COUNT(*) > 0 FROM songs')" = 1 ]
}

@test "SIGTERM mid-etl on PostgreSQL leaves the database as before" {
  target=$(new_database)
  load_first_day "$target"
  before=$(star_contents "$target")
  start_etl "$target"
  sleep 1
  stop_etl TERM
  [ "$ETL_STATUS" -eq 143 ]
  [ "$(cat etl.err)" = "sparkify: interrupted; nothing was written" ]
  test_cmp "$before" "$(star_contents "$target")"
  [ "$(sp --target "$target" query --format csv 'SELECT COUNT(*) AS runs FROM etl_runs' | tr -d '\r')" = "$(printf 'runs\n1')" ]
}

@test "SIGTERM during generate says that the dataset written so far is incomplete" {
  "$SPARKIFY" generate --out g --events 3000000 --songs 100 --seed 2 2> generate.err &
  pid=$!
  sleep 0.3
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  [ "$status" -eq 143 ]
  [ "$(cat generate.err)" = "sparkify: interrupted; the dataset written so far is incomplete" ]
}
