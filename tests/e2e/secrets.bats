#!/usr/bin/env bats
# Passwords never reach the output: not from a URL (user:pass@ or ?password=), a libpq keyword
# string or dwh.cfg, not in errors (sparkify's or libpq's), --dry-run headers, etl summaries or
# reports; and dwh.cfg settings reach libpq as keywords, so no character in them can move the
# connection to another host or port. Runs against a PostgreSQL server this file starts (with
# SSL, so the Redshift target's sslmode=require can connect to it too).

load helpers

# Characters a URL or a keyword string treats specially, ?pw=Y& among them.
ODD="Zq@9/x%Kw 'j\\v?pw=Y&"

setup_file() {
  pg_server_start
  local data="$PG_DIR/server/data"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$data/server.key" -out "$data/server.crt" 2>/dev/null
  chown postgres "$data/server.key" "$data/server.crt" 2>/dev/null || true
  chmod 600 "$data/server.key"
  psql -q "$PG_ADMIN" -c "ALTER SYSTEM SET ssl = on" -c "SELECT pg_reload_conf()" >/dev/null
  PG_PORT=$(cat "$PG_DIR/server/port")
  local quoted=${ODD//\'/\'\'}
  psql -q "$PG_ADMIN" -c "DROP ROLE IF EXISTS odd" -c "CREATE ROLE odd LOGIN PASSWORD '$quoted'"
  export PG_PORT
}

teardown_file() {
  pg_server_stop
}

# url_encode TEXT: every byte but unreserved ones as %XX.
url_encode() {
  python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}

# refute_secret TEXT SECRET: fails when TEXT holds SECRET, its URL encoding, or any 4 characters
# of it in a row (a fragment is a leak too).
refute_secret() {
  python3 - "$1" "$2" "$(url_encode "$2")" <<'PY'
import sys
text, secret, encoded = sys.argv[1:4]
pieces = {secret, encoded} | {secret[i:i + 4] for i in range(len(secret) - 3)}
found = sorted(p for p in pieces if p in text)
if found:
    sys.exit(f"the output holds {found!r}:\n{text}")
PY
}

write_cluster_cfg() {
  cat > dwh.cfg <<CFG
[CLUSTER]
HOST=127.0.0.1
DB_NAME=postgres
DB_USER=odd
DB_PASSWORD=$1
DB_PORT=$PG_PORT
CFG
}

@test "a ?password= in a target URL is masked in the dry-run header and in connection errors" {
  closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  run sp --dry-run --target "postgresql://etl@127.0.0.1:$closed/x?password=Hunter2Secret" create-tables
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "-- dry run on postgresql://etl:***@127.0.0.1:$closed/x: "* ]]
  refute_secret "$output" Hunter2Secret
  run sp --target "postgresql://etl@127.0.0.1:$closed/x?sslmode=disable&password=Hunter2Secret" create-tables
  [ "$status" -eq 1 ]
  [[ "$output" == "sparkify: postgresql://etl:***@127.0.0.1:$closed/x?sslmode=disable: cannot connect: "*"refused"* ]]
  refute_secret "$output" Hunter2Secret
}

@test "a libpq keyword string is a PostgreSQL target whose password is never shown" {
  quoted=${ODD//\\/\\\\}
  quoted=${quoted//\'/\\\'}
  target="host=127.0.0.1 port=$PG_PORT user=odd password='$quoted' dbname=postgres"
  run sp --target "$target" query --format csv "SELECT current_user AS who"
  [ "$status" -eq 0 ]
  [ "$(printf '%s' "$output" | tr -d '\r')" = "$(printf 'who\nodd')" ]
  run sp --dry-run --target "$target" create-tables
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "-- dry run on postgresql://odd:***@127.0.0.1:$PG_PORT/postgres: "* ]]
  refute_secret "$output" "$ODD"
  run sp --target "host=127.0.0.1 port=$PG_PORT user=odd password='Wrong$quoted' dbname=postgres" query "SELECT 1"
  [ "$status" -eq 1 ]
  [[ "$output" == *"password authentication failed for user \"odd\""* ]]
  refute_secret "$output" "$ODD"
}

@test "a percent-encoded password with @ / % ' \\ ? & and spaces connects, and no output shows it" {
  target=$(new_database)
  url="postgresql://odd:$(url_encode "$ODD")@127.0.0.1:$PG_PORT/${target##*/}"
  psql -q "$PG_ADMIN" -c "ALTER DATABASE ${target##*/} OWNER TO odd"
  printf '%s\n' '{"page":"NextSong","userId":"7","ts":1541990258796,"level":"free"}' > day.json
  run sp --target "$url" etl --log-data day.json
  [ "$status" -eq 0 ]
  [[ "$output" == "loaded 1 log and 0 song objects"*"into postgresql://odd:***@127.0.0.1:$PG_PORT/${target##*/} in "* ]]
  refute_secret "$output" "$ODD"
  run sp --target "$url" report --format html -o report.html
  [ "$status" -eq 0 ]
  grep -q "postgresql://odd:\*\*\*@127.0.0.1:$PG_PORT/${target##*/}" report.html
  refute_secret "$(cat report.html)" "$ODD"
  for format in table csv json; do
    run sp --target "$url" report --format $format
    [ "$status" -eq 0 ]
    refute_secret "$output" "$ODD"
  done
  run sp --target "$url" check
  refute_secret "$output" "$ODD"
  run sp --dry-run --target "$url" etl --log-data day.json
  [ "$status" -eq 0 ]
  refute_secret "$output" "$ODD"
}

