#!/usr/bin/env bats
# `sparkify query` runs exactly one statement, read-only unless --write, on SQLite and on a
# PostgreSQL server this file starts.

load helpers

setup_file() {
  pg_server_start
}

teardown_file() {
  pg_server_stop
}


count_plays() {
  sp --target "$1" query --format csv "SELECT COUNT(*) AS n FROM songplays" | tr -d '\r' | tail -n 1
}

@test "query --help says it runs one statement, read-only unless --write" {
  run sp query --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"one SQL statement"* ]]
  [[ "$output" == *"read-only"* ]]
  [[ "$output" == *"--write"*"commit"* ]]
}

@test "two statements in one query are refused with exit 2 and neither runs, on SQLite and PostgreSQL" {
  for target in "$DB" "$(new_database)"; do
    load_two_plays "$target"
    run sp --target "$target" query "SELECT 1; DROP TABLE songplays"
    [ "$status" -eq 2 ]
    [[ "$output" == "sparkify: "*": query runs one SQL statement at a time, and this holds more than one [SELECT 1; DROP TABLE songplays]" ]]
    [ "$(count_plays "$target")" = 2 ]
    run sp --target "$target" query --write "DELETE FROM songplays WHERE user_id = '7'; DROP TABLE songplays"
    [ "$status" -eq 2 ]
    [ "$(count_plays "$target")" = 2 ]
  done
}

@test "two SELECTs are refused rather than printed under one header, in every format" {
  for target in "$DB" "$(new_database)"; do
    load_two_plays "$target"
    for format in table csv json; do
      run sp --target "$target" query --format $format "SELECT 1 AS a; SELECT 2 AS b, 3 AS c"
      [ "$status" -eq 2 ]
      [ "${#lines[@]}" -eq 1 ]
      [[ "$output" == *"holds more than one"* ]]
    done
  done
}

@test "a trailing semicolon and comments around the one statement are fine" {
  for target in "$DB" "$(new_database)"; do
    load_two_plays "$target"
    for sql in "SELECT COUNT(*) AS n FROM songplays;" "SELECT COUNT(*) AS n FROM songplays; -- two" \
      "/* how many */ SELECT COUNT(*) AS n FROM songplays ; ; "; do
      run sp --target "$target" query --format csv "$sql"
      [ "$status" -eq 0 ]
      [ "$(printf '%s' "$output" | tr -d '\r')" = "$(printf 'n\n2')" ]
    done
    # SQL that starts with "--" follows the "--" that ends the options.
    run sp --target "$target" query --format csv -- $'-- plays\nSELECT COUNT(*) AS n\nFROM songplays;\n'
    [ "$status" -eq 0 ]
    [ "$(printf '%s' "$output" | tr -d '\r')" = "$(printf 'n\n2')" ]
  done
}

@test "query is read-only by default: a change is refused with exit 2 and the warehouse stays as it was" {
  for target in "$DB" "$(new_database)"; do
    load_two_plays "$target"
    before=$(star_contents "$target")
    for sql in "DELETE FROM songplays" "DROP TABLE songplays" "UPDATE users SET level = 'paid'" \
      "CREATE TABLE extra (a INTEGER)" "INSERT INTO users (user_id) VALUES ('99')"; do
      run sp --target "$target" query "$sql"
      [ "$status" -eq 2 ]
      [ "${#lines[@]}" -eq 1 ]
      [[ "$output" == *"query is read-only"*"--write"*"[$sql]" ]]
    done
    test_cmp "$before" "$(star_contents "$target")"
  done
}

@test "a read-only query on SQLite cannot attach or create another database file" {
  load_two_plays "$DB"
  run sp --target "$DB" query "ATTACH DATABASE '$TMP/other.db' AS other"
  [ "$status" -eq 2 ]
  [[ "$output" == *"query is read-only"* ]]
  [ ! -e other.db ]
  run sp --target "$DB" query "VACUUM INTO '$TMP/copy.db'"
  [ "$status" -eq 2 ]
  [ ! -e copy.db ]
  run sp --target "$DB" query "PRAGMA user_version = 5"
  [ "$status" -eq 2 ]
  [ "$(q 'PRAGMA user_version')" = 0 ]
}

@test "read-only statements that only look, such as PRAGMA integrity_check and EXPLAIN, run" {
  load_two_plays "$DB"
  [ "$(q 'PRAGMA integrity_check')" = ok ]
  run sp --target "$DB" query "EXPLAIN QUERY PLAN SELECT * FROM songplays"
  [ "$status" -eq 0 ]
  target=$(new_database)
  load_two_plays "$target"
  run sp --target "$target" query "EXPLAIN SELECT * FROM songplays"
  [ "$status" -eq 0 ]
}

@test "query --write commits the change, on SQLite and PostgreSQL" {
  for target in "$DB" "$(new_database)"; do
    load_two_plays "$target"
    run sp --target "$target" query --write --format csv "DELETE FROM songplays WHERE user_id = '7' RETURNING user_id"
    [ "$status" -eq 0 ]
    [ "$(printf '%s' "$output" | tr -d '\r')" = "$(printf 'user_id\n7')" ]
    [ "$(count_plays "$target")" = 1 ]
    run sp --target "$target" query --write "CREATE TABLE extra (a INTEGER)"
    [ "$status" -eq 0 ]
    [ "$(sp --target "$target" query --format csv 'SELECT COUNT(*) AS n FROM extra' | tr -d '\r' | tail -n 1)" = 0 ]
  done
}

@test "a failing statement under --write changes nothing and exits 1" {
  for target in "$DB" "$(new_database)"; do
    load_two_plays "$target"
    run sp --target "$target" query --write "INSERT INTO users (user_id) VALUES ('7')"
    [ "$status" -eq 1 ]
    [ "$(count_plays "$target")" = 2 ]
  done
}

@test "query --write does not create a warehouse that is not there" {
  run sp --target "sqlite:$TMP/none.db" query --write "CREATE TABLE extra (a INTEGER)"
  [ "$status" -eq 1 ]
  [[ "$output" == *"run \`sparkify create-tables\` and \`sparkify etl\` first"* ]]
  [ ! -e none.db ]
}
