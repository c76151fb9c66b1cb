#!/usr/bin/env bats
# `sparkify check` and `etl --check`: the built-in checks pass on the real sample and fail on
# planted faults, naming the offending rows; user checks come from INI files; a run whose
# checks fail is rolled back. Faults that the SQLite tables' keys would refuse (a duplicate
# or NULL key) are planted in a copy of the table without constraints, as Amazon Redshift
# keeps its tables: it does not enforce primary keys.

load helpers

load_sample() {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  expected=$(python_expected "$DATA/s3_subset/song_data" "$DATA/log_data")
}

# The failing lines of a check run, runs of spaces squeezed.
failures() {
  printf '%s\n' "$output" | grep '^FAIL' | tr -s ' '
}

# check_fails_with SQL LINE...: after SQL plants a fault, check exits 1 failing exactly LINEs.
check_fails_with() {
  write_sql "$DB" "$1"
  shift
  run sp --target "$DB" check
  [ "$status" -eq 1 ]
  [ "$(failures)" = "$(printf '%s\n' "$@")" ]
}

# Replaces TABLE with a copy without keys or constraints.
without_constraints() {
  write_sql "$DB" "ALTER TABLE $1 RENAME TO $1_keyed; CREATE TABLE $1 AS SELECT * FROM $1_keyed; DROP TABLE $1_keyed"
}

@test "check passes every built-in check on the real sample, one line each" {
  load_sample
  run sp --target "$DB" check
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 27 ]
  [ "${lines[26]}" = "26 checks: 26 passed, 0 failed" ]
  [ "$(printf '%s\n' "${lines[@]:0:26}" | grep -c '^PASS  ')" -eq 26 ]
  [ "$(printf '%s\n' "$output" | grep 'user_latest' | tr -s ' ')" = "PASS user_latest = each user's latest play 0 rows" ]
  n=$(json_field "$expected" songplays)
  [ "$(printf '%s\n' "$output" | grep 'NextSong events' | tr -s ' ')" = "PASS songplays count = NextSong events loaded, each once distinct_plays $n, loaded_by_etl_runs $n" ]
  [ "$(printf '%s\n' "$output" | grep '^PASS  users is not empty' | tr -s ' ')" = "PASS users is not empty value $(json_field "$expected" users), expected at least 1" ]
  [ "$(printf '%s\n' "$output" | grep 'songplays.user_id in users' | tr -s ' ')" = "PASS songplays.user_id in users 0 rows" ]
}

@test "check fails on a dangling user_id, naming it" {
  load_sample
  # Its play is also a latest play user_latest does not know of.
  check_fails_with "UPDATE songplays SET user_id = '999' WHERE songplay_id = 100" \
    "FAIL songplays.user_id in users 1 row (sample: user_id=999)" \
    "FAIL user_latest = each user's latest play 1 row (sample: user_id=999)"
  [ "${lines[26]}" = "26 checks: 24 passed, 2 failed" ]
}

@test "check fails when user_latest, by which runs decide users, disagrees with songplays" {
  load_sample
  check_fails_with "UPDATE user_latest SET start_time = '2018-11-01 00:00:00.000' WHERE user_id = '15'; DELETE FROM user_latest WHERE user_id = '26'; INSERT INTO user_latest VALUES ('1000', '2018-11-02 00:00:00.000', 'free')" \
    "FAIL user_latest = each user's latest play 3 rows (sample: user_id=1000)"
}

@test "check fails on a duplicate key, naming it" {
  load_sample
  without_constraints users
  check_fails_with "INSERT INTO users SELECT * FROM users WHERE user_id = '15'" \
    "FAIL users.user_id is unique 2 rows (sample: user_id=15)"
}

@test "check fails on a NULL key" {
  load_sample
  without_constraints songs
  check_fails_with "INSERT INTO songs (song_id, title) VALUES (NULL, 'No id'), (NULL, 'No id either')" \
    "FAIL songs.song_id is not null 2 rows"
}

@test "check fails on a bad level, naming the songplay and the user" {
  load_sample
  check_fails_with "UPDATE songplays SET level = 'premium' WHERE songplay_id = 200; UPDATE users SET level = NULL WHERE user_id = '26'" \
    "FAIL songplays.level in (free, paid) 1 row (sample: songplay_id=200)" \
    "FAIL users.level in (free, paid) 1 row (sample: user_id=26)"
}

@test "check fails on a time row outside the clock and on a play missing from time" {
  load_sample
  first=$(q "SELECT MIN(start_time) FROM songplays")
  last=$(q "SELECT MAX(start_time) FROM songplays")
  check_fails_with "UPDATE time SET hour = 24, weekday = -1 WHERE start_time = (SELECT MIN(start_time) FROM time); DELETE FROM time WHERE start_time = (SELECT MAX(start_time) FROM time)" \
    "FAIL songplays.start_time in time 1 row (sample: start_time=$last)" \
    "FAIL time.hour in 0..23 1 row (sample: start_time=$first)" \
    "FAIL time.weekday in 0..6 1 row (sample: start_time=$first)"
}

