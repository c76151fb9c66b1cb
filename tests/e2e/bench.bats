#!/usr/bin/env bats
# The benchmark must not rot: it runs end to end on a tiny dataset, and sparkify, DuckDB and
# Polars must agree on every row count; the floor's programs must parse every event and insert
# every star row; days 1-29 then day 30 must end in the tables of one load; its S3 fetches and
# uploads print their lines (no timing is
# asserted; timing belongs in bench/).

load helpers

@test "bench/run.sh runs on a tiny dataset: sparkify, DuckDB, Polars, the floor and +1 day agree, and the S3 lines are printed" {
  run env SPARKIFY_BIN="$SPARKIFY" "$SPARKIFY_SOURCE/bench/run.sh" --events 3000 --songs 150 \
    --runs 1 --data "$TMP/data" --real "$DATA" --s3-objects 300 --s3-upload-mb 40
  [ "$status" -eq 0 ] || { printf '%s\n' "$output" | tail -n 40 >&2; false; }
  [[ "$output" == *"3000 events, 150 song files"*"sparkify sqlite"*"duckdb "*"x, polars "*"x"*"sparkify pg"*"sparkify pg sql"*"duckdb"*"polars"*"floor: parse"*"floor: insert"*"floor "*"sparkify sqlite / floor = "*"same counts"* ]]
  [[ "$output" == *"3000 events, songs in one file"*"polars"*"floor"*"same counts"* ]]
  [[ "$output" == *"real sample"*"polars"*"floor"*"same counts"* ]]
  [[ "$output" == *"3000 events, 150 song files"*"+1 day "*"of the full load"*"+1 day = one load"*"+1 day, logs "*"of the full load"*"+1 day = one load"* ]]
  [[ "$output" != *"COUNTS DIFFER"* ]]
  [[ "$output" == *"S3: 300 one-object song files"*"20 ms"*"of min(bound, ceiling)"* ]]
  [[ "$output" == *"S3 uploads: 300 one-object song files"*"20 ms"*"of min(bound, ceiling)"* ]]
  [[ "$output" == *"S3 uploads: one 40 MB file in parts of 16 MiB: "*" MB/s with no added latency, "*" MB/s with 20 ms"* ]]
  # The counts agree with an independent reading of the generated files too.
  expected=$(python_expected "$TMP/data/e3000-s150-files/song_data" "$TMP/data/e3000-s150-files/log_data")
  counts="\"songplays\": $(json_field "$expected" songplays), \"matched\": $(json_field "$expected" matched)"
  line=$(printf '%s\n' "$output" | grep -m1 "3000 events, 150 song files *same counts")
  [[ "$line" == *"$counts"* ]]
  line=$(printf '%s\n' "$output" | grep -m1 "3000 events, 150 song files *+1 day = one load")
  [[ "$line" == *"$counts"* ]]
  # The floor inserted every star row: songplays, users, songs, artists and time.
  rows=0
  for table in songplays users songs artists time; do
    rows=$((rows + $(json_field "$expected" "$table")))
  done
  line=$(printf '%s\n' "$output" | grep -m1 "3000 events, 150 song files *floor: insert")
  [[ "$line" == *"SQLite, $(python3 -c "print(f'{$rows:,}')") star rows"* ]]
}
