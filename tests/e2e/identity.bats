#!/usr/bin/env bats
# Exactly once by content (DESIGN.md section 4): an object is known by the fingerprint of its
# bytes, not by its path, so moved, renamed, copied, linked and touched files are not loaded
# again; a log file that grows adds only its new complete lines; the checks catch a double load.

load helpers

# The NextSong events with a user in the given files, by an independent reading (Python).
plays() {
  python3 -c '
import json, sys
n = 0
for f in sys.argv[1:]:
    for l in open(f):
        l = l.strip()
        if l:
            e = json.loads(l)
            n += e.get("page") == "NextSong" and e.get("userId") not in ("", None)
print(n)' "$@"
}

day() {
  echo "$DATA/log_data/2018/11/2018-11-$1-events.json"
}

@test "a moved source directory is not loaded again" {
  need_sample
  mkdir -p a/logs
  cp "$(day 15)" "$(day 16)" a/logs/
  sp -q --target "$DB" etl --log-data a/logs
  before=$(star_contents)
  mv a b
  run sp --target "$DB" etl --log-data b/logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 0 log and 0 song objects"*"2 objects already loaded"* ]]
  test_cmp "$before" "$(star_contents)"
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$(plays b/logs/*.json)" ]
  # The new paths are recorded, so the next run knows them without reading them.
  [ "$(q "SELECT COUNT(*) FROM loaded_objects WHERE object_key LIKE '%/b/logs/%'")" = 2 ]
  [ "$(q 'SELECT COUNT(DISTINCT fingerprint) FROM loaded_objects')" = 2 ]
  [ "$(q 'SELECT SUM(log_objects) FROM etl_runs')" = 2 ]
}

@test "a renamed, a copied and a touched log file are not loaded again" {
  need_sample
  mkdir logs
  cp "$(day 15)" logs/a.json
  cp "$(day 16)" logs/b.json
  sp -q --target "$DB" etl --log-data logs
  before=$(star_contents)
  mv logs/a.json logs/renamed.json
  cp logs/b.json logs/copy.json # a new mtime, the same bytes
  touch -d '2030-01-01' logs/b.json
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 0 log and 0 song objects"*"3 objects already loaded"* ]]
  test_cmp "$before" "$(star_contents)"
  # The touched file's row has its new version, so the fast path knows it next time.
  [ "$(q "SELECT version FROM loaded_objects WHERE object_key LIKE '%/logs/b.json'")" = "mtime:$(stat -c %Y logs/b.json).$(stat -c %y logs/b.json | sed 's/.*\.\([0-9]*\).*/\1/')" ]
  run sp --target "$DB" etl --log-data logs
  [[ "$output" == *"3 objects already loaded"* ]]
}

@test "a symlink and a hard link to one file inside one source load it once" {
  need_sample
  mkdir logs
  cp "$(day 15)" logs/a.json
  ln -s a.json logs/symlink.json
  ln logs/a.json logs/hardlink.json
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 1 log and 0 song objects"*"2 objects already loaded"* ]]
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$(plays logs/a.json)" ]
  [ "$(q 'SELECT log_objects FROM etl_runs')" = 1 ]
}

@test "the same song under two names is loaded once" {
  need_sample
  mkdir songs
  song=$(find "$DATA/song_data" -name '*.json' | sort | head -n 1)
  cp "$song" songs/one.json
  cp "$song" songs/two.json
  cp "$(find "$DATA/song_data" -name '*.json' | sort | sed -n 2p)" songs/other.json
  run sp --target "$DB" etl --song-data songs
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 0 log and 2 song objects"*"1 objects already loaded"* ]]
  [ "$(q 'SELECT COUNT(*) FROM song_lookup')" = 2 ]
  [ "$(q "SELECT COUNT(*) FROM loaded_objects WHERE kind = 'song'")" = 3 ]
  run sp --target "$DB" etl --song-data songs
  [[ "$output" == *"loaded 0 log and 0 song objects"*"3 objects already loaded"* ]]
}

@test "a growing log file loads only its new complete lines, and ends as one load of the whole file" {
  need_sample
  mkdir logs
  src=$(day 15) # like every real log file, it ends without a newline
  head -n 100 "$src" > logs/today.json
  sp -q --target "$DB" etl --log-data logs
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$(plays logs/today.json)" ]
  # The writer appends 150 lines and is in the middle of the next one.
  sed -n '101,250p' "$src" >> logs/today.json
  line251=$(sed -n 251p "$src")
  printf '%s' "${line251:0:40}" >> logs/today.json
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 1 log and 0 song objects"*"1 unfinished last line left for the next run"* ]]
  head -n 250 "$src" > first250.json
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$(plays first250.json)" ]
  [ "$(q "SELECT size FROM loaded_objects")" = "$(stat -c %s first250.json)" ]
  # It finishes the line and writes the rest of the day, without a final newline.
  printf '%s\n' "${line251:40}" >> logs/today.json
  tail -n +252 "$src" >> logs/today.json
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" != *"unfinished"* ]]
  cmp logs/today.json "$src"
  grown=$(star_contents)
  one="sqlite:$TMP/one.db"
  sp -q --target "$one" etl --log-data "$src"
  test_cmp "$(star_contents "$one")" "$grown"
  [ "$(q 'SELECT SUM(songplays) FROM etl_runs')" = "$(plays "$src")" ]
  # Nothing is left over: a rerun loads nothing.
  run sp --target "$DB" etl --log-data logs
  [[ "$output" == *"loaded 0 log and 0 song objects"*"1 objects already loaded"* ]]
}

@test "a bad line appended to a grown file is reported with the file's own line number" {
  need_sample
  mkdir logs
  head -n 100 "$(day 15)" > logs/today.json
  sp -q --target "$DB" etl --log-data logs
  sed -n '101,110p' "$(day 15)" >> logs/today.json
  printf '{"page": "NextSong", "ts": }\n' >> logs/today.json
  checksum=$(sha256sum w.db)
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == *"logs/today.json:111: field 'ts': malformed JSON"* ]]
  [ "$(sha256sum w.db)" = "$checksum" ]
  run sp --target "$DB" etl --max-errors 1 --log-data logs
  [ "$status" -eq 0 ]
  [ "$(q 'SELECT line FROM load_errors')" = 111 ]
}

