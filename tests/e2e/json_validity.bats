#!/usr/bin/env bats
# JSON validity (issue 11): a record is good only if the whole line, or the whole song object,
# is valid JSON (RFC 8259), as Redshift's COPY requires, under keys sparkify does not use too;
# stored text may not hold U+0000; a song file may start with a byte order mark; an object
# over 4 MB is a bad record. A bad record fails the run with FILE:LINE: reason and leaves the
# warehouse unchanged, or goes to load_errors under --max-errors.

load helpers

song='{"num_songs": 1, "artist_id": "AR1", "artist_latitude": null, "artist_longitude": null, "artist_location": "", "artist_name": "Artist", "song_id": "SO1", "title": "Title", "duration": 200.5, "year": 2001}'
advice='nothing was written (fix the record, or skip up to N bad records into load_errors with --max-errors N)'


# run_bad CONTENT REASON: a log file holding a good line then CONTENT on line 2 fails the run
# with exactly one line naming the file, the line and REASON.
run_bad() {
  mkdir -p bad
  printf '%s\n%s\n' "$good_event" "$1" > bad/day2.json
  run sp --target "$DB" etl --log-data bad
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: $TMP/bad/day2.json:2: $2; $advice" ]
  assert_unchanged
}

# The good event with KEY: VALUE added before its other keys.
event_with() {
  printf '{"%s":%s,%s\n' "$1" "$2" "${good_event#\{}"
}

@test "a value starting with n that is not null is a bad record, not a crash" {
  prepare_warehouse
  run_bad '{"page":"Home","artist":nul}' "field 'artist': malformed JSON: bad literal (true/false/null)"
  run_bad '{"page":"Home","ts":nulll}' "field 'ts': malformed JSON: bad literal (true/false/null)"
}

@test "malformed JSON under a key sparkify does not use is a bad record" {
  prepare_warehouse
  run_bad "$(event_with zzz ']')" "field 'zzz': malformed JSON: unbalanced or incomplete object"
  run_bad "$(event_with zzz 'tru')" "field 'zzz': malformed JSON: bad literal (true/false/null)"
  run_bad "$(event_with zzz 'nul')" "field 'zzz': malformed JSON: bad literal (true/false/null)"
  run_bad "$(event_with zzz '01')" "field 'zzz': malformed JSON: bad number"
  run_bad "$(event_with zzz '+1')" "field 'zzz': malformed JSON: bad number"
  run_bad "$(event_with zzz '"\q"')" "field 'zzz': malformed JSON: bad string escape"
  run_bad "$(event_with zzz '[1,,2]')" "field 'zzz': malformed JSON: unbalanced or incomplete object"
  run_bad "$(event_with zzz '{"a":[1}]')" "field 'zzz': malformed JSON: unbalanced or incomplete object"
}

@test "a bad escape in a key sparkify does not use is a bad record" {
  prepare_warehouse
  run_bad "$(event_with zzz '{"\q":1}')" "field 'zzz': malformed JSON: bad string escape"
  run_bad "$(event_with 'z\qz' 1)" "malformed JSON: bad string escape"
}

@test "malformed JSON inside a nested value kept as text is a bad record" {
  prepare_warehouse
  run_bad '{"page":"Home","artist":{"a":tru}}' "field 'artist': malformed JSON: bad literal (true/false/null)"
  run_bad '{"page":"Home","location":[1,,2]}' "field 'location': malformed JSON: unbalanced or incomplete object"
}

@test "a nested value kept as text is stored as its JSON text" {
  printf '%s\n' '{"page":"NextSong","ts":1541990258796,"userId":"7","level":"free","location":{"city": [1, 1e400]} ,"userAgent":"UA"}' > day.json
  sp -q --target "$DB" etl --log-data day.json
  [ "$(q 'SELECT location FROM songplays')" = '"{""city"": [1, 1e400]}"' ]
}

@test "nesting deeper than 1000 levels is a bad record" {
  prepare_warehouse
  run_bad "$(event_with zzz "$(python3 -c 'print("[" * 1000 + "]" * 1000)')")" \
    "field 'zzz': nested too deeply (more than 1000 levels)"
  run_bad "$(event_with zzz "$(python3 -c 'print("[" * 100000 + "]" * 100000)')")" \
    "field 'zzz': nested too deeply (more than 1000 levels)"
}

