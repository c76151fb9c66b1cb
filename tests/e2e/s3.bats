#!/usr/bin/env bats
# S3 sources against a real S3-protocol server: s3rver (npm) on 127.0.0.1, behind a front
# (tests/s3/server.mjs) that checks every signature with the AWS SDK's own signer, because
# s3rver accepts any, and that injects 503s and dropped connections on request.

load helpers

setup_file() {
  s3_server_start
  if [ -d "$SPARKIFY_SHARED/data/udacity/log_data" ]; then
    s3_upload_sample
  fi
}

teardown_file() {
  s3_server_stop
}

@test "the real sample from s3:// gives exactly the tables it gives from local disk, through a paginated listing" {
  need_sample
  sp -q --target "sqlite:$TMP/local.db" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  run s3sp --target "$DB" etl --s3-max-keys 100 --song-data s3://udacity-dend/song_data \
    --log-data s3://udacity-dend/log_data --log-jsonpath s3://udacity-dend/log_json_path.json
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 30 log and 1943 song objects"* ]]
  test_cmp "$(star_contents "sqlite:$TMP/local.db")" "$(star_contents)"
  # 1943 song objects in pages of 100: 20 listing requests, each signed and verified.
  [ "$(q "SELECT COUNT(*) FROM loaded_objects WHERE object_key LIKE 's3://udacity-dend/song_data/%' AND version LIKE 'etag:%'")" = 1943 ]
}

@test "a rerun from S3 changes nothing: objects are known by bucket, key, size and ETag" {
  need_sample
  s3sp -q --target "$DB" etl --song-data s3://udacity-dend/song_data --log-data s3://udacity-dend/log_data
  before=$(star_contents)
  run s3sp --target "$DB" etl --song-data s3://udacity-dend/song_data --log-data s3://udacity-dend/log_data
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 0 log and 0 song objects"*"1973 objects already loaded"* ]]
  test_cmp "$before" "$(star_contents)"
}

@test "a wrong secret fails with SignatureDoesNotMatch, writes nothing and never prints the secret" {
  need_sample
  run env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=Wr0ngSecretValue "$SPARKIFY" --target "$DB" \
    etl --s3-endpoint "http://127.0.0.1:$S3_FRONT" --log-data s3://udacity-dend/log_data
  [ "$status" -eq 1 ]
  [[ "$output" == *"s3://udacity-dend/log_data: HTTP 403 SignatureDoesNotMatch"* ]]
  [[ "$output" != *Wr0ngSecretValue* ]]
  [ ! -e w.db ]
}

@test "a missing bucket and a missing key fail at once, naming them" {
  run s3sp --target "$DB" etl --log-data s3://no-such-bucket/log_data
  [ "$status" -eq 1 ]
  [[ "$output" == *"s3://no-such-bucket/log_data: HTTP 404 NoSuchBucket"* ]]
  need_sample
  run s3sp --target "$DB" etl --log-data s3://udacity-dend/log_data --log-jsonpath s3://udacity-dend/missing.json
  [ "$status" -eq 1 ]
  [[ "$output" == *"s3://udacity-dend/missing.json: HTTP 404 NoSuchKey"* ]]
}

@test "503 SlowDown on the first requests is retried and survived" {
  need_sample
  faults 503 4
  run s3sp --target "$DB" etl --song-data s3://udacity-dend/song_data/A/A --log-data s3://udacity-dend/log_data
  faults none 0
  [ "$status" -eq 0 ]
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = 6820 ]
}

@test "dropped connections are retried and survived, for listings, song files and streamed logs" {
  need_sample
  faults drop 4
  run s3sp --target "$DB" etl --song-data s3://udacity-dend/song_data/A/B --log-data s3://udacity-dend/log_data
  faults none 0
  [ "$status" -eq 0 ]
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = 6820 ]
}

# The number of requests the front answered with a fault so far.
faulted() {
  curl -s "http://127.0.0.1:$S3_FRONT/__stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["faulted"])'
}

@test "a persistent fault ends in a clear error after exactly --s3-max-attempts tries, and nothing is written" {
  need_sample
  for attempts in 3 1; do
    before=$(faulted)
    faults 503 -1
    run s3sp --target "$DB" etl --s3-max-attempts "$attempts" --log-data s3://udacity-dend/log_data
    faults none 0
    [ "$status" -eq 1 ]
    [[ "$output" == *"HTTP 503 SlowDown"*"(gave up after retries)"* ]]
    [ "$(($(faulted) - before))" -eq "$attempts" ]
    [ ! -e w.db ]
  done
  # Song files are fetched many at a time: each of them is tried exactly as often.
  before=$(faulted)
  faults 503 -1
  run s3sp --target "$DB" etl --s3-max-attempts 2 --s3-concurrency 1 --song-data s3://udacity-dend/song_data/A/A/A/TRAAAAW128F429D538.json
  faults none 0
  [ "$status" -eq 1 ]
  [ "$(($(faulted) - before))" -eq 2 ]
}

