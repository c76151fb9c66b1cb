#!/usr/bin/env bats
# The Redshift target end to end, on the stand-in (scripts/redshift_standin.sh: PostgreSQL,
# moto's S3, IAM and STS with signature checks, and a front that runs COPY from S3 by AWS's
# documented rules). The whole flow runs as a user runs it against a cluster: create-tables,
# etl (listing, uploads, manifests, COPY, the SQL transform, the loaded-objects record, the
# commit), check, report and query. Every answer is compared with SQLite's on the same input.

load helpers

eval "helpers_$(declare -f setup)"
setup() {
  helpers_setup
  standin_env
}

setup_file() {
  standin_start || return 0
  standin_buckets
}

teardown_file() {
  standin_stop
}

# The real sample, loaded from local files into SQLite ($DB): what every Redshift run must equal.
sqlite_sample() {
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data" "$@"
}

# The keys the run of `db` uploaded or wrote under the staging prefix, one per line.
staged() {
  python3 - "$1" <<'PY'
import boto3, os, sys
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
bucket, _, prefix = os.environ["SPARKIFY_STAGING"][5:].partition("/")
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
for key in sorted(o["Key"] for p in pages for o in p.get("Contents", [])):
    if sys.argv[1] in key:
        print(key)
PY
}

@test "the real sample from s3:// and from local files gives the star tables SQLite gives, through create-tables, etl and query" {
  need_sample
  sqlite_sample
  expected=$(star_contents)
  db=$(standin_new_db s3)
  rsp "$db" -q create-tables
  run rsp "$db" etl --log-data s3://udacity-dend/log_data --song-data s3://udacity-dend/song_data \
    --log-jsonpath s3://udacity-dend/log_json_path.json
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 30 log and 71 song objects"*"8056 events and 71 song records staged"*"6820 songplay events"* ]]
  test_cmp "$expected" "$(star_contents "$(standin_target "$db")")"
  local_db=$(standin_new_db local)
  rsp "$local_db" -q etl --log-data "$DATA/log_data" --song-data "$DATA/song_data"
  test_cmp "$expected" "$(star_contents "$(standin_target "$local_db")")"
  # The record of what was loaded is the same shape on every target.
  [ "$(rsp "$db" query --format csv "SELECT kind, COUNT(*), COUNT(DISTINCT fingerprint) FROM loaded_objects GROUP BY kind ORDER BY kind" | tr -d '\r')" = "$(printf 'kind,count,count\nlog,30,30\nsong,71,71')" ]
}

@test "runs split across days, reruns and --full-refresh end in the tables of one run" {
  need_sample
  sqlite_sample
  expected=$(star_contents)
  db=$(standin_new_db)
  rsp "$db" -q etl --song-data s3://udacity-dend/song_data
  rsp "$db" -q etl --log-data s3://udacity-dend/log_data/2018/11/2018-11-2
  rsp "$db" -q etl --log-data s3://udacity-dend/log_data/2018/11/2018-11-0
  run rsp "$db" etl --log-data s3://udacity-dend/log_data --song-data s3://udacity-dend/song_data
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 11 log and 0 song objects"*"90 objects already loaded"* ]]
  test_cmp "$expected" "$(star_contents "$(standin_target "$db")")"
  # A rerun loads nothing and changes nothing.
  run rsp "$db" etl --log-data s3://udacity-dend/log_data --song-data s3://udacity-dend/song_data
  [[ "$output" == *"loaded 0 log and 0 song objects"*"101 objects already loaded"* ]]
  test_cmp "$expected" "$(star_contents "$(standin_target "$db")")"
  # A full refresh loads everything again, from manifests of exactly the listed objects.
  run rsp "$db" etl --full-refresh --log-data s3://udacity-dend/log_data --song-data s3://udacity-dend/song_data
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 30 log and 71 song objects"* ]]
  test_cmp "$expected" "$(star_contents "$(standin_target "$db")")"
  run rsp "$db" check
  [ "$status" -eq 0 ]
}

@test "--max-errors keeps bad records of logs and song files in load_errors with their own file and line, as on SQLite" {
  mkdir -p logs songs
  printf '%s\n' "$good_event" '{"page": "NextSong", "userId": "8", "ts": "yesterday"}' \
    "${good_event/\"7\"/\"9\"}" '{"page": "NextSong", "userId": "8", "sessionId": 1.5}' > logs/day.json
  printf '{"song_id": "S1", "title": "a", "year": 2001}\n' > songs/a.json
  printf '{"song_id": "S2", "title": "b", "year": "two thousand"}\n' > songs/b.json
  sp -q --target "$DB" etl --max-errors 3 --log-data logs --song-data songs
  db=$(standin_new_db)
  run rsp "$db" etl --max-errors 3 --log-data logs --song-data songs
  [ "$status" -eq 0 ]
  [[ "$output" == *"3 bad records skipped"* ]]
  # The same records are refused, named by the local file and line they came from.
  sqlite_errors=$(q 'SELECT source, line FROM load_errors ORDER BY source, line')
  [ "$sqlite_errors" = "$(printf '%s\n' "$TMP/logs/day.json,2" "$TMP/logs/day.json,4" "$TMP/songs/b.json,1")" ]
  test_cmp "$sqlite_errors" "$(DB=$(standin_target "$db") q 'SELECT source, line FROM load_errors ORDER BY source, line')"
  test_cmp "$(star_contents)" "$(star_contents "$(standin_target "$db")")"
}

