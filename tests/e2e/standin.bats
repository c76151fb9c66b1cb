#!/usr/bin/env bats
# The Redshift stand-in itself (scripts/redshift_standin.sh, tests/redshift_standin/): each
# test states a rule of Amazon Redshift, names the AWS page it comes from, and checks that the
# stand-in keeps it, through psql and sparkify as a user would. One stand-in (PostgreSQL, moto,
# the front) serves the whole file; each test works in a database of its own. The last tests
# parse everything the front was sent as Redshift SQL and stop the stand-in.

load helpers

# helpers.bash's per-test set-up, then the stand-in's settings (which that set-up clears).
eval "helpers_$(declare -f setup)"
setup() {
  helpers_setup
  [ -f "$STANDIN_DIR/env" ] || skip "the stand-in is not running"
  set -a
  . "$STANDIN_DIR/env"
  set +a
  ROLE=$SPARKIFY_IAM_ROLE
}

setup_file() {
  python3 -c 'import moto, boto3, flask' 2>/dev/null ||
    skip "Python's moto (with Flask) and boto3 are absent (python3 -c 'import moto, boto3'): the stand-in has no other S3 with IAM and STS"
  STANDIN_DIR=$(mktemp -d /tmp/sparkify-standin.XXXXXX)
  chmod 755 "$STANDIN_DIR"
  export STANDIN_DIR
  "$SPARKIFY_SOURCE/scripts/redshift_standin.sh" start "$STANDIN_DIR/run"
  STANDIN_DIR=$STANDIN_DIR/run
  export STANDIN_DIR
  set -a
  . "$STANDIN_DIR/env"
  set +a
  # The real sample, as Udacity's bucket holds it, and a bucket in another Region.
  aws mkbucket udacity-dend us-west-2
  aws put-tree udacity-dend log_data "$SPARKIFY_SHARED/data/udacity/log_data"
  aws put-tree udacity-dend song_data "$SPARKIFY_SHARED/data/udacity/song_data"
  aws put udacity-dend log_json_path.json "$SPARKIFY_SHARED/data/udacity/log_json_path.json"
  aws mkbucket eu-data eu-central-1
}

teardown_file() {
  if [ -n "${STANDIN_DIR:-}" ]; then
    "$SPARKIFY_SOURCE/scripts/redshift_standin.sh" stop "$STANDIN_DIR"
    rm -rf "$(dirname "$STANDIN_DIR")"
  fi
}

aws() {
  python3 "$SPARKIFY_SOURCE/tests/redshift_standin/aws.py" "$@"
}

# The stand-in's URL for database $1 as libpq reads it (TLS where the stand-in has it).
url() {
  local base=${SPARKIFY_TARGET/redshift:/postgresql:}
  base=${base%%\?*}
  echo "${base%/dev}/${1:-dev}?sslmode=prefer"
}

# The stand-in's target for sparkify, database $1.
target() {
  echo "${SPARKIFY_TARGET/\/dev/\/$1}"
}

# rs DB SQL...: runs each SQL with psql through the front; errors show their SQLSTATE.
rs() {
  local db=$1 args=()
  shift
  for sql in "$@"; do args+=(-c "$sql"); done
  psql -X -q -tA -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "$(url "$db")" "${args[@]}"
}

# pg DB SQL: runs SQL on the stand-in's PostgreSQL itself, as its superuser (to look at what
# the front made of Redshift's SQL; such queries are not Redshift's and bypass the front).
pg() {
  local admin
  admin=$(python3 -c 'import json,sys; c = json.load(open(sys.argv[1])); print("postgresql://%s:%s@127.0.0.1:%d/" % (c["adminUser"], c["adminPassword"], c["pgPort"]))' "$STANDIN_DIR/front.json")
  psql -X -q -tA -v ON_ERROR_STOP=1 "$admin$1" -c "$2"
}

# A fresh database for the test, created through the front (Redshift's CREATE DATABASE).
new_db() {
  local name="t${BATS_TEST_NUMBER}"
  rs dev "DROP DATABASE IF EXISTS $name" "CREATE DATABASE $name"
  echo "$name"
}

# put KEY FILE: uploads FILE to s3://sparkify-staging/tests/KEY.
put() {
  aws put sparkify-staging "tests/$1" "$2"
}

copy_from() {
  echo "COPY $1 FROM 's3://sparkify-staging/tests/$2' IAM_ROLE '$ROLE' FORMAT AS JSON ${3:-'auto'} ${4:-}"
}

