#!/usr/bin/env bats
# The synthetic dataset: the real layout, deterministic bytes, and a known number of matches.

load helpers

@test "the same seed writes the same bytes; another seed does not" {
  sp -q generate --out a --events 5000 --songs 300 --seed 11
  sp -q generate --out b --events 5000 --songs 300 --seed 11
  sp -q generate --out c --events 5000 --songs 300 --seed 12
  [ "$(cd a && find . -type f -print0 | sort -z | xargs -0 sha256sum)" = "$(cd b && find . -type f -print0 | sort -z | xargs -0 sha256sum)" ]
  [ "$(cd a && find . -type f -print0 | sort -z | xargs -0 cat | sha256sum)" != "$(cd c && find . -type f -print0 | sort -z | xargs -0 cat | sha256sum)" ]
}

@test "the layout is the real one: a log file per day and a song per file under A/B/C" {
  run sp generate --out g --events 3000 --songs 200 --days 30 --seed 3
  [ "$status" -eq 0 ]
  [ "$(ls g/log_data/2018/11 | wc -l)" = 30 ]
  [ -f g/log_data/2018/11/2018-11-01-events.json ]
  [ -f g/log_data/2018/11/2018-11-30-events.json ]
  [ "$(find g/song_data -name 'TR*.json' | wc -l)" = 200 ]
  find g/song_data -name 'TR*.json' | while read -r f; do
    base=$(basename "$f" .json)
    [ "$f" = "g/song_data/${base:2:1}/${base:3:1}/${base:4:1}/$base.json" ]
  done
  # JSON Lines with no newline after the last line, like the real files.
  [ "$(tail -c 1 g/log_data/2018/11/2018-11-05-events.json)" = "}" ]
}

@test "generated events have the real shape and quirks" {
  sp -q generate --out g --events 20000 --songs 500 --seed 5
  python3 - g <<'PY'
import glob, json, sys, collections
keys = ["artist", "auth", "firstName", "gender", "itemInSession", "lastName", "length", "level",
        "location", "method", "page", "registration", "sessionId", "song", "status", "ts",
        "userAgent", "userId"]
pages, levels, sessions = collections.Counter(), collections.defaultdict(set), collections.defaultdict(list)
logged_out = non_ascii = escaped_agent = 0
for f in sorted(glob.glob(sys.argv[1] + "/log_data/*/*/*.json")):
    raw = open(f, encoding="utf-8").read()
    escaped_agent += raw.count('\\"Mozilla\\/5.0')
    for line in raw.split("\n"):
        e = json.loads(line)
        assert list(e) == keys, list(e)
        pages[e["page"]] += 1
        if e["userId"] == "":
            logged_out += 1
        else:
            levels[e["userId"]].add(e["level"])
        if any(ord(ch) > 127 for ch in (e["firstName"] or "") + (e["lastName"] or "")):
            non_ascii += 1
        sessions[e["sessionId"]].append(e["itemInSession"])
assert pages.most_common(1)[0][0] == "NextSong"
assert 0.7 < pages["NextSong"] / sum(pages.values()) < 0.9
assert logged_out > 0 and non_ascii > 0 and escaped_agent > 0
assert any(len(v) == 2 for v in levels.values()), "some users change level"
assert all(items == list(range(len(items))) for items in sessions.values()), "consecutive itemInSession"
songs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/song_data/*/*/*/*.json")]
assert any(s["year"] == 0 for s in songs) and any(s["artist_latitude"] is None for s in songs)
PY
}

@test "exactly the NextSong events the generator made to match are matched by etl" {
  run sp generate --out g --events 20000 --songs 500 --seed 9 --match-share 0.4
  [ "$status" -eq 0 ]
  matching=$(printf '%s' "$output" | sed -n 's/.*NextSong, \([0-9]*\) matching a song.*/\1/p')
  [ "$matching" -gt 0 ]
  sp -q --target "$DB" etl --song-data g/song_data --log-data g/log_data
  [ "$(q 'SELECT COUNT(song_id) FROM songplays')" = "$matching" ]
  expected=$(python_expected g/song_data g/log_data)
  [ "$(q 'SELECT COUNT(*) FROM songplays')" = "$(json_field "$expected" songplays)" ]
  [ "$(q 'SELECT COUNT(*) FROM users')" = "$(json_field "$expected" users)" ]
  [ "$(q "SELECT COUNT(*) FROM users WHERE level = 'paid'")" = "$(json_field "$expected" paid_users)" ]
  [ "$(q 'SELECT COUNT(*) FROM artists')" = "$(json_field "$expected" artists)" ]
  [ "$(q 'SELECT COUNT(*) FROM time')" = "$(json_field "$expected" time)" ]
}

