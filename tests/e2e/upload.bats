#!/usr/bin/env bats
# Local sources on the Redshift path: sparkify uploads them to the staging prefix before COPY
# (log files one object each, song files joined into parts), many at once (--s3-concurrency),
# streamed from disk, in a multipart upload above --s3-part-size. On the Redshift stand-in, whose
# S3 (moto) checks every signature; faults and holds come from the test front
# (tests/s3/server.mjs) put before moto. What lands in S3 is compared byte for byte with the
# files, and the star tables with SQLite's on the same input.

load helpers

setup_file() {
  standin_start || return 0
}

teardown_file() {
  standin_stop
}

eval "helpers_$(declare -f setup)"
setup() {
  helpers_setup
  standin_env
  # Each test's runs under a prefix of their own.
  export SPARKIFY_STAGING="s3://sparkify-staging/upload-$BATS_TEST_NUMBER"
}

eval "helpers_$(declare -f teardown)"
teardown() {
  fault_front_stop
  helpers_teardown
}

# The keys under the test's staging prefix, one per line.
staged() {
  python3 - <<'PY'
import boto3, os
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
bucket, _, prefix = os.environ["SPARKIFY_STAGING"][5:].partition("/")
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
    for o in page.get("Contents", []):
        print(o["Key"])
PY
}

# Multipart uploads still open under the test's staging prefix (ListMultipartUploads).
open_uploads() {
  python3 - <<'PY'
import boto3, os
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
bucket, _, prefix = os.environ["SPARKIFY_STAGING"][5:].partition("/")
print(len(s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix + "/").get("Uploads", [])))
PY
}

# uploaded_as_files LOGS SONGS: what the test's one run uploaded is the files' content, byte for
# byte: log object NNNNN-name is the Nth log file (inflated when gzip), and the song parts, in
# order and joined, are the song files in order, each followed by "\n". Prints what it compared.
uploaded_as_files() {
  python3 - "$@" <<'PY'
import boto3, gzip, os, sys
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
bucket, _, prefix = os.environ["SPARKIFY_STAGING"][5:].partition("/")
keys = sorted(o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
              for o in p.get("Contents", []))
def files(d):
    found = []
    for base, dirs, names in os.walk(d):
        found += [os.path.abspath(os.path.join(base, n)) for n in names]
    return sorted(found, key=os.fsencode)
def content(path):
    data = open(path, "rb").read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
get = lambda key: s3.get_object(Bucket=bucket, Key=key)["Body"].read()
logs, songs = files(sys.argv[1]), files(sys.argv[2])
log_keys = [k for k in keys if "/log/" in k]
part_keys = [k for k in keys if "/song/part-" in k]
assert len(log_keys) == len(logs), (len(log_keys), len(logs))
for i, (key, path) in enumerate(zip(log_keys, logs)):
    name = os.path.basename(path).removesuffix(".gz")
    assert key.endswith(f"/log/{i + 1:05d}-{name}"), (key, path)
    assert get(key) == content(path), f"{key} differs from {path}"
joined = b"".join(get(k) for k in part_keys)
assert joined == b"".join(content(p) + b"\n" for p in songs), "the song parts differ from the song files"
print(f"{len(log_keys)} log objects, {len(part_keys)} song parts, {len(joined)} song bytes")
PY
}

# The ETag of the test's object whose key ends with $1 (a multipart object's ends in -PARTS).
etag_of() {
  python3 - "$1" <<'PY'
import boto3, os, sys
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
bucket, _, prefix = os.environ["SPARKIFY_STAGING"][5:].partition("/")
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
    for o in page.get("Contents", []):
        if o["Key"].endswith(sys.argv[1]):
            print(o["ETag"].strip('"'))
PY
}

# big LINES FILE: one log file of LINES generated events (about 470 bytes each), no final newline.
big() {
  sp -q generate --out gen --events "$1" --songs 50 --seed 7 >/dev/null
  find gen/log_data -type f | sort | xargs awk 1 | head -c -1 >"$2"
  rm -rf gen
}