@test "Redshift DDL is accepted and translated: attributes dropped, keys informational, IDENTITY, COLLATE case_sensitive, byte lengths" {
  db=$(new_db)
  # r_CREATE_TABLE_NEW: DISTSTYLE, DISTKEY, SORTKEY, BACKUP NO, ENCODE, IDENTITY(seed, step),
  # COLLATE CASE_SENSITIVE; "Primary key constraints are informational only. They aren't
  # enforced by the system"; r_Character_types: TEXT is VARCHAR(256) and lengths are bytes;
  # r_names: delimited identifiers are folded to lowercase.
  rs "$db" 'CREATE TABLE t (id BIGINT IDENTITY(0, 1) NOT NULL, code VARCHAR(3) ENCODE zstd COLLATE case_sensitive DISTKEY, note TEXT, "Mixed" INTEGER, PRIMARY KEY (id), UNIQUE (code)) BACKUP NO DISTSTYLE KEY COMPOUND SORTKEY (code, id)'
  rs "$db" "INSERT INTO t (code) VALUES ('abc'), ('abc')" "INSERT INTO t (code, mixed) VALUES ('é', 7)"
  [ "$(rs "$db" 'SELECT id, code, "MIXED" FROM t ORDER BY id')" = "$(printf '0|abc|\n1|abc|\n2|é|7')" ]
  # The column is byte-ordered (PostgreSQL's "C"), TEXT became VARCHAR(256).
  [ "$(pg "$db" "SELECT attname || ':' || format_type(atttypid, atttypmod) || ':' || COALESCE((SELECT collname FROM pg_collation WHERE oid = attcollation), '') FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 ORDER BY attnum")" = "$(printf 'id:bigint:\ncode:character varying(3):C\nnote:character varying(256):default\nmixed:integer:')" ]
  # 'éé' is two characters but four bytes.
  run rs "$db" "INSERT INTO t (code) VALUES ('éé')"
  [ "$status" -ne 0 ]
  [[ "$output" == *"ERROR:  22001: value too long for type character varying(3)"* ]]
  # IDENTITY(seed, step) takes no explicit value; GENERATED BY DEFAULT AS IDENTITY does.
  run rs "$db" "INSERT INTO t (id, code) VALUES (5, 'x')"
  [ "$status" -ne 0 ]
  rs "$db" 'CREATE TABLE g (id INT GENERATED BY DEFAULT AS IDENTITY(10, 5), v INT)' "INSERT INTO g (v) VALUES (1), (2)" "INSERT INTO g VALUES (1, 3)"
  [ "$(rs "$db" 'SELECT id FROM g ORDER BY v')" = "$(printf '10\n15\n1')" ]
  # r_ALTER_TABLE: "Amazon Redshift doesn't support the COLLATE key word when appending a new column".
  rs "$db" 'ALTER TABLE t ADD COLUMN extra VARCHAR(256)'
  run rs "$db" 'ALTER TABLE t ADD COLUMN other VARCHAR(256) COLLATE case_sensitive'
  [[ "$output" == *'ERROR:  42601: syntax error at or near "COLLATE"'* ]]
  # Unsupported PostgreSQL features: check constraints, serial types.
  run rs "$db" 'CREATE TABLE c (a INT CHECK (a > 0))'
  [[ "$output" == *'ERROR:  42601: syntax error at or near "CHECK"'* ]]
  run rs "$db" 'CREATE TABLE s (a SERIAL)'
  [[ "$output" == *'ERROR:  0A000: Column "s.a" has unsupported type "serial".'* ]]
}

@test "PostgreSQL-only syntax is refused as Redshift refuses it, and nothing of the string runs" {
  db=$(new_db)
  rs "$db" 'CREATE TABLE t (a INT, b INT)' 'INSERT INTO t VALUES (1, 1)'
  # r_INSERT_30 has no ON CONFLICT and no RETURNING; c_unsupported-postgresql-features lists
  # indexes, array constructors and collations.
  run rs "$db" 'INSERT INTO t VALUES (2, 2); INSERT INTO t VALUES (1, 9) ON CONFLICT (a) DO NOTHING'
  [ "$status" -ne 0 ]
  [[ "$output" == *'ERROR:  42601: syntax error at or near "ON"'* ]]
  run rs "$db" 'UPDATE t SET b = 2 RETURNING a'
  [[ "$output" == *'ERROR:  42601: syntax error at or near "RETURNING"'* ]]
  run rs "$db" 'CREATE INDEX i ON t (a)'
  [[ "$output" == *'ERROR:  42601: syntax error at or near "INDEX"'* ]]
  run rs "$db" 'SELECT DISTINCT ON (a) a FROM t'
  [[ "$output" == *'ERROR:  42601: syntax error at or near "ON"'* ]]
  run rs "$db" 'SELECT ARRAY[1, 2]'
  [[ "$output" == *'ERROR:  42601: syntax error at or near "["'* ]]
  run rs "$db" "SELECT 'a' COLLATE \"C\""
  [[ "$output" == *'ERROR:  42601: syntax error at or near ""C""'* ]]
  # The INSERT before the ON CONFLICT did not run, and t is as it was.
  [ "$(rs "$db" 'SELECT a, b FROM t')" = "1|1" ]
  # r_extra_float_digits: "-15 to 2" (PostgreSQL takes 3).
  run rs "$db" 'SET extra_float_digits TO 3'
  [[ "$output" == *'ERROR:  22023: 3 is outside the valid range for parameter "extra_float_digits" (-15 .. 2)'* ]]
  # Errors from PostgreSQL keep their SQLSTATE.
  run rs "$db" 'SELECT * FROM no_such_table'
  [[ "$output" == *'ERROR:  42P01: relation "no_such_table" does not exist'* ]]
}

@test "TRUNCATE commits the transaction it runs in (r_TRUNCATE)" {
  db=$(new_db)
  rs "$db" 'CREATE TABLE a (x INT)' 'CREATE TABLE b (x INT)' 'INSERT INTO b VALUES (1)'
  run psql -X -v VERBOSITY=verbose "$(url "$db")" -c 'BEGIN' -c 'INSERT INTO a VALUES (1)' -c 'TRUNCATE b' -c 'ROLLBACK'
  [ "$status" -eq 0 ]
  [[ "$output" == *"WARNING:  25P01: there is no transaction in progress"* ]]
  # The insert was committed with the TRUNCATE; the ROLLBACK had nothing to undo.
  [ "$(rs "$db" 'SELECT COUNT(*) FROM a' 'SELECT COUNT(*) FROM b')" = "$(printf '1\n0')" ]
  # DELETE, sparkify's way of emptying tables, stays inside the transaction.
  psql -X -q "$(url "$db")" -c 'BEGIN' -c 'DELETE FROM a' -c 'ROLLBACK'
  [ "$(rs "$db" 'SELECT COUNT(*) FROM a')" = 1 ]
}

