#!/usr/bin/env bats
# Configuration: a classic dwh.cfg (quoted values included), SPARKIFY_* environment
# variables and flags, with the precedence flag > environment > file > default.

load helpers

# Three one-event log directories whose user_id says which one was loaded.
make_sources() {
  for who in file env flag; do
    mkdir -p "src_$who"
    printf '{"page":"NextSong","userId":"%s","ts":1541990258796,"level":"free"}\n' "$who" > "src_$who/day.json"
  done
}

loaded_user() {
  q 'SELECT user_id FROM songplays'
}

@test "dwh.cfg [S3] LOG_DATA in single quotes is used when nothing else is given" {
  make_sources
  cat > dwh.cfg <<CFG
[CLUSTER]
DB_NAME=dwh

[S3]
LOG_DATA='$TMP/src_file'
CFG
  sp -q --target "$DB" etl
  [ "$(loaded_user)" = file ]
}

@test "the environment beats dwh.cfg" {
  make_sources
  printf "[S3]\nLOG_DATA='%s/src_file'\n" "$TMP" > dwh.cfg
  SPARKIFY_LOG_DATA="$TMP/src_env" sp -q --target "$DB" etl
  [ "$(loaded_user)" = env ]
}

@test "a flag beats the environment and dwh.cfg" {
  make_sources
  printf "[S3]\nLOG_DATA='%s/src_file'\n" "$TMP" > dwh.cfg
  SPARKIFY_LOG_DATA="$TMP/src_env" sp -q --target "$DB" etl --log-data "$TMP/src_flag"
  [ "$(loaded_user)" = flag ]
}

@test "SPARKIFY_TARGET is used when --target is absent, and --target beats it" {
  make_sources
  SPARKIFY_TARGET="sqlite:$TMP/env.db" sp -q etl --log-data src_env
  [ -s env.db ]
  SPARKIFY_TARGET="sqlite:$TMP/env.db" sp -q --target "$DB" etl --log-data src_flag
  [ "$(loaded_user)" = flag ]
  [ "$("$SPARKIFY" --target "sqlite:$TMP/env.db" query --format csv 'SELECT user_id FROM songplays' | tail -n 1 | tr -d '\r')" = env ]
}

@test "with no target anywhere the default is sqlite:sparkify.db in the working directory" {
  make_sources
  sp -q etl --log-data src_flag
  [ -s sparkify.db ]
}

@test "--config names the file; keys and sections are case-insensitive; double quotes work" {
  make_sources
  printf '[s3]\nlog_data = "%s/src_file"\n' "$TMP" > other.cfg
  sp -q --config other.cfg --target "$DB" etl
  [ "$(loaded_user)" = file ]
}

@test "SPARKIFY_CONFIG names the file" {
  make_sources
  printf "[S3]\nLOG_DATA=%s/src_file\n" "$TMP" > via-env.cfg
  SPARKIFY_CONFIG="$TMP/via-env.cfg" sp -q --target "$DB" etl
  [ "$(loaded_user)" = file ]
}

@test "a dwh.cfg with missing sections still loads (the flags supply the rest)" {
  make_sources
  printf '[AWS]\nKEY=abc\n' > dwh.cfg
  sp -q --target "$DB" etl --log-data src_flag
  [ "$(loaded_user)" = flag ]
}

@test "a dwh.cfg syntax error names the file and line, exit 2" {
  printf '[S3]\nLOG_DATA=x\nthis line is not a setting\n' > dwh.cfg
  run sp --target "$DB" etl
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: config dwh.cfg:3: syntax error (expected [SECTION] or KEY = VALUE)" ]
}

@test "a --config file that does not exist is an error, exit 2" {
  run sp --config "$TMP/missing.cfg" --target "$DB" etl
  [ "$status" -eq 2 ]
  [[ "$output" == *"missing.cfg: cannot open: No such file or directory"* ]]
}