@test "check fails when songplays holds fewer rows than the NextSong events etl loaded" {
  load_sample
  plays_15=$(python3 - "$DATA/log_data" <<'PY'
import glob, json, sys
print(sum(1 for f in glob.glob(sys.argv[1] + "/*/*/*.json") for l in open(f)
          if l.strip() and json.loads(l)["page"] == "NextSong" and json.loads(l)["userId"] == "15"))
PY
)
  n=$(json_field "$expected" songplays)
  check_fails_with "DELETE FROM songplays WHERE user_id = '15'" \
    "FAIL user_latest = each user's latest play 1 row (sample: user_id=15)" \
    "FAIL songplays count = NextSong events loaded, each once distinct_plays $((n - plays_15)), loaded_by_etl_runs $n"
}

@test "check on an empty warehouse fails the emptiness checks" {
  sp -q --target "$DB" create-tables
  run sp --target "$DB" check
  [ "$status" -eq 1 ]
  [ "$(failures | cut -d' ' -f2- )" = "$(printf '%s\n' 'songplays is not empty value 0, expected at least 1' 'users is not empty value 0, expected at least 1' 'songs is not empty value 0, expected at least 1' 'artists is not empty value 0, expected at least 1' 'time is not empty value 0, expected at least 1')" ]
}

@test "--checks FILE adds user checks: an expected number, a range, a text value" {
  load_sample
  paid=$(json_field "$expected" paid_users)
  events=$(json_field "$expected" events)
  cat > checks.ini <<EOF
# Checks of the analytics team
[paid users]
sql = SELECT COUNT(*) FROM users WHERE level = 'paid'
expect = $paid

[songplays, fewer than events]
sql = SELECT COUNT(*)
      FROM songplays
min = 1
max = $events

[first level in byte order]
sql = SELECT MIN(level) FROM users
expect = free

[one more paid user than there is]
sql = SELECT COUNT(*) FROM users WHERE level = 'paid'
expect = $((paid + 1))

[average plays per user, at most]
sql = SELECT CAST(COUNT(*) AS DOUBLE PRECISION) / COUNT(DISTINCT user_id) FROM songplays
max = 2.5
EOF
  run sp --target "$DB" check --checks checks.ini
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 32 ]
  [ "$(printf '%s\n' "${lines[@]:26:5}" | tr -s ' ')" = "$(printf '%s\n' "PASS paid users value $paid, expected $paid" "PASS songplays, fewer than events value $(json_field "$expected" songplays), expected 1 to $events" "PASS first level in byte order value free, expected free" "FAIL one more paid user than there is value $paid, expected $((paid + 1))")
FAIL average plays per user, at most value $(python3 -c "print(repr($(json_field "$expected" songplays) / $(json_field "$expected" users)))"), expected at most 2.5" ]
}

@test "a bad checks file is a usage error naming file:line and the reason" {
  load_sample
  check_file() {
    printf "$1" > bad.ini
    run sp --target "$DB" check --checks bad.ini
    [ "$status" -eq 2 ]
    [ "$output" = "sparkify: checks file bad.ini:$2" ]
  }
  check_file '[a]\nsql = SELECT 1\nexpect = 1\n\n[b]\nexpect = 1\n' "5: check 'b' has no sql"
  check_file '[a]\nsql = SELECT 1\n' "1: check 'a' needs expect = VALUE, or min and/or max"
  check_file '[a]\nsql = SELECT 1\nexpect = 1\nmax = 2\n' "1: check 'a' takes expect or min/max, not both"
  check_file '[a]\nsql = SELECT 1\nmin = 3\nmax = 2\n' "1: check 'a': min is greater than max"
  check_file '[a]\nsql = SELECT 1\nexpected = 1\n' "3: unknown key 'expected' (a check takes sql, expect, min, max)"
  check_file '[a]\nsql = SELECT 1\nmin = ten\n' "3: min takes a number, not 'ten'"
  check_file '[a]\nsql = SELECT 1\nexpect = 1\nexpect = 2\n' "4: expect is given twice in check 'a'"
  check_file '[a]\nsql = SELECT 1\nexpect = 1\n[a]\nsql = SELECT 2\nexpect = 2\n' "4: check 'a' is named twice (first at line 1)"
  check_file 'sql = SELECT 1\n' "1: 'sql' outside a [check name] section"
  check_file '[a]\nsql = SELECT 1\nexpect = 1\nno equals sign\n' "4: syntax error (expected [check name], key = value, or an indented continuation line)"
  check_file '[a]\n\n[b]\nsql = SELECT 1\nexpect = 1\n' "1: a check needs sql, and expect or min/max"
  check_file "[a]\nsql = SELECT $(printf '1 + %.0s' $(seq 70))1\nexpect = 71\n" "2: line longer than 198 characters; continue long SQL on indented lines"
  printf '# nothing\n' > empty.ini
  run sp --target "$DB" check --checks empty.ini
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: checks file empty.ini: no checks in it (one [section] per check)" ]
  run sp --target "$DB" check --checks missing.ini
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: checks file missing.ini: cannot open: No such file or directory" ]
}