@test "COPY of the real sample from S3 holds what an independent reading of the JSON says" {
  need_sample
  db=$(new_db)
  sp -q --target "$(target "$db")" create-tables
  # JSONPaths for the events, 'auto' for the songs (copy-usage_notes-copy-from-json), from
  # key prefixes (copy-parameters-data-source-s3).
  run rs "$db" "COPY staging_events FROM 's3://udacity-dend/log_data' IAM_ROLE '$ROLE' FORMAT AS JSON 's3://udacity-dend/log_json_path.json' REGION 'us-west-2' COMPUPDATE OFF STATUPDATE OFF" \
    "COPY staging_songs FROM 's3://udacity-dend/song_data' IAM_ROLE '$ROLE' FORMAT AS JSON 'auto'"
  [ "$status" -eq 0 ]
  for table in staging_events staging_songs; do
    psql -X -q --csv -P 'null=\N' "$(url "$db")" -c 'SET extra_float_digits TO 2' -c "SELECT * FROM $table" > "$table.csv"
  done
  python3 - "$DATA" staging_events.csv staging_songs.csv <<'PY'
import csv, json, os, sys
data, events_csv, songs_csv = sys.argv[1:]
def files(top):
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs)
def objects(text):
    decoder, i, out = json.JSONDecoder(parse_float=str, parse_int=str), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return out
        obj, i = decoder.raw_decode(text, i)
        out.append(obj)
# Column types of sparkify's staging tables, and what COPY makes of a JSON value there:
# numbers keep their text in VARCHAR, '' is NULL in numeric columns (copy-parameters-data-conversion).
def value(v, kind):
    if v is None:
        return None
    if kind == "s":
        return v
    if v == "":
        return None
    return int(v) if kind == "i" else float(v)
event_cols = "ssssisfssssfisiiss"
paths = [p[3:-2] for p in json.load(open(os.path.join(data, "log_json_path.json")))["jsonpaths"]]
expected_events = [tuple(value(o.get(k), kind) for k, kind in zip(paths, event_cols))
                   for f in files(os.path.join(data, "log_data")) for o in objects(open(f).read())]
song_names = ["num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location",
              "artist_name", "song_id", "title", "duration", "year"]
song_cols = "isffssssfi"
expected_songs = [tuple(value(o.get(k), kind) for k, kind in zip(song_names, song_cols))
                  for f in files(os.path.join(data, "song_data")) for o in objects(open(f).read())]
def loaded(path, kinds):
    rows = list(csv.reader(open(path)))[1:]
    return [tuple(None if v == "\\N" else value(v, k) for v, k in zip(r, kinds)) for r in rows]
for name, expected, path, kinds in (("events", expected_events, events_csv, event_cols), ("songs", expected_songs, songs_csv, song_cols)):
    got = loaded(path, kinds)
    assert len(got) == len(expected), (name, len(got), len(expected))
    assert sorted(got, key=repr) == sorted(expected, key=repr), name
assert len(expected_events) == 8056 and len(expected_songs) == 71
PY
  [[ "$output" == *"INFO:  00000: Load into table 'staging_events' completed, 8056 record(s) loaded successfully."* ]]
  [[ "$output" == *"INFO:  00000: Load into table 'staging_songs' completed, 71 record(s) loaded successfully."* ]]
}

@test "'auto' matches keys case-sensitively, 'auto ignorecase' ignores case; other keys are ignored" {
  db=$(new_db)
  # copy-parameters-data-format: "With this option [auto], matching is case-sensitive";
  # "'auto ignorecase' ... the matching isn't case-sensitive"; "Any names that don't match a
  # column name are ignored".
  printf '{"Num": 1, "Name": "A", "other": 3}\n{"num": 2, "name": "b"}\n' > case.json
  put case.json case.json
  rs "$db" 'CREATE TABLE t (num INT, name VARCHAR(10))'
  rs "$db" "$(copy_from t case.json "'auto'")"
  [ "$(rs "$db" 'SELECT COALESCE(num::text, '\''null'\''), COALESCE(name, '\''null'\'') FROM t ORDER BY 1')" = "$(printf '2|b\nnull|null')" ]
  rs "$db" 'DELETE FROM t' "$(copy_from t case.json "'auto ignorecase'")"
  [ "$(rs "$db" 'SELECT num, name FROM t ORDER BY 1')" = "$(printf '1|A\n2|b')" ]
}

