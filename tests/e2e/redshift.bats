#!/usr/bin/env bats
# The Redshift target's run up to COPY, for real: a real S3-protocol server (s3rver behind the
# signature-checking front) holds the sources and the staging prefix, and a real PostgreSQL
# server stands in for the cluster, which speaks the same protocol. Everything a run does
# before COPY happens for real there (the loaded-objects record is read, new objects are
# found, uploads and manifests are written); COPY ... IAM_ROLE is Redshift's own, so
# PostgreSQL rejects it, and the run must then fail, name the statement and leave the tables
# as they were. The SQL itself is parsed in redshift_sql.bats and the transform runs on
# PostgreSQL in postgres.bats.

load helpers

ROLE=arn:aws:iam::123456789012:role/dwhRole

setup_file() {
  pg_server_start
  s3_server_start
  if [ -d "$SPARKIFY_SHARED/data/udacity/log_data" ]; then
    s3_upload_sample
  fi
}

teardown_file() {
  s3_server_stop
  pg_server_stop
}

# The Redshift URL of a PostgreSQL database URL (the test server has no TLS).
as_redshift() {
  echo "redshift://${1#postgresql://}?sslmode=disable"
}

# The one run prefix under s3://staging/PREFIX/.
run_prefix() {
  s3_keys staging "$1/" | sed -n 's#^\('"$1"'/[0-9TZ]*-[0-9]*\)/.*#\1#p' | sort -u
}

@test "an incremental run writes a manifest of exactly the objects not yet loaded, then stops at COPY with nothing written" {
  need_sample
  pg=$(new_database)
  # Nine days are already in the warehouse, loaded from the same bucket.
  s3sp -q --target "$pg" etl --log-data s3://udacity-dend/log_data/2018/11/2018-11-0
  [ "$(psql -tA "$pg" -c 'SELECT COUNT(*) FROM loaded_objects')" = 9 ]
  before=$(star_contents "$pg")

  run s3sp --target "$(as_redshift "$pg")" etl --iam-role "$ROLE" --staging s3://staging/runs \
    --log-data s3://udacity-dend/log_data --log-jsonpath s3://udacity-dend/log_json_path.json
  [ "$status" -eq 1 ]
  [[ "$output" == *"syntax error"*"[COPY staging_events FROM 's3://staging/runs/"*"/log.manifest' IAM_ROLE '$ROLE' MANIFEST"* ]]
  [[ "$output" != *sparkify-test-secret* ]]
  [ "$(star_contents "$pg")" = "$before" ]
  [ "$(psql -tA "$pg" -c 'SELECT COUNT(*) FROM loaded_objects')" = 9 ]

  # The staging prefix holds the run's manifest and nothing else (the JSONPaths file is the
  # user's own, in S3), listing the 21 other days in key order, each mandatory.
  prefix=$(run_prefix runs)
  [ "$(s3_keys staging runs/)" = "$prefix/log.manifest" ]
  s3_get staging "$prefix/log.manifest" > manifest.json
  python3 - "$DATA/log_data/2018/11" manifest.json <<'PY'
import json, os, sys
days = sorted(f for f in os.listdir(sys.argv[1]) if not f.startswith("2018-11-0"))
expected = {"entries": [{"url": "s3://udacity-dend/log_data/2018/11/" + f, "mandatory": True} for f in days]}
assert len(days) == 21, days
assert json.load(open(sys.argv[2])) == expected, open(sys.argv[2]).read()
PY
}

@test "a rerun finds nothing new, a full refresh COPYs whole prefixes: neither needs a manifest" {
  need_sample
  pg=$(new_database)
  s3sp -q --target "$pg" etl --log-data s3://udacity-dend/log_data
  # Everything is loaded: the run COPYs nothing, records nothing new and commits.
  run s3sp --target "$(as_redshift "$pg")" etl --iam-role "$ROLE" --staging s3://staging/rerun \
    --log-data s3://udacity-dend/log_data --log-jsonpath s3://udacity-dend/log_json_path.json
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 0 log and 0 song objects"*"30 objects already loaded"* ]]
  [ -z "$(s3_keys staging rerun/)" ]
  # A full refresh with the JSONPaths file in S3 needs no staging prefix at all.
  run s3sp --target "$(as_redshift "$pg")" etl --iam-role "$ROLE" --full-refresh \
    --log-data s3://udacity-dend/log_data --log-jsonpath s3://udacity-dend/log_json_path.json
  [ "$status" -eq 1 ]
  [[ "$output" == *"[COPY staging_events FROM 's3://udacity-dend/log_data' IAM_ROLE"* ]]
  [ "$(psql -tA "$pg" -c 'SELECT COUNT(*) FROM songplays')" = 6820 ]
}