@test "song files given as --log-data warn as on SQLite and load what SQLite loads" {
  swapped_songs
  run sp --target "$DB" etl --log-data songs
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "$swapped_warning" ]
  db=$(standin_new_db)
  run rsp "$db" etl --log-data songs
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "$swapped_warning" ]
  test_cmp "$(star_contents)" "$(star_contents "$(standin_target "$db")")"
}

@test "exactly --max-errors bad records load; one more fails the run, names file:line: column: reason and writes nothing" {
  mkdir -p logs
  printf '%s\n' "$good_event" '{"page": "Home", "ts": "x"}' '{"page": "Home", "ts": "y"}' > logs/day.json
  db=$(standin_new_db)
  rsp "$db" -q create-tables
  before=$(star_contents "$(standin_target "$db")")
  run rsp "$db" etl --max-errors 1 --log-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == *"$TMP/logs/day.json:"[23]": ts: "*"more than --max-errors 1 bad records, nothing was written"* ]]
  test_cmp "$before" "$(star_contents "$(standin_target "$db")")"
  [ "$(rsp "$db" query --format csv 'SELECT COUNT(*) FROM loaded_objects' | tail -n 1 | tr -d '\r')" = 0 ]
  # COPY fails when the errors reach MAXERROR: sparkify asks for one more than it may skip.
  run rsp "$db" etl --max-errors 2 --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"2 bad records skipped"* ]]
  grep -q "MAXERROR 3 " "$STANDIN_DIR/statements.sql"
  run sp --target "$DB" etl --max-errors 100000 --log-data logs
  [ "$status" -eq 2 ]
  [[ "$output" == *"--max-errors takes a number from 0 to 99999 (Redshift's COPY fails at MAXERROR 100000, its limit)"* ]]
}

@test "check and report print on the stand-in exactly what they print on SQLite" {
  need_sample
  sqlite_sample
  db=$(standin_new_db)
  rsp "$db" -q etl --log-data "$DATA/log_data" --song-data "$DATA/song_data"
  test_cmp "$(sp --target "$DB" check 2>&1)" "$(rsp "$db" check 2>&1)"
  for format in table json csv; do
    test_cmp "$(sp --target "$DB" report --format "$format" --top 5)" "$(rsp "$db" report --format "$format" --top 5)"
  done
  test_cmp "$(sp --target "$DB" report --format json --since 2018-11-10 --until 2018-11-20)" "$(rsp "$db" report --format json --since 2018-11-10 --until 2018-11-20)"
}

@test "a second run started while one runs waits for its locks, and nothing is loaded twice" {
  need_sample
  sqlite_sample
  db=$(standin_new_db)
  rsp "$db" -q create-tables
  "$SPARKIFY" -q --target "$(standin_target "$db")" etl --log-data "$DATA/log_data" --song-data "$DATA/song_data" &
  first=$!
  "$SPARKIFY" -q --target "$(standin_target "$db")" etl --log-data "$DATA/log_data" --song-data "$DATA/song_data" &
  second=$!
  wait "$first"
  wait "$second"
  test_cmp "$(star_contents)" "$(star_contents "$(standin_target "$db")")"
  [ "$(rsp "$db" query --format csv 'SELECT SUM(log_objects), SUM(song_objects) FROM etl_runs' | tail -n 1 | tr -d '\r')" = "30,71" ]
  # Every table a run writes is locked at the start of its transaction.
  grep -q "^LOCK staging_events, staging_songs, songplays, users, songs, artists, time, song_lookup, user_latest, loaded_objects, load_errors, etl_runs;$" "$STANDIN_DIR/statements.sql"
}

@test "a bucket in another Region than the COPY's fails the run before any COPY, saying what to change" {
  need_sample
  db=$(standin_new_db)
  rsp "$db" -q create-tables
  lines_before=$(wc -l < "$STANDIN_DIR/statements.sql")
  run rsp "$db" etl --staging s3://eu-data/staging --log-data "$DATA/log_data/2018/11/2018-11-01-events.json"
  [ "$status" -eq 2 ]
  [[ "$output" == *"s3://eu-data is in eu-central-1, but COPY reads every object of a run with REGION 'us-west-2'"*"--s3-region eu-central-1"* ]]
  ! tail -n +"$lines_before" "$STANDIN_DIR/statements.sql" | grep -q '^COPY'
  [ -z "$(staged eu-data)" ]
}

