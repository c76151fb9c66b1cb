#!/usr/bin/env bats
# `sparkify report`: every section's numbers on the real sample against expected.py (which reads
# the raw JSON with Python, an independent route), the period options, the text, CSV and JSON
# formats, and the HTML page as headless Chromium renders it.

load helpers

load_sample() {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/s3_subset/song_data" --log-data "$DATA/log_data"
}

# same_report EXPECTED_JSON ACTUAL_JSON: every section equal, or the first difference shown.
same_report() {
  python3 - "$1" "$2" <<'PY'
import json, sys
expected, actual = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert sorted(expected) == sorted(actual), (sorted(expected), sorted(actual))
assert expected.pop("notes") == actual.pop("notes"), "notes differ"
for name in expected:
    for i, (e, a) in enumerate(zip(expected[name], actual[name])):
        assert e == a, f"{name} row {i}: expected {e}, got {a}"
    assert len(expected[name]) == len(actual[name]), f"{name}: {len(expected[name])} rows expected, got {len(actual[name])}"
PY
}

@test "every report section on the real sample equals an independent reading of the raw JSON" {
  load_sample
  run sp --target "$DB" report --format json
  [ "$status" -eq 0 ]
  same_report "$(python_expected report "$DATA/s3_subset/song_data" "$DATA/log_data")" "$output"
  # The sample really exercises every section: matches, both levels, several browser families.
  python3 - "$output" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["matched"][0]["matched"] == 39 and len(r["top_songs"]) == 10, r["matched"]
assert {row["level"] for row in r["level_share"]} == {"free", "paid"}
assert sum(row["percent_of_plays"] for row in r["level_share"]) == 100
assert len(r["browsers"]) >= 4 and len(r["operating_systems"]) >= 4
assert len(r["daily_active_users"]) == 30 and len(r["plays_by_hour"]) == 24 and len(r["plays_by_weekday"]) == 7
PY
}

@test "--since and --until keep the plays of those whole UTC days in every section about plays" {
  load_sample
  for period in "--since 2018-11-05 --until 2018-11-11" "--since 2018-11-30" "--until 2018-11-02" "--since 2018-11-14 --until 2018-11-14"; do
    # shellcheck disable=SC2086
    run sp --target "$DB" report --format json --top 5 $period
    [ "$status" -eq 0 ]
    # shellcheck disable=SC2086
    same_report "$(python_expected report "$DATA/s3_subset/song_data" "$DATA/log_data" --top 5 $period)" "$output"
  done
  # One day: one row of daily active users; the table sizes are still the whole warehouse's.
  run sp --target "$DB" report --format json --since 2018-11-14 --until 2018-11-14
  [ "$(json_field "$output" daily_active_users)" = "[{'day': '2018-11-14', 'users': 28, 'plays': 390}]" ]
  [[ "$(json_field "$output" row_counts)" == "[{'table_name': 'songplays', 'row_count': 6820}"* ]]
}

@test "a period outside the data gives empty sections, not an error" {
  load_sample
  run sp --target "$DB" report --format json --since 2030-01-01
  [ "$status" -eq 0 ]
  python3 -c 'import json,sys; r = json.loads(sys.argv[1]); assert r["matched"] == [{"songplays": 0, "matched": 0}] and r["notes"] == {}; assert all(r[k] == [] for k in r if k not in ("row_counts", "matched", "notes")), r' "$output"
}

@test "a malformed or impossible day, or a period that ends before it starts, is a usage error naming it" {
  load_sample
  for bad in 2018-11-31 2018-02-29 2018/11/05 18-11-05 "2018-11-05 00:00" "2018-11-05' OR '1'='1" 1969-12-31 ""; do
    run sp --target "$DB" report --since "$bad"
    [ "$status" -eq 2 ]
    [ "$output" = "sparkify report: --since takes a day as YYYY-MM-DD, not '$bad' (see \`sparkify report --help\`)" ]
  done
  run sp --target "$DB" report --until 2018-11-04 --since 2018-11-05
  [ "$status" -eq 2 ]
  [[ "$output" == *"--until 2018-11-04 is before --since 2018-11-05"* ]]
  # A leap day is a day.
  run sp --target "$DB" report --since 2016-02-29 --until 2016-02-29 --format csv
  [ "$status" -eq 0 ]
}

