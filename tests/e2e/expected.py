#!/usr/bin/env python3
"""Expected star-schema facts computed straight from the raw JSON, by a route independent of
sparkify: Python's json module and plain dictionaries, following DESIGN.md section 3.

usage: expected.py SONG_DIR LOG_DIR  -> prints one JSON object of counts
       expected.py report SONG_DIR LOG_DIR [--top N] [--since DAY] [--until DAY]
                                          -> prints what `sparkify report --format json` prints
"""
import argparse
import collections
import datetime
import json
import os
import sys


def files(root):
    for base, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.endswith(".json") and not name.startswith("."):
                yield os.path.join(base, name)


def as_text(value):
    # COPY keeps a JSON number in a text column as its text.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(value)
    return value


def trimmed(obj):
    # No star table keeps a trailing space (docs/reference.md, "Tables and their meaning"): every string
    # value is read without its trailing spaces, as Redshift compares it.
    return {k: v.rstrip(" ") if isinstance(v, str) else v for k, v in obj.items()}


def songs_in(path):
    text = open(path, encoding="utf-8").read()
    decoder, i = json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return
        obj, i = decoder.raw_decode(text, i)
        yield trimmed(obj)


def main(song_dir, log_dir):
    song_ids, artist_ids, match_keys = set(), set(), set()
    for path in files(song_dir):
        for s in songs_in(path):
            song_ids.add(s["song_id"])
            if s.get("artist_id"):
                artist_ids.add(s["artist_id"])
            if s.get("title") is not None and s.get("artist_name") is not None and s.get("duration") is not None:
                match_keys.add((as_text(s["title"]), as_text(s["artist_name"]), float(s["duration"])))

    events = songplays = matched = 0
    start_times, latest = set(), {}
    for path in files(log_dir):
        for line in open(path, encoding="utf-8"):
            if not line.strip():
                continue
            e = trimmed(json.loads(line))
            events += 1
            if e.get("page") != "NextSong" or e.get("userId") in (None, ""):
                continue
            songplays += 1
            start_times.add(e["ts"])
            length = e.get("length")
            if length is not None and (as_text(e.get("song")), as_text(e.get("artist")), float(length)) in match_keys:
                matched += 1
            user, key = str(e["userId"]), (e["ts"], e.get("level") or "")
            if user not in latest or key > latest[user]:
                latest[user] = key
    levels = [level for _, level in latest.values()]
    print(json.dumps({
        "events": events,
        "songplays": songplays,
        "matched": matched,
        "users": len(latest),
        "paid_users": levels.count("paid"),
        "free_users": levels.count("free"),
        "songs": len(song_ids),
        "artists": len(artist_ids),
        "time": len(start_times),
    }, sort_keys=True))


# ---- the report ----

# docs/report.md's user-agent rules: the first family one of whose substrings the agent contains, ASCII
# letters compared without case; an empty or missing agent is Unknown, no match is Other.
BROWSERS = [("Edge", ["edge/", "edg/"]), ("Opera", ["opr/", "opera"]),
            ("Firefox", ["firefox/", "fxios/"]), ("Chrome", ["chrome/", "crios/", "chromium/"]),
            ("Internet Explorer", ["msie ", "trident/"]), ("Safari", ["safari/"])]
SYSTEMS = [("Windows", ["windows"]), ("iOS", ["iphone", "ipad", "ipod"]), ("Android", ["android"]),
           ("Chrome OS", ["cros "]), ("macOS", ["mac os x", "macintosh"]), ("Linux", ["linux"])]
WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def family(agent, rules):
    if not agent:
        return "Unknown"
    lowered = "".join(c.lower() if c.isascii() else c for c in agent)
    for name, needles in rules:
        if any(n in lowered for n in needles):
            return name
    return "Other"


def number(value):
    return None if value is None or value == "" else float(value)


def last_nulls(value):
    """Sort key: by bytes (code points, for UTF-8), NULL after every value."""
    return (value is None, value or "")