@test "a log file moved to another directory and grown there loads only its new lines" {
  need_sample
  mkdir -p old/logs
  head -n 100 "$(day 15)" > old/logs/2018-11-15-events.json
  sp -q --target "$DB" etl --log-data old/logs
  mkdir new
  mv old/logs new/logs
  sed -n '101,200p' "$(day 15)" >> new/logs/2018-11-15-events.json
  run sp --target "$DB" etl --log-data new/logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 1 log and 0 song objects"* ]]
  head -n 200 "$(day 15)" > expected.json
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$(plays expected.json)" ]
}

@test "files of the same name in other directories are new files, not grown ones" {
  need_sample
  mkdir -p d1 d2
  head -n 100 "$(day 15)" > d1/events.json
  head -n 150 "$(day 16)" > d2/events.json
  sp -q --target "$DB" etl --log-data d1
  run sp --target "$DB" etl --log-data d2
  [ "$status" -eq 0 ]
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$(plays d1/events.json d2/events.json)" ]
}

@test "a gzip log file that changed is refused, and the same gzip file elsewhere is known" {
  need_sample
  mkdir logs copy
  head -n 100 "$(day 15)" | gzip > logs/day.json.gz
  sp -q --target "$DB" etl --log-data logs
  cp logs/day.json.gz copy/
  run sp --target "$DB" etl --log-data copy
  [[ "$output" == *"1 objects already loaded"* ]]
  head -n 120 "$(day 15)" | gzip > logs/day.json.gz
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == *"logs/day.json.gz: changed since it was loaded"* ]]
}

@test "a full refresh loads content listed twice once" {
  need_sample
  mkdir logs
  cp "$(day 15)" logs/a.json
  cp "$(day 15)" logs/b.json
  sp -q --target "$DB" etl --full-refresh --log-data logs
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$(plays logs/a.json)" ]
}

@test "a warehouse loaded before content fingerprints gains them without loading anything again" {
  need_sample
  mkdir logs
  cp "$(day 15)" "$(day 16)" logs/
  sp -q --target "$DB" etl --log-data logs
  before=$(star_contents)
  python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("ALTER TABLE loaded_objects DROP COLUMN fingerprint"); c.commit()' w.db
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"2 objects already loaded"* ]]
  [ "$(q 'SELECT COUNT(*) FROM loaded_objects WHERE fingerprint LIKE '"'"'xxh128:%'"'")" = 2 ]
  mv logs moved
  run sp --target "$DB" etl --log-data moved
  [[ "$output" == *"2 objects already loaded"* ]]
  test_cmp "$before" "$(star_contents)"
}

@test "a source that matches nothing is an error naming it" {
  mkdir empty
  touch empty/notes.txt
  run sp --target "$DB" etl --log-data empty
  [ "$status" -eq 1 ]
  [[ "$output" == *"empty: no JSON object to load here"* ]]
  run sp --target "$DB" etl --log-data 'nothing-*.json'
  [ "$status" -eq 1 ]
  [[ "$output" == *"nothing-*.json: no file matches this pattern"* ]]
  [ ! -e w.db ]
}

@test "a dangling symlink under a name that would not be loaded is skipped" {
  need_sample
  mkdir logs
  cp "$(day 15)" logs/
  ln -s /nonexistent logs/notes.txt
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 0 ]
  ln -s /nonexistent logs/gone.json
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == *"logs/gone.json: No such file or directory"* ]]
}

@test "a file whose name is not UTF-8 is refused on every target alike, named with escapes" {
  need_sample
  mkdir logs
  cp "$(day 15)" "logs/$(printf 'bad\xff.json')"
  run sp --target "$DB" etl --log-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == *'logs/bad\xff.json: the path is not valid UTF-8'* ]]
}

@test "the checks catch a double load: the count of distinct plays and each play once" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  run sp --target "$DB" check
  [ "$status" -eq 0 ]
  # Plant a double load: every play again, and the run's record of it.
  python3 - w.db <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("""INSERT INTO songplays (start_time, user_id, level, song_id, artist_id, session_id, location, user_agent)
             SELECT start_time, user_id, level, song_id, artist_id, session_id, location, user_agent FROM songplays""")
c.execute("INSERT INTO etl_runs SELECT * FROM etl_runs")
c.commit()
PY
  run sp --target "$DB" check
  [ "$status" -eq 1 ]
  [[ "$output" == *"FAIL  songplays count = NextSong events loaded, each once"*"distinct_plays 6820, loaded_by_etl_runs 13640"* ]]
  [[ "$output" == *"FAIL  songplays (start_time, user_id, session_id) is unique"*"6820 rows"* ]]
}
