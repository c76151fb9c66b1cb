#!/usr/bin/env bats
# The PostgreSQL target on a real server that this file starts (127.0.0.1, a free port, a
# temporary directory) and stops: the direct path (C model + COPY), the --transform sql path
# (the SQL the Redshift target shares) and the SQLite target must give identical tables.

load helpers

setup_file() {
  pg_server_start
}

teardown_file() {
  pg_server_stop
}

@test "direct path, SQL path and SQLite give identical tables on the real sample (both song sets)" {
  need_sample
  for songs in "$DATA/song_data" "$DATA/s3_subset/song_data"; do
    rm -f w.db
    direct=$(new_database direct)
    sql=$(new_database sql)
    sp -q --target "$DB" etl --song-data "$songs" --log-data "$DATA/log_data"
    sp -q --target "$direct" etl --song-data "$songs" --log-data "$DATA/log_data"
    sp -q --target "$sql" etl --transform sql --song-data "$songs" --log-data "$DATA/log_data"
    expected=$(star_contents "$DB")
    [ "$(printf '%s' "$expected" | wc -l)" -gt 8000 ]
    test_cmp "$expected" "$(star_contents "$direct")"
    test_cmp "$expected" "$(star_contents "$sql")"
  done
}

@test "the three paths agree on generated data with disagreeing artists and changing levels" {
  sp -q generate --out g --events 30000 --songs 3000 --seed 21 --match-share 0.5
  direct=$(new_database direct)
  sql=$(new_database sql)
  sp -q --target "$DB" etl --song-data g/song_data --log-data g/log_data
  sp -q --target "$direct" etl --song-data g/song_data --log-data g/log_data
  sp -q --target "$sql" etl --transform sql --song-data g/song_data --log-data g/log_data
  expected=$(star_contents "$DB")
  test_cmp "$expected" "$(star_contents "$direct")"
  test_cmp "$expected" "$(star_contents "$sql")"
  # The data really exercises the rules: matches, users with both levels over time.
  [ "$(q 'SELECT COUNT(song_id) > 1000 FROM songplays')" = 1 ]
  [ "$(q "SELECT COUNT(*) > 0 FROM (SELECT user_id FROM songplays GROUP BY user_id HAVING COUNT(DISTINCT level) = 2) changed")" = 1 ]
}

@test "runs split and reordered, reruns and --full-refresh end in the same tables on both PostgreSQL paths" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  expected=$(star_contents "$DB")
  for mode in c sql; do
    target=$(new_database "$mode")
    sp -q --target "$target" etl --transform "$mode" --song-data "$DATA/s3_subset/song_data/A/B"
    sp -q --target "$target" etl --transform "$mode" --song-data "$DATA/s3_subset/song_data"
    sp -q --target "$target" etl --transform "$mode" --log-data "$DATA/log_data/2018/11/2018-11-2*"
    sp -q --target "$target" etl --transform "$mode" --log-data "$DATA/log_data/2018/11/2018-11-0*"
    sp -q --target "$target" etl --transform "$mode" --log-data "$DATA/log_data"
    test_cmp "$expected" "$(star_contents "$target")"
    # A rerun changes nothing.
    run sp --target "$target" etl --transform "$mode" --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
    [ "$status" -eq 0 ]
    [[ "$output" == *"1973 objects already loaded"* ]]
    test_cmp "$expected" "$(star_contents "$target")"
    # --full-refresh reloads everything into the same tables.
    run sp --target "$target" etl --transform "$mode" --full-refresh --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
    [ "$status" -eq 0 ]
    [[ "$output" == *"loaded 30 log and 1943 song objects"* ]]
    test_cmp "$expected" "$(star_contents "$target")"
  done
}

