#!/usr/bin/env bats
# There is no Redshift cluster here, so every statement the Redshift target can send is parsed
# by Debian's sqlfluff in its Redshift dialect (exit 0 means every statement parsed; it rejects
# unknown syntax, COPY options and reserved words, as the controls below show). The statements
# come from the library itself (dump_redshift_sql, a dry-run warehouse; dump_analytics_sql,
# the report and the checks) and from `sparkify --dry-run`.

load helpers

ROLE=arn:aws:iam::123456789012:role/dwhRole
CLUSTER='redshift://awsuser:Sup3rSecret@cluster.example.invalid:5439/dev'

need_sqlfluff() {
  command -v sqlfluff >/dev/null || skip "sqlfluff is not installed (scripts/deps.sh test installs it)"
}

# parses FILE [--compact]: sqlfluff's parse tree in $TMP/tree, failing the test on any
# unparsable part. sqlfluff takes about a second per kilobyte, so --compact first keeps two rows
# of a VALUES list and two items of an IN list made only of literals (the rest are alike; the
# literals themselves are parsed whole by the test on values pasted into SQL).
parses() {
  # sqlfluff skips files over 20000 bytes unless told not to: a run's SQL can be longer.
  printf '[sqlfluff]\nlarge_file_skip_byte_limit = 0\n' > "$TMP/sqlfluff.cfg"
  local file=$1
  if [ "${2:-}" = --compact ]; then
    file=$TMP/compact.sql
    python3 - "$1" > "$file" <<'PY'
import re, sys
lit = r"(?:'(?:[^'\\]|\\.|'')*'|-?\d+(?:\.\d+)?|NULL|TRUE|FALSE)"
row = rf"\({lit}(?:, {lit})*\)"
text = open(sys.argv[1], encoding="utf-8").read()
text = re.sub(rf"({row}, {row})(?:, {row})+", r"\1", text)
text = re.sub(rf"\bIN \(({lit}, {lit})(?:, {lit})+\)", r"IN (\1)", text)
sys.stdout.write(text)
PY
  fi
  sqlfluff parse --dialect redshift --config "$TMP/sqlfluff.cfg" "$file" > "$TMP/tree" 2>&1 ||
    { grep -m5 PRS "$TMP/tree" >&2; return 1; }
  ! grep -q 'unparsable\|Skipping' "$TMP/tree"
}

# The library's statements (dump_redshift_sql) are parsed once for the tests that read them.
setup_file() {
  command -v sqlfluff >/dev/null || return 0
  cd "$BATS_FILE_TMPDIR"
  "$DUMP_REDSHIFT_SQL" > all.sql
  TMP=$BATS_FILE_TMPDIR
  if parses all.sql 2> parse.err; then touch parsed; fi
}

# dumped: all.sql and its parse tree in the test's directory ($TMP), failing if it did not parse.
dumped() {
  cp "$BATS_FILE_TMPDIR/all.sql" "$BATS_FILE_TMPDIR/tree" "$TMP/"
  [ -e "$BATS_FILE_TMPDIR/parsed" ] || { cat "$BATS_FILE_TMPDIR/parse.err" >&2; false; }
}

