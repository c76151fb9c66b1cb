#!/usr/bin/env bats
# The benchmark must not rot: it runs end to end on a tiny dataset, and sparkify and DuckDB
# must agree on every row count; its S3 fetches and uploads print their lines (no timing is
# asserted; timing belongs in bench/).

load helpers

@test "bench/run.sh runs on a tiny dataset, both tools produce the same counts, and the S3 fetch and upload lines are printed" {
  run env SPARKIFY_BIN="$SPARKIFY" "$SPARKIFY_SOURCE/bench/run.sh" --events 3000 --songs 150 \
    --runs 1 --data "$TMP/data" --real "$DATA" --s3-objects 300 --s3-upload-mb 40
  [ "$status" -eq 0 ]
  [[ "$output" == *"3000 events, 150 song files"*"sparkify sqlite"*"sparkify pg"*"sparkify pg sql"*"duckdb"* ]]
  [[ "$output" == *"3000 events, songs in one file"*"same counts"* ]]
  [[ "$output" != *"COUNTS DIFFER"* ]]
  [[ "$output" == *"S3: 300 one-object song files"*"20 ms"*"of min(bound, ceiling)"* ]]
  [[ "$output" == *"S3 uploads: 300 one-object song files"*"20 ms"*"of min(bound, ceiling)"* ]]
  [[ "$output" == *"S3 uploads: one 40 MB file in parts of 16 MiB: "*" MB/s with no added latency, "*" MB/s with 20 ms"* ]]
  # The counts agree with an independent reading of the generated files too.
  expected=$(python_expected "$TMP/data/e3000-s150-files/song_data" "$TMP/data/e3000-s150-files/log_data")
  line=$(printf '%s\n' "$output" | grep -m1 "3000 events, 150 song files *same counts")
  [[ "$line" == *"\"songplays\": $(json_field "$expected" songplays), \"matched\": $(json_field "$expected" matched)"* ]]
}
