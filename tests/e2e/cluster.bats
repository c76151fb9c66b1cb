#!/usr/bin/env bats
# `sparkify init` and `sparkify cluster create|status|delete` against Python's moto serving IAM,
# STS, EC2 and Redshift on 127.0.0.1 with its signature and permission checks on (the Redshift
# stand-in's moto_server.py, so that signatures are checked against the URI as sent, behind
# tests/cluster/moto_cluster.py, which keeps a new cluster "creating" and a deleted one
# "deleting" for a few DescribeClusters, and throttles on request). The identities come from the
# stand-in's aws.py. Every result is read back with boto3 (tests/cluster/state.py), apart from
# sparkify. Without moto the tests that need it skip, one by one, saying why.

load helpers

cluster_server_start() {
  if ! python3 -c 'import moto, boto3, flask' 2>/dev/null; then
    export CLUSTER_ABSENT="Python's moto (with Flask) and boto3 are absent (python3 -c 'import moto, boto3'): no IAM, STS, EC2 and Redshift to test against"
    return 1
  fi
  CLUSTER_DIR=$(mktemp -d /tmp/sparkify-cluster.XXXXXX)
  export CLUSTER_DIR
  local port key secret
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  MOTO_IAM_LOAD_MANAGED_POLICIES=true python3 "$SPARKIFY_SOURCE/tests/cluster/moto_cluster.py" \
    127.0.0.1 "$port" "$CLUSTER_DIR/control.json" </dev/null >"$CLUSTER_DIR/moto.log" 2>&1 3>&- &
  echo $! >"$CLUSTER_DIR/moto.pid"
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  # The user "sparkify", allowed everything, then signature and permission checks on.
  python3 "$SPARKIFY_SOURCE/tests/redshift_standin/aws.py" setup "http://127.0.0.1:$port" us-west-2 \
    sparkify-staging >"$CLUSTER_DIR/aws.json"
  read -r key secret < <(python3 -c 'import json, sys; a = json.load(open(sys.argv[1])); print(a["user"]["key"], a["user"]["secret"])' "$CLUSTER_DIR/aws.json")
  cat >"$CLUSTER_DIR/env" <<ENV
AWS_ENDPOINT_URL='http://127.0.0.1:$port'
AWS_ACCESS_KEY_ID='$key'
AWS_SECRET_ACCESS_KEY='$secret'
AWS_REGION='us-west-2'
ENV
}

cluster_server_stop() {
  if [ -n "${CLUSTER_DIR:-}" ]; then
    kill "$(cat "$CLUSTER_DIR/moto.pid")" 2>/dev/null || true
    rm -rf "$CLUSTER_DIR"
  fi
}

setup_file() {
  cluster_server_start || return 0
}

teardown_file() {
  cluster_server_stop
}

eval "helpers_$(declare -f teardown)"
teardown() {
  # What a test made goes, whatever became of it, so that the next one sees only its own.
  if [ -f "${CLUSTER_DIR:-}/env" ] && [ -n "${PYTHONPATH:-}" ]; then
    echo '{}' >"$CLUSTER_DIR/control.json"
    (set -a; . "$CLUSTER_DIR/env"; state cleanup "$ID" "$ROLE") || true
  fi
  helpers_teardown
}

eval "helpers_$(declare -f setup)"
setup() {
  helpers_setup
  # Nothing of the machine's own AWS settings.
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION \
    AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE SPARKIFY_STAGING
  export HOME=$TMP
  ID=t$BATS_TEST_NUMBER
  ROLE=$ID-s3-read
  CIDR=203.0.113.$BATS_TEST_NUMBER/32
}

# The test server's settings; skips without it.
cluster_env() {
  [ -f "${CLUSTER_DIR:-}/env" ] || skip "${CLUSTER_ABSENT:-the test server is not running}"
  set -a
  . "$CLUSTER_DIR/env"
  set +a
  echo '{}' >"$CLUSTER_DIR/control.json"
  export PYTHONPATH=$SPARKIFY_SOURCE/tests/cluster
}

# control JSON: see tests/cluster/moto_cluster.py.
control() {
  echo "$1" >"$CLUSTER_DIR/control.json"
}