@test "JSONPaths: bracket or dot notation, nested keys and array elements, one path per column" {
  db=$(new_db)
  # copy-usage_notes-copy-from-json: "$['location'][0]" and "$.location[0]"; "You can't mix
  # bracket notation and dot notation"; an object or array value "is loaded as a string,
  # including the braces or brackets" (spaced as the page shows it); arrays need JSONPaths.
  printf '{"a": {"b": [10, 20]}, "c": "x", "d": {"id": 1, "name": "R", "tags": ["p", "q"]}}\n[30, "y", null]\n' > data.json
  echo '{"jsonpaths": ["$['\''a'\'']['\''b'\''][1]", "$['\''c'\'']", "$['\''d'\'']"]}' > bracket.json
  echo '{"jsonpaths": ["$.a.b[0]", "$.c", "$.d.tags"]}' > dot.json
  echo '{"jsonpaths": ["$[0]", "$[1]", "$[2]"]}' > array.json
  echo '{"jsonpaths": ["$.a.b[0]", "$['\''c'\'']", "$.d"]}' > mixed.json
  echo '{"jsonpaths": ["$.c"]}' > short.json
  for f in data bracket dot array mixed short; do put "paths/$f.json" "$f.json"; done
  rs "$db" 'CREATE TABLE t (n INT, s VARCHAR(10), j VARCHAR(100))'
  rs "$db" "$(copy_from t paths/data.json "'s3://sparkify-staging/tests/paths/bracket.json'" 'MAXERROR 2')"
  rs "$db" "$(copy_from t paths/data.json "'s3://sparkify-staging/tests/paths/dot.json'" 'MAXERROR 2')"
  # A path that leads nowhere (the array record under object paths) loads NULL.
  [ "$(rs "$db" "SELECT COALESCE(n::text, 'null'), COALESCE(s, 'null'), COALESCE(j, 'null') FROM t ORDER BY n")" = "$(printf '%s\n' '10|x|["p","q"]' '20|x|{"id": 1,"name": "R","tags": ["p","q"]}' 'null|null|null' 'null|null|null')" ]
  rs "$db" 'DELETE FROM t' "$(copy_from t paths/data.json "'s3://sparkify-staging/tests/paths/array.json'" 'MAXERROR 2')"
  [ "$(rs "$db" "SELECT n, s, COALESCE(j, 'null') FROM t WHERE n IS NOT NULL")" = "30|y|null" ]
  run rs "$db" "$(copy_from t paths/data.json "'s3://sparkify-staging/tests/paths/mixed.json'")"
  [[ "$output" == *"Invalid JSONPath format: bracket and dot notation mixed"* ]]
  run rs "$db" "$(copy_from t paths/data.json "'s3://sparkify-staging/tests/paths/short.json'")"
  [[ "$output" == *"ERROR:  XX000: Number of jsonpaths and the number of columns should match. JSONPath size: 1, Number of columns in table or column list: 3"* ]]
}

@test "conversions: empty and blank are NULL in numbers, numbers keep their text in VARCHAR, lengths are bytes, invalid UTF-8 fails unless ACCEPTINVCHARS" {
  db=$(new_db)
  # copy-parameters-data-conversion (EMPTYASNULL, BLANKSASNULL, TRUNCATECOLUMNS,
  # ACCEPTINVCHARS), r_Character_types (bytes), multi-byte-character-load-errors (1220).
  {
    printf '%s\n' '{"id": 1, "i": "", "f": "  ", "v": ""}'
    printf '%s\n' '{"id": 2, "i": "12", "f": 2.5, "v": 12.50}'
    printf '%s\n' '{"id": 3, "v": "ééé"}'
    printf '{"id": 4, "v": "a\xffb"}\n'
    printf '%s\n' '{"id": 5, "i": 1.5}'
    printf '%s\n' '{"id": 6, "b": "yes", "d": "1.239"}'
  } > conv.json
  put conv.json conv.json
  rs "$db" 'CREATE TABLE t (id INT, i INT, f DOUBLE PRECISION, v VARCHAR(5), b BOOLEAN, d DECIMAL(5,2))'
  rs "$db" "$(copy_from t conv.json "'auto'" 'MAXERROR 10')"
  [ "$(rs "$db" "SELECT id, COALESCE(i::text, 'null'), COALESCE(f::text, 'null'), COALESCE(v, 'null'), COALESCE(b::text, 'null'), COALESCE(d::text, 'null') FROM t ORDER BY id")" = "$(printf '%s\n' '1|null|null||null|null' '2|12|2.5|12.50|null|null' '6|null|null|null|true|1.23')" ]
  [ "$(rs "$db" "SELECT TRIM(colname) || ':' || err_code || ':' || TRIM(err_reason) FROM stl_load_errors WHERE query = (SELECT MAX(query) FROM stl_load_errors) ORDER BY line_number")" = "$(printf '%s\n' 'v:1204:String length exceeds DDL length' "v:1220:String contains invalid or unsupported UTF8 codepoints. Bad UTF8 hex sequence: ff (error 3)" "i:1207:Invalid digit, Value '.', Pos 1, Type: Integer")" ]
  # TRUNCATECOLUMNS cuts at the last whole character within the byte limit; ACCEPTINVCHARS
  # replaces each invalid byte ('?' by default).
  rs "$db" 'DELETE FROM t' "$(copy_from t conv.json "'auto'" 'MAXERROR 10 TRUNCATECOLUMNS ACCEPTINVCHARS')"
  [ "$(rs "$db" "SELECT id || ':' || v FROM t WHERE id IN (3, 4) ORDER BY id")" = "$(printf '3:éé\n4:a?b')" ]
  rs "$db" 'DELETE FROM t' "$(copy_from t conv.json "'auto'" "MAXERROR 10 ACCEPTINVCHARS AS '^'")"
  [ "$(rs "$db" "SELECT v FROM t WHERE id = 4")" = "a^b" ]
}