@test "a user check whose SQL fails names the check and its line, and exits 1" {
  load_sample
  printf '[fine]\nsql = SELECT 1\nexpect = 1\n\n[broken]\nsql = SELECT missing FROM nowhere\nexpect = 0\n' > checks.ini
  run sp --target "$DB" check --checks checks.ini
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: check 'broken' (line 5): $TMP/w.db: no such table: nowhere [SELECT missing FROM nowhere]" ]
}

@test "every etl run records its objects, events and songplays in etl_runs; --full-refresh starts afresh" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data/2018/11/2018-11-0*"
  sp -q --target "$DB" etl --log-data "$DATA/log_data"
  sp -q --target "$DB" etl --log-data "$DATA/log_data"
  expected=$(python_expected "$DATA/s3_subset/song_data" "$DATA/log_data")
  [ "$(q 'SELECT COUNT(*), SUM(log_objects), SUM(song_objects), SUM(events), SUM(songplays), SUM(bad_records) FROM etl_runs')" = "3,30,1943,$(json_field "$expected" events),$(json_field "$expected" songplays),0" ]
  [ "$(q 'SELECT log_objects, events FROM etl_runs ORDER BY rowid DESC LIMIT 1')" = "0,0" ]
  sp -q --target "$DB" etl --full-refresh --log-data "$DATA/log_data"
  [ "$(q 'SELECT COUNT(*), SUM(log_objects), SUM(songplays) FROM etl_runs')" = "1,30,$(json_field "$expected" songplays)" ]
}

@test "etl --check commits a run whose checks pass, and says so" {
  need_sample
  run sp --target "$DB" etl --check --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  [ "$status" -eq 0 ]
  [ "${lines[1]}" = "26 data-quality checks passed" ]
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$(json_field "$(python_expected "$DATA/s3_subset/song_data" "$DATA/log_data")" songplays)" ]
}

@test "etl --check refuses a run whose events carry a bad level, leaving the database byte for byte as it was" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data/2018/11/2018-11-01-events.json"
  cp w.db before.db
  mkdir logs
  # The first event of the day, a NextSong of user 69, at level "premium".
  sed '1s/"level":"free"/"level":"premium"/' "$DATA/log_data/2018/11/2018-11-05-events.json" > logs/2018-11-05-events.json
  [ "$(head -n 1 logs/2018-11-05-events.json | grep -c '"level":"premium","location":"Philadelphia-Camden-Wilmington, PA-NJ-DE-MD","method":"PUT","page":"NextSong"')" -eq 1 ]
  first_play=$(( $(q 'SELECT MAX(songplay_id) FROM songplays') + 1 ))
  run sp --target "$DB" etl --check --log-data logs
  [ "$status" -eq 1 ]
  [ "$(printf '%s\n' "$output" | grep '^FAIL' | tr -s ' ')" = "FAIL songplays.level in (free, paid) 1 row (sample: songplay_id=$first_play)" ]
  [ "${lines[-1]}" = "sparkify: 1 of 26 data-quality checks failed (listed above); the run was rolled back and nothing was written" ]
  cmp w.db before.db
  # Without --check the same run loads.
  sp -q --target "$DB" etl --log-data logs
  [ "$(q "SELECT COUNT(*) FROM songplays WHERE level = 'premium'")" = 1 ]
}

@test "etl --checks FILE rolls back a run that a user check refuses" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data/2018/11/2018-11-01-events.json"
  cp w.db before.db
  printf '[no plays after the 14th]\nsql = SELECT COUNT(*) FROM songplays\n      WHERE start_time >= '"'"'2018-11-15'"'"'\nexpect = 0\n' > checks.ini
  run sp --target "$DB" etl --checks checks.ini --log-data "$DATA/log_data"
  [ "$status" -eq 1 ]
  [[ "$output" == *"FAIL  no plays after the 14th  value "*", expected 0"* ]]
  cmp w.db before.db
  run sp --target "$DB" etl --checks checks.ini --log-data "$DATA/log_data/2018/11/2018-11-1[0-4]-events.json"
  [ "$status" -eq 0 ]
  [[ "$output" == *"27 data-quality checks passed"* ]]
}
