# Shared set-up for the end-to-end tests: a fresh directory per test, the binary under test
# in $SPARKIFY, the real sample under $SPARKIFY_SHARED/data/udacity.

setup() {
  : "${SPARKIFY:?SPARKIFY must name the binary under test}"
  TMP=$(mktemp -d)
  cd "$TMP"
  DATA="${SPARKIFY_SHARED:-/nonexistent}/data/udacity"
  DB="sqlite:$TMP/w.db"
  unset SPARKIFY_TARGET SPARKIFY_LOG_DATA SPARKIFY_SONG_DATA SPARKIFY_LOG_JSONPATH SPARKIFY_CONFIG
}

teardown() {
  chmod -R u+rwx "$TMP" 2>/dev/null || true
  rm -rf "$TMP"
}

need_sample() {
  [ -d "$DATA/log_data" ] && [ -d "$DATA/song_data" ] ||
    skip "the real Udacity sample is absent at $DATA (see shared/data/udacity/SOURCES.md)"
}

sp() {
  "$SPARKIFY" "$@"
}

# Two song files in songs/, to be given as --log-data, and the warning every target ends such a
# run with.
swapped_songs() {
  mkdir -p songs
  printf '%s\n' '{"num_songs":1,"artist_id":"AR1","artist_name":"N","song_id":"SO1","title":"T","duration":1.0,"year":0}' > songs/a.json
  printf '%s\n' '{"num_songs":1,"artist_id":"AR2","artist_name":"M","song_id":"SO2","title":"U","duration":2.0,"year":0}' > songs/b.json
  swapped_warning="sparkify: warning: none of the 2 log records has a page or a ts: this looks like song data given as --log-data (are --song-data and --log-data swapped?)"
}

# The value(s) of a query against $DB as CSV without the header.
q() {
  "$SPARKIFY" --target "$DB" query --format csv "$1" | tr -d '\r' | tail -n +2
}

# Every star table's full contents in a fixed order (songplay_id left out: it is a surrogate
# numbered in load order; NULLS LAST spelled out, as engines differ in their default).
star_contents() {
  local target=${1:-$DB}
  local sqls=(
    "SELECT start_time, user_id, level, song_id, artist_id, session_id, location, user_agent FROM songplays ORDER BY 1, 2, 3 NULLS LAST, 4 NULLS LAST, 5 NULLS LAST, 6 NULLS LAST, 7 NULLS LAST, 8 NULLS LAST"
    "SELECT * FROM users ORDER BY user_id"
    "SELECT * FROM songs ORDER BY song_id"
    "SELECT * FROM artists ORDER BY artist_id"
    "SELECT * FROM time ORDER BY start_time"
    "SELECT user_id, start_time, level FROM user_latest ORDER BY user_id"
  )
  for sql in "${sqls[@]}"; do
    "$SPARKIFY" --target "$target" query --format csv "$sql"
  done
}

# test_cmp EXPECTED ACTUAL: the two texts are the same, or the test fails and shows how they
# differ: a unified diff (- expected, + actual) on stderr, which bats prints under a failed test,
# cut after 200 lines. git's test_cmp compares two files; tests here compare the output of
# commands, so this one takes the texts.
test_cmp() {
  [ "$1" = "$2" ] && return 0
  {
    echo "test_cmp: the actual text differs from the expected (- expected, + actual):"
    diff -u --label expected --label actual <(printf '%s\n' "$1") <(printf '%s\n' "$2") |
      awk 'NR <= 200 { print } END { if (NR > 200) print "... and " NR - 200 " more lines of diff" }'
  } >&2
  return 1
}

# write_sql TARGET SQL: runs the ';'-separated statements of SQL one by one with
# `query --write` (query takes one statement per call and is read-only without --write).
write_sql() {
  local statements statement
  IFS=';' read -ra statements <<<"$2"
  for statement in "${statements[@]}"; do
    "$SPARKIFY" -q --target "$1" query --write "$statement" >/dev/null || return
  done
}

