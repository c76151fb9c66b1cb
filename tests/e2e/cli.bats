#!/usr/bin/env bats
# The command line as a user meets it: create-tables, query formats, report, progress, help.

load helpers

load_sample() {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
}

@test "create-tables --force creates every table and empties a loaded warehouse" {
  load_sample
  run sp --target "$DB" create-tables --force
  [ "$status" -eq 0 ]
  [ "$output" = "created tables in $DB" ]
  [ "$(q "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name)")" = "artists etl_runs load_errors loaded_objects song_lookup songplays songs staging_events staging_songs time user_latest users" ]
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = 0 ]
  [ "$(q 'SELECT COUNT(*) FROM loaded_objects')" = 0 ]
}

@test "query prints an aligned table by default" {
  load_sample
  run sp --target "$DB" query "SELECT level, COUNT(*) AS users FROM users GROUP BY level ORDER BY level"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'level  users\n-----  -----\nfree      74\npaid      22\n(2 rows)')" ]
}

@test "query --format csv quotes per RFC 4180" {
  load_sample
  run sp --target "$DB" query --format csv "SELECT location FROM songplays WHERE user_id = '10' LIMIT 1"
  [ "$status" -eq 0 ]
  [ "$(printf '%s' "$output" | tr -d '\r')" = "$(printf 'location\n"Washington-Arlington-Alexandria, DC-VA-MD-WV"')" ]
}

@test "query --format json keeps numbers as numbers and NULL as null" {
  load_sample
  run sp --target "$DB" query --format json "SELECT song_id, session_id, 1.5 AS x FROM songplays WHERE user_id = '10' ORDER BY start_time LIMIT 1"
  [ "$status" -eq 0 ]
  [ "$output" = '[{"song_id":null,"session_id":9,"x":1.5}]' ]
}

@test "report prints table sizes, matches, top songs and artists and plays by hour" {
  load_sample
  run sp --target "$DB" report --format json
  [ "$status" -eq 0 ]
  python3 - "$output" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
counts = {row["table_name"]: row["row_count"] for row in r["row_counts"]}
assert counts == {"songplays": 6820, "users": 96, "songs": 71, "artists": 69, "time": 6813}, counts
assert r["matched"] == [{"songplays": 6820, "matched": 1}], r["matched"]
assert r["top_songs"] == [{"song": "Setanta matins", "artist": "Elena", "plays": 1}], r["top_songs"]
assert r["top_artists"] == [{"artist": "Elena", "plays": 1}], r["top_artists"]
hours = r["plays_by_hour"]
assert [h["hour"] for h in hours] == list(range(24)), hours
assert sum(h["plays"] for h in hours) == 6820
PY
}

@test "plays by hour in the report agree with an hour count straight from the raw ts" {
  load_sample
  expected=$(python3 - "$DATA/log_data" <<'PY'
import glob, json, sys, datetime, collections
c = collections.Counter()
for f in glob.glob(sys.argv[1] + "/*/*/*.json"):
    for line in open(f):
        e = json.loads(line)
        if e["page"] == "NextSong" and e["userId"]:
            c[datetime.datetime.fromtimestamp(e["ts"] / 1000, datetime.timezone.utc).hour] += 1
print(" ".join(str(c[h]) for h in range(24)))
PY
)
  actual=$(sp --target "$DB" report --format csv | tr -d '\r' | sed -n '/^# Plays by hour/,/^$/p' | tail -n +3 | cut -d, -f2 | tr '\n' ' ' | sed 's/ *$//')
  [ "$actual" = "$expected" ]
}

@test "report --top N limits the lists" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
  run sp --target "$DB" report --format json --top 3
  [ "$status" -eq 0 ]
  [ "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(len(r["top_songs"]), len(r["top_artists"]))' "$output")" = "3 3" ]
  # The first top song is the most played matched song.
  [ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["top_songs"][0]["plays"])' "$output")" = "$(q 'SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM songplays WHERE song_id IS NOT NULL GROUP BY song_id)')" ]
}