@test "MAXERROR: the load fails once the errors reach MAXERROR (0 and 1 both stop at the first); the limit is 100000" {
  db=$(new_db)
  # copy-parameters-data-load: "If the load returns the error_count number of errors or
  # greater, the load fails ... Set this value to 0 or 1 if you want the load to fail as soon
  # as the first error occurs ... the limit is 100000".
  printf '{"n": 1}\n{"n": "x"}\n{"n": 2}\n{"n": "y"}\n{"n": "z"}\n' > bad3.json
  put bad3.json bad3.json
  rs "$db" 'CREATE TABLE t (n INT)'
  for m in 0 1 3; do
    run rs "$db" "$(copy_from t bad3.json "'auto'" "MAXERROR $m")"
    [ "$status" -ne 0 ]
    [[ "$output" == *"ERROR:  XX000: Load into table 't' failed.  Check 'stl_load_errors' system table for details."* ]]
  done
  [ "$(rs "$db" 'SELECT COUNT(*) FROM t')" = 0 ]
  # The failing COPY recorded the errors it met: 3 with MAXERROR 3.
  [ "$(rs "$db" 'SELECT COUNT(*) FROM stl_load_errors WHERE query = (SELECT MAX(query) FROM stl_load_errors)')" = 3 ]
  run rs "$db" "$(copy_from t bad3.json "'auto'" 'MAXERROR 4')"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Load into table 't' completed, 2 record(s) loaded successfully."* ]]
  [[ "$output" == *"Load into table 't' completed, 3 record(s) could not be loaded.  Check 'stl_load_errors' system table for details."* ]]
  [ "$(rs "$db" 'SELECT n FROM t ORDER BY n')" = "$(printf '1\n2')" ]
  run rs "$db" "$(copy_from t bad3.json "'auto'" 'MAXERROR 250000')"
  [ "$status" -eq 0 ]
  [[ "$output" == *"MAXERROR 250000 is above the limit; using 100000"* ]]
}

@test "a manifest's mandatory entries must exist; others may be missing, but not all" {
  db=$(new_db)
  # copy-parameters-data-source-s3: "If mandatory is set to true, COPY terminates if it
  # doesn't find the file ... The default value for mandatory is false"; "If a file is listed
  # twice, the file is loaded twice"; loading-data-files-using-manifest: "Regardless of any
  # mandatory settings, COPY will terminate if no files are found".
  echo '{"n": 1}' > one.json
  put m/one.json one.json
  local base=s3://sparkify-staging/tests/m
  printf '{"entries": [{"url": "%s/one.json", "mandatory": true}, {"url": "%s/gone.json", "mandatory": true}]}' "$base" "$base" > must.manifest
  printf '{"entries": [{"url": "%s/one.json"}, {"url": "%s/gone.json", "mandatory": false}, {"url": "%s/one.json"}]}' "$base" "$base" "$base" > may.manifest
  printf '{"entries": [{"url": "%s/gone.json"}]}' "$base" > none.manifest
  for f in must may none; do put "m/$f.manifest" "$f.manifest"; done
  rs "$db" 'CREATE TABLE t (n INT)'
  run rs "$db" "COPY t FROM '$base/must.manifest' IAM_ROLE '$ROLE' MANIFEST FORMAT AS JSON 'auto'"
  [ "$status" -ne 0 ]
  [[ "$output" == *"lists mandatory file $base/gone.json, which was not found"* ]]
  [ "$(rs "$db" 'SELECT COUNT(*) FROM t')" = 0 ]
  rs "$db" "COPY t FROM '$base/may.manifest' IAM_ROLE '$ROLE' MANIFEST FORMAT AS JSON 'auto'"
  [ "$(rs "$db" 'SELECT COUNT(*) FROM t')" = 2 ]
  run rs "$db" "COPY t FROM '$base/none.manifest' IAM_ROLE '$ROLE' MANIFEST FORMAT AS JSON 'auto'"
  [[ "$output" == *"None of the files listed in manifest $base/none.manifest were found"* ]]
  run rs "$db" "COPY t FROM '$base/absent.manifest' IAM_ROLE '$ROLE' MANIFEST FORMAT AS JSON 'auto'"
  [[ "$output" == *"Problem reading manifest file - S3ServiceException:The specified key does not exist.,Status 404,Error NoSuchKey"* ]]
}

@test "REGION: every object, manifest and JSONPaths file must be in the COPY's Region, the cluster's by default" {
  db=$(new_db)
  # copy-parameters-data-source-s3: "If the REGION parameter is specified, all resources,
  # including a manifest file or multiple Amazon S3 buckets, must be located in the specified
  # Region"; "By default, COPY assumes that the data is located in the same Region as the
  # Amazon Redshift cluster" (the stand-in's is us-west-2).
  echo '{"n": 1}' > one.json
  aws put eu-data r/one.json one.json
  printf '{"entries": [{"url": "s3://eu-data/r/one.json", "mandatory": true}]}' > eu.manifest
  put r/eu.manifest eu.manifest
  rs "$db" 'CREATE TABLE t (n INT)'
  run rs "$db" "COPY t FROM 's3://eu-data/r/' IAM_ROLE '$ROLE' FORMAT AS JSON 'auto'"
  [ "$status" -ne 0 ]
  [[ "$output" == *"S3ServiceException:The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.,Status 301,Error PermanentRedirect"* ]]
  rs "$db" "COPY t FROM 's3://eu-data/r/' IAM_ROLE '$ROLE' FORMAT AS JSON 'auto' REGION 'eu-central-1'"
  [ "$(rs "$db" 'SELECT COUNT(*) FROM t')" = 1 ]
  # The data is in eu-central-1, the manifest in us-west-2: no REGION suits both.
  run rs "$db" "COPY t FROM 's3://sparkify-staging/tests/r/eu.manifest' IAM_ROLE '$ROLE' MANIFEST FORMAT AS JSON 'auto' REGION 'eu-central-1'"
  [[ "$output" == *"Problem reading manifest file - S3ServiceException:The bucket you are attempting to access must be addressed"* ]]
  run rs "$db" "COPY t FROM 's3://sparkify-staging/tests/r/eu.manifest' IAM_ROLE '$ROLE' MANIFEST FORMAT AS JSON 'auto'"
  [[ "$output" == *"Status 301,Error PermanentRedirect"* ]]
  [ "$(rs "$db" 'SELECT COUNT(*) FROM t')" = 1 ]
}