@test "every statement the Redshift target can issue parses as Redshift SQL" {
  need_sqlfluff
  dumped
  # DDL of all twelve tables (the staging tables again, as a run empties them by dropping and
  # creating them), COPY in each variant, the load-error query, the bookkeeping writes and the
  # transform, each a statement of its own.
  [ "$(grep -c 'create_table_statement:' "$TMP/tree")" -eq 14 ]
  [ "$(grep -c 'copy_statement:' "$TMP/tree")" -eq 4 ]
  # The load errors of the session's latest COPY, failed or not, from the SYS views that
  # provisioned clusters and Serverless both have.
  [ "$(grep -c ' FROM sys_load_error_detail WHERE query_id = (SELECT MAX(query_id) FROM sys_load_history WHERE session_id = PG_BACKEND_PID())' all.sql)" -eq 1 ]
  ! grep -q 'stl_load_errors\|PG_LAST_COPY_ID' all.sql
  [ "$(grep -c '^INSERT INTO song_lookup\|^INSERT INTO songplays\|^INSERT INTO time' all.sql)" -eq 3 ]
  # Users are decided by user_latest, probed by the run's users: after the one-time fill of a
  # warehouse written before it, no transform statement reads songplays.
  [ "$(grep -c '^INSERT INTO user_latest' all.sql)" -eq 2 ]
  [ "$(grep -c ' FROM songplays)\| JOIN songplays\|FROM songplays [a-z]' all.sql)" -eq 1 ]
  grep -q '^INSERT INTO user_latest (user_id, start_time, level) SELECT .* FROM songplays) ranked WHERE row_rank = 1;$' all.sql
  grep -q 'DISTKEY (start_time) SORTKEY (start_time)' all.sql
  grep -q ') BACKUP NO DISTSTYLE EVEN;' all.sql
  grep -q 'songplay_id BIGINT IDENTITY(0, 1) NOT NULL' all.sql
  grep -q "MANIFEST FORMAT AS JSON 's3://bucket/log_json_path.json' REGION 'us-west-2' COMPUPDATE OFF" all.sql
  # MAXERROR is one more than the bad records a run may skip: COPY fails when it reaches it.
  grep -q "REGION 'eu-central-1' GZIP MAXERROR 11 COMPUPDATE OFF STATUPDATE OFF;" all.sql
  # The cluster's default role is a keyword; a chain of roles is one literal.
  grep -q "IAM_ROLE default MANIFEST FORMAT AS JSON 'auto'" all.sql
  grep -q "IAM_ROLE 'arn:aws:iam::123456789012:role/dwhRole,arn:aws:iam::210987654321:role/a,b' MANIFEST" all.sql
}

@test "every text column of the Redshift DDL is VARCHAR of the parser's size for it, COLLATE case_sensitive" {
  need_sqlfluff
  dumped
  python3 - all.sql <<'PY'
import re, sys
sql = open(sys.argv[1]).read()
limits = {m[0]: int(m[1]) for m in re.findall(r"^-- parser limit (\S+) (\d+)$", sql, re.M)}
assert len(limits) == 17, limits
columns = {}
for table, body in re.findall(r"^CREATE TABLE IF NOT EXISTS (\w+) \((.*)$", sql, re.M):
    depth, part, parts = 0, "", []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(part.strip())
            part = ""
        else:
            part += ch
    parts.append(part.strip())
    for column in parts:
        name, _, rest = column.partition(" ")
        if name == "PRIMARY":
            continue
        name = name.strip('"')
        text = re.match(r"(VARCHAR|CHAR|CHARACTER|NVARCHAR|NCHAR|TEXT|BPCHAR)\b", rest)
        if text:
            size = re.match(r"VARCHAR\((\d+)\) COLLATE case_sensitive( NOT NULL)?$", rest)
            assert size, f"{table}.{name}: {rest}"
            columns[f"{table}.{name}"] = int(size.group(1))
# The staging tables declare what the parser holds every target to...
for column, limit in limits.items():
    assert columns.get(column) == limit, (column, columns.get(column), limit)
# ...and each star column the size of the staging column it is copied from.
sources = {
    "songplays.user_id": "staging_events.user_id", "songplays.level": "staging_events.level",
    "songplays.song_id": "staging_songs.song_id", "songplays.artist_id": "staging_songs.artist_id",
    "songplays.location": "staging_events.location",
    "songplays.user_agent": "staging_events.user_agent",
    "users.user_id": "staging_events.user_id", "users.first_name": "staging_events.first_name",
    "users.last_name": "staging_events.last_name", "users.gender": "staging_events.gender",
    "users.level": "staging_events.level",
    "songs.song_id": "staging_songs.song_id", "songs.title": "staging_songs.title",
    "songs.artist_id": "staging_songs.artist_id",
    "artists.artist_id": "staging_songs.artist_id", "artists.name": "staging_songs.artist_name",
    "artists.location": "staging_songs.artist_location",
    "song_lookup.title": "staging_songs.title", "song_lookup.artist_name": "staging_songs.artist_name",
    "song_lookup.song_id": "staging_songs.song_id", "song_lookup.artist_id": "staging_songs.artist_id",
}
for column, source in sources.items():
    assert columns[column] == limits[source], (column, columns[column], source, limits[source])
star = [c for c in columns if c.split(".")[0] in ("songplays", "users", "songs", "artists", "song_lookup")]
assert sorted(star) == sorted(sources), sorted(set(star) ^ set(sources))
# An event's song and artist are matched against a song's title and artist name.
assert limits["staging_events.song"] == limits["staging_songs.title"]
assert limits["staging_events.artist"] == limits["staging_songs.artist_name"]
print(len(columns), "text columns")
PY
}