state() {
  python3 "$SPARKIFY_SOURCE/tests/cluster/state.py" "$@"
}

# A dwh.cfg for cluster $ID, with comments and another tool's section, mode 0644.
write_config() {
  cat >dwh.cfg <<CFG
# the team's settings
[CLUSTER]
IDENTIFIER = $ID
; the endpoint comes from \`sparkify cluster create\`
HOST = 'old.example.com'   ; replaced
DB_NAME = dev

[S3]
LOG_DATA = s3://udacity-dend/log_data
LOG_JSONPATH = s3://udacity-dend/log_json_path.json
SONG_DATA = s3://udacity-dend/song_data
STAGING = s3://sparkify-staging/$ID/

[other_tool]
colour = blue
CFG
  chmod 644 dwh.cfg
}

# create with the flags every test uses: the rule for $CIDR, short waits.
create() {
  sp cluster create --allow-cidr "$CIDR" --poll-interval 0.1 --timeout 30 "$@"
}

@test "init writes a commented template with every section and key sparkify reads, mode 0600, that loads as it is" {
  run sp init
  [ "$status" -eq 0 ]
  [ "$output" = "wrote dwh.cfg (mode 0600): fill in [S3] STAGING, then \`sparkify cluster create\`" ]
  [ "$(stat -c %a dwh.cfg)" = 600 ]
  # Every key the config reader knows, as its own "unknown key" message lists them, is in the file.
  for section in CLUSTER IAM_ROLE S3 AWS DWH; do
    printf '[%s]\nQQQQQQQQQQQQQQQQQQQQQQQQ = 1\n' "$section" >probe.cfg
    run sp --config probe.cfg cluster status
    [ "$status" -eq 2 ]
    keys=$(sed -n 's/.*(it takes \(.*\))$/\1/p' <<<"$output" | tr -d ' ' | tr ',' '\n' | sort)
    [ -n "$keys" ]
    if [ "$section" = DWH ]; then
      in_file=$(sed -n 's/^# \(DWH_[A-Z_]*\) =.*/\1/p' dwh.cfg | sort)
    else
      in_file=$(python3 -c 'import configparser, sys; c = configparser.ConfigParser(); c.optionxform = str; c.read("dwh.cfg"); print("\n".join(sorted(c[sys.argv[1]])))' "$section")
    fi
    [ "$keys" = "$in_file" ]
  done
  python3 -c 'import configparser; c = configparser.ConfigParser(); c.read("dwh.cfg"); assert c.sections() == ["CLUSTER", "IAM_ROLE", "S3", "AWS"], c.sections()'
  # It loads without an error and names no cluster yet: the default target stays SQLite.
  run sp --config dwh.cfg --dry-run create-tables
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "-- dry run on sqlite:sparkify.db: "* ]]
}

@test "init never writes over a file, a symlink included; FILE, --config and --dry-run choose where and whether" {
  echo "keep me" >dwh.cfg
  run sp init
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: dwh.cfg exists: sparkify init never writes over a file (remove it or name another FILE)" ]
  [ "$(cat dwh.cfg)" = "keep me" ]
  ln -s missing-target link.cfg
  run sp init link.cfg
  [ "$status" -eq 2 ]
  [ ! -e missing-target ]
  sp -q init other.cfg
  [ "$(stat -c %a other.cfg)" = 600 ]
  sp -q --config third.cfg init
  cmp other.cfg third.cfg
  run sp --dry-run init fourth.cfg
  [ "$status" -eq 0 ]
  [ ! -e fourth.cfg ]
  [ "$(sp --dry-run -q init fourth.cfg)" = "$(cat other.cfg)" ]
}

@test "settings AWS would refuse are refused before any request, naming the setting and never the password" {
  export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=never-used AWS_ENDPOINT_URL=http://127.0.0.1:9
  check() { # expected message, then dwh.cfg lines
    local message=$1
    shift
    printf '%s\n' "$@" >dwh.cfg
    run sp cluster create
    [ "$status" -eq 2 ]
    [ "$output" = "sparkify: $message" ]
  }
  check "[CLUSTER] NODE_TYPE 'ra9.huge' is not a Redshift node type (dc2.large, dc2.8xlarge, ra3.large, ra3.xlplus, ra3.4xlarge, ra3.16xlarge)" \
    '[CLUSTER]' 'NODE_TYPE = ra9.huge'
  check "[DWH] DWH_CLUSTER_TYPE is multi-node: it needs 2 nodes or more (the default)" \
    '[DWH]' 'DWH_CLUSTER_TYPE = multi-node'
  check "[CLUSTER] CLUSTER_TYPE is single-node but [DWH] DWH_NUM_NODES asks for 4 nodes" \
    '[CLUSTER]' 'CLUSTER_TYPE = single-node' '[DWH]' 'DWH_NUM_NODES = 4'
  check "[CLUSTER] DB_PORT 1200 is not a port of an ra3 cluster (5431-5455 or 8191-8215)" \
    '[CLUSTER]' 'DB_PORT = 1200'
  check "[DWH] DWH_CLUSTER_IDENTIFIER 'dwh--cluster' is not a Redshift cluster identifier: 1 to 63 letters, digits and hyphens, a letter first, no two hyphens in a row, none at the end" \
    '[DWH]' 'DWH_CLUSTER_IDENTIFIER = dwh--cluster'
  check "the database password in [DWH] DWH_DB_PASSWORD does not meet Redshift's rules: it needs a digit (8 to 64 printable ASCII characters with an uppercase letter, a lowercase letter and a digit, without spaces, ' \" \\ / or @); leave it empty and \`sparkify cluster create\` generates one" \
    '[DWH]' 'DWH_DB_PASSWORD = NoDigitsHereAtAll'
  [[ "$output" != *NoDigitsHereAtAll* ]]
  check "config dwh.cfg:2: NUM_NODES takes a number of nodes from 1 to 128, not '0'" '[CLUSTER]' 'NUM_NODES = 0'
  printf '[S3]\nSTAGING = s3://b/p\n' >dwh.cfg
  run sp cluster create --allow-cidr 203.0.113.7/24
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: --allow-cidr '203.0.113.7/24' has host bits set: did you mean 203.0.113.0/24?" ]
  run sp cluster create --allow-cidr 2001:db8::/32
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: --allow-cidr takes an IPv4 CIDR such as 203.0.113.5/32, not '2001:db8::/32'" ]
}

@test "each subcommand takes its own options: another one's is named as such, a bad value says what it takes" {
  run sp cluster status --yes
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify cluster status: --yes is an option of \`cluster delete\`, not of \`cluster status\` (see \`sparkify cluster status --help\`)" ]
  run sp cluster status --timeout=60
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify cluster status: --timeout is an option of \`cluster create\` and \`cluster delete\`, not of \`cluster status\` (see \`sparkify cluster status --help\`)" ]
  run sp cluster create --timeout soon
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify cluster create: --timeout takes a number of seconds, not 'soon' (see \`sparkify cluster create --help\`)" ]
  run sp cluster delete --poll-interval=0
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify cluster delete: --poll-interval takes a number of seconds, not '0' (see \`sparkify cluster delete --help\`)" ]
  run sp cluster status --format xml
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify cluster status: --format takes text or json, not 'xml' (see \`sparkify cluster status --help\`)" ]
  run sp cluster
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify cluster: which one: create, status or delete? (the subcommand comes first: sparkify cluster create [options]) (see \`sparkify cluster --help\`)" ]
  run sp cluster --yes delete
  [ "$status" -eq 2 ]
  [[ "$output" == "sparkify cluster: which one: create, status or delete?"* ]]
  run sp cluster remove
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify cluster: unknown subcommand 'remove' (create, status or delete) (see \`sparkify cluster --help\`)" ]
  run sp cluster status now
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify cluster status: unexpected argument 'now' (see \`sparkify cluster status --help\`)" ]
  run sp cluster status --bogus
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify cluster status: unknown or invalid option '--bogus' (see \`sparkify cluster status --help\`)" ]
}

@test "create makes the role, its least-privilege policy, the ingress rule and the cluster, waits while it is creating, and writes dwh.cfg in place with mode 0600" {
  cluster_env
  write_config
  control '{"creating": 3}'
  run create --progress always
  [ "$status" -eq 0 ]
  [[ "$output" == *$'\r\033[K'"waiting for the Redshift cluster $ID: creating ("* ]]
  [[ "$output" == *"IAM role $ROLE: created (arn:aws:iam::123456789012:role/$ROLE); its policy written"* ]]
  [[ "$output" == *"port 5439: opened to $CIDR"* ]]
  [[ "$output" == *"Redshift cluster $ID: created; available at $ID."*":5439 (1 x ra3.xlplus)"* ]]
  [[ "$output" == *"wrote [CLUSTER] HOST, DB_NAME, DB_USER, DB_PASSWORD (generated, not shown), DB_PORT and [IAM_ROLE] ARN into dwh.cfg (mode 0600)"* ]]
  echo "$output" >create.out
  ID=$ID ROLE=$ROLE CIDR=$CIDR python3 - <<'PY'
import configparser, json, os, state
ident, role, cidr = os.environ["ID"], os.environ["ROLE"], os.environ["CIDR"]
s = state.snapshot(ident, role)
arn = f"arn:aws:iam::123456789012:role/{role}"
assert s["role"]["Arn"] == arn, s["role"]
assert s["role"]["AssumeRolePolicyDocument"] == {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "redshift.amazonaws.com"}, "Action": "sts:AssumeRole"}]}, s["role"]
assert s["role"]["Tags"] == [{"Key": "sparkify-cluster", "Value": ident}], s["role"]
assert s["attached"] == [], s["attached"]
assert s["inline"] == {"sparkify-s3-read": {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadObjects", "Effect": "Allow", "Action": "s3:GetObject", "Resource": [
        "arn:aws:s3:::udacity-dend/log_data*", "arn:aws:s3:::udacity-dend/song_data*",
        "arn:aws:s3:::udacity-dend/log_json_path.json", f"arn:aws:s3:::sparkify-staging/{ident}/*"]},
    {"Sid": "ListPrefixes1", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::udacity-dend",
     "Condition": {"StringLike": {"s3:prefix": ["log_data*", "song_data*"]}}},
    {"Sid": "ListPrefixes2", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::sparkify-staging",
     "Condition": {"StringLike": {"s3:prefix": [f"{ident}/*"]}}}]}}, json.dumps(s["inline"])
group = state.default_group()
c = s["cluster"]
assert (c["ClusterIdentifier"], c["ClusterStatus"], c["NodeType"], c["NumberOfNodes"], c["DBName"], c["MasterUsername"],
        c["Encrypted"], c["PubliclyAccessible"], c["Endpoint"]["Port"]) == (
        ident, "available", "ra3.xlplus", 1, "dev", "awsuser", True, False, 5439), c
assert c["IamRoles"] == [{"IamRoleArn": arn, "ApplyStatus": "in-sync"}], c["IamRoles"]
assert c["VpcSecurityGroups"] == [{"VpcSecurityGroupId": group, "Status": "active"}], c["VpcSecurityGroups"]
ours = [r for r in s["rules"] if r["CidrIp"] == cidr or r["Description"] == f"sparkify: cluster {ident}"]
assert ours == [{"GroupId": group, "IpProtocol": "tcp", "FromPort": 5439, "ToPort": 5439, "CidrIp": cidr,
                 "Description": f"sparkify: cluster {ident}"}], ours
# The file: the same lines, comments and other section, the settings in place.
cfg = open("dwh.cfg").read()
password = configparser.ConfigParser(inline_comment_prefixes=(";",))
password.read_string(cfg)
password = password["CLUSTER"]["DB_PASSWORD"]
assert 8 <= len(password) <= 64 and any(ch.isupper() for ch in password) and any(ch.islower() for ch in password) \
    and any(ch.isdigit() for ch in password) and not set(password) & set("'\"\\/@ "), "password rules"
assert password not in open("create.out").read(), "the password was printed"
expected = f"""# the team's settings
[CLUSTER]
IDENTIFIER = {ident}
; the endpoint comes from `sparkify cluster create`
HOST = '{c["Endpoint"]["Address"]}'   ; replaced
DB_NAME = dev
DB_USER = awsuser
DB_PASSWORD = {password}
DB_PORT = 5439

[S3]
LOG_DATA = s3://udacity-dend/log_data
LOG_JSONPATH = s3://udacity-dend/log_json_path.json
SONG_DATA = s3://udacity-dend/song_data
STAGING = s3://sparkify-staging/{ident}/

[other_tool]
colour = blue

[IAM_ROLE]
ARN = {arn}
"""
assert cfg == expected, cfg
PY
  [ "$(stat -c %a dwh.cfg)" = 600 ]
  # The file is what sparkify itself then reads: the cluster is the default target.
  run sp --dry-run query "SELECT 1"
  [[ "$output" == "-- dry run on redshift://awsuser:***@$ID."*":5439/dev"* ]]
}

@test "a second create finds everything, changes nothing in AWS or in dwh.cfg, and says so" {
  cluster_env
  write_config
  sp -q cluster create --allow-cidr "$CIDR" --poll-interval 0.1
  before=$(state snapshot "$ID" "$ROLE")
  sum=$(sha256sum dwh.cfg)
  mtime=$(stat -c %Y.%y dwh.cfg)
  sleep 1
  run create
  [ "$status" -eq 0 ]
  [[ "$output" == *"IAM role $ROLE: exists (arn:aws:iam::123456789012:role/$ROLE); its policy unchanged"* ]]
  [[ "$output" == *"port 5439: already open to $CIDR"* ]]
  [[ "$output" == *"Redshift cluster $ID: exists; available at"* ]]
  [[ "$output" == *"dwh.cfg already holds the cluster's settings"* ]]
  [ "$(state snapshot "$ID" "$ROLE")" = "$before" ]
  [ "$(sha256sum dwh.cfg)" = "$sum" ]
  [ "$(stat -c %Y.%y dwh.cfg)" = "$mtime" ]
}

@test "status shows the state, endpoint, nodes, role and ingress rule as text or JSON, and exits 1 without a cluster" {
  cluster_env
  write_config
  run sp cluster status
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: the Redshift cluster $ID does not exist in us-west-2 (\`sparkify cluster create\` makes it)" ]
  sp -q cluster create --allow-cidr "$CIDR" --poll-interval 0.1
  address=$(python3 -c 'import state, sys; print(state.snapshot(sys.argv[1], sys.argv[2])["cluster"]["Endpoint"]["Address"])' "$ID" "$ROLE")
  group=$(state default-group)
  run sp cluster status
  [ "$status" -eq 0 ]
  [ "$output" = "cluster     $ID: available
endpoint    $address:5439
nodes       1 x ra3.xlplus (single-node)
database    dev, admin user awsuser
encrypted   yes
public      no
role        arn:aws:iam::123456789012:role/$ROLE (in-sync)
ingress     $group: tcp 5439 from $CIDR (sparkify: cluster $ID)
region      us-west-2" ]
  run sp cluster status --format json
  [ "$status" -eq 0 ]
  ID=$ID ROLE=$ROLE CIDR=$CIDR ADDRESS=$address GROUP=$group python3 -c '
import json, os, sys
e = os.environ
got = json.loads(sys.argv[1])
want = {"identifier": e["ID"], "status": "available", "endpoint": {"address": e["ADDRESS"], "port": 5439},
        "node_type": "ra3.xlplus", "nodes": 1, "cluster_type": "single-node", "database": "dev", "admin_user": "awsuser",
        "encrypted": True, "publicly_accessible": False,
        "iam_roles": [{"arn": "arn:aws:iam::123456789012:role/" + e["ROLE"], "status": "in-sync"}],
        "security_groups": [e["GROUP"]],
        "ingress": [{"group_id": e["GROUP"], "protocol": "tcp", "from_port": 5439, "to_port": 5439, "cidr": e["CIDR"],
                     "description": "sparkify: cluster " + e["ID"]}],
        "region": "us-west-2"}
assert got == want, got' "$output"
  # Neither form holds the password.
  password=$(python3 -c 'import configparser; c = configparser.ConfigParser(inline_comment_prefixes=(";",)); c.read("dwh.cfg"); print(c["CLUSTER"]["DB_PASSWORD"])')
  [[ "$(sp cluster status; sp cluster status --format json)" != *"$password"* ]]
  # The region of the usual settings: here the profile's in ~/.aws/config.
  mkdir -p .aws
  printf '[default]\nregion = us-east-2\n[profile team]\nregion = eu-central-1\n' >.aws/config
  run env -u AWS_REGION AWS_PROFILE=team "$SPARKIFY" cluster status
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: the Redshift cluster $ID does not exist in eu-central-1 (\`sparkify cluster create\` makes it)" ]
  run env -u AWS_REGION "$SPARKIFY" cluster status --region ap-south-1
  [ "$output" = "sparkify: the Redshift cluster $ID does not exist in ap-south-1 (\`sparkify cluster create\` makes it)" ]
}

@test "delete asks for --yes without a terminal, then removes the cluster, the rule and the role, waiting while it is deleting; a second delete is fine" {
  cluster_env
  write_config
  sp -q cluster create --allow-cidr "$CIDR" --poll-interval 0.1
  created=$(state snapshot "$ID" "$ROLE")
  run sp cluster delete </dev/null
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify cluster delete: stdin is not a terminal: pass --yes to delete the cluster $ID without a question (see \`sparkify cluster delete --help\`)" ]
  [ "$(state snapshot "$ID" "$ROLE")" = "$created" ]
  control '{"deleting": 3}'
  run sp cluster delete --yes --poll-interval 0.1 --progress always
  [ "$status" -eq 0 ]
  [[ "$output" == *$'\r\033[K'"waiting for the Redshift cluster $ID: deleting ("* ]]
  [[ "$output" == *"Redshift cluster $ID: deleted (no final snapshot)"* ]]
  [[ "$output" == *"ingress rules removed: 1"* ]]
  [[ "$output" == *"IAM role $ROLE: deleted"* ]]
  [[ "$output" == *"cleared [CLUSTER] HOST and [IAM_ROLE] ARN in dwh.cfg"* ]]
  ID=$ID ROLE=$ROLE CIDR=$CIDR python3 - <<'PY'
import os, state
ident, role, cidr = os.environ["ID"], os.environ["ROLE"], os.environ["CIDR"]
s = state.snapshot(ident, role)
assert s["role"] is None and s["cluster"] is None, s
left = [r for r in s["rules"] if r["CidrIp"] == cidr or ident in (r["Description"] or "")]
assert left == [], left
snapshots = state.client("redshift").describe_cluster_snapshots()["Snapshots"]
assert [x for x in snapshots if x["ClusterIdentifier"] == ident and x["SnapshotType"] == "manual"] == [], snapshots
PY
  grep -qx "HOST = ''   ; replaced" dwh.cfg
  grep -qx "ARN =" dwh.cfg
  grep -qx "colour = blue" dwh.cfg
  run sp cluster delete --yes
  [ "$status" -eq 0 ]
  [ "$output" = "Redshift cluster $ID: not there (nothing to delete)
ingress rules removed: 0
IAM role $ROLE: not there" ]
}

@test "delete --final-snapshot keeps a snapshot, and a role sparkify did not make is left alone" {
  cluster_env
  write_config
  python3 -c '
import json, state, sys
state.client("iam").create_role(RoleName=sys.argv[1], AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "redshift.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))' "$ROLE"
  run create
  [ "$status" -eq 0 ]
  [[ "$output" == *"note: the IAM role $ROLE exists and is not sparkify's for this cluster (no tag sparkify-cluster = $ID): the cluster gets it as it is; sparkify neither changes nor deletes it"* ]]
  [[ "$output" == *"IAM role $ROLE: exists"*"its policy unchanged"* ]]
  run sp cluster delete --yes --final-snapshot "$ID-final"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Redshift cluster $ID: deleted, with a final snapshot"* ]]
  [[ "$output" == *"IAM role $ROLE: left as it is (not sparkify's)"* ]]
  ID=$ID ROLE=$ROLE python3 - <<'PY'
import os, state
ident, role = os.environ["ID"], os.environ["ROLE"]
s = state.snapshot(ident, role)
assert s["cluster"] is None and s["role"] is not None and s["inline"] == {} and s["attached"] == [], s
snapshots = state.client("redshift").describe_cluster_snapshots(SnapshotIdentifier=ident + "-final")["Snapshots"]
assert [x["ClusterIdentifier"] for x in snapshots] == [ident], snapshots
PY
}

@test "--s3-read-only-access attaches AWS's managed AmazonS3ReadOnlyAccess instead of the prefixes' policy, and --public makes the cluster public" {
  cluster_env
  printf '[CLUSTER]\nIDENTIFIER = %s\n' "$ID" >dwh.cfg
  run sp cluster create
  [ "$status" -eq 2 ]
  [[ "$output" == "sparkify: the role's policy allows reading the config's S3 prefixes"*"none is an s3:// URL"* ]]
  run sp cluster create --s3-read-only-access --public --poll-interval 0.1
  [ "$status" -eq 0 ]
  [[ "$output" == *"port 5439: no ingress rule added; the cluster is reachable from inside its VPC only (--allow-cidr CIDR opens the port to CIDR)"* ]]
  ID=$ID ROLE=$ROLE python3 - <<'PY'
import os, state
ident, role = os.environ["ID"], os.environ["ROLE"]
s = state.snapshot(ident, role)
assert s["attached"] == ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"] and s["inline"] == {}, s
assert s["cluster"]["PubliclyAccessible"] is True, s["cluster"]
assert [r for r in s["rules"] if ident in (r["Description"] or "")] == [], s["rules"]
PY
  sp -q cluster delete --yes
  [ "$(state snapshot "$ID" "$ROLE" | python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["role"], s["cluster"])')" = "None None" ]
}

@test "the classic [DWH] keys are read, [CLUSTER] wins over them, and --dry-run sends only what reads and prints the rest" {
  cluster_env
  cat >dwh.cfg <<'CFG'
[CLUSTER]
NODE_TYPE = ra3.4xlarge
DB_PASSWORD = Classic-Passw0rd

[DWH]
DWH_CLUSTER_TYPE = multi-node
DWH_NUM_NODES = 2
DWH_NODE_TYPE = dc2.large
DWH_IAM_ROLE_NAME = dwhRole
DWH_CLUSTER_IDENTIFIER = dwhCluster
DWH_DB = dwh
DWH_DB_USER = dwhuser
DWH_DB_PASSWORD = Passw0rd
DWH_PORT = 5439

[S3]
LOG_DATA = s3://udacity-dend/log_data
CFG
  group=$(state default-group)
  run sp --dry-run cluster create --allow-cidr 0.0.0.0/0
  [ "$status" -eq 0 ]
  [ "$output" = "-- dry run in us-west-2: the requests sparkify would send to change something (the ones that read were sent)
iam CreateRole
  RoleName=dwhRole
  AssumeRolePolicyDocument={\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"redshift.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}
  Description=Lets the Redshift cluster dwhcluster read its S3 sources (sparkify)
  Tags.member.1.Key=sparkify-cluster
  Tags.member.1.Value=dwhcluster
iam PutRolePolicy
  RoleName=dwhRole
  PolicyName=sparkify-s3-read
  PolicyDocument={\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ReadObjects\",\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":[\"arn:aws:s3:::udacity-dend/log_data*\"]},{\"Sid\":\"ListPrefixes1\",\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::udacity-dend\",\"Condition\":{\"StringLike\":{\"s3:prefix\":[\"log_data*\"]}}}]}
ec2 AuthorizeSecurityGroupIngress
  GroupId=$group
  IpPermissions.1.IpProtocol=tcp
  IpPermissions.1.FromPort=5439
  IpPermissions.1.ToPort=5439
  IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0
  IpPermissions.1.IpRanges.1.Description=sparkify: cluster dwhcluster
note: port 5439 is open to the whole internet (0.0.0.0/0), as --allow-cidr asked
redshift CreateCluster
  ClusterIdentifier=dwhcluster
  ClusterType=multi-node
  NodeType=ra3.4xlarge
  NumberOfNodes=2
  DBName=dwh
  MasterUsername=dwhuser
  MasterUserPassword=***
  Port=5439
  IamRoles.IamRoleArn.1=arn:aws:iam::123456789012:role/dwhRole
  VpcSecurityGroupIds.VpcSecurityGroupId.1=$group
  Encrypted=true
  PubliclyAccessible=false
  Tags.Tag.1.Key=sparkify-cluster
  Tags.Tag.1.Value=dwhcluster
-- then: wait until the cluster is available and write [CLUSTER] HOST, DB_NAME, DB_USER, DB_PASSWORD, DB_PORT and [IAM_ROLE] ARN into dwh.cfg
dry run: only requests that read were sent; nothing was changed" ]
  [[ "$output" != *Passw0rd* ]]
  [ "$(state snapshot dwhcluster dwhRole | python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["role"], s["cluster"], [r for r in s["rules"] if r["CidrIp"] == "0.0.0.0/0"])')" = "None None []" ]
}

@test "a wrong secret fails with SignatureDoesNotMatch from STS, before anything else, and the secret is never printed" {
  cluster_env
  write_config
  wrong=Wrong-Secret-Key-0123456789abcdef
  for subcommand in create status "delete --yes"; do
    # shellcheck disable=SC2086
    run env AWS_SECRET_ACCESS_KEY=$wrong "$SPARKIFY" cluster $subcommand
    [ "$status" -eq 1 ]
    [[ "$output" == "sparkify: checking the AWS credentials from the environment with STS GetCallerIdentity: SignatureDoesNotMatch: "*"(HTTP 403)" ]]
    [[ "$output" != *Wrong-Secret* ]]
    [[ "$output" != *0123456789abcdef* ]]
  done
  [ "$(state snapshot "$ID" "$ROLE" | python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["role"], s["cluster"])')" = "None None" ]
}

@test "AWS's refusals are surfaced with what was being done: AccessDenied, an unknown key" {
  cluster_env
  write_config
  read -r key secret < <(state user "limited$BATS_TEST_NUMBER" sts:GetCallerIdentity redshift:DescribeClusters iam:GetRole)
  run env AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" "$SPARKIFY" cluster create
  [ "$status" -eq 1 ]
  [[ "$output" == "sparkify: creating the IAM role $ROLE: AccessDenied: "*"iam:CreateRole"*"(HTTP 403)" ]]
  [[ "$output" != *"$secret"* ]]
  [ "$(state snapshot "$ID" "$ROLE" | python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["role"], s["cluster"])')" = "None None" ]
  run env AWS_ACCESS_KEY_ID=AKIANOTAKEY000000000 "$SPARKIFY" cluster status
  [ "$status" -eq 1 ]
  [[ "$output" == "sparkify: checking the AWS credentials from the environment with STS GetCallerIdentity: InvalidClientTokenId: "* ]]
}

@test "the wait times out cleanly, leaving dwh.cfg as it was; create resumes the wait and delete removes a cluster still creating" {
  cluster_env
  write_config
  sum=$(sha256sum dwh.cfg)
  control '{"creating": 1000000}'
  run create -q --timeout 1 --poll-interval 0.2
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: the Redshift cluster $ID is still creating after 1 s (--timeout 1): AWS goes on with it; run \`sparkify cluster create\` again to wait for it and write the config, or \`sparkify cluster delete\`" ]
  [ "$(sha256sum dwh.cfg)" = "$sum" ]
  run sp cluster status
  [[ "${lines[0]}" = "cluster     $ID: creating" ]]
  run sp cluster delete --yes --poll-interval 0.1
  [ "$status" -eq 0 ]
  [[ "$output" == *"Redshift cluster $ID: deleted (no final snapshot)"* ]]
  [ "$(state snapshot "$ID" "$ROLE" | python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["role"], s["cluster"], [r for r in s["rules"] if r["CidrIp"] == sys.argv[1]])' "$CIDR")" = "None None []" ]
}

@test "throttling is retried with backoff, and fails with AWS's code once the retries are spent" {
  cluster_env
  write_config
  sp -q cluster create --poll-interval 0.1 --s3-read-only-access
  control '{"throttle": 3}'
  run sp cluster status
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "cluster     $ID: available" ]
  [ "$(cat "$CLUSTER_DIR/control.json")" = '{"throttle": 0}' ]
  control '{"throttle": 100}'
  run sp cluster status
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: looking up the Redshift cluster $ID: Throttling: Rate exceeded (HTTP 400, gave up after retries)" ]
  [ "$(cat "$CLUSTER_DIR/control.json")" = '{"throttle": 94}' ]
  control '{}'
  sp -q cluster delete --yes
}
