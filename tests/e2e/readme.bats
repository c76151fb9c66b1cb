#!/usr/bin/env bats
# The README's quick start and its queries run as written, and the queries' answers agree with
# the songplays they summarise.

load helpers

readme_block() { # the fenced block of language $2 after heading $1 (all of them with $3 = all)
  awk -v h="## $1" -v lang="$2" -v all="${3:-}" '
    $0 == h {f = 1; next}
    f && /^## / {exit}
    f && $0 == "```" lang {b = 1; next}
    f && b && /^```$/ {b = 0; if (all) {print ";;"; next} else exit}
    f && b {print}' "$SPARKIFY_SOURCE/README.md"
}

@test "the quick start runs as written" {
  readme_block "Quick start" sh > quick.sh
  [ "$(wc -l < quick.sh)" -ge 5 ]
  PATH="$(dirname "$SPARKIFY"):$PATH" run bash -e quick.sh
  [ "$status" -eq 0 ]
  [[ "$output" == *"Rows per table"* ]]
  [ "$("$SPARKIFY" --target sqlite:sparkify.db query --format csv "SELECT COUNT(*) FROM songplays" | tail -n 1 | tr -d '\r')" -gt 0 ]
}

@test "the queries to start with run on the quick start's warehouse and agree with its songplays" {
  sp -q generate --out sample --events 20000 --songs 500 --seed 1
  sp -q --target "$DB" etl --song-data sample/song_data --log-data sample/log_data
  readme_block "Queries to start with" sql all > queries.sql
  [ "$(grep -c '^;;$' queries.sql)" -eq 4 ]
  i=0
  while IFS= read -r -d ';' sql; do
    sql=${sql#;}
    [ -n "${sql//[$'\n ']/}" ] || continue
    i=$((i + 1))
    sp --target "$DB" query --format csv "$sql" | tr -d '\r' > "answer$i.csv"
  done < <(sed 's/^;;$/;/' queries.sql)
  [ "$i" -eq 4 ]
  sp --target "$DB" query --format csv "SELECT p.user_id, p.level, p.start_time, p.song_id, t.year, t.week FROM songplays p JOIN time t ON t.start_time = p.start_time" | tr -d '\r' > plays.csv
  python3 - <<'PY'
import csv, collections
plays = list(csv.DictReader(open("plays.csv")))
answers = [list(csv.DictReader(open(f"answer{i}.csv"))) for i in range(1, 5)]
top, levels, daily, conversion = answers
latest = max(int(p["year"]) * 100 + int(p["week"]) for p in plays)
week = collections.Counter(p["song_id"] for p in plays if p["song_id"] and int(p["year"]) * 100 + int(p["week"]) == latest)
assert [int(r["plays"]) for r in top] == sorted(week.values(), reverse=True)[:10], (top, week.most_common(10))
by_level = collections.Counter(p["level"] for p in plays)
assert {r["level"]: int(r["plays"]) for r in levels} == dict(by_level), (levels, by_level)
assert sum(int(r["plays"]) for r in daily) == len(plays)
first_free, last_paid = {}, {}
for p in plays:
    if p["level"] == "free":
        first_free[p["user_id"]] = min(first_free.get(p["user_id"], p["start_time"]), p["start_time"])
    if p["level"] == "paid":
        last_paid[p["user_id"]] = max(last_paid.get(p["user_id"], p["start_time"]), p["start_time"])
upgraded = sum(1 for u, t in first_free.items() if u in last_paid and last_paid[u] > t)
assert conversion == [{"free_listeners": str(len(first_free)), "upgraded": str(upgraded)}], conversion
PY
}