@test "an incremental run never reads songplays: a role that may only add to it loads the next days, on both paths" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  expected=$(star_contents "$DB")
  psql -q "$PG_ADMIN" -c "DROP ROLE IF EXISTS appender" -c "CREATE ROLE appender LOGIN PASSWORD 'appender-pass'"
  for mode in c sql; do
    target=$(new_database "$mode")
    sp -q --target "$target" etl --transform "$mode" --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data/2018/11/2018-11-1*"
    # A warehouse written before user_latest: the owner's next run fills it from songplays, once.
    psql -q "$target" -c "DROP TABLE user_latest"
    sp -q --target "$target" etl --transform "$mode" --log-data "$DATA/log_data/2018/11/2018-11-0*"
    psql -q "$target" -c "GRANT CREATE ON SCHEMA public TO appender" \
      -c "GRANT ALL ON ALL TABLES IN SCHEMA public TO appender" \
      -c "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO appender" \
      -c "REVOKE SELECT, UPDATE, DELETE, TRUNCATE ON songplays FROM appender"
    [ "$(psql -At "$target" -c "SELECT has_table_privilege('appender', 'songplays', 'SELECT')")" = f ]
    appender="postgresql://appender:appender-pass@${target#postgresql://postgres:sparkify-test-secret@}"
    # Users are settled by user_latest and matches looked up in song_lookup, by key.
    run sp --target "$appender" etl --transform "$mode" --log-data "$DATA/log_data"
    [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
    test_cmp "$expected" "$(star_contents "$target")"
    run sp --target "$target" check
    [ "$status" -eq 0 ]
  done
}

@test "query, report (every format, any period) and check print the same on PostgreSQL as on SQLite" {
  need_sample
  target=$(new_database)
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  sp -q --target "$target" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  for format in json csv table; do
    for period in "" "--since 2018-11-05 --until 2018-11-11" "--since 2018-11-30" "--until 2018-11-01"; do
      # shellcheck disable=SC2086
      test_cmp "$(sp --target "$DB" report --format $format --top 5 $period)" "$(sp --target "$target" report --format $format --top 5 $period)"
    done
  done
  # The HTML pages differ only in the warehouse they name.
  sp --target "$target" report --format html -o pg.html
  sp --target "$DB" report --format html -o sqlite.html
  test_cmp "$(sed 's/ · warehouse .* · generated .*UTC</</' sqlite.html)" "$(sed 's/ · warehouse .* · generated .*UTC</</' pg.html)"
  [ "$(grep -o '<rect class="bar"' pg.html | wc -l)" -gt 70 ]
  run sp --target "$target" check
  [ "$status" -eq 0 ]
  [ "$output" = "$(sp --target "$DB" check 2>&1)" ]
  sql="SELECT start_time, user_id, song_id, session_id FROM songplays WHERE song_id IS NOT NULL ORDER BY start_time LIMIT 3"
  test_cmp "$(sp --target "$DB" query "$sql")" "$(sp --target "$target" query "$sql")"
}

@test "check finds the same planted faults on PostgreSQL as on SQLite, in the same words" {
  need_sample
  target=$(new_database)
  plant="UPDATE songplays SET user_id = '999' WHERE songplay_id = 100; UPDATE songplays SET level = 'premium' WHERE songplay_id = 200; DELETE FROM time WHERE start_time = (SELECT MAX(start_time) FROM time)"
  for t in "$DB" "$target"; do
    sp -q --target "$t" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
    write_sql "$t" "$plant"
  done
  run sp --target "$target" check
  [ "$status" -eq 1 ]
  [ "$(printf '%s\n' "$output" | grep -c '^FAIL')" -eq 4 ]
  [[ "$output" == *"FAIL  songplays.user_id in users "*" 1 row (sample: user_id=999)"* ]]
  [[ "$output" == *"FAIL  user_latest = each user's latest play "*" 1 row (sample: user_id=999)"* ]]
  [ "$output" = "$(sp --target "$DB" check 2>&1)" ]
}