@test "GZIP inflates every member of a gzip object; gzip data without GZIP is a load error" {
  db=$(new_db)
  # copy-parameters-file-compression: GZIP "specifies that the input file or files are in
  # compressed gzip format".
  { echo '{"n": 1}' | gzip; echo '{"n": 2}' | gzip; } > two.json.gz
  put gz/two.json.gz two.json.gz
  rs "$db" 'CREATE TABLE t (n INT)'
  rs "$db" "$(copy_from t gz/two.json.gz "'auto'" GZIP)"
  [ "$(rs "$db" 'SELECT n FROM t ORDER BY n')" = "$(printf '1\n2')" ]
  run rs "$db" "$(copy_from t gz/two.json.gz "'auto'")"
  [[ "$output" == *"Load into table 't' failed.  Check 'stl_load_errors' system table for details."* ]]
  echo '{"n": 3}' > plain.json
  put gz/plain.json plain.json
  run rs "$db" "$(copy_from t gz/plain.json "'auto'" GZIP)"
  [ "$status" -ne 0 ]
  [ "$(rs "$db" "SELECT TRIM(err_reason) FROM stl_load_errors WHERE query = (SELECT MAX(query) FROM stl_load_errors)")" = "gzip: incorrect header check" ]
  [ "$(rs "$db" 'SELECT COUNT(*) FROM t')" = 2 ]
}

@test "a JSON object over 4 MB fails the whole COPY, whatever MAXERROR; 4 MB exactly loads" {
  db=$(new_db)
  # copy-parameters-data-format: "The maximum size of a single JSON object or array,
  # including braces or brackets, is 4 MB ... If the maximum size of a single JSON object or
  # array is exceeded ... the COPY command fails."
  python3 - <<'PY'
limit = 4 * 1024 * 1024
def record(size, n):
    head = '{"n": %d, "pad": "' % n
    return head + "x" * (size - len(head) - 2) + '"}'
open("fits.json", "w").write(record(limit, 1) + "\n")
open("over.json", "w").write('{"n": 2}\n' + record(limit + 1, 3) + "\n")
PY
  put big/fits.json fits.json
  put big/over.json over.json
  rs "$db" 'CREATE TABLE t (n INT)'
  rs "$db" "$(copy_from t big/fits.json "'auto'")"
  run rs "$db" "$(copy_from t big/over.json "'auto'" 'MAXERROR 100')"
  [ "$status" -ne 0 ]
  [[ "$output" == *"Load into table 't' failed.  Check 'stl_load_errors' system table for details."* ]]
  [ "$(rs "$db" "SELECT line_number || ':' || TRIM(err_reason) FROM stl_load_errors WHERE query = (SELECT MAX(query) FROM stl_load_errors)")" = "2:The total size of the json object exceeds the max limit of 4194304 bytes" ]
  [ "$(rs "$db" 'SELECT n FROM t')" = 1 ]
}

@test "stl_load_errors and sys_load_error_detail hold one row per rejected record with their documented columns; sys_load_history one per COPY" {
  db=$(new_db)
  # r_STL_LOAD_ERRORS: line_number is "the line number of the last line of the JSON object";
  # raw_line replaces multibyte characters with a period; CHAR columns are blank padded.
  # SYS_LOAD_ERROR_DETAIL and SYS_LOAD_HISTORY columns as their pages list them.
  printf '{"n": 1, "s": "ok"}\n{\n  "n": "x",\n  "s": "é"\n}\n{"n": 2, "s": "toolong"}\n' > errs.json
  put errs.json errs.json
  rs "$db" 'CREATE TABLE t (n INT, s VARCHAR(4))'
  local fields="TRIM(filename), line_number, TRIM(colname), TRIM(type), TRIM(col_length), position, err_code, TRIM(err_reason), TRIM(raw_field_value), TRIM(raw_line), session = pg_backend_pid(), query = pg_last_copy_id(), slice BETWEEN 0 AND 3, tbl = (SELECT MAX(table_id) FROM sys_load_error_detail), starttime > GETDATE() - INTERVAL '1 minute'"
  # One session: PG_LAST_COPY_ID() is the session's.
  [ "$(rs "$db" "$(copy_from t errs.json "'auto'" 'MAXERROR 5')" "SELECT $fields FROM stl_load_errors ORDER BY line_number")" = "$(printf '%s\n' \
    "s3://sparkify-staging/tests/errs.json|5|n|int4||0|1207|Invalid digit, Value 'x', Pos 0, Type: Integer|x|{  \"n\": \"x\",  \"s\": \"..\"}|t|t|t|t|t" \
    "s3://sparkify-staging/tests/errs.json|6|s|varchar|4|4|1204|String length exceeds DDL length|toolong|{\"n\": 2, \"s\": \"toolong\"}|t|t|t|t|t")" ]
  [ "$(rs "$db" "SELECT LENGTH(filename), OCTET_LENGTH(colname), OCTET_LENGTH(err_reason) FROM stl_load_errors LIMIT 1")" = "37|127|100" ]
  [ "$(rs "$db" "SELECT TRIM(file_name), line_number, TRIM(column_name), TRIM(column_type), error_code, TRIM(error_message), session_id = (SELECT MAX(session) FROM stl_load_errors), TRIM(database_name) FROM sys_load_error_detail ORDER BY line_number")" = "$(printf '%s\n' \
    "s3://sparkify-staging/tests/errs.json|5|n|int4|1207|Invalid digit, Value 'x', Pos 0, Type: Integer|t|$db" \
    "s3://sparkify-staging/tests/errs.json|6|s|varchar|1204|String length exceeds DDL length|t|$db")" ]
  # The SYS view's query_id is another identifier than the STL view's query (r_STL_QUERY).
  [ "$(rs "$db" "SELECT COUNT(DISTINCT query_id), MIN(query_id) <> (SELECT MAX(query) FROM stl_load_errors) FROM sys_load_error_detail")" = "1|t" ]
  [ "$(rs "$db" "SELECT status, table_name, data_source, file_format, loaded_rows, error_count, source_file_count, session_id = (SELECT MAX(session) FROM stl_load_errors) FROM sys_load_history")" = "completed|t|s3://sparkify-staging/tests/errs.json|json|1|2|1|t" ]
}