@test "many local log and song files, gzip among them, upload with --s3-concurrency 8 and land byte for byte as the files" {
  sp -q generate --out data --events 30000 --songs 400 --seed 1
  # gzip files are uploaded inflated.
  gzip data/log_data/2018/11/2018-11-0[1-3]-events.json
  find data/song_data -name '*.json' | sort | head -n 25 | xargs gzip
  db=$(standin_new_db)
  run rsp "$db" etl --s3-concurrency 8 --log-data data/log_data --song-data data/song_data
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 30 log and 400 song objects"* ]]
  run uploaded_as_files data/log_data data/song_data
  [ "$status" -eq 0 ]
  [[ "$output" == "30 log objects, "*" song parts, "* ]]
  sp -q --target "$DB" etl --log-data data/log_data --song-data data/song_data
  test_cmp "$(star_contents)" "$(star_contents "$(standin_target "$db")")"
  [ "$(open_uploads)" = 0 ]
}

@test "a file above --s3-part-size is uploaded in parts and equals its source, plain or gzip" {
  big 52000 all.json
  mkdir logs
  # Two files of about 12 MB of content each: three parts of 5 MiB.
  head -n 26000 all.json >logs/first.json
  tail -n +26001 all.json | gzip >logs/second.json.gz
  [ "$(stat -c %s logs/first.json)" -gt $((10 << 20)) ]
  db=$(standin_new_db)
  run rsp "$db" etl --s3-part-size 5 --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 2 log and 0 song objects"*"52000 events"* ]]
  [[ "$(etag_of /log/00001-first.json)" == *-3 ]]
  [[ "$(etag_of /log/00002-second.json)" == *-3 ]]
  run uploaded_as_files logs /nonexistent
  [ "$status" -eq 0 ]
  [ "$(open_uploads)" = 0 ]
  sp -q --target "$DB" etl --log-data logs
  test_cmp "$(star_contents)" "$(star_contents "$(standin_target "$db")")"
}

@test "a part refused midway fails the run, naming the file and the part, aborts the multipart upload and writes nothing" {
  big 26000 logs.json
  mkdir logs
  mv logs.json logs/day.json
  db=$(standin_new_db)
  rsp "$db" -q create-tables
  before=$(star_contents "$(standin_target "$db")")
  fault_front_start "$AWS_ENDPOINT_URL"
  faults 403 -1 partNumber=2
  run rsp "$db" etl --s3-endpoint "http://127.0.0.1:$S3_FRONT" --s3-part-size 5 --log-data logs
  [ "$status" -eq 1 ]
  [[ "$output" == *"$TMP/logs/day.json, part 2 of 3 of the upload to $SPARKIFY_STAGING/"*"/log/00001-day.json: HTTP 403 AccessDenied"* ]]
  [ "$(front_stat faulted)" -ge 1 ]
  [ "$(open_uploads)" = 0 ]
  test_cmp "$before" "$(star_contents "$(standin_target "$db")")"
  [ "$(rs "$db" 'SELECT COUNT(*) FROM loaded_objects')" = 0 ]
  # Without the fault the same run loads.
  faults none 0
  run rsp "$db" etl --s3-endpoint "http://127.0.0.1:$S3_FRONT" --s3-part-size 5 --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 1 log and 0 song objects"* ]]
}

@test "a file changed or removed while the run uploads fails the run, naming it, and leaves no multipart upload open" {
  mkdir logs
  cp "$DATA/log_data/2018/11/2018-11-01-events.json" logs/a.json 2>/dev/null || printf '%s\n' "$good_event" >logs/a.json
  big 26000 logs/b.json
  db=$(standin_new_db)
  rsp "$db" -q create-tables
  fault_front_start "$AWS_ENDPOINT_URL"
  # One request at a time: b.json's upload begins after a.json's, which the front holds until
  # b.json has changed. Every file was read before the first upload.
  faults hold 1 a.json
  rsp "$db" etl --s3-endpoint "http://127.0.0.1:$S3_FRONT" --s3-concurrency 1 --s3-part-size 5 \
    --log-data logs >out.txt 2>&1 &
  pid=$!
  wait_until_held
  python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(6 << 20); f.write(b"X"); f.close()' logs/b.json
  release
  status=0
  wait "$pid" || status=$?
  [ "$status" -eq 1 ]
  grep -q "^sparkify: $TMP/logs/b.json: changed during the run: its bytes 5242880 to 10485760 are not those read when the run began; nothing was written" out.txt
  [ "$(open_uploads)" = 0 ]
  [ "$(rs "$db" 'SELECT COUNT(*) FROM loaded_objects')" = 0 ]
  # A file removed in between fails the same way.
  faults hold 1 a.json
  rsp "$db" etl --s3-endpoint "http://127.0.0.1:$S3_FRONT" --s3-concurrency 1 --log-data logs >out.txt 2>&1 &
  pid=$!
  wait_until_held
  rm logs/b.json
  release
  status=0
  wait "$pid" || status=$?
  [ "$status" -eq 1 ]
  grep -q "^sparkify: $TMP/logs/b.json: cannot open it again to upload it: No such file or directory" out.txt
  [ "$(open_uploads)" = 0 ]
  [ "$(rs "$db" 'SELECT COUNT(*) FROM loaded_objects')" = 0 ]
}

