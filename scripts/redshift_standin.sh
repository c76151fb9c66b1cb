#!/usr/bin/env bash
# A local stand-in for an Amazon Redshift cluster and its S3, for trying and testing sparkify's
# Redshift target without AWS. Everything listens on 127.0.0.1 only, on free ports.
#   redshift_standin.sh start DIR   starts it; `set -a; . DIR/env; set +a` then sets
#                                   SPARKIFY_TARGET, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
#                                   AWS_SECRET_ACCESS_KEY, AWS_REGION, SPARKIFY_IAM_ROLE and
#                                   SPARKIFY_STAGING for sparkify, psql and the AWS tools
#   redshift_standin.sh stop DIR    stops, by PID, everything start started
#
# What runs (tests/redshift_standin/ holds the parts and says why each is built as it is):
# - PostgreSQL 15 (scripts/pg_server.sh), holding the data; the cluster's user is awsuser, its
#   database dev (Redshift's defaults), and a schema standin_sys in every database holds the
#   system views sparkify reads (STL_LOAD_ERRORS, SYS_LOAD_ERROR_DETAIL, SYS_LOAD_HISTORY,
#   STV_SLICES) and PG_LAST_COPY_ID().
# - moto (Python, with Flask) serving S3, IAM and STS with its signature and permission checks
#   on, through tests/redshift_standin/moto_server.py, which makes moto 5.2.1 check signatures
#   against the request URI as sent (keys with `+`, `%2F`, spaces or non-ASCII). aws.py creates
#   the user's credentials, the cluster's own identity, the role RedshiftStandinRole (trusting
#   redshift.amazonaws.com and the cluster; s3:GetObject, s3:ListBucket) and the staging
#   bucket. There is no fallback: without moto, start fails and says so.
# - front.mjs (Node.js): the cluster's endpoint, speaking PostgreSQL's wire protocol with TLS
#   (a self-signed certificate made with openssl, so sparkify's default sslmode=require works;
#   without openssl the target says ?sslmode=disable). It translates Redshift DDL, refuses
#   PostgreSQL-only syntax, commits at TRUNCATE, runs COPY from S3 itself by Redshift's
#   documented rules (IAM_ROLE through STS, manifests, JSONPaths, REGION, GZIP, MAXERROR,
#   conversions, load-error tables), and logs every statement to DIR/statements.sql.
#
# Not modeled: performance, distribution and sort keys, compression encodings, slices beyond
# their number in STV_SLICES (STANDIN_SLICES, default 4), WLM and query queues, concurrency
# scaling, Serverless (STANDIN_SERVERLESS=1 only drops STL_LOAD_ERRORS and names
# SYS_LOAD_ERROR_DETAIL in load errors), snapshots and BACKUP NO, COPY formats other than JSON
# (CSV, Parquet, ...), compressions other than GZIP, encryption, UNLOAD, Spectrum, SUPER and the
# other Redshift-only types, Redshift-only SQL functions, comparisons that ignore trailing
# blanks in VARCHAR (PostgreSQL compares them), users' visibility of system-view rows, and
# whatever the docs leave open (each such choice is written beside the code that makes it).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
standin=$here/tests/redshift_standin
action=${1:-}
dir=${2:-}
region=${STANDIN_REGION:-us-west-2}
staging_bucket=sparkify-staging

usage() {
  echo "usage: redshift_standin.sh start|stop DIR" >&2
  exit 2
}