@test "etl --check on PostgreSQL sees the run's own rows before the commit, and rolls a failing run back, on both paths" {
  need_sample
  printf '[no plays after the 14th]\nsql = SELECT COUNT(*) FROM songplays WHERE start_time >= '"'"'2018-11-15'"'"'\nexpect = 0\n' > checks.ini
  for mode in c sql; do
    target=$(new_database "$mode")
    # Every referential check passes: the users, time, songs and artists merged at commit are
    # visible to the checks inside the transaction.
    run sp --target "$target" etl --transform "$mode" --check --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data/2018/11/2018-11-0*"
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "26 data-quality checks passed" ]
    before=$(star_contents "$target")
    runs=$(sp --target "$target" query --format csv "SELECT COUNT(*) FROM etl_runs")
    run sp --target "$target" etl --transform "$mode" --checks checks.ini --log-data "$DATA/log_data"
    [ "$status" -eq 1 ]
    [[ "$output" == *"FAIL  no plays after the 14th  value "*", expected 0"* ]]
    test_cmp "$before" "$(star_contents "$target")"
    [ "$(sp --target "$target" query --format csv "SELECT COUNT(*) FROM etl_runs")" = "$runs" ]
  done
}

@test "--max-errors keeps bad records in load_errors on PostgreSQL, on both paths" {
  mkdir logs
  printf '%s\n' '{"page":"NextSong","userId":"1","ts":1541990258796,"level":"free"}' '{"ts": oops}' '{"page":"NextSong","userId":"2"}' > logs/day.json
  for mode in c sql; do
    target=$(new_database "$mode")
    run sp --target "$target" etl --transform "$mode" --max-errors 2 --log-data logs
    [ "$status" -eq 0 ]
    test_cmp "$(printf '%s\n%s' "2,field 'ts': malformed JSON: bad literal (true/false/null)" "3,NextSong event without ts")" "$(sp --target "$target" query --format csv 'SELECT line, reason FROM load_errors ORDER BY line' | tr -d '\r' | tail -n +2)"
    [ "$(sp --target "$target" query --format csv 'SELECT user_id FROM songplays' | tr -d '\r' | tail -n +2)" = 1 ]
  done
}

@test "connection refused names the host and port and exits 1" {
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  run sp --target "postgresql://postgres:hunter2@127.0.0.1:$port/x" create-tables
  [ "$status" -eq 1 ]
  [[ "$output" == *"postgresql://postgres:***@127.0.0.1:$port/x: cannot connect:"*"127.0.0.1"*"$port"*"refused"* ]]
  [[ "$output" != *hunter2* ]]
}

@test "a wrong password fails authentication without printing the password" {
  bad="${PG_ADMIN/sparkify-test-secret/NotThePassword42}"
  run sp --target "$bad" create-tables
  [ "$status" -eq 1 ]
  [[ "$output" == *"password authentication failed for user \"postgres\""* ]]
  [[ "$output" != *NotThePassword42* ]]
  [[ "$output" != *sparkify-test-secret* ]]
}

@test "a missing database is named" {
  run sp --target "${PG_ADMIN%/postgres}/no_such_db" query "SELECT 1"
  [ "$status" -eq 1 ]
  [[ "$output" == *"database \"no_such_db\" does not exist"* ]]
}

@test "permission denied names the statement and commits nothing" {
  target=$(new_database)
  psql -q "$PG_ADMIN" -c "DROP ROLE IF EXISTS visitor" -c "CREATE ROLE visitor LOGIN PASSWORD 'visitor-pass'"
  visitor="postgresql://visitor:visitor-pass@${target#postgresql://postgres:sparkify-test-secret@}"
  printf '%s\n' '{"page":"NextSong","userId":"1","ts":1541990258796}' > day.json
  run sp --target "$visitor" etl --log-data day.json
  [ "$status" -eq 1 ]
  [[ "$output" == *"permission denied for schema public"*"[CREATE TABLE IF NOT EXISTS staging_events"* ]]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" != *visitor-pass* ]]
  [ "$(psql -At "$target" -c "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ]
}

