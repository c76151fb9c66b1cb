#!/usr/bin/env bats
# The real Udacity sample, loaded end to end; expected values come from expected.py, which
# reads the raw JSON with Python's json module (an independent route), and are checked
# against the known figures of the classic project where those are public.

load helpers

check_against_python() {
  local songs=$1
  run sp --target "$DB" etl --song-data "$songs" --log-data "$DATA/log_data"
  [ "$status" -eq 0 ]
  expected=$(python_expected "$songs" "$DATA/log_data")
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$(json_field "$expected" songplays)" ]
  [ "$(q 'SELECT COUNT(song_id) FROM songplays')" = "$(json_field "$expected" matched)" ]
  [ "$(q 'SELECT COUNT(*) FROM users')" = "$(json_field "$expected" users)" ]
  [ "$(q "SELECT COUNT(*) FROM users WHERE level = 'paid'")" = "$(json_field "$expected" paid_users)" ]
  [ "$(q "SELECT COUNT(*) FROM users WHERE level = 'free'")" = "$(json_field "$expected" free_users)" ]
  [ "$(q 'SELECT COUNT(*) FROM songs')" = "$(json_field "$expected" songs)" ]
  [ "$(q 'SELECT COUNT(*) FROM artists')" = "$(json_field "$expected" artists)" ]
  [ "$(q 'SELECT COUNT(*) FROM time')" = "$(json_field "$expected" time)" ]
}

@test "song_data + log_data: every table's row count, the matches and the paid/free split agree with an independent reading" {
  need_sample
  check_against_python "$DATA/song_data"
  # The classic project's well-known figures for this set.
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = 6820 ]
  [ "$(q 'SELECT COUNT(song_id) FROM songplays')" = 1 ]
  [ "$(q 'SELECT COUNT(*) FROM songs')" = 71 ]
  [ "$(q 'SELECT COUNT(*) FROM artists')" = 69 ]
}

@test "s3_subset + log_data: every table's row count, the matches and the paid/free split agree with an independent reading" {
  need_sample
  check_against_python "$DATA/s3_subset/song_data"
  # A file with two concatenated objects repeats one song: 1944 records, 1943 songs.
  [ "$(q 'SELECT COUNT(*) FROM songs')" = 1943 ]
}

@test "the one real match is the song the classic project finds" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  [ "$(q 'SELECT s.title, a.name FROM songplays p JOIN songs s USING (song_id) JOIN artists a ON a.artist_id = p.artist_id')" = "Setanta matins,Elena" ]
}

@test "numeric artist names in song files are kept as text" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data"
  [ "$(q "SELECT name, typeof(name) FROM artists WHERE name IN ('112', '2562') ORDER BY name")" = "$(printf '112,text\n2562,text')" ]
}

@test "artists that song files disagree about get the most complete row" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data"
  # Coordinates win over none; then the shortest name; then byte order.
  [ "$(q "SELECT name, location, latitude FROM artists WHERE artist_id = 'AR98JLC1187B9ADE23'")" = "Megadeth,\"Los Angeles, California, United States\",34.05349" ]
  [ "$(q "SELECT name FROM artists WHERE artist_id = 'ARTE9CG1187B99B1AF'")" = "DMX" ]
  [ "$(q "SELECT name FROM artists WHERE artist_id = 'AR8JO2B1187B98EBB6'")" = "Leftover Crack" ]
}

@test "time rows carry UTC parts, the ISO week and weekday 0 = Sunday, and keep milliseconds" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  # ts 1541990258796 is Monday 2018-11-12 02:37:38.796 UTC, ISO week 46.
  [ "$(q "SELECT * FROM time WHERE start_time = '2018-11-12 02:37:38.796'")" = "2018-11-12 02:37:38.796,2,12,46,11,2018,1" ]
  # 2018-11-04 is a Sunday.
  [ "$(q "SELECT DISTINCT weekday FROM time WHERE start_time LIKE '2018-11-04%'")" = 0 ]
  # Every time row's parts agree with SQLite's own calendar.
  [ "$(q "SELECT COUNT(*) FROM time WHERE hour != CAST(strftime('%H', start_time) AS INTEGER) OR weekday != CAST(strftime('%w', start_time) AS INTEGER) OR day != CAST(strftime('%d', start_time) AS INTEGER)")" = 0 ]
}

@test "users take the level of their latest NextSong event" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  # Every user's level equals the level of that user's latest songplay.
  [ "$(q "SELECT COUNT(*) FROM users u WHERE u.level != (SELECT p.level FROM songplays p WHERE p.user_id = u.user_id ORDER BY p.start_time DESC, p.level DESC LIMIT 1)")" = 0 ]
}

@test "--keep-staging writes every raw record to the staging tables" {
  need_sample
  sp -q --target "$DB" etl --keep-staging --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  [ "$(q 'SELECT COUNT(*) FROM staging_events')" = 8056 ]
  [ "$(q 'SELECT COUNT(*) FROM staging_songs')" = 1944 ]
  [ "$(q "SELECT COUNT(*) FROM staging_events WHERE page = 'NextSong'")" = "$(python3 -c '
import json,glob,sys
print(sum(json.loads(l).get("page") == "NextSong" for f in glob.glob(sys.argv[1] + "/*/*/*.json") for l in open(f) if l.strip()))' "$DATA/log_data")" ]
}

@test "without --keep-staging the staging tables stay empty" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  [ "$(q 'SELECT COUNT(*) FROM staging_events')" = 0 ]
  [ "$(q 'SELECT COUNT(*) FROM staging_songs')" = 0 ]
}

@test "the canonical log_json_path.json gives the same tables as the built-in keys" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data" --log-jsonpath "$DATA/log_json_path.json"
  with_paths=$(star_contents)
  sp -q --target "sqlite:$TMP/plain.db" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  test_cmp "$(star_contents "sqlite:$TMP/plain.db")" "$with_paths"
}