@test "text tables fit \$COLUMNS, cutting the widest text cells with an ellipsis; piped output keeps whole rows" {
  load_sample
  COLUMNS=48 run sp --target "$DB" report --top 5
  [ "$status" -eq 0 ]
  # Every line fits 48 characters (the ellipsis counts as one), and cells were cut.
  printf '%s\n' "$output" | python3 -c 'import sys; lines = sys.stdin.read().splitlines(); w = max(len(l) for l in lines); assert w <= 48, w'
  [[ "$output" == *"…"* ]]
  # Numbers are never cut: the plays of the top location are whole.
  [[ "$output" == *"  691      2"* ]]
  run sp --target "$DB" report --top 10
  [[ "$output" == *"Sacramento--Roseville--Arden-Arcade, CA    270      1"* ]]
  [[ "$output" != *"…"* ]]
}

@test "on a terminal, text tables fit its width" {
  load_sample
  command -v script >/dev/null || skip "script (util-linux) is absent"
  env -u COLUMNS script -qec "stty cols 40 rows 50; '$SPARKIFY' --target '$DB' report --top 5" /dev/null | tr -d '\r' > shown.txt
  [ "$(grep -c '^Top songs by plays$' shown.txt)" -eq 1 ]
  python3 -c 'import sys; lines = open(sys.argv[1], encoding="utf-8").read().splitlines(); w = max(len(l) for l in lines); assert w <= 40, w' shown.txt
  grep -q '…' shown.txt
}