@test "a staging prefix under a source prefix is refused: its listing would hold the run's own files" {
  run "$SPARKIFY" --target "$(standin_target dev)" etl --staging s3://udacity-dend/log_data_staging --log-data s3://udacity-dend/log_data
  [ "$status" -eq 2 ]
  [[ "$output" == *"staging prefix s3://udacity-dend/log_data_staging lies under the source s3://udacity-dend/log_data"* ]]
}

@test "a full refresh COPYs the listed JSON objects from a manifest, not the other keys under the prefix" {
  need_sample
  aws put udacity-dend log_data/README.txt - <<<'not JSON'
  aws put udacity-dend log_data/2018/11/notes.manifest - <<<'{"entries": []}'
  db=$(standin_new_db)
  run rsp "$db" etl --full-refresh --log-data s3://udacity-dend/log_data
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 30 log and 0 song objects"*", 0 bad records skipped"* ]]
  ! grep -q "^COPY staging_events FROM 's3://udacity-dend/log_data'" "$STANDIN_DIR/statements.sql"
}

@test "IAM_ROLE default is the cluster's own role" {
  need_sample
  db=$(standin_new_db)
  run rsp "$db" etl --iam-role default --log-data "$DATA/log_data/2018/11/2018-11-15-events.json"
  [ "$status" -eq 0 ]
  grep -q " IAM_ROLE default MANIFEST " "$STANDIN_DIR/statements.sql"
}

@test "local song files are uploaded in a number of parts that is a multiple of the cluster's slices" {
  need_sample
  db=$(standin_new_db)
  run rsp "$db" etl --song-data "$DATA/song_data"
  [ "$status" -eq 0 ]
  slices=$(rs "$db" 'SELECT COUNT(*) FROM stv_slices')
  [ "$slices" -eq 4 ]
  run_prefix=$(staged /song/part- | sed 's#/song/part-.*##' | sort -u | tail -n 1)
  parts=$(staged "$run_prefix/song/part-" | wc -l)
  [ "$parts" -eq "$slices" ]
  test_cmp "$(sp -q --target "$DB" etl --song-data "$DATA/song_data"; star_contents)" "$(star_contents "$(standin_target "$db")")"
}

@test "the staging tables are dropped and created in the run's transaction, not emptied with DELETE" {
  need_sample
  db=$(standin_new_db)
  rsp "$db" -q etl --log-data "$DATA/log_data/2018/11/2018-11-15-events.json"
  rsp "$db" -q etl --log-data "$DATA/log_data/2018/11/2018-11-16-events.json"
  ! grep -q '^DELETE FROM staging_' "$STANDIN_DIR/statements.sql"
  grep -q "^DROP TABLE IF EXISTS staging_events;$" "$STANDIN_DIR/statements.sql"
  # Only the second day's events are staged after the second run.
  [ "$(rs "$db" 'SELECT COUNT(*) FROM staging_events')" = "$(grep -c . "$DATA/log_data/2018/11/2018-11-16-events.json")" ]
}

@test "a dry run lists the S3 sources, says so, and connects to no warehouse" {
  need_sample
  run "$SPARKIFY" --target 'redshift://u:p@127.0.0.1:1/dev' etl --dry-run --log-data s3://udacity-dend/log_data
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *"the statements sparkify would run; no warehouse is connected and nothing is written" ]]
  [[ "$output" == *"-- s3://udacity-dend/log_data is listed (read-only) to find the objects a run would load"* ]]
  [[ "$output" == *"a run would load 30 log and 0 song objects"* ]]
}

@test "every statement sparkify sent the stand-in parses as Redshift SQL" {
  command -v sqlfluff >/dev/null || skip "sqlfluff is not installed (scripts/deps.sh test installs it)"
  # One statement of each shape (literals and VALUES rows folded), as standin.bats does.
  python3 - "$STANDIN_DIR/statements.sql" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
entries = re.split(r"^-- \S+ session=\d+ (.*)\n", text, flags=re.M)[1:]
shapes = {}
for outcome, sql in zip(entries[::2], entries[1::2]):
    if outcome.startswith(("refused", "not run")):
        continue
    shape = re.sub(r"'(?:[^'\\]|\\.|'')*'", "'x'", sql)
    shape = re.sub(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", "0", shape)
    shape = re.sub(r"(\((?:'x'|0|NULL|TRUE|FALSE|, )*\))(?:, \1)+", r"\1", shape)
    shapes.setdefault(shape, None)
assert len(shapes) > 30, len(shapes)
open("sent.sql", "w", encoding="utf-8").write("".join(shapes))
PY
  printf '[sqlfluff]\nlarge_file_skip_byte_limit = 0\n' > sqlfluff.cfg
  sqlfluff parse --dialect redshift --config sqlfluff.cfg sent.sql > tree 2>&1 || { grep -m5 -B2 PRS tree >&2; false; }
  ! grep -q 'unparsable\|Skipping' tree
  [ "$(grep -c 'copy_statement:' tree)" -ge 2 ]
}