def ranked(counter, top=None):
    """(key, plays) by plays descending, then key ascending with NULL last, cut to top."""
    rows = sorted(counter.items(), key=lambda kv: (-kv[1], last_nulls(kv[0])))
    return rows[:top] if top else rows


def star_rows(song_dir):
    """The songs and artists tables and the match index, by DESIGN.md section 3 and docs/reference.md."""
    songs, artists, matches = {}, {}, {}
    for path in files(song_dir):
        for s in songs_in(path):
            title, artist_id, name = as_text(s.get("title")), s.get("artist_id"), as_text(s.get("artist_name"))
            year, duration = s.get("year"), number(s.get("duration"))
            row = (title, artist_id, None if year in (None, "") else year, duration)
            key = tuple(last_nulls(v) for v in row)
            if s["song_id"] not in songs or key < songs[s["song_id"]][0]:
                songs[s["song_id"]] = (key, row)
            if artist_id:
                loc, lat, lon = as_text(s.get("artist_location")), number(s.get("artist_latitude")), number(s.get("artist_longitude"))
                rank = (lat is None, lon is None, (loc or "") == "", name is None, len(name or ""), name or "",
                        loc is None, loc or "", lat or 0, lon or 0)
                if artist_id not in artists or rank < artists[artist_id][0]:
                    artists[artist_id] = (rank, name)
            if title is not None and name is not None and duration is not None:
                match = (title, name, duration)
                candidate = (s["song_id"], artist_id or "")
                if match not in matches or candidate < matches[match]:
                    matches[match] = candidate
    return ({k: v[1] for k, v in songs.items()}, {k: v[1] for k, v in artists.items()}, matches)