@test "a statement failing mid-run rolls the whole run back, on both paths" {
  need_sample
  for mode in c sql; do
    target=$(new_database "$mode")
    sp -q --target "$target" etl --transform "$mode" --log-data "$DATA/log_data/2018/11/2018-11-01-events.json"
    before=$(star_contents "$target")
    loaded=$(sp --target "$target" query --format csv "SELECT COUNT(*) FROM loaded_objects")
    # A constraint the last day's plays violate: the failure comes after most rows are in.
    psql -q "$target" -c "ALTER TABLE time ADD CONSTRAINT before_the_30th CHECK (start_time < '2018-11-30')"
    run sp --target "$target" etl --transform "$mode" --log-data "$DATA/log_data"
    [ "$status" -eq 1 ]
    [[ "$output" == *"violates check constraint \"before_the_30th\""* ]]
    [[ "$output" == *"INSERT INTO time"* ]]
    test_cmp "$before" "$(star_contents "$target")"
    [ "$(sp --target "$target" query --format csv "SELECT COUNT(*) FROM loaded_objects")" = "$loaded" ]
  done
}

@test "PG* environment variables fill in what the URL leaves out" {
  target=$(new_database)
  port=${PG_ADMIN##*:}
  port=${port%%/*}
  printf '%s\n' '{"page":"NextSong","userId":"9","ts":1541990258796}' > day.json
  PGPASSWORD=sparkify-test-secret PGPORT=$port PGUSER=postgres sp -q --target "postgresql://127.0.0.1/${target##*/}" etl --log-data day.json
  [ "$(psql -At "$target" -c 'SELECT user_id FROM songplays')" = 9 ]
}

@test "--transform sql on SQLite is a usage error" {
  run sp --target "$DB" etl --transform sql --log-data day.json
  [ "$status" -eq 2 ]
  [[ "$output" == *"--transform sql needs a PostgreSQL or Redshift target"* ]]
}

@test "moved, copied, touched and grown log files load exactly once on both PostgreSQL paths, as on SQLite" {
  need_sample
  day=$DATA/log_data/2018/11/2018-11-15-events.json
  for target in "$DB" "$(new_database c)" "$(new_database sql)"; do
    mode=c
    [[ "$target" == *_sql ]] && mode=sql
    [[ "$target" == sqlite:* ]] && transform=() || transform=(--transform "$mode")
    rm -rf a b
    mkdir -p a/logs
    head -n 100 "$day" > a/logs/today.json
    cp "$DATA/log_data/2018/11/2018-11-16-events.json" a/logs/
    sp -q --target "$target" etl "${transform[@]}" --song-data "$DATA/song_data" --log-data a/logs
    mv a b
    cp b/logs/2018-11-16-events.json b/logs/copy.json
    touch b/logs/2018-11-16-events.json
    sed -n '101,300p' "$day" >> b/logs/today.json
    printf '{"artist": "unfini' >> b/logs/today.json
    run sp --target "$target" etl "${transform[@]}" --log-data b/logs
    [ "$status" -eq 0 ]
    [[ "$output" == *"loaded 1 log and 0 song objects"*"2 objects already loaded"*"1 unfinished last line left for the next run"* ]]
    star_contents "$target" > "tables-$mode-${target%%:*}"
    run sp --target "$target" check
    [ "$status" -eq 0 ]
  done
  # One load of what the files hold now, but the unfinished line.
  one="sqlite:$TMP/one.db"
  mkdir e
  head -n 300 "$day" > e/today.json
  cp "$DATA/log_data/2018/11/2018-11-16-events.json" e/
  sp -q --target "$one" etl --song-data "$DATA/song_data" --log-data e
  expected=$(star_contents "$one")
  for f in tables-*; do
    test_cmp "$expected" "$(cat "$f")"
  done
  [ "$(ls tables-* | wc -l)" -eq 3 ]
}

@test "bad records with overlong UTF-8, encoded surrogates and code points past U+10FFFF are kept as valid UTF-8 on every target" {
  mkdir logs
  {
    printf '{"page": "NextSong", "userId": "1", "ts": 1541990258796}\n'
    printf '{"artist": "\xc0\xaf overlong"}\n'
    printf '{"artist": "\xed\xa0\x80 surrogate"}\n'
    printf '{"artist": "\xf4\x90\x80\x80 too high", "ok": "é"}\n'
  } > logs/day.json
  pg=$(new_database)
  for target in "$DB" "$pg"; do
    run sp --target "$target" etl --max-errors 3 --log-data logs
    [ "$status" -eq 0 ]
    [[ "$output" == *"3 bad records skipped"* ]]
    [ "$(DB=$target q 'SELECT line, reason, raw FROM load_errors ORDER BY line')" = "$(printf '%s\n' \
      '2,invalid UTF-8,"{""artist"": ""?? overlong""}"' \
      '3,invalid UTF-8,"{""artist"": ""??? surrogate""}"' \
      '4,invalid UTF-8,"{""artist"": ""???? too high"", ""ok"": ""é""}"')" ]
  done
}

@test "a PostgreSQL warehouse loaded before content fingerprints gains them without loading anything again" {
  need_sample
  mkdir logs
  cp "$DATA/log_data/2018/11/2018-11-15-events.json" "$DATA/log_data/2018/11/2018-11-16-events.json" logs/
  pg=$(new_database)
  sp -q --target "$pg" etl --log-data logs
  before=$(star_contents "$pg")
  psql -q "$pg" -c 'ALTER TABLE loaded_objects DROP COLUMN fingerprint'
  run sp --target "$pg" etl --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"2 objects already loaded"* ]]
  [ "$(psql -tA "$pg" -c "SELECT COUNT(*) FROM loaded_objects WHERE fingerprint LIKE 'xxh128:%'")" = 2 ]
  mv logs moved
  run sp --target "$pg" etl --log-data moved
  [[ "$output" == *"2 objects already loaded"* ]]
  test_cmp "$before" "$(star_contents "$pg")"
}

