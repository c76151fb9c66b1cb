#!/usr/bin/env bats
# create-tables drops tables only when they hold nothing, or with --force: on SQLite and on a
# PostgreSQL server this file starts.

load helpers

setup_file() {
  pg_server_start
}

teardown_file() {
  pg_server_stop
}


table_names() {
  q "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name)"
}

@test "create-tables on a loaded warehouse refuses with exit 2, naming the tables with rows, and drops nothing" {
  for target in "$DB" "$(new_database)"; do
    load_two_plays "$target"
    before=$(star_contents "$target")
    run sp --target "$target" create-tables
    [ "$status" -eq 2 ]
    shown=$target
    [[ "$target" != postgresql://* ]] || shown="${target/:sparkify-test-secret@/:***@}"
    [ "$output" = "sparkify: $shown holds data: songplays 2 rows, users 2 rows, time 2 rows, user_latest 2 rows, loaded_objects 1 row, etl_runs 1 row; nothing was dropped (use --force to drop and recreate every table)" ]
    test_cmp "$before" "$(star_contents "$target")"
  done
}

@test "create-tables --force drops and recreates every table, as the classic create_tables.py does" {
  for target in "$DB" "$(new_database)"; do
    load_two_plays "$target"
    run sp --target "$target" create-tables --force
    [ "$status" -eq 0 ]
    [[ "$output" == "created tables in "* ]]
    [ "$(sp --target "$target" query --format csv 'SELECT COUNT(*) AS n FROM songplays' | tr -d '\r')" = "$(printf 'n\n0')" ]
    [ "$(sp --target "$target" query --format csv 'SELECT COUNT(*) AS n FROM loaded_objects' | tr -d '\r')" = "$(printf 'n\n0')" ]
  done
  [ "$(table_names)" = "artists etl_runs load_errors loaded_objects song_lookup songplays songs staging_events staging_songs time user_latest users" ]
}

@test "create-tables proceeds without --force when there are no tables or only empty ones" {
  for target in "$DB" "$(new_database)"; do
    run sp --target "$target" create-tables
    [ "$status" -eq 0 ]
    run sp --target "$target" create-tables
    [ "$status" -eq 0 ]
    run sp --target "$target" create-tables --force
    [ "$status" -eq 0 ]
  done
  [ "$(table_names)" = "artists etl_runs load_errors loaded_objects song_lookup songplays songs staging_events staging_songs time user_latest users" ]
}

@test "a table of another tool with rows does not stop create-tables; a bookkeeping table with rows does" {
  sp -q --target "$DB" create-tables
  sp -q --target "$DB" query --write "CREATE TABLE notes (a TEXT)"
  sp -q --target "$DB" query --write "INSERT INTO notes VALUES ('kept')"
  run sp --target "$DB" create-tables
  [ "$status" -eq 0 ]
  [ "$(q 'SELECT a FROM notes')" = kept ]
  sp -q --target "$DB" query --write "INSERT INTO load_errors VALUES ('f', 1, 'r', NULL, 'now')"
  run sp --target "$DB" create-tables
  [ "$status" -eq 2 ]
  [[ "$output" == *" holds data: load_errors 1 row; nothing was dropped"* ]]
}

@test "create-tables --dry-run on a loaded warehouse still prints the statements and touches nothing" {
  load_two_plays "$DB"
  sum=$(cksum < w.db)
  run sp --target "$DB" --dry-run create-tables
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "$output" | grep -c '^DROP TABLE IF EXISTS ')" -eq 12 ]
  [ "$(printf '%s\n' "$output" | grep -c '^CREATE TABLE IF NOT EXISTS ')" -eq 12 ]
  [ "$(cksum < w.db)" = "$sum" ]
  closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  run sp --target "postgresql://u:p@127.0.0.1:$closed/x" --dry-run create-tables
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "$output" | grep -c '^CREATE TABLE IF NOT EXISTS ')" -eq 12 ]
}