# ---- small warehouses to prove a failure leaves them untouched ----

good_event='{"artist":"A","auth":"Logged In","firstName":"F","gender":"F","itemInSession":0,"lastName":"L","length":1.5,"level":"free","location":"X","method":"PUT","page":"NextSong","registration":1.0,"sessionId":1,"song":"S","status":200,"ts":1541990258796,"userAgent":"UA","userId":"7"}'

# A warehouse with one loaded event, to prove failed runs leave it untouched.
prepare_warehouse() {
  mkdir -p first
  printf '%s\n' "$good_event" > first/day1.json
  sp -q --target "$DB" etl --log-data first
  checksum=$(sha256sum w.db)
}

assert_unchanged() {
  [ "$(sha256sum w.db)" = "$checksum" ]
}

# A warehouse at $1 holding two songplays from one log file.
load_two_plays() {
  printf '%s\n' '{"page":"NextSong","userId":"7","ts":1541990258796,"level":"free"}' \
    '{"page":"NextSong","userId":"8","ts":1541990259796,"level":"paid"}' > day.json
  sp -q --target "$1" etl --log-data day.json
}

python_expected() {
  python3 "$BATS_TEST_DIRNAME/expected.py" "$@"
}

# json_field JSON KEY
json_field() {
  python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

# ---- servers started by the test files themselves, on 127.0.0.1 ----

# A PostgreSQL server for the file's tests (scripts/pg_server.sh): $PG_ADMIN is its superuser URL.
pg_server_start() {
  PG_DIR=$(mktemp -d /tmp/sparkify-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  PG_ADMIN=$("$SPARKIFY_SOURCE/scripts/pg_server.sh" start "$PG_DIR/server")
  export PG_DIR PG_ADMIN
}

pg_server_stop() {
  "$SPARKIFY_SOURCE/scripts/pg_server.sh" stop "$PG_DIR/server"
  rm -rf "$PG_DIR"
}

# A fresh database for the current test; prints its URL.
new_database() {
  local name="t${BATS_TEST_NUMBER}_${1:-db}"
  psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
  echo "${PG_ADMIN%/postgres}/$name"
}

# s3rver (npm) behind tests/s3/server.mjs, a front that verifies every request's SigV4
# signature and injects faults: $S3_FRONT is the port sparkify talks to, $S3RVER s3rver's own
# (unsigned requests, for the tests' uploads and reads). Buckets: udacity-dend, staging.
# front_launch DIR ARGS...: starts tests/s3/server.mjs with ARGS in the background (its pid in
# DIR/pid, its log in DIR/server.log) and waits up to 20 s for the ports it prints (DIR/ports).
front_launch() {
  local dir=$1
  shift
  (cd "$SPARKIFY_SOURCE/tests/s3" && { [ -d node_modules/s3rver ] || npm ci --no-audit --no-fund --loglevel=error; })
  node --openssl-legacy-provider "$SPARKIFY_SOURCE/tests/s3/server.mjs" "$@" \
    >"$dir/ports" 2>"$dir/server.log" &
  echo $! >"$dir/pid"
  for _ in $(seq 1 200); do
    [ -s "$dir/ports" ] && break
    sleep 0.1
  done
}

# front_port DIR NAME: a port front_launch's server printed ("front" or "s3rver").
front_port() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1/ports" "$2"
}

s3_server_start() {
  S3_DIR=$(mktemp -d)
  front_launch "$S3_DIR" "$S3_DIR/data" udacity-dend staging
  S3_FRONT=$(front_port "$S3_DIR" front)
  S3RVER=$(front_port "$S3_DIR" s3rver)
  export S3_DIR S3_FRONT S3RVER
}

s3_server_stop() {
  kill "$(cat "$S3_DIR/pid")" 2>/dev/null || true
  rm -rf "$S3_DIR"
}

# The real sample in s3://udacity-dend/{log_data,song_data,log_json_path.json}.
s3_upload_sample() {
  local data="$SPARKIFY_SHARED/data/udacity"
  upload log_data "$data/log_data"
  upload song_data "$data/s3_subset/song_data"
  upload log_json_path.json "$data/log_json_path.json"
}

# upload KEY-OR-PREFIX PATH [BUCKET]: a file or a directory tree, straight to s3rver.
upload() {
  node "$SPARKIFY_SOURCE/tests/s3/upload.mjs" "$S3RVER" "${3:-udacity-dend}" "$1" "$2" >/dev/null
}

# sparkify with the test server's endpoint and credentials.
s3sp() {
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER-test-secret \
    "$SPARKIFY" "$@" --s3-endpoint "http://127.0.0.1:$S3_FRONT"
}

# faults MODE COUNT [MATCH]: see tests/s3/server.mjs.
faults() {
  curl -s -X POST "http://127.0.0.1:$S3_FRONT/__faults?mode=$1&count=$2&match=${3:-}" >/dev/null
}

# The keys under s3://BUCKET/PREFIX, one per line in byte order, read from s3rver directly.
s3_keys() {
  curl -s "http://127.0.0.1:$S3RVER/$1?list-type=2&max-keys=1000&prefix=$2" | python3 -c '
import sys, xml.etree.ElementTree as ET
for key in ET.parse(sys.stdin).getroot().iterfind("{*}Contents/{*}Key"):
    print(key.text)' | LC_ALL=C sort
}

# The bytes of s3://BUCKET/KEY, read from s3rver directly.
s3_get() {
  curl -sf "http://127.0.0.1:$S3RVER/$1/$2"
}

# The test front (tests/s3/server.mjs) before another S3 server at URL $1 (the stand-in's moto),
# which checks the signatures: the front only injects faults (`faults`, with a match) and holds
# requests until `release`. $S3_FRONT is its port.
fault_front_start() {
  FRONT_DIR=$(mktemp -d)
  S3_TEST_UPSTREAM=$1 S3_TEST_VERIFY=0 front_launch "$FRONT_DIR"
  S3_FRONT=$(front_port "$FRONT_DIR" front)
  export FRONT_DIR S3_FRONT
}

fault_front_stop() {
  if [ -n "${FRONT_DIR:-}" ]; then
    kill "$(cat "$FRONT_DIR/pid")" 2>/dev/null || true
    rm -rf "$FRONT_DIR"
    FRONT_DIR=
  fi
}

# The front's counters: forwarded, faulted, maxInFlight, held.
front_stat() {
  curl -s "http://127.0.0.1:$S3_FRONT/__stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# Waits (up to 30 s) until the front holds a request.
wait_until_held() {
  for _ in $(seq 1 300); do
    [ "$(front_stat held)" -ge 1 ] && return 0
    sleep 0.1
  done
  return 1
}

release() {
  curl -s -X POST "http://127.0.0.1:$S3_FRONT/__release" >/dev/null
}

# Python's moto server (in this machine's image, not in Debian): S3 and AWS's other services on
# 127.0.0.1, without signature checks. $MOTO_URL is its endpoint. Skips where moto is absent.
moto_start() {
  python3 -c 'import moto, boto3' 2>/dev/null || skip "Python's moto and boto3 are absent (python3 -c 'import moto, boto3')"
  MOTO_DIR=$(mktemp -d)
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 -m moto.server -H 127.0.0.1 -p "$port" >"$MOTO_DIR/server.log" 2>&1 &
  echo $! >"$MOTO_DIR/pid"
  MOTO_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -sf "$MOTO_URL/moto-api/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  export MOTO_DIR MOTO_URL
}

moto_stop() {
  kill "$(cat "$MOTO_DIR/pid")" 2>/dev/null || true
  rm -rf "$MOTO_DIR"
}

# ---- the Redshift stand-in (scripts/redshift_standin.sh), one per test file ----

# Starts the stand-in for the file's tests (setup_file). Without Python's moto it returns 1 and
# standin_env skips each test (this bats cannot skip from setup_file), or, with `optional`, lets
# the file's tests run on the other targets only.
standin_start() {
  if ! python3 -c 'import moto, boto3, flask' 2>/dev/null; then
    export STANDIN_ABSENT="Python's moto (with Flask) and boto3 are absent (python3 -c 'import moto, boto3'): the stand-in has no other S3 with IAM and STS"
    return 1
  fi
  STANDIN_DIR=$(mktemp -d /tmp/sparkify-standin.XXXXXX)
  chmod 755 "$STANDIN_DIR"
  "$SPARKIFY_SOURCE/scripts/redshift_standin.sh" start "$STANDIN_DIR/run"
  STANDIN_DIR=$STANDIN_DIR/run
  export STANDIN_DIR
  standin_env
}

# The real sample as Udacity's bucket holds it (where the sample is present), in us-west-2, and
# an empty bucket in another Region, eu-data.
standin_buckets() {
  if [ -d "$SPARKIFY_SHARED/data/udacity/log_data" ]; then
    aws mkbucket udacity-dend us-west-2
    aws put-tree udacity-dend log_data "$SPARKIFY_SHARED/data/udacity/log_data"
    aws put-tree udacity-dend song_data "$SPARKIFY_SHARED/data/udacity/song_data"
    aws put udacity-dend log_json_path.json "$SPARKIFY_SHARED/data/udacity/log_json_path.json"
  fi
  aws mkbucket eu-data eu-central-1
}

# rsp DB ARGS...: sparkify on the stand-in's database DB.
rsp() {
  local db=$1
  shift
  "$SPARKIFY" --target "$(standin_target "$db")" "$@"
}

standin_stop() {
  if [ -n "${STANDIN_DIR:-}" ]; then
    "$SPARKIFY_SOURCE/scripts/redshift_standin.sh" stop "$STANDIN_DIR"
    rm -rf "$(dirname "$STANDIN_DIR")"
  fi
}

# The stand-in's settings (SPARKIFY_TARGET, AWS_*, SPARKIFY_IAM_ROLE, SPARKIFY_STAGING), which
# setup() clears: a test file's own setup() calls this after helpers.bash's.
standin_env() {
  [ -f "${STANDIN_DIR:-}/env" ] || { [ "${1:-}" = optional ] && return 0; skip "${STANDIN_ABSENT:-the stand-in is not running}"; }
  set -a
  . "$STANDIN_DIR/env"
  set +a
}

# The stand-in's AWS side (moto): buckets, uploads, roles.
aws() {
  python3 "$SPARKIFY_SOURCE/tests/redshift_standin/aws.py" "$@"
}

# The stand-in's URL for database $1 as libpq reads it (TLS where the stand-in has it).
standin_url() {
  local base=${SPARKIFY_TARGET/redshift:/postgresql:}
  base=${base%%\?*}
  echo "${base%/dev}/${1:-dev}?sslmode=prefer"
}

# The stand-in's target for sparkify, database $1.
standin_target() {
  echo "${SPARKIFY_TARGET/\/dev/\/$1}"
}

# rs DB SQL...: runs each SQL with psql through the front; errors show their SQLSTATE.
rs() {
  local db=$1 args=()
  shift
  for sql in "$@"; do args+=(-c "$sql"); done
  psql -X -q -tA -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "$(standin_url "$db")" "${args[@]}"
}

# A fresh database for the test, created through the front (Redshift's CREATE DATABASE).
standin_new_db() {
  local name="t${BATS_TEST_NUMBER}${1:+_$1}"
  rs dev "DROP DATABASE IF EXISTS $name" "CREATE DATABASE $name"
  echo "$name"
}