@test "etl --format json names the target with its password masked" {
  target=$(new_database)
  mkdir logs
  printf '%s\n' '{"artist":null,"auth":"Logged In","firstName":"A","gender":"F","itemInSession":0,"lastName":"B","length":null,"level":"free","location":"X","method":"GET","page":"Home","registration":1.5e12,"sessionId":1,"song":null,"status":200,"ts":1541105830796,"userAgent":"u","userId":"1"}' > logs/a.json
  sp -q --target "$target" create-tables
  run sp -q --target "$target" etl --log-data logs --format json
  [ "$status" -eq 0 ]
  [[ "$output" != *sparkify-test-secret* ]]
  [ "$(jq -r .target <<< "$output")" = "${target/:sparkify-test-secret@/:***@}" ]
  [ "$(jq -c '[.objects.log, .events]' <<< "$output")" = '[{"loaded":1,"skipped":0},1]' ]
}

@test "song files given as --log-data warn as on SQLite and load what SQLite loads, on both paths" {
  swapped_songs
  run sp --target "$DB" etl --log-data songs
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "$swapped_warning" ]
  expected=$(star_contents)
  for mode in c sql; do
    target=$(new_database "$mode")
    run sp --target "$target" etl --transform "$mode" --log-data songs
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "$swapped_warning" ]
    test_cmp "$expected" "$(star_contents "$target")"
    [ "$(sp --target "$target" query --format csv 'SELECT kind, COUNT(*) FROM loaded_objects GROUP BY kind' | tr -d '\r' | tail -n +2)" = log,2 ]
  done
}

@test "a server's warnings are shown on a line of their own, with the target masked; its notices are not" {
  target=$(new_database)
  psql -q "$target" -c "CREATE FUNCTION noisy() RETURNS int LANGUAGE plpgsql AS \$\$ BEGIN RAISE NOTICE 'a notice'; RAISE INFO 'some info'; RAISE WARNING 'disk almost full'; RETURN 1; END \$\$"
  run sp --target "$target" query --format csv 'SELECT noisy() AS n'
  [ "$status" -eq 0 ]
  test_cmp "$(printf '%s\n' "sparkify: warning: ${target/:sparkify-test-secret@/:***@}: disk almost full" n 1)" "$(tr -d '\r' <<< "$output")"
  # -q leaves only the answer.
  [ "$(sp -q --target "$target" query --format csv 'SELECT noisy() AS n' 2>&1 | tr -d '\r')" = "$(printf 'n\n1')" ]
}
