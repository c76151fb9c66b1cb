#!/usr/bin/env bats
# The benchmark must not rot: it runs end to end on a tiny dataset, and sparkify and DuckDB
# must agree on every row count (no timing is asserted; timing belongs in bench/).

load helpers

@test "bench/run.sh runs on a tiny dataset and both tools produce the same counts" {
  run env SPARKIFY_BIN="$SPARKIFY" "$SPARKIFY_SOURCE/bench/run.sh" --events 3000 --songs 150 \
    --runs 1 --data "$TMP/data" --real "$DATA" --s3-objects 300
  [ "$status" -eq 0 ]
  [[ "$output" == *"3000 events, 150 song files"*"sparkify sqlite"*"sparkify pg"*"sparkify pg sql"*"duckdb"* ]]
  [[ "$output" == *"3000 events, songs in one file"*"same counts"* ]]
  [[ "$output" != *"COUNTS DIFFER"* ]]
  [[ "$output" == *"S3: 300 one-object song files"*"20 ms"*"of min(bound, ceiling)"* ]]
  # The counts agree with an independent reading of the generated files too.
  expected=$(python_expected "$TMP/data/e3000-s150-files/song_data" "$TMP/data/e3000-s150-files/log_data")
  line=$(printf '%s\n' "$output" | grep -m1 "3000 events, 150 song files *same counts")
  [[ "$line" == *"\"songplays\": $(json_field "$expected" songplays), \"matched\": $(json_field "$expected" matched)"* ]]
}