@test "--progress always draws a progress line on stderr; -q prints nothing" {
  need_sample
  run sp --progress always --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  [ "$status" -eq 0 ]
  [[ "$output" == *"events: 30/30 objects"*"records/s"* ]]
  run sp -q --target "sqlite:$TMP/quiet.db" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "no progress line when stderr is not a terminal" {
  need_sample
  run sp --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  [ "$status" -eq 0 ]
  [[ "$output" != *"objects,"* ]]
  [ "${#lines[@]}" -eq 1 ]
}

# The commands and subcommands `sparkify --help-all` names ("cluster create" as two words).
all_commands() {
  sp --help-all | awk -F '\t' '$1 == "command" { print $2 }'
}

@test "every command answers --help, and so does every subcommand" {
  [ "$(all_commands | tr '\n' ' ')" = "init cluster cluster create cluster status cluster delete create-tables etl check report status query generate help version " ]
  mapfile -t commands < <(all_commands)
  for cmd in "${commands[@]}"; do
    # shellcheck disable=SC2086 # "cluster create" is two arguments
    run sp $cmd --help
    [ "$status" -eq 0 ]
    [[ "$output" == "usage: sparkify $cmd"* ]]
  done
  run sp cluster -h
  [ "$status" -eq 0 ]
  [[ "$output" == "usage: sparkify cluster create"*"   or: sparkify cluster status"*"   or: sparkify cluster delete"* ]]
  run sp --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"init [FILE]"*"cluster create|status|delete"*"create-tables"*"etl"*"check"*"report"*"query"*"generate"*"help [COMMAND]"*"version"* ]]
}

@test "an option given without its value is named (exit 2), before or after the command" {
  run sp etl --max-errors
  [ "$status" -eq 2 ]
  [ "$output" = 'sparkify etl: option --max-errors needs a value (see `sparkify etl --help`)' ]
  run sp --config
  [ "$status" -eq 2 ]
  [ "$output" = 'sparkify: option --config needs a value (see `sparkify --help`)' ]
  run sp report -o
  [ "$status" -eq 2 ]
  [ "$output" = 'sparkify report: option --output needs a value (see `sparkify report --help`)' ]
}