@test "a grown log file uploads only its new lines, an unfinished last line waits, and load errors name the file's own line" {
  need_sample
  src="$DATA/log_data/2018/11/2018-11-15-events.json"
  mkdir logs
  head -n 100 "$src" >logs/today.json
  db=$(standin_new_db)
  for t in "$DB" "$(standin_target "$db")"; do sp -q --target "$t" etl --log-data logs; done
  # The writer appends 150 lines and is in the middle of the next one.
  sed -n '101,250p' "$src" >>logs/today.json
  line251=$(sed -n 251p "$src")
  printf '%s' "${line251:0:40}" >>logs/today.json
  sp -q --target "$DB" etl --log-data logs
  SPARKIFY_STAGING=$SPARKIFY_STAGING/second run rsp "$db" etl --log-data logs
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 1 log and 0 song objects"*"1 unfinished last line left for the next run"* ]]
  # The second run uploaded exactly lines 101 to 250: a byte range of the file.
  sed -n '101,250p' "$src" >expected.json
  key=$(staged | grep /second/ | grep /log/00001-today.json)
  python3 -c '
import boto3, os, sys
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
body = s3.get_object(Bucket="sparkify-staging", Key=sys.argv[1])["Body"].read()
sys.exit(body != open(sys.argv[2], "rb").read())' "$key" expected.json
  # It finishes the line and adds a bad one: the error names the file's own line 252.
  printf '%s\n' "${line251:40}" >>logs/today.json
  printf '{"page": "NextSong", "userId": "8", "ts": "yesterday"}\n' >>logs/today.json
  sed -n '252,300p' "$src" >>logs/today.json
  sp -q --target "$DB" etl --max-errors 1 --log-data logs
  rsp "$db" -q etl --max-errors 1 --log-data logs
  [ "$(q 'SELECT source, line FROM load_errors')" = "$TMP/logs/today.json,252" ]
  [ "$(DB=$(standin_target "$db") q 'SELECT source, line FROM load_errors')" = "$TMP/logs/today.json,252" ]
  test_cmp "$(star_contents)" "$(star_contents "$(standin_target "$db")")"
}

@test "a dry run says what it would upload, with the parts of a large file, and uploads nothing" {
  big 26000 big.json
  run "$SPARKIFY" --target 'redshift://u:p@127.0.0.1:1/dev' etl --dry-run --s3-part-size 5 --log-data big.json
  [ "$status" -eq 0 ]
  size=$(stat -c %s big.json)
  [[ "$output" == *"-- upload $SPARKIFY_STAGING/"*"/log/00001-big.json (log file, $size bytes, in 3 parts of 5 MiB)"* ]]
  [ -z "$(staged)" ]
}

@test "--s3-part-size takes 5 to 5120 MiB, S3's limits for a part" {
  run "$SPARKIFY" --target "$DB" etl --s3-part-size 4 --log-data x.json
  [ "$status" -eq 2 ]
  [[ "$output" == *"--s3-part-size takes a number of MiB from 5 to 5120 (S3's limits for a part), not '4'"* ]]
  run "$SPARKIFY" --target "$DB" etl --s3-part-size 5121 --log-data x.json
  [ "$status" -eq 2 ]
}
