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