@test "a NUL character in a stored text value is a bad record" {
  prepare_warehouse
  run_bad '{"page":"NextSong","ts":1541990258796,"userId":"9001\u0000x"}' \
    "field 'userId': contains a NUL character (U+0000), which COPY refuses"
  run_bad '{"page":"Home","artist":{"name":"A\u0000"}}' \
    "field 'artist': contains a NUL character (U+0000), which COPY refuses"
}

@test "a NUL character under a key sparkify does not use is accepted, as it is not stored" {
  event_with zzz '"\u0000"' > day.json
  sp -q --target "$DB" etl --log-data day.json
  [ "$(q 'SELECT user_id, start_time FROM songplays')" = "7,2018-11-12 02:37:38.796" ]
}

@test "valid JSON of any shape under a key sparkify does not use is accepted" {
  event_with zzz '{"big": [1e400, -123456789012345678901234567890, 1E+2, -0.0e-999], "s": "\u00e9\ud83d\ude00\/\b\n\"\\", "e": [[], {}], "t": [true, false, null]}' > day.json
  sp -q --target "$DB" etl --log-data day.json
  [ "$(q 'SELECT user_id, start_time FROM songplays')" = "7,2018-11-12 02:37:38.796" ]
}

@test "a song file may start with a UTF-8 byte order mark" {
  mkdir songs
  printf '\xEF\xBB\xBF%s\n' "$song" > songs/TRBOM.json
  sp -q --target "$DB" etl --song-data songs
  [ "$(q 'SELECT song_id, title, artist_id, year, duration FROM songs')" = "SO1,Title,AR1,2001,200.5" ]
}

@test "a byte order mark after the start of a song file is a bad record" {
  prepare_warehouse
  mkdir songs
  printf '%s\n\xEF\xBB\xBF%s\n' "$song" "$song" > songs/TRBOM.json
  run sp --target "$DB" etl --song-data songs
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: $TMP/songs/TRBOM.json:2: malformed JSON: unbalanced or incomplete object; $advice" ]
  assert_unchanged
}

@test "an event line over 4 MB is a bad record" {
  prepare_warehouse
  run_bad "$(python3 -c 'print("{\"page\":\"Home\",\"zzz\":\"" + "a" * 4194304 + "\"}")')" \
    "JSON object larger than 4 MB (Redshift COPY's limit)"
}

@test "a song object over 4 MB is a bad record, and one of exactly 4 MB is not" {
  prepare_warehouse
  mkdir songs
  # {"song_id":"SO2","zzz":"aaa..."} of exactly 4194304 bytes, then one byte more.
  python3 -c 'import sys; head = "{\"song_id\":\"SO2\",\"zzz\":\""; print(head + "a" * (4194304 - len(head) - 2) + "\"}")' > songs/TRBIG.json
  sp -q --target "$DB" etl --song-data songs
  [ "$(q "SELECT song_id FROM songs")" = "SO2" ]
  checksum=$(sha256sum w.db)
  python3 -c 'import sys; head = "{\"song_id\":\"SO3\",\"zzz\":\""; print(head + "a" * (4194305 - len(head) - 2) + "\"}")' > songs/TRBIGGER.json
  run sp --target "$DB" etl --song-data songs
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: $TMP/songs/TRBIGGER.json:1: JSON object larger than 4 MB (Redshift COPY's limit); $advice" ]
  assert_unchanged
}

@test "--max-errors 1 keeps the good record and puts the bad one in load_errors" {
  mkdir bad
  printf '%s\n%s\n' "$good_event" "$(event_with zzz 'tru')" > bad/day2.json
  run sp --target "$DB" etl --max-errors 1 --log-data bad
  [ "$status" -eq 0 ]
  [[ "$output" == *", 1 bad records skipped" ]]
  [ "$(q 'SELECT user_id, start_time FROM songplays')" = "7,2018-11-12 02:37:38.796" ]
  [ "$(q 'SELECT source, line, reason FROM load_errors')" = \
    "$TMP/bad/day2.json,2,field 'zzz': malformed JSON: bad literal (true/false/null)" ]
  [ "$(q 'SELECT substr(raw, 1, 11) FROM load_errors')" = '"{""zzz"":tru,"' ]
}