die() {
  echo "redshift_standin.sh: $*" >&2
  exit 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for WHAT COMMAND...: retries COMMAND for up to 30 s.
wait_for() {
  local what=$1
  shift
  for _ in $(seq 1 300); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "$what did not come up (logs in $dir)"
}

stop_pid() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

start() {
  python3 -c 'import moto, boto3, flask' 2>/dev/null ||
    die "Python's moto (with Flask) and boto3 are needed for S3, IAM and STS (python3 -c 'import moto, boto3'); they are not in Debian"
  command -v node >/dev/null || die "Node.js is needed for the front (scripts/deps.sh test installs it)"
  command -v psql >/dev/null || die "psql is needed (scripts/deps.sh test installs postgresql)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ ! -e "$dir/pg" ] || die "$dir holds an earlier stand-in (stop it, then remove $dir or use another)"
  if [ ! -d "$standin/node_modules/pg-gateway" ]; then
    (cd "$standin" && npm ci --no-audit --no-fund --loglevel=error) >"$dir/npm.log" 2>&1 ||
      die "npm ci failed in $standin (see $dir/npm.log)"
  fi

  local admin password moto_port
  admin=$("$here/scripts/pg_server.sh" start "$dir/pg") || die "PostgreSQL did not start (see $dir/pg/*.log)"
  password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
  psql -q -v ON_ERROR_STOP=1 "$admin" -c "CREATE ROLE awsuser LOGIN CREATEDB PASSWORD '$password'" \
    -c "CREATE DATABASE dev OWNER awsuser" >/dev/null

  moto_port=$(free_port)
  python3 "$standin/moto_server.py" 127.0.0.1 "$moto_port" </dev/null >"$dir/moto.log" 2>&1 &
  echo $! >"$dir/moto.pid"
  wait_for "moto" curl -sf "http://127.0.0.1:$moto_port/moto-api/"
  python3 "$standin/aws.py" setup "http://127.0.0.1:$moto_port" "$region" "$staging_bucket" >"$dir/aws.json" ||
    die "setting up IAM and the staging bucket on moto failed"

  local sslmode=""
  if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/tls.key" -out "$dir/tls.crt" -days 30 \
    -subj /CN=localhost >/dev/null 2>&1; then
    chmod 600 "$dir/tls.key"
  else
    rm -f "$dir/tls.key" "$dir/tls.crt"
    sslmode="?sslmode=disable"
  fi

  DIR=$dir ADMIN=$admin MOTO_PORT=$moto_port REGION=$region SLICES=${STANDIN_SLICES:-4} \
    SERVERLESS=${STANDIN_SERVERLESS:-0} python3 - <<'PY'
import json, os
from urllib.parse import urlparse
d = os.environ["DIR"]
admin = urlparse(os.environ["ADMIN"])
aws = json.load(open(os.path.join(d, "aws.json")))
tls = os.path.exists(os.path.join(d, "tls.key"))
config = {
    "pgHost": "127.0.0.1", "pgPort": admin.port, "adminUser": admin.username, "adminPassword": admin.password,
    "database": "dev", "portFile": os.path.join(d, "front.port"), "statementLog": os.path.join(d, "statements.sql"),
    "s3Endpoint": "http://127.0.0.1:" + os.environ["MOTO_PORT"], "region": os.environ["REGION"],
    "account": aws["role"].split(":")[4], "clusterId": "redshift-standin",
    "clusterCredentials": {"accessKeyId": aws["cluster"]["key"], "secretAccessKey": aws["cluster"]["secret"]},
    "attachedRoles": [aws["role"]], "defaultRole": aws["role"], "slices": int(os.environ["SLICES"]),
    "serverless": os.environ["SERVERLESS"] == "1", "sameQueryIds": False,
    "tlsKey": os.path.join(d, "tls.key") if tls else None, "tlsCert": os.path.join(d, "tls.crt") if tls else None,
}
with open(os.path.join(d, "front.json"), "w") as f:
    json.dump(config, f, indent=1)
os.chmod(os.path.join(d, "front.json"), 0o600)
PY
  : >"$dir/statements.sql"
  node --no-warnings "$standin/front.mjs" "$dir/front.json" </dev/null >"$dir/front.log" 2>&1 &
  echo $! >"$dir/front.pid"
  wait_for "the front" test -s "$dir/front.port"

  local front_port user_key user_secret role
  front_port=$(cat "$dir/front.port")
  read -r user_key user_secret role < <(python3 -c 'import json, sys; a = json.load(open(sys.argv[1])); print(a["user"]["key"], a["user"]["secret"], a["role"])' "$dir/aws.json")
  cat >"$dir/env" <<ENV
SPARKIFY_TARGET='redshift://awsuser:$password@127.0.0.1:$front_port/dev$sslmode'
AWS_ENDPOINT_URL='http://127.0.0.1:$moto_port'
AWS_ACCESS_KEY_ID='$user_key'
AWS_SECRET_ACCESS_KEY='$user_secret'
AWS_REGION='$region'
SPARKIFY_IAM_ROLE='$role'
SPARKIFY_STAGING='s3://$staging_bucket/staging'
ENV
  chmod 600 "$dir/env"
}

stop() {
  [ -d "$dir" ] || return 0
  stop_pid "$dir/front.pid"
  stop_pid "$dir/moto.pid"
  "$here/scripts/pg_server.sh" stop "$dir/pg"
  rm -f "$dir/env" "$dir/front.port"
}

[ -n "$dir" ] || usage
case "$action" in
start)
  # A start that fails half-way stops what it started.
  trap 'status=$?; [ $status -eq 0 ] || stop; exit $status' EXIT
  start
  ;;
stop) stop ;;
*) usage ;;
esac