@test "local log files are uploaded one object each, byte for byte, with the canonical JSONPaths file" {
  need_sample
  pg=$(new_database)
  sp -q --target "$pg" create-tables
  run s3sp --target "$(as_redshift "$pg")" etl --iam-role "$ROLE" --staging s3://staging/local-logs \
    --log-data "$DATA/log_data"
  [ "$status" -eq 1 ]
  [[ "$output" == *"[COPY staging_events FROM 's3://staging/local-logs/"* ]]
  prefix=$(run_prefix local-logs)
  [ "$(s3_keys staging "$prefix/log/" | wc -l)" -eq 30 ]
  for f in "$DATA"/log_data/2018/11/*.json; do
    key=$(s3_keys staging "$prefix/log/" | grep -- "-$(basename "$f")$")
    s3_get staging "$key" | cmp - "$f"
  done
  # The manifest lists the uploads; the JSONPaths file maps the same keys as the classic one.
  s3_get staging "$prefix/log.manifest" > manifest.json
  [ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["entries"]))' manifest.json)" -eq 30 ]
  s3_get staging "$prefix/log_json_path.json" > paths.json
  python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == json.load(open(sys.argv[2]))' \
    paths.json "$DATA/log_json_path.json"
  [ "$(psql -tA "$pg" -c 'SELECT COUNT(*) FROM loaded_objects')" = 0 ]
}

@test "local song files are bundled into one uploaded part holding every song object, in order" {
  need_sample
  pg=$(new_database)
  sp -q --target "$pg" create-tables
  run s3sp --target "$(as_redshift "$pg")" etl --iam-role "$ROLE" --staging s3://staging/local-songs \
    --song-data "$DATA/s3_subset/song_data"
  [ "$status" -eq 1 ]
  [[ "$output" == *"[COPY staging_songs FROM 's3://staging/local-songs/"*"/song.manifest' IAM_ROLE"* ]]
  prefix=$(run_prefix local-songs)
  [ "$(s3_keys staging "$prefix/")" = "$(printf '%s\n' "$prefix/song.manifest" "$prefix/song/part-00001.json")" ]
  s3_get staging "$prefix/song/part-00001.json" > part.json
  # The part is the files' objects one after the other (one file holds two), as COPY's JSON
  # 'auto' reads them.
  python3 - "$DATA/s3_subset/song_data" part.json <<'PY'
import json, os, sys
def objects(text):
    decoder, i, out = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return out
        obj, i = decoder.raw_decode(text, i)
        out.append(obj)
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(sys.argv[1]) for f in fs if f.endswith(".json"))
expected = [o for f in files for o in objects(open(f).read())]
assert len(files) == 1943 and len(expected) == 1944, (len(files), len(expected))
assert objects(open(sys.argv[2]).read()) == expected
PY
}

@test "a staging prefix that cannot be written fails the run before COPY, naming the object" {
  need_sample
  pg=$(new_database)
  sp -q --target "$pg" create-tables
  run s3sp --target "$(as_redshift "$pg")" etl --iam-role "$ROLE" --staging s3://no-such-bucket/x \
    --log-data s3://udacity-dend/log_data --log-jsonpath s3://udacity-dend/log_json_path.json
  [ "$status" -eq 1 ]
  [[ "$output" == *"s3://no-such-bucket/x/"*"/log.manifest: HTTP 404 NoSuchBucket"* ]]
  [[ "$output" != *"COPY staging_events"* ]]
  [ "$(psql -tA "$pg" -c 'SELECT COUNT(*) FROM loaded_objects')" = 0 ]
}

@test "a grown local log file uploads only its new complete lines; copies of a song file upload once" {
  need_sample
  pg=$(new_database)
  mkdir logs songs
  day=$DATA/log_data/2018/11/2018-11-15-events.json
  head -n 100 "$day" > logs/today.json
  sp -q --target "$pg" etl --log-data logs
  sed -n '101,200p' "$day" >> logs/today.json
  printf '{"artist": "still bei' >> logs/today.json
  song=$DATA/song_data/A/A/A/TRAAAAW128F429D538.json
  cp "$song" songs/one.json
  cp "$song" songs/two.json
  run s3sp --target "$(as_redshift "$pg")" etl --iam-role "$ROLE" --staging s3://staging/grown \
    --log-data logs --song-data songs
  [ "$status" -eq 1 ]
  [[ "$output" == *"[COPY staging_songs FROM 's3://staging/grown/"* ]]
  prefix=$(run_prefix grown)
  # Lines 101 to 200, not the loaded ones before them nor the unfinished one after them.
  s3_get staging "$(s3_keys staging "$prefix/log/")" | cmp - <(sed -n '101,200p' "$day")
  s3_get staging "$prefix/song/part-00001.json" | cmp - <(cat "$song"; echo)
}