@test "authentication failure with an odd password names the user, never the password" {
  url="postgresql://odd:$(url_encode "x$ODD")@127.0.0.1:$PG_PORT/postgres"
  run sp --target "$url" create-tables
  [ "$status" -eq 1 ]
  [[ "$output" == "sparkify: postgresql://odd:***@127.0.0.1:$PG_PORT/postgres: cannot connect: "*"password authentication failed for user \"odd\""* ]]
  refute_secret "$output" "x$ODD"
}

@test "a URL password with a raw @, / or % is refused with exit 2 and none of it is printed" {
  for password in "Se@cr3tWord" "Se/cr3tWord" "Se%zzcr3tWord" "Se/cr3t@Word" "12345/Se@cr3tWord"; do
    for command in create-tables "--dry-run create-tables"; do
      # shellcheck disable=SC2086
      run sp --target "postgresql://odd:$password@127.0.0.1:$PG_PORT/postgres" $command
      [ "$status" -eq 2 ]
      [ "${#lines[@]}" -eq 1 ]
      [[ "$output" == "sparkify: target postgresql://…: "* ]]
      refute_secret "$output" "$password"
    done
  done
  run sp --target "postgresql://odd@127.0.0.1:$PG_PORT/postgres?password=a&Se@cr3tWord" create-tables
  [ "$status" -eq 2 ]
  [[ "$output" == "sparkify: target postgresql://…: not a valid connection URL: "* ]]
  refute_secret "$output" "Se@cr3tWord"
  run sp --target "host=127.0.0.1 password=Se cr3tWord dbname=x" create-tables
  [ "$status" -eq 2 ]
  [[ "$output" == "sparkify: target (a libpq keyword string): not a valid connection string: missing \"=\" after \"…\""* ]]
  refute_secret "$output" "cr3tWord"
}

@test "libpq's messages for a bad port or an unknown host never carry the password" {
  run sp --target "postgresql://odd:Se%40cr3tWord@127.0.0.1:70000/postgres" create-tables
  [ "$status" -eq 2 ]
  [[ "$output" == *"port"*"1 to 65535"* ]]
  refute_secret "$output" "Se@cr3tWord"
  refute_secret "$output" "Se%40cr3tWord"
  run sp --target "postgresql://odd:Se%40cr3tWord@no-such-host.invalid:5432/postgres" create-tables
  [ "$status" -eq 1 ]
  [[ "$output" == *"no-such-host.invalid"* ]]
  refute_secret "$output" "Se@cr3tWord"
  refute_secret "$output" "Se%40cr3tWord"
}

@test "a dwh.cfg password with @ / % ' \\ ? & and spaces reaches Redshift's connection intact" {
  write_cluster_cfg "$ODD"
  run sp --dry-run create-tables
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "-- dry run on redshift://odd:***@127.0.0.1:$PG_PORT/postgres: "* ]]
  refute_secret "$output" "$ODD"
  # The PostgreSQL server stands in for the cluster: the password authenticates (over SSL, as the
  # Redshift target requires), so it arrived byte for byte at the host and port of dwh.cfg.
  run sp query --format csv "SELECT current_user AS who, inet_server_port() AS port"
  [ "$status" -eq 0 ]
  [ "$(printf '%s' "$output" | tr -d '\r')" = "$(printf 'who,port\nodd,%s' "$PG_PORT")" ]
  run sp query --format csv "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
  [ "$status" -eq 0 ]
  [ "$(printf '%s' "$output" | tr -d '\r')" = "$(printf 'ssl\nt')" ]
}

@test "a wrong dwh.cfg password fails authentication at dwh.cfg's host and port and is never printed" {
  for password in "Not$ODD" "p@127.0.0.2:1/x" "p/5433" "50%" "it's" 'back\slash' "with space"; do
    write_cluster_cfg "$password"
    run sp create-tables
    [ "$status" -eq 1 ]
    [[ "$output" == "sparkify: redshift://odd:***@127.0.0.1:$PG_PORT/postgres: cannot connect: "*"127.0.0.1"*"$PG_PORT"*"password authentication failed for user \"odd\""* ]]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" != *"$password"* ]]
    [[ "$output" != *"$(url_encode "$password")"* ]]
  done
  write_cluster_cfg "Not$ODD"
  run sp create-tables
  refute_secret "$output" "Not$ODD"
}