@test "keys with spaces and non-ASCII characters are listed, signed and read" {
  need_sample
  mkdir -p "odd/día uno"
  cp "$DATA/log_data/2018/11/2018-11-05-events.json" "odd/día uno/2018-11-05 events+1.json"
  upload "odd keys" "$TMP/odd"
  run s3sp --target "$DB" etl --log-data "s3://udacity-dend/odd keys/"
  [ "$status" -eq 0 ]
  [ "$(q 'SELECT object_key FROM loaded_objects')" = "s3://udacity-dend/odd keys/día uno/2018-11-05 events+1.json" ]
  expected=$(python3 -c '
import json,sys
print(sum(1 for l in open(sys.argv[1]) if l.strip() and json.loads(l)["page"] == "NextSong" and json.loads(l)["userId"] != ""))' "$DATA/log_data/2018/11/2018-11-05-events.json")
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$expected" ]
}

@test ".gz objects are decompressed on the fly, log files streamed and song files whole" {
  need_sample
  mkdir -p gz/logs gz/songs
  gzip -c "$DATA/log_data/2018/11/2018-11-07-events.json" > gz/logs/2018-11-07-events.json.gz
  gzip -c "$DATA/song_data/A/A/A/TRAAAAW128F429D538.json" > gz/songs/TRAAAAW128F429D538.json.gz
  upload gz "$TMP/gz"
  run s3sp --target "$DB" etl --song-data s3://udacity-dend/gz/songs --log-data s3://udacity-dend/gz/logs
  [ "$status" -eq 0 ]
  sp -q --target "sqlite:$TMP/local.db" etl --song-data "$DATA/song_data/A/A/A/TRAAAAW128F429D538.json" --log-data "$DATA/log_data/2018/11/2018-11-07-events.json"
  test_cmp "$(star_contents "sqlite:$TMP/local.db")" "$(star_contents)"
  [ "$(q 'SELECT COUNT(*) FROM songs')" = 1 ]
}

@test "a .gz object of several gzip members loads every member, from S3 as from disk, songs and logs" {
  need_sample
  mkdir -p multi/logs multi/songs
  log=$DATA/log_data/2018/11/2018-11-07-events.json
  { head -n 50 "$log" | gzip -c; tail -n +51 "$log" | gzip -c; } > multi/logs/day.json.gz
  songs=$(find "$DATA/song_data/A/A" -name '*.json' | sort | head -n 2)
  for s in $songs; do gzip -c "$s"; done > multi/songs/two.json.gz
  upload multi "$TMP/multi"
  run s3sp --target "$DB" etl --song-data s3://udacity-dend/multi/songs --log-data s3://udacity-dend/multi/logs
  [ "$status" -eq 0 ]
  [ "$(q 'SELECT COUNT(*) FROM songs')" = 2 ]
  disk="sqlite:$TMP/disk.db"
  sp -q --target "$disk" etl --song-data multi/songs --log-data multi/logs
  plain="sqlite:$TMP/plain.db"
  sp -q --target "$plain" etl --song-data $(echo $songs | cut -d' ' -f1) --log-data "$log"
  sp -q --target "$plain" etl --song-data $(echo $songs | cut -d' ' -f2)
  test_cmp "$(star_contents "$disk")" "$(star_contents)"
  test_cmp "$(star_contents "$plain")" "$(star_contents)"
}

@test "the same S3 object under another key is not loaded twice, and a replaced log object is refused" {
  need_sample
  mkdir -p same/a same/b
  cp "$DATA/log_data/2018/11/2018-11-08-events.json" same/a/day.json
  cp "$DATA/log_data/2018/11/2018-11-08-events.json" same/b/copy.json
  upload same "$TMP/same"
  run s3sp --target "$DB" etl --log-data s3://udacity-dend/same/
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 1 log and 0 song objects"*"1 objects already loaded"* ]]
  one=$(q 'SELECT COUNT(*) FROM songplays')
  local="sqlite:$TMP/local.db"
  sp -q --target "$local" etl --log-data same/a/day.json
  [ "$one" = "$(DB=$local q 'SELECT COUNT(*) FROM songplays')" ]
  # S3 objects are replaced whole: a longer day.json under the same key is not an append.
  cat "$DATA/log_data/2018/11/2018-11-09-events.json" >> same/a/day.json
  upload same/a/day.json "$TMP/same/a/day.json"
  run s3sp --target "$DB" etl --log-data s3://udacity-dend/same/
  [ "$status" -eq 1 ]
  [[ "$output" == *"s3://udacity-dend/same/a/day.json: changed since it was loaded (etag:"*"S3 objects are replaced whole"* ]]
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$one" ]
}

@test "credentials come from ~/.aws/credentials with AWS_PROFILE, or from dwh.cfg [AWS]" {
  need_sample
  mkdir -p home/.aws
  printf '[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n[test]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER-test-secret\n' > home/.aws/credentials
  HOME="$TMP/home" AWS_PROFILE=test run "$SPARKIFY" --target "$DB" etl --s3-endpoint "http://127.0.0.1:$S3_FRONT" --log-data s3://udacity-dend/log_data/2018/11/2018-11-01
  [ "$status" -eq 0 ]
  printf "[AWS]\nKEY='S3RVER'\nSECRET='S3RVER-test-secret'\n" > dwh.cfg
  HOME="$TMP/nowhere" run "$SPARKIFY" --target "sqlite:$TMP/cfg.db" etl --s3-endpoint "http://127.0.0.1:$S3_FRONT" --log-data s3://udacity-dend/log_data/2018/11/2018-11-01
  [ "$status" -eq 0 ]
  rm dwh.cfg
  HOME="$TMP/nowhere" run "$SPARKIFY" --target "sqlite:$TMP/none.db" etl --s3-endpoint "http://127.0.0.1:$S3_FRONT" --log-data s3://udacity-dend/log_data
  [ "$status" -eq 2 ]
  [[ "$output" == *"no AWS credentials for the S3 sources"* ]]
}

@test "S3 sources load into PostgreSQL as they do into SQLite" {
  need_sample
  pg=$(mktemp -d /tmp/sparkify-pg.XXXXXX)
  chmod 755 "$pg"
  url=$("$SPARKIFY_SOURCE/scripts/pg_server.sh" start "$pg/s")
  s3sp -q --target "$url" etl --song-data s3://udacity-dend/song_data --log-data s3://udacity-dend/log_data
  s3sp -q --target "$DB" etl --song-data s3://udacity-dend/song_data --log-data s3://udacity-dend/log_data
  contents=$(star_contents "$url")
  "$SPARKIFY_SOURCE/scripts/pg_server.sh" stop "$pg/s"
  rm -rf "$pg"
  test_cmp "$(star_contents)" "$contents"
}

@test "--no-sign-request sends anonymous requests and needs no credentials" {
  need_sample
  # The front accepts only signed requests, so an anonymous one is refused with 403: proof
  # that nothing was signed, and that no credentials were asked for.
  HOME="$TMP/nowhere" run "$SPARKIFY" --target "$DB" etl --no-sign-request \
    --s3-endpoint "http://127.0.0.1:$S3_FRONT" --log-data s3://udacity-dend/log_data
  [ "$status" -eq 1 ]
  [[ "$output" == *"s3://udacity-dend/log_data: HTTP 403 SignatureDoesNotMatch"* ]]
}

@test "a key with . and .. segments is requested as it is, not as the collapsed path" {
  # s3rver collapses such keys itself; moto keeps them as they are.
  moto_start
  python3 - "$MOTO_URL" <<'PY'
import boto3, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="k", aws_secret_access_key="s",
                  region_name="us-east-1")
s3.create_bucket(Bucket="dots")
event = '{"page":"NextSong","userId":"%s","ts":1541990258796,"level":"free","sessionId":1}\n'
s3.put_object(Bucket="dots", Key="logs/x/../day.json", Body=(event % "7").encode())
s3.put_object(Bucket="dots", Key="other/day.json", Body=(event % "8").encode())
PY
  run env AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s "$SPARKIFY" --target "$DB" etl \
    --s3-endpoint "$MOTO_URL" --s3-region us-east-1 --log-data s3://dots/logs/
  moto_stop
  [ "$status" -eq 0 ]
  [ "$(q 'SELECT object_key FROM loaded_objects')" = "s3://dots/logs/x/../day.json" ]
  [ "$(q 'SELECT user_id FROM songplays')" = 7 ]
}