@test "a dwh.cfg [CLUSTER] HOST makes Redshift the target, and its password is never printed" {
  cat > dwh.cfg <<'CFG'
[CLUSTER]
HOST='example.abc123.us-west-2.redshift.amazonaws.com'
DB_NAME='dwh'
DB_USER='dwhuser'
DB_PASSWORD='S3cretPassw0rd'
DB_PORT='5439'
CFG
  # The network is closed here: the connection fails, naming the cluster but not the password.
  run sp create-tables
  [ "$status" -eq 1 ]
  [[ "$output" == *"redshift://dwhuser:***@example.abc123.us-west-2.redshift.amazonaws.com:5439/dwh: cannot connect:"* ]]
  [[ "$output" != *S3cretPassw0rd* ]]
  # A dry run shows the Redshift DDL it would send there.
  run sp -q --dry-run create-tables
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "-- dry run on redshift://dwhuser:***@example.abc123.us-west-2.redshift.amazonaws.com:5439/dwh:"* ]]
  [[ "$output" == *"DISTKEY (start_time) SORTKEY (start_time);"* ]]
  [[ "$output" != *S3cretPassw0rd* ]]
}

@test "an unknown key in a known dwh.cfg section names its file and line and the nearest key, exit 2" {
  make_sources
  cat > dwh.cfg <<CFG
# the team's settings
[CLUSTER]
DB_NAME=dwh

; sources
[S3]
LOGDATA=$TMP/src_file
CFG
  run sp --target "$DB" etl
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: config dwh.cfg:7: unknown key LOGDATA in [S3]; did you mean LOG_DATA?" ]
  [ ! -e w.db ]
  printf '[cluster]\nDB_PASWORD=x\n' > dwh.cfg
  run sp --target "$DB" etl --log-data src_flag
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: config dwh.cfg:2: unknown key DB_PASWORD in [cluster]; did you mean DB_PASSWORD?" ]
  printf '[IAM_ROLE]\nROLE_NAME=x\n' > dwh.cfg
  run sp --target "$DB" etl --log-data src_flag
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: config dwh.cfg:2: unknown key ROLE_NAME in [IAM_ROLE] (it takes ARN)" ]
}

@test "the classic notebooks' [DWH] and [AWS] keys and sections of other tools are accepted" {
  make_sources
  cat > dwh.cfg <<CFG
[AWS]
KEY=AKIAEXAMPLE
SECRET=example-secret

[DWH]
DWH_CLUSTER_TYPE=multi-node
DWH_NUM_NODES=4
DWH_NODE_TYPE=dc2.large
DWH_IAM_ROLE_NAME=dwhRole
DWH_CLUSTER_IDENTIFIER=dwhCluster
DWH_DB=dwh
DWH_DB_USER=dwhuser
DWH_DB_PASSWORD=Passw0rd
DWH_PORT=5439

[S3]
LOG_DATA=$TMP/src_file

[SOMETHING_ELSE]
ANY_KEY=any value
CFG
  run sp -q --target "$DB" etl
  [ "$status" -eq 0 ]
  [ "$(loaded_user)" = file ]
}

