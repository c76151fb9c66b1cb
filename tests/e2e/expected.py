#!/usr/bin/env python3
"""Expected star-schema facts computed straight from the raw JSON, by a route independent of
sparkify: Python's json module and plain dictionaries, following DESIGN.md section 3.

usage: expected.py SONG_DIR LOG_DIR  -> prints one JSON object of counts
"""
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


def songs_in(path):
    text = open(path, encoding="utf-8").read()
    decoder, i = json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return
        obj, i = decoder.raw_decode(text, i)
        yield obj


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
            e = json.loads(line)
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


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
