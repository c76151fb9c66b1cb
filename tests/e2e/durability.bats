#!/usr/bin/env bats
# Atomic runs under the accidents of real life: a process killed at any moment, two runs at
# once, a disk that fills up. The warehouse ends exactly as before or exactly complete, never
# in between, and nothing is loaded twice.

load helpers

contents() {
  contents_text "$1" | sha256sum
}

# Every star and bookkeeping table's contents (songplay_id left out).
contents_text() {
  {
    star_contents "$1"
    "$SPARKIFY" --target "$1" query --format csv "SELECT kind, object_key, size, fingerprint FROM loaded_objects ORDER BY 1, 2"
    "$SPARKIFY" --target "$1" query --format csv "SELECT log_objects, song_objects, events, songplays FROM etl_runs WHERE log_objects + song_objects > 0 ORDER BY 1, 2, 3, 4"
  }
}

@test "etl killed with SIGKILL at 20 random moments leaves the warehouse exactly as before or complete" {
  sp -q generate --out gen --events 60000 --songs 1000 --seed 11
  sp -q --target "sqlite:$TMP/base.db" etl --song-data gen/song_data --log-data gen/log_data/2018/11/2018-11-01-events.json
  before=$(contents "sqlite:$TMP/base.db")
  cp base.db complete.db
  start=$(date +%s%N)
  sp -q --target "sqlite:$TMP/complete.db" etl --song-data gen/song_data --log-data gen/log_data
  took_ms=$((($(date +%s%N) - start) / 1000000))
  complete=$(contents "sqlite:$TMP/complete.db")
  complete_text=$(contents_text "sqlite:$TMP/complete.db")
  [ "$before" != "$complete" ]
  seen_before=0 seen_complete=0
  # The timed run above may have been slowed by a busy machine: each kill that came after the
  # commit draws the next moment from a shorter span, so that kills before it happen too.
  span_ms=$((took_ms * 12 / 10))
  for i in $(seq 1 20); do
    cp base.db w.db
    rm -f w.db-journal
    # The binary itself in the background, so that the kill hits it and not a shell around it.
    "$SPARKIFY" -q --target "$DB" etl --song-data gen/song_data --log-data gen/log_data &
    pid=$!
    sleep "$(python3 -c "import random; print(random.uniform(0, $span_ms) / 1000)")"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # The next reader rolls a hot journal back; integrity holds and the state is one of two.
    [ "$(q 'PRAGMA integrity_check')" = ok ]
    now=$(contents "$DB")
    if [ "$now" = "$before" ]; then
      seen_before=$((seen_before + 1))
    else
      if [ "$now" != "$complete" ]; then
        contents_text "$DB" > now.txt; contents_text "sqlite:$TMP/complete.db" > complete.txt
        diff now.txt complete.txt | head -5 >&3; false
      fi
      seen_complete=$((seen_complete + 1))
      span_ms=$((span_ms * 7 / 10 + 1))
    fi
    # A run after the kill completes the load, once.
    sp -q --target "$DB" etl --song-data gen/song_data --log-data gen/log_data
    test_cmp "$complete_text" "$(contents_text "$DB")"
  done
  echo "killed before the commit: $seen_before, after: $seen_complete" >&3
  [ "$seen_before" -gt 0 ]
}

@test "two runs at once on SQLite end as one run: the second waits, then finds everything loaded" {
  need_sample
  sp -q --target "sqlite:$TMP/one.db" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  for i in 1 2 3; do
    rm -f w.db
    sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data" &
    first=$!
    sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data" &
    second=$!
    wait "$first"
    wait "$second"
    test_cmp "$(contents_text "sqlite:$TMP/one.db")" "$(contents_text "$DB")"
    [ "$(q 'SELECT COUNT(*) FROM etl_runs')" -ge 1 ]
    [ "$(q 'SELECT SUM(log_objects) FROM etl_runs')" = 30 ]
  done
}

@test "two runs at once on PostgreSQL end as one run, on both paths" {
  need_sample
  pg_server_start
  sp -q --target "sqlite:$TMP/one.db" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  for mode in c sql; do
    target=$(new_database "$mode")
    sp -q --target "$target" etl --transform "$mode" --song-data "$DATA/song_data" --log-data "$DATA/log_data" &
    first=$!
    sp -q --target "$target" etl --transform "$mode" --song-data "$DATA/song_data" --log-data "$DATA/log_data" &
    second=$!
    wait "$first"
    wait "$second"
    test_cmp "$(star_contents "sqlite:$TMP/one.db")" "$(star_contents "$target")"
    [ "$(psql -tA "$target" -c 'SELECT SUM(log_objects) FROM etl_runs')" = 30 ]
  done
  pg_server_stop
}

@test "a full disk fails the run with a clear error and leaves the warehouse as it was" {
  need_sample
  mkdir small
  mount -t tmpfs -o size=1m tmpfs small 2>/dev/null || skip "cannot mount a small tmpfs here (needs root and mount permission)"
  sp -q --target "sqlite:$TMP/small/w.db" etl --log-data "$DATA/log_data/2018/11/2018-11-01-events.json"
  before=$(sha256sum small/w.db)
  run sp --target "sqlite:$TMP/small/w.db" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  after=$(sha256sum small/w.db)
  journal=$(ls small)
  umount small
  [ "$status" -eq 1 ]
  [[ "$output" == *"database or disk is full"* ]]
  [ "${#lines[@]}" -eq 1 ]
  [ "$after" = "$before" ]
  [ "$journal" = w.db ]
}