@test "a failed COPY aborts the transaction; its load errors outlive the ROLLBACK; PG_LAST_COPY_ID follows the documented rules" {
  db=$(new_db)
  # PG_LAST_COPY_ID: -1 before any COPY; "If the COPY fails because of invalid load data, the
  # COPY ID is updated"; "If the COPY transaction is rolled back, the COPY ID is not updated";
  # not updated for errors "before the load process begins, such as ... access error".
  printf '{"n": 1}\n{"n": "bad"}\n' > one_bad.json
  put one_bad.json one_bad.json
  rs "$db" 'CREATE TABLE t (n INT)'
  run psql -X -q -tA -v VERBOSITY=verbose "$(url "$db")" -c 'SELECT pg_last_copy_id()' -c 'BEGIN' -c 'INSERT INTO t VALUES (7)' \
    -c "$(copy_from t one_bad.json)" -c 'SELECT 1' -c 'ROLLBACK' -c 'SELECT pg_last_copy_id()' \
    -c 'SELECT COUNT(*) FROM stl_load_errors WHERE session = pg_backend_pid()' \
    -c "$(copy_from t one_bad.json)" -c 'SELECT pg_last_copy_id() = (SELECT MAX(query) FROM stl_load_errors WHERE session = pg_backend_pid())' \
    -c "COPY t FROM 's3://sparkify-staging/tests/none/' IAM_ROLE '$ROLE' FORMAT AS JSON 'auto'" -c 'SELECT pg_last_copy_id() = (SELECT MAX(query) FROM stl_load_errors)'
  [[ "$output" == *"ERROR:  XX000: Load into table 't' failed.  Check 'stl_load_errors' system table for details."* ]]
  [[ "$output" == *"ERROR:  25P02: current transaction is aborted, commands ignored until end of transaction block"* ]]
  [[ "$output" == *"ERROR:  XX000: The specified S3 prefix 'tests/none/' does not exist"* ]]
  python3 - "$output" <<'PY'
import re, sys
values = re.findall(r"^(-1|\d+|t|f)$", sys.argv[1], re.M)
assert values == ["-1", "-1", "1", "t", "t"], values
PY
  [ "$(rs "$db" 'SELECT COUNT(*) FROM t')" = 0 ]
}

@test "IAM_ROLE default and chained roles are accepted; a role not attached, or without S3 access, is refused" {
  db=$(new_db)
  # copy-parameters-authorization (IAM_ROLE default), authorizing-redshift-service-chaining-roles
  # ("The first role in the chain must be a role attached to the cluster").
  echo '{"n": 1}' > one.json
  put iam/one.json one.json
  chained=$(aws role ChainedRole --chained-from RedshiftStandinRole)
  blind=$(aws role BlindRole --no-s3 --chained-from RedshiftStandinRole)
  loner=$(aws role LonerRole)
  rs "$db" 'CREATE TABLE t (n INT)'
  rs "$db" "COPY t FROM 's3://sparkify-staging/tests/iam/' IAM_ROLE default FORMAT AS JSON 'auto'"
  rs "$db" "COPY t FROM 's3://sparkify-staging/tests/iam/' IAM_ROLE '$ROLE,$chained' FORMAT AS JSON 'auto'"
  [ "$(rs "$db" 'SELECT COUNT(*) FROM t')" = 2 ]
  run rs "$db" "COPY t FROM 's3://sparkify-staging/tests/iam/' IAM_ROLE '$loner' FORMAT AS JSON 'auto'"
  [[ "$output" == *"ERROR:  XX000: User arn:aws:redshift:us-west-2:123456789012:dbuser:redshift-standin/awsuser is not authorized to assume IAM Role $loner"* ]]
  run rs "$db" "COPY t FROM 's3://sparkify-staging/tests/iam/' IAM_ROLE '$ROLE,$blind' FORMAT AS JSON 'auto'"
  [[ "$output" == *"S3ServiceException:"*"Status 403,Error AccessDenied"* ]]
}