def report(song_dir, log_dir, top, since, until):
    songs, artists, matches = star_rows(song_dir)
    plays, latest = [], {}
    start_times, loaded = set(), 0
    for path in files(log_dir):
        for line in open(path, encoding="utf-8"):
            if not line.strip():
                continue
            e = trimmed(json.loads(line))
            if e.get("page") != "NextSong" or e.get("userId") in (None, ""):
                continue
            user = str(e["userId"])
            when = datetime.datetime.fromtimestamp(e["ts"] / 1000, datetime.timezone.utc)
            start_times.add(e["ts"])
            loaded += 1
            length = e.get("length")
            song_id, artist_id = matches.get((as_text(e.get("song")), as_text(e.get("artist")), number(length)), (None, None))
            # users: the latest event by ts, then the greatest level, then the smallest names
            names = tuple(last_nulls(e.get(k)) for k in ("firstName", "lastName", "gender"))
            if user in latest:
                ts, level, best = latest[user][0]
                if (e["ts"], e.get("level") or "") < (ts, level) or \
                        ((e["ts"], e.get("level") or "") == (ts, level) and names >= best):
                    names = None
            if names is not None:
                latest[user] = ((e["ts"], e.get("level") or "", names), e.get("firstName"), e.get("lastName"))
            day = when.date().isoformat()
            if (since and day < since) or (until and day > until):
                continue
            plays.append({"user": user, "when": when, "day": day, "level": e.get("level"),
                          "location": e.get("location"), "agent": e.get("userAgent"),
                          "song_id": song_id, "artist_id": artist_id or None})

    def count(key):
        return collections.Counter(key(p) for p in plays)

    def users_by(key):
        seen = collections.defaultdict(set)
        for p in plays:
            seen[key(p)].add(p["user"])
        return seen

    total = len(plays)
    song_plays = count(lambda p: (songs[p["song_id"]][0], artists.get(p["artist_id"])) if p["song_id"] else None)
    del song_plays[None]
    song_rows = sorted(song_plays.items(), key=lambda kv: (-kv[1], last_nulls(kv[0][0]), last_nulls(kv[0][1])))[:top]
    artist_plays = count(lambda p: artists[p["artist_id"]] if p["artist_id"] in artists else None)
    del artist_plays[None]
    user_plays = count(lambda p: p["user"])
    located = count(lambda p: p["location"])
    del located[None]
    location_users = users_by(lambda p: p["location"])
    browsers, browser_users = count(lambda p: family(p["agent"], BROWSERS)), users_by(lambda p: family(p["agent"], BROWSERS))
    systems, system_users = count(lambda p: family(p["agent"], SYSTEMS)), users_by(lambda p: family(p["agent"], SYSTEMS))
    days, day_users = count(lambda p: p["day"]), users_by(lambda p: p["day"])
    hours = count(lambda p: p["when"].hour)
    weekdays = count(lambda p: p["when"].isoweekday() % 7)
    note = matched_note(total, sum(1 for p in plays if p["song_id"]), len(songs))
    return {
        "row_counts": [{"table_name": t, "row_count": n} for t, n in
                       [("songplays", loaded), ("users", len(latest)), ("songs", len(songs)),
                        ("artists", len(artists)), ("time", len(start_times))]],
        "matched": [{"songplays": total, "matched": sum(1 for p in plays if p["song_id"])}],
        "top_songs": [{"song": s, "artist": a, "plays": n} for (s, a), n in song_rows],
        "top_artists": [{"artist": a, "plays": n} for a, n in ranked(artist_plays, top)],
        "top_users": [{"user_id": u, "first_name": latest[u][1], "last_name": latest[u][2], "plays": n}
                      for u, n in ranked(user_plays, top)],
        "plays_by_hour": [{"hour": h, "plays": hours[h]} for h in sorted(hours)],
        "plays_by_weekday": [{"weekday": d, "day_name": WEEKDAYS[d], "plays": weekdays[d]} for d in sorted(weekdays)],
        "level_share": [{"level": level, "plays": n, "percent_of_plays": (20000 * n + total) // (2 * total) / 100}
                        for level, n in ranked(count(lambda p: p["level"]))],
        "top_locations": [{"location": loc, "plays": n, "users": len(location_users[loc])}
                          for loc, n in ranked(located, top)],
        "browsers": [{"browser": b, "plays": n, "users": len(browser_users[b])} for b, n in ranked(browsers)],
        "operating_systems": [{"os": o, "plays": n, "users": len(system_users[o])} for o, n in ranked(systems)],
        "daily_active_users": [{"day": d, "users": len(day_users[d]), "plays": days[d]} for d in sorted(days)],
        "notes": {"top_songs": note, "top_artists": note} if note else {},
    }


def matched_note(plays, matched, songs):
    """docs/report.md, "Report": the note beside top_songs and top_artists when some play did not match."""
    if plays == 0 or matched == plays:
        return None
    if songs == 0:
        return (f"{matched:,} of {plays:,} plays matched a song: the catalog holds no songs "
                "(etl --song-data loads them), so top songs and artists are empty.")
    hundredths = matched * 10000 // plays
    share = ("under 0.01" if matched and not hundredths else
             f"{hundredths // 100}" if hundredths % 100 == 0 else f"{hundredths // 100}.{hundredths % 100:02d}")
    return (f"{matched:,} of {plays:,} plays ({share}%) matched a song in the catalog; top songs and "
            "artists count only those. A play matches when its song title, artist name and length "
            f"equal a catalog song's exactly; the catalog holds {songs:,} song{'' if songs == 1 else 's'}.")


if __name__ == "__main__":
    if sys.argv[1] == "report":
        args = argparse.ArgumentParser()
        args.add_argument("song_dir")
        args.add_argument("log_dir")
        args.add_argument("--top", type=int, default=10)
        args.add_argument("--since")
        args.add_argument("--until")
        a = args.parse_args(sys.argv[2:])
        r = report(a.song_dir, a.log_dir, a.top, a.since, a.until)
        print(json.dumps(r, ensure_ascii=False, indent=1))
    else:
        main(sys.argv[1], sys.argv[2])