@test "--songs-in-one-file writes every song to one file that etl reads whole" {
  sp -q generate --out one --events 2000 --songs 400 --seed 4 --songs-in-one-file
  [ "$(find one/song_data -type f | wc -l)" = 1 ]
  sp -q --target "$DB" etl --song-data one/song_data --log-data one/log_data
  [ "$(q 'SELECT COUNT(*) FROM songs')" = 400 ]
}

@test "generate --dry-run says what it would write and writes nothing" {
  run sp generate --dry-run --out g --events 3000 --songs 200
  [ "$status" -eq 0 ]
  [ "$output" = "-- dry run: generate runs no SQL; it would write 3000 events and 200 songs under g" ]
  [ ! -e g ]
}

@test "generated data passes every data-quality check: no session holds two events at one instant" {
  # The demo's own parameters: before events were kept strictly apart in time, this set held a
  # play twice, which the checks count as a double load.
  sp -q generate --out g --events 100000 --songs 5000 --seed 42
  run sp --target "$DB" etl --check --song-data g/song_data --log-data g/log_data
  [ "$status" -eq 0 ]
  python3 - g/log_data <<'PY'
import glob, json, sys
for f in glob.glob(sys.argv[1] + "/*/*/*.json"):
    ts = [json.loads(l)["ts"] for l in open(f) if l.strip()]
    assert all(a < b for a, b in zip(ts, ts[1:])), f
PY
}

@test "every hour of a generated day has plays, and each hour its share of the day's events" {
  # Plays per hour (UTC) in the real November 2018 logs, as the generator weighs them. Before,
  # the day's events ran out by about 19:35 and hours 20 to 23 had none.
  sp -q generate --out g --events 40000 --songs 100 --days 2 --seed 8
  python3 - g/log_data <<'PY'
import glob, json, sys
weights = [155, 154, 117, 109, 136, 162, 183, 179, 207, 270, 312, 336,
           308, 324, 432, 477, 542, 494, 498, 367, 360, 280, 217, 201]
files = sorted(glob.glob(sys.argv[1] + "/*/*/*.json"))
assert len(files) == 2, files
for f in files:
    events, plays = [0] * 24, [0] * 24
    for line in open(f):
        e = json.loads(line)
        hour = e["ts"] // 3600000 % 24
        events[hour] += 1
        plays[hour] += e["page"] == "NextSong"
    n, total_plays = sum(events), sum(plays)
    assert n == 20000, (f, n)
    assert all(plays), (f, "an hour without plays", plays)
    for hour, weight in enumerate(weights):
        # Event i falls in slice i of the day: an hour gets its share to within two events.
        expected = n * weight / sum(weights)
        assert abs(events[hour] - expected) < 2, (f, hour, events[hour], expected)
        # The plays among them, drawn at random, keep the shares to within a point.
        share = plays[hour] / total_plays
        assert abs(share - weight / sum(weights)) < 0.01, (f, hour, share)
PY
}

@test "generate refuses a directory holding earlier output; --force removes song_data and log_data first" {
  sp -q generate --out g --events 300 --songs 50 --seed 2
  run sp generate --out g --events 300 --songs 20 --seed 2
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: g is not empty; nothing was written (the new files would mix with what is there: use --force to remove g/song_data and g/log_data first)" ]
  [ "$(find g/song_data -name 'TR*.json' | wc -l)" = 50 ]
  # --force empties only what generate writes: a file of the user's beside them stays.
  echo notes > g/README
  sp -q generate --out g --events 300 --songs 20 --seed 2 --force
  [ "$(find g/song_data -name 'TR*.json' | wc -l)" = 20 ]
  [ "$(cat g/README)" = notes ]
  # What is left is what a fresh directory receives.
  sp -q generate --out fresh --events 300 --songs 20 --seed 2
  rm g/README
  [ "$(cd g && find . -type f -print0 | sort -z | xargs -0 sha256sum)" = "$(cd fresh && find . -type f -print0 | sort -z | xargs -0 sha256sum)" ]
  # An empty directory is fine without --force; a file where the directory should be is not.
  mkdir empty
  sp -q generate --out empty --events 10 --songs 1
  touch plain
  run sp generate --out plain --events 10 --songs 1
  [ "$status" -eq 2 ]
  [ "$output" = "sparkify: plain: not a directory" ]
}