@test "S3 checks signatures: a wrong secret is refused; keys with %2F, +, spaces and non-ASCII load" {
  db=$(new_db)
  echo '{"n": 1}' > one.json
  run env AWS_SECRET_ACCESS_KEY=wrong-secret python3 "$SPARKIFY_SOURCE/tests/redshift_standin/aws.py" put sparkify-staging tests/x.json one.json
  [ "$status" -ne 0 ]
  [[ "$output" == *"SignatureDoesNotMatch"* ]]
  local key='odd/a+b c é%2Fd.json'
  put "$key" one.json
  rs "$db" 'CREATE TABLE t (n INT)'
  rs "$db" "COPY t FROM 's3://sparkify-staging/tests/odd/a+b c é' IAM_ROLE '$ROLE' FORMAT AS JSON 'auto'"
  [ "$(rs "$db" 'SELECT COUNT(*) FROM t')" = 1 ]
  # sparkify lists and signs with the user's key (libcurl), the front reads with the role's.
  run sp --target "$(target "$db")" etl --log-data 's3://sparkify-staging/tests/odd/'
  [ "$status" -eq 0 ]
  [ "$(rs "$db" 'SELECT object_key FROM loaded_objects')" = "s3://sparkify-staging/tests/$key" ]
}

@test "sparkify create-tables and etl run end to end on the stand-in and build the star tables PostgreSQL's load builds" {
  need_sample
  db=$(new_db)
  local from_s3 local_files
  from_s3=$(target "$db")
  sp -q --target "$from_s3" create-tables
  run sp --target "$from_s3" etl --log-data s3://udacity-dend/log_data --song-data s3://udacity-dend/song_data \
    --log-jsonpath s3://udacity-dend/log_json_path.json --max-errors 5
  [ "$status" -eq 0 ]
  [[ "$output" == *"loaded 30 log and 71 song objects"*"6820 songplay events"* ]]
  # Local sources go through the staging prefix (uploads, manifests, the canonical JSONPaths).
  rs dev "DROP DATABASE IF EXISTS ${db}_local" "CREATE DATABASE ${db}_local"
  local_files=$(target "${db}_local")
  run sp --target "$local_files" etl --log-data "$DATA/log_data" --song-data "$DATA/song_data"
  [ "$status" -eq 0 ]
  # The same sample loaded by sparkify into PostgreSQL itself (the stand-in's own server).
  local admin
  admin=$(python3 -c 'import json,sys; c = json.load(open(sys.argv[1])); print("postgresql://%s:%s@127.0.0.1:%d/" % (c["adminUser"], c["adminPassword"], c["pgPort"]))' "$STANDIN_DIR/front.json")
  psql -X -q "${admin}postgres" -c "DROP DATABASE IF EXISTS ref_$db" -c "CREATE DATABASE ref_$db"
  sp -q --target "${admin}ref_$db" etl --log-data "$DATA/log_data" --song-data "$DATA/song_data"
  star_contents "${admin}ref_$db" > expected
  diff expected <(star_contents "$from_s3")
  diff expected <(star_contents "$local_files")
  run sp --target "$from_s3" check
  [ "$status" -eq 0 ]
}

@test "every statement the front was sent and ran parses as Redshift SQL" {
  command -v sqlfluff >/dev/null || skip "sqlfluff is not installed (scripts/deps.sh test installs it)"
  # Entries the stand-in refused on purpose (PostgreSQL-only syntax) are left out. Statements
  # differing only in their literals parse alike, so each shape is parsed once, and a VALUES
  # list once per row shape: sqlfluff takes minutes over the whole log otherwise. Two halves
  # are parsed side by side.
  python3 - "$STANDIN_DIR/statements.sql" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
entries = re.split(r"^-- \S+ session=\d+ (.*)\n", text, flags=re.M)[1:]
kept = [sql for outcome, sql in zip(entries[::2], entries[1::2]) if not outcome.startswith(("refused", "error 42601", "not run"))]
assert len(kept) > 100, len(kept)
shapes = {}
for sql in kept:
    shape = re.sub(r"'(?:[^'\\]|\\.|'')*'", "'x'", sql)
    shape = re.sub(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", "0", shape)
    shape = re.sub(r"(\((?:'x'|0|NULL|TRUE|FALSE|, )*\))(?:, \1)+", r"\1", shape)
    shapes.setdefault(shape, None)
halves = ["", ""]
for shape in sorted(shapes, key=len, reverse=True):
    halves[len(halves[0]) > len(halves[1])] += shape
for i, half in enumerate(halves):
    open(f"ran{i}.sql", "w", encoding="utf-8").write(half)
PY
  # sqlfluff skips files over 20 kB unless told not to.
  printf '[sqlfluff]\nlarge_file_skip_byte_limit = 0\n' > .sqlfluff
  local pids=() failed=0
  for i in 0 1; do
    sqlfluff parse --dialect redshift "ran$i.sql" > "tree$i" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  cat tree0 tree1 > tree
  [ "$failed" -eq 0 ] || { grep -m5 -B2 PRS tree >&2; false; }
  ! grep -q unparsable tree
  [ "$(grep -c 'copy_statement:' tree)" -gt 10 ]
  [ "$(grep -c 'create_table_statement:' tree)" -gt 10 ]
}

@test "stop ends every process the stand-in started" {
  local pids
  pids=$(cat "$STANDIN_DIR/front.pid" "$STANDIN_DIR/moto.pid" "$STANDIN_DIR/pg/data/postmaster.pid" | head -n 3 | tr '\n' ' ')
  "$SPARKIFY_SOURCE/scripts/redshift_standin.sh" stop "$STANDIN_DIR"
  for pid in $pids; do
    ! kill -0 "$pid" 2>/dev/null
  done
  ! ps -eo args | grep -F "$STANDIN_DIR" | grep -v grep
}
