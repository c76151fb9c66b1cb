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
  )
  for sql in "${sqls[@]}"; do
    "$SPARKIFY" --target "$target" query --format csv "$sql"
  done
}

python_expected() {
  python3 "$BATS_TEST_DIRNAME/expected.py" "$@"
}

# json_field JSON KEY
json_field() {
  python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}