@test "no transform statement holds a correlated subquery joined by OR, a pattern Redshift may refuse" {
  "$DUMP_REDSHIFT_SQL" > all.sql
  python3 - all.sql <<'PY'
import re, sys
# https://docs.aws.amazon.com/redshift/latest/dg/r_correlated_subqueries.html: Redshift refuses
# correlated subqueries it cannot decorrelate. The transform correlates only in NOT EXISTS with
# one equality (time: new instants); an OR inside an EXISTS is a shape it may not decorrelate.
statements = [s for s in open(sys.argv[1]).read().split(";\n") if re.search(r"\bEXISTS \(", s)]
assert statements, "no EXISTS at all: the check would be vacuous"
for statement in statements:
    for m in re.finditer(r"\bEXISTS \(", statement):
        depth, i = 1, m.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(statement[i], 0)
            i += 1
        subquery = statement[m.end():i - 1]
        assert " OR " not in subquery.upper(), subquery
PY
}

@test "every report query and built-in check parses as Redshift SQL" {
  need_sqlfluff
  "$DUMP_ANALYTICS_SQL" > analytics.sql
  [ "$(grep -c '^-- report: ' analytics.sql)" -eq 12 ]
  [ "$(grep -c '^-- check: ' analytics.sql)" -eq 26 ]
  parses analytics.sql
}

@test "values pasted into SQL cannot break out of their literals" {
  need_sqlfluff
  dumped
  # A quote, a semicolon and a comment in a path stay inside the literal: the only DROP TABLE
  # statements are the twelve of create-tables, the two staging tables' and the transform's.
  grep -q "COPY staging_songs FROM 's3://bucket/it''s; DROP TABLE users; --' IAM_ROLE" all.sql
  [ "$(grep -c 'drop_table_statement:' "$TMP/tree")" -eq 15 ]
  # Redshift reads a backslash as an escape, so it is doubled, as its QUOTE_LITERAL does.
  grep -q "'/data/back\\\\\\\\slash.json'" all.sql
  grep -q "'{\"ts\": \"x\\\\\\\\\"y\"}'" all.sql
}

@test "a dry run of a full-refresh etl locks every table, empties them, and COPYs from manifests, without connecting" {
  need_sqlfluff
  need_sample
  sp --target "$CLUSTER" etl --dry-run --full-refresh --iam-role "$ROLE" --staging s3://my-bucket/st \
    --song-data "$DATA/song_data" --log-data "$DATA/log_data" --max-errors 3 > run.sql 2> stderr
  [[ "$(head -n 1 run.sql)" == "-- dry run on redshift://awsuser:***@cluster.example.invalid:5439/dev:"* ]]
  ! grep -q Sup3rSecret run.sql stderr
  [ "$(cat stderr)" = "dry run: no warehouse was connected and nothing was written; a run would load 30 log and 71 song objects (3.8 MB)" ]
  # Every table it writes is locked first, as AWS advises for serializable isolation.
  grep -qx "LOCK staging_events, staging_songs, songplays, users, songs, artists, time, song_lookup, user_latest, loaded_objects, load_errors, etl_runs;" run.sql
  # The staging tables are dropped and created again (no rows left for VACUUM), the rest emptied
  # with DELETE (TRUNCATE would commit), inside BEGIN ... COMMIT.
  [ "$(grep -c '^DELETE FROM [a-z_]*;$' run.sql)" -eq 10 ]
  grep -qx 'DROP TABLE IF EXISTS staging_events;' run.sql
  grep -qx 'DROP TABLE IF EXISTS staging_songs;' run.sql
  [ "$(grep -v '^--' run.sql | sed -n 2p)" = "BEGIN;" ]
  [ "$(tail -n 1 run.sql)" = "COMMIT;" ]
  # What a real run does besides SQL is said in comments, without reaching S3.
  grep -qx -e "-- a real run first asks S3 that every bucket it reads is in REGION 'us-west-2'" run.sql
  # A full refresh COPYs from manifests of exactly the listed objects, never a key prefix.
  grep -q "^COPY staging_songs FROM 's3://my-bucket/st/[0-9TZ]*-[0-9]*/song.manifest' IAM_ROLE '$ROLE' MANIFEST FORMAT AS JSON 'auto' REGION 'us-west-2' MAXERROR 4 COMPUPDATE OFF STATUPDATE OFF;$" run.sql
  parses run.sql --compact
  [ "$(grep -c 'copy_statement:' "$TMP/tree")" -eq 2 ]
}

