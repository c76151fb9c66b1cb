#!/usr/bin/env bats
# Idempotent, incremental and atomic runs (DESIGN.md section 4).

load helpers

@test "re-running etl on the same sources changes nothing" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  before=$(star_contents)
  run sp --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 events"* ]]
  [[ "$output" == *"1973 objects already loaded"* ]]
  test_cmp "$before" "$(star_contents)"
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = 6820 ]
}

@test "log files split across runs, in any order, end in the same tables as one run" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  one_run=$(star_contents)
  ordered="sqlite:$TMP/ordered.db"
  sp -q --target "$ordered" etl --song-data "$DATA/s3_subset/song_data"
  sp -q --target "$ordered" etl --log-data "$DATA/log_data/2018/11/2018-11-2*"
  sp -q --target "$ordered" etl --log-data "$DATA/log_data/2018/11/2018-11-0*"
  sp -q --target "$ordered" etl --log-data "$DATA/log_data/2018/11/2018-11-1*"
  sp -q --target "$ordered" etl --log-data "$DATA/log_data/2018/11/2018-11-30-events.json"
  test_cmp "$one_run" "$(star_contents "$ordered")"
}

@test "users keep the level of their latest event when the later day is loaded first" {
  need_sample
  sp -q --target "$DB" etl --log-data "$DATA/log_data"
  expected=$(q 'SELECT * FROM users ORDER BY user_id')
  late_first="sqlite:$TMP/late.db"
  sp -q --target "$late_first" etl --log-data "$DATA/log_data/2018/11/2018-11-30-events.json"
  sp -q --target "$late_first" etl --log-data "$DATA/log_data"
  test_cmp "$expected" "$(DB=$late_first q 'SELECT * FROM users ORDER BY user_id')"
}

@test "a warehouse written before user_latest gains it from songplays on its next run, once" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  one_run=$(star_contents)
  old="sqlite:$TMP/old.db"
  sp -q --target "$old" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data/2018/11/2018-11-1*"
  sp -q --target "$old" query --write "DROP TABLE user_latest"
  # Days before and after those loaded: some users' latest plays are the warehouse's, some new.
  sp -q --target "$old" etl --log-data "$DATA/log_data"
  test_cmp "$one_run" "$(star_contents "$old")"
  run sp --target "$old" check
  [ "$status" -eq 0 ]
}

@test "a run that asks about more song keys than the model keeps ends in the tables of one run" {
  # 151k plays of 106k distinct (song, artist, length) keys, most of them in no catalog: past
  # 65,536 keys the second run forgets the unmatched ones between batches (model.c).
  sp -q generate --out gen --events 200000 --songs 500 --seed 5 --songs-in-one-file
  sp -q --target "$DB" etl --song-data gen/song_data --log-data gen/log_data
  one_run=$(star_contents)
  split="sqlite:$TMP/split.db"
  sp -q --target "$split" etl --song-data gen/song_data
  run sp --target "$split" etl --log-data gen/log_data
  [ "$status" -eq 0 ]
  [[ "$output" == *"150978 songplays ($(q "SELECT COUNT(song_id) FROM songplays") matched to a song)"* ]]
  test_cmp "$one_run" "$(star_contents "$split")"
}

@test "song files split across runs give the same songs and artists as one run" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data"
  one_run=$(star_contents)
  split="sqlite:$TMP/split.db"
  sp -q --target "$split" etl --song-data "$DATA/s3_subset/song_data/A/D"
  sp -q --target "$split" etl --song-data "$DATA/s3_subset/song_data/A/B"
  sp -q --target "$split" etl --song-data "$DATA/s3_subset/song_data"
  test_cmp "$one_run" "$(star_contents "$split")"
}