@test "relative paths in dwh.cfg resolve against the file's directory, globs included" {
  mkdir -p conf/logs conf/songs elsewhere
  printf '{"page":"NextSong","userId":"rel","ts":1541990258796,"level":"free","song":"S","artist":"A","length":1.5}\n' > conf/logs/day.json
  printf '{"song_id":"S1","title":"S","artist_id":"A1","artist_name":"A","duration":1.5,"year":0,"num_songs":1}\n' > conf/songs/one.json
  cp "$SPARKIFY_SHARED/data/udacity/log_json_path.json" conf/paths.json 2>/dev/null ||
    printf '{"jsonpaths": ["$.artist", "$.auth", "$.firstName", "$.gender", "$.itemInSession", "$.lastName", "$.length", "$.level", "$.location", "$.method", "$.page", "$.registration", "$.sessionId", "$.song", "$.status", "$.ts", "$.userAgent", "$.userId"]}\n' > conf/paths.json
  printf '[S3]\nLOG_DATA=logs\nSONG_DATA=songs/*.json\nLOG_JSONPATH=./paths.json\n' > conf/dwh.cfg
  cd elsewhere
  run sp --config ../conf/dwh.cfg --target "$DB" etl
  [ "$status" -eq 0 ]
  [ "$(q 'SELECT user_id, song_id FROM songplays')" = "rel,S1" ]
  # The environment and flags stay relative to the working directory.
  mkdir -p logs
  printf '{"page":"NextSong","userId":"cwd","ts":1541990259796,"level":"free"}\n' > logs/day.json
  SPARKIFY_LOG_DATA=logs run sp --config ../conf/dwh.cfg --target "$DB" etl
  [ "$status" -eq 0 ]
  [ "$(q "SELECT COUNT(*) FROM songplays WHERE user_id = 'cwd'")" = 1 ]
}

@test "a DB_PORT that is not a number from 1 to 65535 is refused with its file and line, exit 2" {
  for port in abc 0 65536 99999999999 "5439 " "-1"; do
    printf "[CLUSTER]\nHOST=127.0.0.1\nDB_PORT='%s'\n" "$port" > dwh.cfg
    run sp query "SELECT 1"
    [ "$status" -eq 2 ]
    [ "$output" = "sparkify: config dwh.cfg:3: DB_PORT takes a port number from 1 to 65535, not '$port'" ]
  done
}

@test "--config of a directory or a device is refused at once, exit 2" {
  run timeout 10 "$SPARKIFY" --config /dev/zero --target "$DB" etl --log-data x
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: config /dev/zero: a device, not a configuration file" ]
  mkdir confdir
  run timeout 10 "$SPARKIFY" --config confdir --target "$DB" etl --log-data x
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: config confdir: a directory, not a configuration file" ]
}

@test "--config reads a FIFO and a process substitution" {
  make_sources
  run sp -q --config <(printf '[S3]\nLOG_DATA=%s/src_file\n' "$TMP") --target "$DB" etl
  [ "$status" -eq 0 ]
  [ "$(loaded_user)" = file ]
  mkfifo cfg.fifo
  printf '[S3]\nLOG_DATA=%s/src_env\n' "$TMP" > cfg.fifo &
  run sp -q --config cfg.fifo --target "sqlite:$TMP/fifo.db" etl
  [ "$status" -eq 0 ]
  [ "$(sp --target "sqlite:$TMP/fifo.db" query --format csv 'SELECT user_id FROM songplays' | tr -d '\r' | tail -n 1)" = env ]
}

@test "more than 1 MiB from a configuration file is refused naming the file, exit 2, even from an endless stream" {
  python3 -c 'print("# padding\n" * 110000)' > big.cfg
  run sp --config big.cfg --target "$DB" etl --log-data x
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: config big.cfg: larger than 1 MiB; not a configuration file" ]
  run timeout 10 "$SPARKIFY" --config <(yes '# a comment') --target "$DB" etl --log-data x
  [ "$status" -eq 2 ]
  [[ "$output" == "sparkify: config /dev/fd/"*": larger than 1 MiB; not a configuration file" ]]
}

@test "a checks file or an AWS credentials file that is a device, a directory or endless is refused, exit 2" {
  run sp --target "$DB" check --checks /dev/zero
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: checks file /dev/zero: a device, not a configuration file" ]
  run timeout 20 "$SPARKIFY" --target "$DB" check --checks <(yes '; a comment')
  [ "$status" -eq 2 ]
  [[ "$output" == *"checks file /dev/fd/"*": larger than 1 MiB; not a configuration file" ]]
  mkdir creds
  run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$TMP/creds" \
    "$SPARKIFY" --target "$DB" etl --log-data s3://bucket/logs
  [ "$status" -eq 2 ]
  [[ "$output" == *"AWS credentials file $TMP/creds: a directory, not a configuration file"* ]]
}