@test "a dry run of an incremental etl from local files shows the uploads and the manifest COPYs, and they parse" {
  need_sqlfluff
  need_sample
  printf "[IAM_ROLE]\nARN='%s'\n[S3]\nSTAGING='s3://my-bucket/sparkify/'\n" "$ROLE" > dwh.cfg
  sp -q --target "$CLUSTER" --dry-run etl --song-data "$DATA/song_data" --log-data "$DATA/log_data" \
    --s3-region eu-west-1 > run.sql
  run_prefix=$(grep -o "s3://my-bucket/sparkify/[0-9TZ]*-[0-9]*" run.sql | head -n 1)
  [ -n "$run_prefix" ]
  # 30 log files one object each, the 71 song files in one part, the canonical JSONPaths file.
  [ "$(grep -c "^-- upload $run_prefix/log/[0-9]*-2018-11-[0-9]*-events.json (log file" run.sql)" -eq 30 ]
  grep -q "^-- upload $run_prefix/song/part-00001.json (song files, " run.sql
  grep -q "^-- upload $run_prefix/log.manifest (COPY manifest of 30 objects" run.sql
  grep -q "^-- upload $run_prefix/song.manifest (COPY manifest of 1 objects" run.sql
  grep -qx "COPY staging_events FROM '$run_prefix/log.manifest' IAM_ROLE '$ROLE' MANIFEST FORMAT AS JSON '$run_prefix/log_json_path.json' REGION 'eu-west-1' COMPUPDATE OFF STATUPDATE OFF;" run.sql
  grep -qx "COPY staging_songs FROM '$run_prefix/song.manifest' IAM_ROLE '$ROLE' MANIFEST FORMAT AS JSON 'auto' REGION 'eu-west-1' COMPUPDATE OFF STATUPDATE OFF;" run.sql
  # The record of the 101 objects, as a real run writes it.
  local real first=song_data/A/A/A/TRAAAAW128F429D538.json
  real=$(realpath "$DATA")
  grep -q "^INSERT INTO loaded_objects (\"kind\", \"object_key\", \"size\", \"version\", \"loaded_at\", \"fingerprint\") VALUES ('song', '$real/$first', $(stat -c %s "$DATA/$first"), 'mtime:[0-9.]*', '[0-9: -]*', 'xxh128:[0-9a-f]\{32\}')" run.sql
  [ "$(grep -o "'log', '$real/log_data/2018/11/" run.sql | wc -l)" -eq 30 ]
  parses run.sql --compact
}

@test "hostile or malformed Redshift settings are refused before anything runs, exit 2" {
  run sp --target "$CLUSTER" etl --dry-run --full-refresh --iam-role "arn:aws:iam::123456789012:role/x'; DROP TABLE users; --" \
    --log-data s3://b/log_data --log-jsonpath s3://b/paths.json
  [ "$status" -eq 2 ]
  [[ "$output" == *"IAM role 'arn:aws:iam::123456789012:role/x'; DROP TABLE users; --' is not \`default\` or a role ARN like arn:aws:iam::123456789012:role/NAME"* ]]
  [[ "$output" != *"COPY "* ]]
  run sp --target "$CLUSTER" etl --dry-run --iam-role "$ROLE" --staging "$(printf 's3://b/x\ny')" --song-data s3://b/s
  [ "$status" -eq 2 ]
  [[ "$output" == *"the staging prefix holds a control character (byte 0x0a at offset 8)"* ]]
  run sp --target "$CLUSTER" etl --dry-run --iam-role "$ROLE" --staging s3://b/x --s3-region "us-west-2' --" --song-data s3://b/s
  [ "$status" -eq 2 ]
  [[ "$output" == *"region 'us-west-2' --' is not a region name like us-west-2"* ]]
  run sp --target "$CLUSTER" etl --dry-run --iam-role "$ROLE" --staging not-s3 --song-data s3://b/s
  [ "$status" -eq 2 ]
  [[ "$output" == *"staging prefix 'not-s3' is not an s3://BUCKET/PREFIX URL"* ]]
}

@test "a Redshift etl says what it is missing: the IAM role, the staging prefix, and refuses --transform c" {
  run sp --target "$CLUSTER" etl --dry-run --song-data s3://b/s
  [ "$status" -eq 2 ]
  [[ "$output" == *"a Redshift target needs an IAM role that can read the sources: --iam-role ARN, SPARKIFY_IAM_ROLE or [IAM_ROLE] ARN in dwh.cfg"* ]]
  run sp --target "$CLUSTER" etl --dry-run --iam-role "$ROLE" --song-data s3://b/s
  [ "$status" -eq 2 ]
  [[ "$output" == *"a Redshift run needs a staging prefix for its COPY manifests"* ]]
  run sp --target "$CLUSTER" etl --dry-run --iam-role "$ROLE" --full-refresh --transform c --song-data s3://b/s
  [ "$status" -eq 2 ]
  [[ "$output" == *"--transform c: a Redshift target loads the sources itself"* ]]
}

@test "create-tables, query, report and check print their statements in a dry run on every target" {
  for target in "$CLUSTER" "postgresql://u:Sup3rSecret@db.example.invalid/x" "$DB"; do
    sp -q --target "$target" --dry-run create-tables > ddl.sql
    [ "$(grep -c '^CREATE TABLE IF NOT EXISTS .*;$' ddl.sql)" -eq 12 ]
    grep -q '^DROP TABLE IF EXISTS .*load_errors' ddl.sql
    [ "$(tail -n 1 ddl.sql)" = "COMMIT;" ]
    sp --target "$target" query --dry-run "SELECT COUNT(*) FROM songplays" > query.sql
    grep -qx "SELECT COUNT(\*) FROM songplays;" query.sql
    sp --target "$target" report --dry-run > report.sql
    grep -q "FROM songplays p JOIN songs s ON s.song_id = p.song_id" report.sql
    # Checks are shown, not judged: 26 queries and a clean exit.
    sp --target "$target" check --dry-run > check.sql
    [ "$(grep -c '^SELECT .*;$' check.sql)" -eq 26 ]
    grep -q "FROM etl_runs" check.sql
    ! grep -q Sup3rSecret ddl.sql query.sql report.sql check.sql
  done
  [ ! -e w.db ]
}

@test "the check is not vacuous: sqlfluff rejects what Redshift would reject" {
  need_sqlfluff
  printf 'INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO NOTHING;\n' > upsert.sql
  run sqlfluff parse --dialect redshift upsert.sql
  [ "$status" -ne 0 ]
  printf "COPY t FROM 's3://b/k' IAM_ROLE 'arn:aws:iam::123456789012:role/r' FORMAT AS JSON 'auto' NOSUCHOPTION;\n" > copy.sql
  run sqlfluff parse --dialect redshift copy.sql
  [ "$status" -ne 0 ]
  printf 'SELECT 1 AS percent;\n' > reserved.sql
  run sqlfluff parse --dialect redshift reserved.sql
  [ "$status" -ne 0 ]
}