@test "new objects are added on the next run" {
  need_sample
  mkdir logs
  cp "$DATA/log_data/2018/11/2018-11-01-events.json" logs/
  sp -q --target "$DB" etl --log-data logs
  [ "$(q 'SELECT COUNT(*) FROM loaded_objects')" = 1 ]
  first=$(q 'SELECT COUNT(*) FROM songplays')
  cp "$DATA/log_data/2018/11/2018-11-02-events.json" logs/
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 1 log and 0 song objects"* ]]
  [ "$(q 'SELECT COUNT(*) FROM loaded_objects')" = 2 ]
  expected=$(python3 -c '
import json,sys
print(sum(1 for f in sys.argv[1:] for l in open(f) if l.strip() and json.loads(l)["page"] == "NextSong" and json.loads(l)["userId"] != ""))' logs/*.json)
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$expected" ]
  [ "$(q 'SELECT COUNT(*) FROM songplays')" -gt "$first" ]
}

@test "a log file changed after loading, not by appending, is refused, and --full-refresh reloads everything" {
  need_sample
  mkdir logs
  head -n 100 "$DATA/log_data/2018/11/2018-11-15-events.json" > logs/day.json
  sp -q --target "$DB" etl --log-data logs
  before=$(q 'SELECT COUNT(*) FROM songplays')
  head -n 200 "$DATA/log_data/2018/11/2018-11-15-events.json" | tail -n 150 > logs/day.json
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == *"logs/day.json: changed since it was loaded: its first "*" bytes are not those loaded before"*"--full-refresh"* ]]
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$before" ]
  run sp --target "$DB" etl --full-refresh --log-data logs
  [ "$status" -eq 0 ]
  expected=$(python3 -c '
import json,sys
print(sum(1 for l in open(sys.argv[1]) if l.strip() and json.loads(l)["page"] == "NextSong" and json.loads(l)["userId"] != ""))' logs/day.json)
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$expected" ]
}

@test "a log file that shrank since it was loaded is refused" {
  need_sample
  mkdir logs
  head -n 100 "$DATA/log_data/2018/11/2018-11-15-events.json" > logs/day.json
  sp -q --target "$DB" etl --log-data logs
  head -n 50 "$DATA/log_data/2018/11/2018-11-15-events.json" > logs/day.json
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == *"logs/day.json: changed since it was loaded (size "*", not by appending lines)"* ]]
}

@test "a bad line in the last file leaves the warehouse byte for byte as before" {
  need_sample
  mkdir logs
  cp "$DATA/log_data/2018/11/2018-11-01-events.json" "$DATA/log_data/2018/11/2018-11-02-events.json" logs/
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data logs
  before=$(sha256sum w.db)
  cp "$DATA/log_data/2018/11/2018-11-03-events.json" "$DATA/log_data/2018/11/2018-11-04-events.json" logs/
  printf '\n{"artist": "broken\n' >> logs/2018-11-04-events.json
  newlines=$(wc -l < logs/2018-11-04-events.json)
  run sp --target "$DB" etl --song-data "$DATA/song_data" --log-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == *"logs/2018-11-04-events.json:$newlines: malformed JSON"* ]]
  [ "$(sha256sum w.db)" = "$before" ]
  [ ! -e w.db-journal ]
}

@test "a killed run leaves the warehouse as it was" {
  sp generate --out gen --events 300000 --songs 2000 --seed 7 -q
  sp -q --target "$DB" etl --song-data gen/song_data --log-data "gen/log_data/2018/11/2018-11-01-events.json"
  before=$(star_contents)
  "$SPARKIFY" -q --target "$DB" etl --log-data gen/log_data &
  pid=$!
  sleep 0.3
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # Whatever instant the kill hit, the tables hold either the old state or the whole run.
  after=$(star_contents)
  if [ "$after" != "$before" ]; then
    sp -q --target "sqlite:$TMP/full.db" etl --song-data gen/song_data --log-data "gen/log_data/2018/11/2018-11-01-events.json"
    sp -q --target "sqlite:$TMP/full.db" etl --log-data gen/log_data
    test_cmp "$(star_contents "sqlite:$TMP/full.db")" "$after"
  fi
  [ "$(q 'PRAGMA integrity_check')" = ok ]
}