@test "CSV carries the same rows and notes as JSON, one titled block per section" {
  load_sample
  json=$(sp --target "$DB" report --format json --top 3)
  sp --target "$DB" report --format csv --top 3 > report.csv
  python3 - "$json" report.csv <<'PY'
import csv, json, sys
sections = json.loads(sys.argv[1])
notes = sections.pop("notes")
blocks = open(sys.argv[2], newline="").read().split("\r\n\r\n")
blocks = [b for b in blocks if b.strip()]
assert len(blocks) == len(sections), (len(blocks), len(sections))
for block, (name, rows) in zip(blocks, sections.items()):
    lines = block.split("\r\n")
    assert lines[0].startswith("# "), lines[0]
    comments = [line[2:] for line in lines[1:] if line.startswith("# ")]
    assert comments == ([notes[name]] if name in notes else []), (name, comments)
    body = [line for line in lines[1:] if not line.startswith("# ")]
    parsed = list(csv.DictReader(body))
    as_text = [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
    assert parsed == as_text, (name, parsed[:2], as_text[:2])
PY
}

@test "top songs and artists say, in every text format, how few plays matched a song and why" {
  need_sample
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  note="1 of 6,820 plays (0.01%) matched a song in the catalog; top songs and artists count only those. A play matches when its song title, artist name and length equal a catalog song's exactly; the catalog holds 71 songs."
  run sp --target "$DB" report --format json
  python3 -c 'import json, sys; r = json.loads(sys.argv[1]); assert r["notes"] == {"top_songs": sys.argv[2], "top_artists": sys.argv[2]}, r["notes"]' "$output" "$note"
  run sp --target "$DB" report --format csv
  [ "$(printf '%s\n' "$output" | tr -d '\r' | grep -c -Fx "# $note")" -eq 2 ]
  [[ "$(printf '%s\n' "$output" | tr -d '\r')" == *"# Top songs by plays"$'\n'"# $note"$'\n'"song,artist,plays"$'\n'"Setanta matins,Elena,1"* ]]
  # A table wraps the note to 80 columns, or to a narrower terminal.
  run sp --target "$DB" report
  [[ "$output" == *"Top artists by plays"$'\n'"1 of 6,820 plays (0.01%) matched a song in the catalog; top songs and artists"$'\n'"count only those. A play matches when its song title, artist name and length"$'\n'"equal a catalog song's exactly; the catalog holds 71 songs."$'\n'"artist  plays"* ]]
  [ "$(grep -c 'matched a song in the catalog' <<<"$output")" -eq 2 ]
  COLUMNS=40 run sp --target "$DB" report --section top_songs
  printf '%s\n' "$output" | python3 -c 'import sys; w = max(len(l) for l in sys.stdin.read().splitlines()); assert w <= 40, w'
}

@test "the matched note: none when every play matched or the period is empty, and an empty catalog is named" {
  need_sample
  sp -q --target "$DB" etl --log-data "$DATA/log_data"
  run sp --target "$DB" report --format json --since 2018-11-30
  python3 -c 'import json, sys; n = json.loads(sys.argv[1])["notes"]; assert n["top_songs"] == n["top_artists"] == "0 of 330 plays matched a song: the catalog holds no songs (etl --song-data loads them), so top songs and artists are empty.", n' "$output"
  run sp --target "$DB" report --format json --since 2030-01-01
  python3 -c 'import json, sys; assert json.loads(sys.argv[1])["notes"] == {}' "$output"
  DB="sqlite:$TMP/matched.db"
  sp -q --target "$DB" etl --song-data "$DATA/song_data" --log-data "$DATA/log_data"
  sp -q --target "$DB" query --write "DELETE FROM songplays WHERE song_id IS NULL"
  run sp --target "$DB" report --format json
  python3 -c 'import json, sys; r = json.loads(sys.argv[1]); assert r["matched"] == [{"songplays": 1, "matched": 1}] and r["notes"] == {}, r' "$output"
  run sp --target "$DB" report --format csv
  [[ "$output" != *"matched a song in the catalog"* ]]
}

@test "--section NAME as CSV is one plain CSV table: a header row and the section's rows, as in JSON" {
  load_sample
  json=$(sp --target "$DB" report --format json --top 5)
  for name in $(python3 -c 'import json, sys; print(" ".join(k for k in json.loads(sys.argv[1]) if k != "notes"))' "$json"); do
    sp -q --target "$DB" report --format csv --top 5 --section "$name" > "$name.csv"
    sp -q --target "$DB" report --format csv --section "$name" --since 2030-01-01 > "$name.empty.csv"
    python3 - "$json" "$name" <<'PY'
import csv, json, sys
rows, name = json.loads(sys.argv[1])[sys.argv[2]], sys.argv[2]
with open(name + ".csv", newline="") as f:
    table = list(csv.reader(f, strict=True))
assert table[0] == list(rows[0]), (name, table[0])
assert table[1:] == [["" if v is None else str(v) for v in row.values()] for row in rows], name
# A period without plays still gives the header, so that the file still loads.
with open(name + ".empty.csv", newline="") as f:
    empty = list(csv.reader(f, strict=True))
assert empty[0] == table[0], (name, empty)
assert len(empty) == 1 or name in ("row_counts", "matched"), (name, empty)
PY
  done
  # The note a plain CSV has no room for goes to stderr (-q leaves it out).
  run sp --target "$DB" report --format csv --section top_artists --top 1
  [ "$output" = "$(printf 'artist,plays\r\nKid Cudi,5\r')
sparkify report: 39 of 6,820 plays (0.57%) matched a song in the catalog; top songs and artists count only those. A play matches when its song title, artist name and length equal a catalog song's exactly; the catalog holds 1,943 songs." ]
  run sp -q --target "$DB" report --format csv --section top_artists --top 1
  [ "$output" = "$(printf 'artist,plays\r\nKid Cudi,5\r')" ]
}

@test "--section works with table and json, is refused with html, and an unknown name lists the sections --help lists" {
  load_sample
  run sp --target "$DB" report --section level_share
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'Plays by level (paid vs free)\nlevel  plays  percent_of_plays\n-----  -----  ----------------\npaid    5591             81.98\nfree    1229             18.02\n(2 rows)')" ]
  run sp --target "$DB" report --format json --section top_songs --top 1
  python3 -c 'import json, sys; r = json.loads(sys.argv[1]); assert list(r) == ["top_songs", "notes"] and list(r["notes"]) == ["top_songs"] and len(r["top_songs"]) == 1, r' "$output"
  run sp --target "$DB" report --format html --section top_songs -o report.html
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify report: --section selects a section of the table, csv or json report; the html page is always whole (see \`sparkify report --help\`)" ]
  [ ! -e report.html ]
  names="row_counts, matched, top_songs, top_artists, top_users, plays_by_hour, plays_by_weekday, level_share, top_locations, browsers, operating_systems, daily_active_users"
  run sp --target "$DB" report --section songs
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify report: --section takes a section name, not 'songs'; the sections are $names (see \`sparkify report --help\`)" ]
  # The names are the JSON report's keys, in order, and --help lists every one of them.
  [ "$names" = "$(sp --target "$DB" report --format json | python3 -c 'import json, sys; print(", ".join(k for k in json.load(sys.stdin) if k != "notes"))')" ]
  help=$(sp report --help | tr -s ' \n' '  ')
  [[ "$help" == *"NAME is one of $names"* ]]
}

@test "-o writes the report whole or not at all: a failing query leaves the old file and no temporary file" {
  load_sample
  run sp --target "$DB" report --format html -o "$TMP/missing-dir/report.html"
  [ "$status" -eq 1 ]
  [ "$output" = "sparkify: $TMP/missing-dir/report.html: cannot create the output file: No such file or directory" ]
  echo old > report.html
  sp -q --target "$DB" query --write "DROP TABLE time" >/dev/null
  run sp --target "$DB" report --format html -o report.html
  [ "$status" -eq 1 ]
  [[ "$output" == *"report section 'row_counts'"*"no such table: time"* ]]
  [ "$(cat report.html)" = old ]
  [ "$(ls)" = "$(printf 'report.html\nw.db')" ]
}

@test "the HTML report is one self-contained page: no scripts, no links, no URLs" {
  load_sample
  run sp --target "$DB" report --format html -o report.html
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  head -c 15 report.html | grep -q '<!DOCTYPE html>'
  ! grep -Eiq '<script|<link|<img|<iframe|src=|href=|url\(|https?:|//fonts|@import' report.html
  [ "$(grep -c '<svg class="chart' report.html)" -eq 10 ]
  [ "$(stat -c %a report.html)" = "$(umask -S >/dev/null; printf '%o' $((0666 & ~$(umask))))" ]
}

@test "the HTML report escapes warehouse text, so a name cannot inject markup" {
  load_sample
  sp -q --target "$DB" query --write "UPDATE users SET first_name = '<img src=x onerror=alert(1)>', last_name = 'O''Brien & \"Co\"' WHERE user_id = '49'"
  sp --target "$DB" report --format html -o report.html
  grep -q '&lt;img src=x onerror=alert(1)&gt; O&#39;Brien &amp; &quot;Co&quot;' report.html
  ! grep -q '<img' report.html
}

@test "the HTML report renders in headless Chromium: a picture, and every chart drawn in the DOM" {
  load_sample
  command -v chromium >/dev/null || skip "chromium is absent (scripts/deps.sh test installs it)"
  json=$(sp --target "$DB" report --format json)
  sp --target "$DB" report --format html -o report.html
  chrome=(timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
          --disable-background-networking --disable-component-update --disable-sync
          --user-data-dir="$TMP/profile" --window-size=1280,2000)
  "${chrome[@]}" --screenshot="$TMP/shot.png" "file://$TMP/report.html" 2>/dev/null
  "${chrome[@]}" --dump-dom "file://$TMP/report.html" > dom.html 2>/dev/null
  # Debian's python3, for which python3-pil installs PIL (a python3 earlier on PATH may lack it).
  /usr/bin/python3 - "$json" shot.png dom.html <<'PY'
import collections, json, sys
from html.parser import HTMLParser
from PIL import Image

report = json.loads(sys.argv[1])
# The picture is not blank: many colours, most of the page drawn on, and the hour histogram's
# orange bars and the paid share's indigo there in quantity.
image = Image.open(sys.argv[2]).convert("RGB")
assert image.size == (1280, 2000), image.size
colours = collections.Counter(image.getdata())
background = colours[(0xf1, 0xf5, 0xf9)] + colours[(0xff, 0xff, 0xff)]
assert len(colours) > 200, len(colours)
assert background < 0.9 * 1280 * 2000, background
assert colours[(0xf9, 0x73, 0x16)] > 20000, colours[(0xf9, 0x73, 0x16)]
assert colours[(0x4f, 0x46, 0xe5)] > 5000, colours[(0x4f, 0x46, 0xe5)]

# The rendered DOM holds every chart with one mark per row of its section.
class Marks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.chart, self.marks = None, collections.Counter()
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg" and "chart" in attrs.get("class", "").split():
            self.chart = attrs["id"]
            self.marks[(self.chart, "svg")] += 1
        elif self.chart:
            for cls in attrs.get("class", "").split():
                self.marks[(self.chart, tag + "." + cls)] += 1
    def handle_endtag(self, tag):
        if tag == "svg":
            self.chart = None

m = Marks()
m.feed(open(sys.argv[3], encoding="utf-8").read())
bars = {"chart-top-songs": "top_songs", "chart-top-artists": "top_artists", "chart-top-users": "top_users",
        "chart-top-locations": "top_locations", "chart-browsers": "browsers",
        "chart-operating-systems": "operating_systems"}
for chart, section in bars.items():
    assert m.marks[(chart, "svg")] == 1, chart
    assert m.marks[(chart, "rect.bar")] == len(report[section]) > 0, (chart, m.marks[(chart, "rect.bar")])
assert m.marks[("chart-plays-by-hour", "rect.bar")] == 24
assert m.marks[("chart-plays-by-weekday", "rect.bar")] == 7
assert m.marks[("chart-daily-active-users", "polyline.dau-line")] == 1
assert m.marks[("chart-daily-active-users", "circle.dau-point")] == len(report["daily_active_users"]) == 30
assert m.marks[("chart-level-share", "rect.share-segment")] == len(report["level_share"]) == 2
for chart in ["chart-plays-by-hour", "chart-daily-active-users", "chart-plays-by-weekday"] + list(bars):
    assert m.marks[(chart, "text.axis-label")] >= 1, chart
    assert m.marks[(chart, "text.value")] >= 1, chart
PY
}

# dom FILE: the DOM headless Chromium renders from FILE (scripts off: the page has none).
dom() {
  command -v chromium >/dev/null || skip "chromium is absent (scripts/deps.sh test installs it)"
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$TMP/profile" --window-size=1280,2000 --dump-dom "file://$TMP/$1" 2>/dev/null
}

# page_text DOM_FILE: JSON of what the rendered page says, by element: the texts of each class
# inside each chart (id/class), of each element with an id, and the page's visible text.
page_text() {
  /usr/bin/python3 - "$1" <<'PY'
import collections, json, sys
from html.parser import HTMLParser

class Texts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.out, self.visible = [], collections.defaultdict(list), []
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        chart = next((s[1] for s in reversed(self.stack) if s[1]), None)
        if tag == "svg" and "chart" in (attrs.get("class") or "").split():
            chart = attrs.get("id")
        self.stack.append((tag, chart, attrs.get("class") or "", attrs.get("id"), []))
        if tag == "svg" and chart == attrs.get("id"):
            self.out["charts"].append(chart)
    def handle_endtag(self, tag):
        while self.stack:
            t, chart, cls, ident, text = self.stack.pop()
            joined = "".join(text)
            if self.stack:
                self.stack[-1][4].append(joined)
            for c in cls.split():
                self.out[f"{chart or 'page'} {t}.{c}"].append(joined)
            if ident:
                self.out["#" + ident].append(joined)
            if t == tag:
                break
    def handle_data(self, data):
        if self.stack and self.stack[-1][0] not in ("style", "title", "script"):
            self.stack[-1][4].append(data)
            self.visible.append(data)

t = Texts()
t.feed(open(sys.argv[1], encoding="utf-8").read())
t.out["visible"] = [" ".join(" ".join(t.visible).split())]
print(json.dumps(t.out))
PY
}

@test "the HTML page shows bar labels whole above their bars, the matched note once, and paid vs free in large type" {
  load_sample
  json=$(sp --target "$DB" report --format json)
  sp --target "$DB" report --format html -o report.html
  dom report.html > dom.html
  page_text dom.html > texts.json
  python3 - "$json" texts.json <<'PY'
import json, sys
report, page = json.loads(sys.argv[1]), json.load(open(sys.argv[2]))
# Every location and song in full, metropolitan areas such as "Sacramento--Roseville--Arden-Arcade, CA" too.
assert page["chart-top-locations text.label"] == [r["location"] for r in report["top_locations"]], page["chart-top-locations text.label"]
assert "Sacramento--Roseville--Arden-Arcade, CA" in page["chart-top-locations text.label"]
assert page["chart-top-songs text.label"] == [f'{r["song"]} — {r["artist"]}' for r in report["top_songs"]]
assert not any("…" in label for key, labels in page.items() if key.endswith("text.label") for label in labels)
# The note, once, above the top songs and artists it is about, and the matched share beside the count.
assert page["#matched-note"] == [report["notes"]["top_songs"]], page["#matched-note"]
assert page["page p.note"] == page["#matched-note"]
assert "matched to a song (0.57%)" in page["page div.kpi-label"], page["page div.kpi-label"]
# Paid vs free: each level's share in large type, with its plays.
assert page["chart-level-share text.share-value"] == ["81.98%", "18.02%"], page["chart-level-share text.share-value"]
assert page["chart-level-share text.share-plays"] == ["5,591 plays", "1,229 plays"]
# The wide charts are marked, so that a narrow screen draws their text larger.
assert [c for c in page["charts"]] == ["chart-plays-by-hour", "chart-daily-active-users", "chart-top-songs", "chart-top-artists", "chart-top-users", "chart-top-locations", "chart-plays-by-weekday", "chart-level-share", "chart-browsers", "chart-operating-systems"], page["charts"]
PY
  [ "$(grep -c '<svg class="chart vbars wide" id="chart-plays-by-hour"' report.html)" -eq 1 ]
  [ "$(grep -c '<svg class="chart line wide" id="chart-daily-active-users"' report.html)" -eq 1 ]
}

@test "the HTML page of a period without plays says so once, with no charts and no zero bars" {
  load_sample
  sp --target "$DB" report --format html --since 2030-01-01 -o empty.html
  dom empty.html > dom.html
  page_text dom.html > texts.json
  python3 - texts.json <<'PY'
import json, sys
page = json.load(open(sys.argv[1]))
visible = page["visible"][0]
assert visible.lower().count("no plays in this period") == 1, visible
assert "No plays in this period The warehouse holds 6,820 plays, all outside it: choose another period." in visible, visible
assert page.get("charts", []) == [], page["charts"]
assert not any(key.endswith("rect.bar") for key in page), [k for k in page if "bar" in k]
# The cards: the period's plays and what the warehouse holds; no shares of nothing.
assert page["page div.kpi-value"] == ["0", "96", "1,943", "1,809"], page["page div.kpi-value"]
PY
  ! grep -q '<svg' empty.html
}

@test "the HTML page of plays that match no song says why, in the note and in the empty top songs and artists" {
  need_sample
  sp -q --target "$DB" etl --log-data "$DATA/log_data"
  sp --target "$DB" report --format html --since 2018-11-14 --until 2018-11-14 -o report.html
  dom report.html > dom.html
  page_text dom.html > texts.json
  python3 - texts.json <<'PY'
import json, sys
page = json.load(open(sys.argv[1]))
assert page["#matched-note"] == ["0 of 390 plays matched a song: the catalog holds no songs (etl --song-data loads them), so top songs and artists are empty."], page["#matched-note"]
assert page["chart-top-songs text.empty"] == page["chart-top-artists text.empty"] == ["no play matched a song in the catalog"]
assert "chart-top-songs rect.bar" not in page and len(page["chart-top-users rect.bar"]) == 10
assert "no plays in this period" not in page["visible"][0].lower()
PY
}
