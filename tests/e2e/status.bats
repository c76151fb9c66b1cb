#!/usr/bin/env bats
# sparkify status: what the warehouse holds, what was loaded, the last runs and the bad records
# kept, each figure checked against the files and the tables themselves.

load helpers

@test "status shows rows per table, objects loaded by kind, the runs and the bad records kept" {
  need_sample
  mkdir -p extra
  printf '%s\n' '{"page":"Home","ts":1543622400000,"userId":"7"}' '{"ts": oops}' \
    '{"page":"NextSong","ts":1543622400001,"userId":"7","level":"free","song":"S","artist":"A","length":1.0}' > extra/day.json
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  sleep 1 # run_at is to the second: the second run is the later one
  sp -q --target "$DB" etl --max-errors 1 --log-data extra
  run sp --target "$DB" status --format json
  [ "$status" -eq 0 ]
  log_files=$(find "$DATA/log_data" -name '*.json' | wc -l)
  log_bytes=$(find "$DATA/log_data" -name '*.json' -printf '%s\n' | awk '{s += $1} END {print s}')
  song_files=$(find "$DATA/song_data" -name '*.json' | wc -l)
  song_bytes=$(find "$DATA/song_data" -name '*.json' -printf '%s\n' | awk '{s += $1} END {print s}')
  extra_bytes=$(stat -c %s extra/day.json)
  EXPECTED="$(q 'SELECT COUNT(*) FROM songplays') $(q 'SELECT COUNT(*) FROM users') $(q 'SELECT COUNT(*) FROM time') $log_files $log_bytes $song_files $song_bytes $extra_bytes $TMP/extra/day.json" \
  python3 - "$output" <<'PY'
import json, os, sys
s = json.loads(sys.argv[1])
plays, users, time, log_files, log_bytes, song_files, song_bytes, extra_bytes, extra = os.environ["EXPECTED"].split()
tables = {r["table_name"]: r["row_count"] for r in s["tables"]}
assert tables["songplays"] == int(plays) == 6821, tables
assert tables["users"] == int(users) == 96 and tables["time"] == int(time), tables
assert tables["loaded_objects"] == int(log_files) + 1 + int(song_files), tables
assert tables["load_errors"] == 1 and tables["etl_runs"] == 2, tables
loaded = {r["kind"]: r for r in s["loaded"]}
assert sorted(loaded) == ["log", "song"], loaded
assert loaded["log"]["objects"] == int(log_files) + 1, loaded
assert loaded["log"]["bytes"] == int(log_bytes) + int(extra_bytes), loaded
assert loaded["song"]["objects"] == int(song_files) and loaded["song"]["bytes"] == int(song_bytes), loaded
runs = s["runs"]
assert [(r["log_objects"], r["song_objects"], r["events"], r["songplays"], r["bad_records"]) for r in runs] \
    == [(1, 0, 2, 1, 1), (int(log_files), int(song_files), 8056, 6820, 0)], runs
assert s["load_errors"] == [{"source": extra, "records": 1, "first_line": 2,
                             "last_loaded": runs[0]["run_at"]}], s["load_errors"]
PY
  run sp --target "$DB" status
  [ "$status" -eq 0 ]
  [[ "$output" == "Rows per table"* ]]
  [[ "$output" == *"The last 10 runs"* ]]
}

@test "status on a warehouse with the tables and no data says what loads it" {
  sp -q --target "$DB" create-tables
  run sp --target "$DB" status
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: sqlite:$TMP/w.db holds no sparkify data yet: \`sparkify etl\` loads it (\`sparkify create-tables\` creates the tables)" ]
}