@test "a value an option does not take is refused with what it takes, however the option is spelled" {
  run sp --progress sometimes etl
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: --progress takes auto, always or never, not 'sometimes' (see \`sparkify --help\`)" ]
  run sp etl --progress=sometimes
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify etl: --progress takes auto, always or never, not 'sometimes' (see \`sparkify etl --help\`)" ]
  run sp etl --s3-concurrency=0
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify etl: --s3-concurrency takes a number from 1 to 1000, not '0' (see \`sparkify etl --help\`)" ]
  run sp etl --s3-max-k 1001
  [ "$status" -eq 2 ]
  [[ "$output" == *"--s3-max-keys takes a number from 1 to 1000, not '1001'"* ]]
  run sp generate --start-date 2018-13-01
  [ "$status" -eq 2 ]
  [[ "$output" == *"--start-date takes YYYY-MM-DD, not '2018-13-01'"* ]]
}

@test "the reference's usage block (docs/reference.md) is what sparkify --help prints" {
  : "${SPARKIFY_SOURCE:?SPARKIFY_SOURCE must name the source tree}"
  diff -u <(awk '/^## Using it/ {f = 1; next} f && /^```$/ {if (b) exit; b = 1; next} b' "$SPARKIFY_SOURCE/docs/reference.md") <(sp --help)
}

@test "every option --help-all lists is in its command's --help and known to its parser" {
  rows=$(sp --help-all)
  mapfile -t commands < <(all_commands)
  for cmd in "${commands[@]}"; do
    # A command with subcommands takes none of its own: they are checked one by one.
    if grep -q "^command	$cmd " <<<"$rows"; then
      continue
    fi
    # shellcheck disable=SC2086 # "cluster create" is two arguments
    help=$(sp $cmd --help)
    # Global or its own, the long name, and whether the option takes a value (its value name is
    # not empty).
    options=$(awk -F '\t' -v cmd="$cmd" '$1 == "option" && ($2 == cmd || $2 == "*") { print ($2 == "*" ? "*" : "-"), $4, ($5 == "" ? "flag" : "value") }' <<<"$rows")
    [ -n "$options" ]
    while read -r name long kind; do
      [ "$name" = '*' ] || [[ "$help" == *"$long"* ]]
      # shellcheck disable=SC2086
      if [ "$kind" = value ]; then
        run sp $cmd "$long"
        [ "$status" -eq 2 ]
        [[ "$output" == *"option $long needs a value"* ]]
      else
        run sp $cmd "$long" --help
        [ "$status" -eq 0 ]
        [[ "$output" == "usage: sparkify $cmd"* ]]
      fi
    done <<<"$options"
  done
}

@test "every help fits in 80 columns" {
  mapfile -t commands < <(all_commands)
  for cmd in "${commands[@]}"; do
    # shellcheck disable=SC2086
    [ -z "$(sp $cmd --help | awk 'length > 80')" ]
  done
  [ -z "$(sp --help | awk 'length > 80')" ]
}

@test "init takes one FILE or none" {
  run sp init a.cfg b.cfg
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify init: unexpected argument 'b.cfg' (see \`sparkify init --help\`)" ]
  [ ! -e a.cfg ]
  run sp init --help
  [ "$status" -eq 0 ]
  [[ "$output" == "usage: sparkify init [FILE]"* ]]
  [ "$(sp --help-all | grep '^operand	init	')" = "operand	init	[FILE]" ]
}

@test "help COMMAND prints what COMMAND --help prints, and help alone what --help prints" {
  [ "$(sp help etl)" = "$(sp etl --help)" ]
  [ "$(sp help cluster)" = "$(sp cluster --help)" ]
  [ "$(sp help)" = "$(sp --help)" ]
  run sp help etll
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify help: unknown command 'etll'; did you mean etl? (see \`sparkify help --help\`)" ]
}

@test "-V, --version and version print the same version" {
  [ "$(sp -V)" = "sparkify 0.1.0" ]
  [ "$(sp --version)" = "sparkify 0.1.0" ]
  [ "$(sp version)" = "sparkify 0.1.0" ]
}

@test "a misspelt command, subcommand or option is answered with the nearest known name (exit 2)" {
  run sp etll
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: unknown command 'etll'; did you mean etl? (see \`sparkify --help\`)" ]
  run sp reprot
  [ "$output" = "sparkify: unknown command 'reprot'; did you mean report? (see \`sparkify --help\`)" ]
  run sp etl --log-dta x
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify etl: unknown option '--log-dta'; did you mean --log-data? (see \`sparkify etl --help\`)" ]
  run sp query --formt=csv "SELECT 1"
  [ "$output" = "sparkify query: unknown option '--formt=csv'; did you mean --format? (see \`sparkify query --help\`)" ]
  run sp cluster creat
  [ "$output" = "sparkify cluster: unknown subcommand 'creat'; did you mean create? (see \`sparkify cluster --help\`)" ]
  # Nothing near: no guess.
  run sp xyzzy
  [ "$output" = "sparkify: unknown command 'xyzzy' (see \`sparkify --help\`)" ]
  run sp etl --colour
  [ "$output" = "sparkify etl: unknown or invalid option '--colour' (see \`sparkify etl --help\`)" ]
}

@test "options may follow the SQL, and after -- every argument is the SQL" {
  sp -q --target "$DB" create-tables
  run sp query "SELECT 1 AS a, 'x' AS b" --format csv --target "$DB"
  [ "$status" -eq 0 ]
  [ "$(printf '%s' "$output" | tr -d '\r')" = "$(printf 'a,b\n1,x')" ]
  run sp --target "$DB" query -- "SELECT 1" --format csv
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify query: expected exactly one SQL argument (see \`sparkify query --help\`)" ]
  run sp --target "$DB" query --format csv -- "-- one
SELECT 2 AS n"
  [ "$(printf '%s' "$output" | tr -d '\r')" = "$(printf 'n\n2')" ]
}

@test "query - reads the SQL from stdin" {
  sp -q --target "$DB" create-tables
  run sp --target "$DB" query --format csv - <<< $'-- from a file\nSELECT 3 AS n;\n'
  [ "$status" -eq 0 ]
  [ "$(printf '%s' "$output" | tr -d '\r')" = "$(printf 'n\n3')" ]
  run sp --target "$DB" query - < /dev/null
  [ "$status" -eq 2 ]
  [[ "$output" == *"query needs an SQL statement, and this holds none []" ]]
}

@test "query -o FILE writes the rows to FILE whole, and a failed query leaves FILE as it was" {
  sp -q --target "$DB" create-tables
  run sp --target "$DB" query "SELECT 'a long value' AS v, 2 AS n" -o out.txt
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  # A file gets whole rows, whatever the terminal's width.
  COLUMNS=20 sp --target "$DB" query "SELECT 'a rather long value here' AS v, 2 AS n" -o out.txt
  [ "$(cat out.txt)" = "$(printf 'v                         n\n------------------------  -\na rather long value here  2\n(1 row)')" ]
  sp --target "$DB" query -f json -o out.txt "SELECT 1 AS n"
  [ "$(cat out.txt)" = '[{"n":1}]' ]
  run sp --target "$DB" query -o out.txt "SELECT * FROM no_such_table"
  [ "$status" -ne 0 ]
  [ "$(cat out.txt)" = '[{"n":1}]' ]
  [ "$(ls -A)" = "$(printf 'out.txt\nw.db')" ]
}

@test "etl --format json ends the run with one object on stdout: objects by kind, counts, seconds, the target" {
  need_sample
  sp --target "$DB" --progress always etl --song-data "$DATA/song_data" --log-data "$DATA/log_data" --format json > out.json 2> err.txt
  [ "$(wc -l < out.json)" -eq 1 ]
  # The progress line stays on stderr; the summary line gives way to the object.
  [[ "$(cat err.txt)" == *"objects,"* ]]
  [[ "$(cat err.txt)" != *"loaded 30 log"* ]]
  [ "$(jq -c 'del(.seconds)' out.json)" = "{\"target\":\"$DB\",\"objects\":{\"song\":{\"loaded\":71,\"skipped\":0},\"log\":{\"loaded\":30,\"skipped\":0}},\"bytes\":3774819,\"song_records\":71,\"events\":8056,\"songplays\":6820,\"matched\":1,\"users\":96,\"songs\":71,\"artists\":69,\"bad_records\":0,\"open_lines\":0}" ]
  [ "$(jq '.seconds | type == "number" and . >= 0' out.json)" = true ]
  # A second run loads nothing and says which objects it skipped; with --check, how many
  # checks passed.
  sp --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data" --format json --check > out.json 2> err.txt
  [ ! -s err.txt ]
  [ "$(jq -c '[.objects, .events, .songplays, .checks_passed]' out.json)" = '[{"song":{"loaded":0,"skipped":71},"log":{"loaded":0,"skipped":30}},0,0,26]' ]
}

@test "etl --format json with --dry-run is refused: both would write stdout" {
  run sp --target "$DB" --dry-run etl --log-data x --format json
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify etl: --format json and --dry-run both write to stdout: give one of them (see \`sparkify etl --help\`)" ]
}

# The progress line's rewrites on stderr, one per line, without the escape that clears it.
progress_rewrites() {
  tr '\r' '\n' < "$1" | sed 's/\x1b\[K//g' | grep -v '^$'
}

@test "the progress line fits COLUMNS, and shows the commit as a phase of its own" {
  need_sample
  COLUMNS=50 sp --target "$DB" --progress always etl --song-data "$DATA/song_data" --log-data "$DATA/log_data" --format json > out.json 2> err.txt
  [ "$(jq .songplays out.json)" = 6820 ]
  [ -z "$(progress_rewrites err.txt | awk 'length > 50')" ]
  progress_rewrites err.txt | grep -q '^events: 30/30 objects, 3.8/3.8 MB, '
  [ "$(progress_rewrites err.txt | tail -n 1)" = "committing..." ]
  # The line is cleared at the end: stderr ends with the escape that erases it.
  [ "$(tail -c 4 err.txt | od -An -c | tr -s ' ')" = ' \r 033 [ K' ]
  # Wide enough, the line is whole.
  COLUMNS=200 sp --target "$DB" --progress always etl --full-refresh --song-data "$DATA/song_data" --log-data "$DATA/log_data" --format json > out.json 2> err.txt
  progress_rewrites err.txt | grep -Eq '^events: 30/30 objects, 3.8/3.8 MB, [0-9]+ records/s$'
}
