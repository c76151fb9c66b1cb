#!/usr/bin/env python3
"""Times `sparkify etl` against DuckDB and Polars doing the same job, and against the floor.

For each dataset: generate it once (cached under --data), then run each tool --runs times on a
fresh database, keep the median wall time and the largest peak RSS (from /usr/bin/time), check
that all produced the same row counts and the same number of matched songplays, and print a
table with the ratios DuckDB time / sparkify time and Polars time / sparkify time. The floor
is measured in the same run: simdjson parsing the input alone plus SQLite inserting the star
rows alone (bench/floor/); sparkify's time over the floor is printed beside it. Then the cost
of one more day: a warehouse holding days 1-29, and day 30 loaded into it (with --scale, a
31st day into the 10x warehouse). Run through bench/run.sh, which builds and installs what
this needs.
"""
import argparse
import contextlib
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTS_SQL = (
    "SELECT (SELECT COUNT(*) FROM songplays) AS songplays, "
    "(SELECT COUNT(song_id) FROM songplays) AS matched, (SELECT COUNT(*) FROM users) AS users, "
    "(SELECT COUNT(*) FROM songs) AS songs, (SELECT COUNT(*) FROM artists) AS artists, "
    "(SELECT COUNT(*) FROM time) AS time"
)


def timed(command, env=None):
    """Runs command under /usr/bin/time; returns (seconds, peak RSS in MB, stdout). The seconds
    are the wall time measured here with a monotonic clock: time's own %e has a resolution of
    0.01 s, and a run on a tiny dataset would take 0.00 s (and divide by zero in events/s)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.monotonic()
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", report.name] + command,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        seconds = time.monotonic() - start
        if result.returncode != 0:
            sys.exit(f"bench: {' '.join(command)} failed:\n{result.stderr}")
        kilobytes = report.read().split()[-1]
    return seconds, int(kilobytes) / 1024, result.stdout


def generate(args, name, events, songs, one_file, extra=()):
    path = os.path.join(args.data, name)
    if os.path.exists(os.path.join(path, ".complete")):
        return path
    shutil.rmtree(path, ignore_errors=True)
    command = [args.sparkify, "-q", "generate", "--out", path, "--events", str(events),
               "--songs", str(songs), "--seed", "1"] + list(extra)
    if one_file:
        command.append("--songs-in-one-file")
    print(f"generating {name} ...", file=sys.stderr, flush=True)
    subprocess.run(command, check=True)
    open(os.path.join(path, ".complete"), "w").close()
    return path


def remove_database(db):
    for suffix in ("", "-journal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)


def sqlite_etl(args, data, db, songs=True):
    """`sparkify etl` of data's song_data (unless not `songs`) and log_data into db; returns
    (seconds, peak MB)."""
    sources = ["--song-data", os.path.join(data, "song_data")] if songs else []
    seconds, rss, _ = timed([args.sparkify, "-q", "--target", f"sqlite:{db}", "etl"] + sources +
                            ["--log-data", os.path.join(data, "log_data")])
    return seconds, rss


def sqlite_counts(args, db):
    out = subprocess.run([args.sparkify, "--target", f"sqlite:{db}", "query", "--format", "json",
                          COUNTS_SQL], check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)[0]


def run_sparkify(args, data, workdir):
    """Leaves its warehouse in workdir/sparkify.db: the floor's insert reads its star rows."""
    db = os.path.join(workdir, "sparkify.db")
    remove_database(db)
    seconds, rss = sqlite_etl(args, data, db)
    return seconds, rss, sqlite_counts(args, db)


def run_postgres(args, data, workdir, transform):
    """One run into a fresh database of the benchmark's PostgreSQL server."""
    name = f"bench_{transform}"
    admin = args.postgres
    subprocess.run(["psql", "-q", admin, "-c", f"DROP DATABASE IF EXISTS {name}",
                    "-c", f"CREATE DATABASE {name}"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = admin.rsplit("/", 1)[0] + "/" + name
    seconds, rss, _ = timed([args.sparkify, "-q", "--target", target, "etl",
                             "--transform", transform,
                             "--song-data", os.path.join(data, "song_data"),
                             "--log-data", os.path.join(data, "log_data")])
    out = subprocess.run([args.sparkify, "--target", target, "query", "--format", "json",
                          COUNTS_SQL], check=True, stdout=subprocess.PIPE, text=True).stdout
    return seconds, rss, json.loads(out)[0]


def run_postgres_direct(args, data, workdir):
    return run_postgres(args, data, workdir, "c")


def run_postgres_sql(args, data, workdir):
    return run_postgres(args, data, workdir, "sql")


def run_duckdb(args, data, workdir):
    db = os.path.join(workdir, "duckdb.db")
    for suffix in ("", ".wal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    seconds, rss, out = timed(["node", os.path.join(HERE, "duckdb_etl.mjs"), data, db])
    return seconds, rss, json.loads(out)


def run_polars(args, data, workdir):
    out = os.path.join(workdir, "polars")
    shutil.rmtree(out, ignore_errors=True)
    seconds, rss, printed = timed(["node", os.path.join(HERE, "polars_etl.mjs"), data, out])
    return seconds, rss, json.loads(printed)


def run_floor(args, data, workdir):
    """The floor, in two programs that time themselves (process start-up excluded): simdjson
    parsing every input file, and SQLite inserting the star rows of workdir/sparkify.db (the
    warehouse run_sparkify left) into a fresh file. Returns their seconds and reports."""
    _, _, printed = timed([os.path.join(args.floor, "parse_floor"),
                           os.path.join(data, "log_data"), os.path.join(data, "song_data")])
    parse = json.loads(printed)
    fresh = os.path.join(workdir, "floor.db")
    _, _, printed = timed([os.path.join(args.floor, "insert_floor"),
                           os.path.join(workdir, "sparkify.db"), fresh])
    insert = json.loads(printed)
    remove_database(fresh)
    return parse["seconds"], insert["seconds"], parse, insert


def measure_floor(args, data, workdir):
    parses, inserts, reports = [], [], None
    for _ in range(args.runs):
        parse_seconds, insert_seconds, parse, insert = run_floor(args, data, workdir)
        parses.append(parse_seconds)
        inserts.append(insert_seconds)
        reports = (parse, insert)
    return statistics.median(parses), statistics.median(inserts), reports


def floor_disagreement(counts, events, songs, parse, insert):
    """What the floor's programs saw that the ETL's counts or the dataset contradict, if any."""
    problems = []
    for table in ("songplays", "users", "songs", "artists", "time"):
        if insert[table] != counts[table]:
            problems.append(f"floor inserted {insert[table]} {table} rows, sparkify has "
                            f"{counts[table]}")
    if parse["events"] != events:
        problems.append(f"floor parsed {parse['events']} events, the dataset has {events}")
    if songs is not None and parse["songs"] != songs:
        problems.append(f"floor parsed {parse['songs']} songs, the dataset has {songs}")
    return problems


def log_files(data):
    """The dataset's log files (one per day, named by date), in date order."""
    found = []
    for base, _, names in os.walk(os.path.join(data, "log_data")):
        found.extend(os.path.join(base, n) for n in names if n.endswith(".json"))
    return sorted(found, key=os.path.basename)


def linked_dataset(data, dest, days):
    """dest/song_data links to data's song_data; dest/log_data holds links to the first `days`
    log files. A day added later is one more link in the same directory, so a run with the same
    sources finds the objects it loaded before under the paths it loaded them from."""
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(os.path.join(dest, "log_data"))
    os.symlink(os.path.abspath(os.path.join(data, "song_data")), os.path.join(dest, "song_data"))
    for path in log_files(data)[:days]:
        add_day(dest, path)
    return dest


def add_day(linked, log_file):
    os.symlink(os.path.abspath(log_file), os.path.join(linked, "log_data",
                                                       os.path.basename(log_file)))


def plus_one_day(args, linked, base_db, new_log, workdir, songs=True):
    """Day `new_log` loaded into a copy of base_db (a warehouse of linked's other days) by the
    daily run's command: the same sources, one new file among them (with `songs` false, the
    log files only: the job that runs when only logs arrive). Returns the median seconds, the
    largest peak MB, the warehouse's counts after the run and the day's events."""
    if not os.path.lexists(os.path.join(linked, "log_data", os.path.basename(new_log))):
        add_day(linked, new_log)
    warm(os.path.dirname(new_log))
    with open(new_log, "rb") as f:
        day_events = sum(1 for line in f if line.strip())
    db = os.path.join(workdir, "plus1.db")
    times, peaks = [], []
    for _ in range(args.runs):
        remove_database(db)
        shutil.copyfile(base_db, db)
        # The copy's pages are written out now: the run's commit fsyncs the file, and would
        # otherwise pay for writing the whole copy.
        with open(db, "rb+") as f:
            os.fsync(f.fileno())
        seconds, rss = sqlite_etl(args, linked, db, songs)
        times.append(seconds)
        peaks.append(rss)
    counts = sqlite_counts(args, db)
    remove_database(db)
    return statistics.median(times), max(peaks), counts, day_events


def next_day(log_file):
    """The date after a log file's (YYYY-MM-DD-events.json), as YYYY-MM-DD."""
    day = datetime.date.fromisoformat(os.path.basename(log_file)[:10])
    return (day + datetime.timedelta(days=1)).isoformat()


def warm(data):
    """Reads every file once so that no tool pays for a cold page cache the other did not."""
    for base, _, names in os.walk(data, followlinks=True):
        for name in names:
            with open(os.path.join(base, name), "rb") as f:
                while f.read(1 << 20):
                    pass


def measure(args, runner, data, workdir):
    warm(data)
    times, peaks, counts = [], [], None
    for _ in range(args.runs):
        seconds, rss, counts = runner(args, data, workdir)
        times.append(seconds)
        peaks.append(rss)
    return statistics.median(times), max(peaks), counts


@contextlib.contextmanager
def s3_server(tests_s3, workdir, latency):
    """s3rver behind the test front (no signature check), every request held `latency` ms;
    yields the ports."""
    env = dict(os.environ, S3_TEST_LATENCY_MS=str(latency), S3_TEST_VERIFY="0")
    server = subprocess.Popen(
        ["node", "--openssl-legacy-provider", os.path.join(tests_s3, "server.mjs"),
         os.path.join(workdir, "s3"), "bench"],
        stdout=subprocess.PIPE, text=True, env=env)
    try:
        yield json.loads(server.stdout.readline())
    finally:
        server.terminate()
        server.wait()


def s3_bench(args):
    """Fetches --s3-objects small song files from s3rver through the test front, first with no
    added latency (s3rver's own ceiling: it spends about 1.2 ms of CPU per GET), then with
    --s3-latency ms added to every request, and compares objects/s with both bounds."""
    count = args.s3_objects
    data = generate(args, f"s3-songs-{count}", 0, count, False)
    tests_s3 = os.path.join(HERE, "..", "tests", "s3")
    if not os.path.isdir(os.path.join(tests_s3, "node_modules", "s3rver")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=tests_s3, check=True)
    results = []
    for latency in (0, args.s3_latency):
        with tempfile.TemporaryDirectory() as workdir, \
                s3_server(tests_s3, workdir, latency) as ports:
            subprocess.run(["node", os.path.join(tests_s3, "upload.mjs"), str(ports["s3rver"]),
                            "bench", "song_data", os.path.join(data, "song_data")],
                           check=True, stdout=subprocess.DEVNULL)
            db = os.path.join(workdir, "s3.db")
            env = dict(os.environ, AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="x")
            seconds, rss, _ = timed([args.sparkify, "-q", "--target", f"sqlite:{db}", "etl",
                                     "--s3-endpoint", f"http://127.0.0.1:{ports['front']}",
                                     "--s3-concurrency", str(args.s3_concurrency),
                                     "--song-data", "s3://bench/song_data"], env=env)
            stats = json.loads(subprocess.run(
                ["curl", "-s", f"http://127.0.0.1:{ports['front']}/__stats"],
                check=True, stdout=subprocess.PIPE, text=True).stdout)
        results.append((latency, count / seconds, stats["maxInFlight"]))
    ceiling = results[0][1]
    bound = args.s3_concurrency / (args.s3_latency / 1000.0)
    print(f"\nS3: {count} one-object song files through s3rver on 127.0.0.1, "
          f"concurrency {args.s3_concurrency}")
    print(f"{'added latency':<16} {'objects/s':>10} {'max in flight':>14}")
    for latency, rate, in_flight in results:
        print(f"{str(latency) + ' ms':<16} {rate:>10.0f} {in_flight:>14}")
    achievable = min(bound, ceiling)
    print(f"bound at {args.s3_latency} ms: concurrency/latency = {bound:.0f}/s; s3rver ceiling "
          f"(no added latency) = {ceiling:.0f}/s; achieved {results[1][1]:.0f}/s = "
          f"{100 * results[1][1] / achievable:.0f}% of min(bound, ceiling)")



def s3_upload_bench(args):
    """Uploads the --s3-objects small song files to s3rver through the test front, as a Redshift
    run uploads local files (tools/upload_files.c drives the same library code), with no
    added latency and then with --s3-latency ms, and compares objects/s with both bounds; then
    one --s3-upload-mb file, sent in parts of 16 MiB, in MB/s. The two latencies alternate,
    --runs times (this machine is shared: a pair run back to back sees the same load), and the
    medians count."""
    tool = args.upload_files or os.path.join(os.path.dirname(os.path.abspath(args.sparkify)),
                                             "tools", "upload_files")
    if not os.access(tool, os.X_OK):
        print(f"\nS3 uploads: skipped, no {tool} (it is built with sparkify, in tools/)")
        return
    count = args.s3_objects
    data = generate(args, f"s3-songs-{count}", 0, count, False)
    big = os.path.join(args.data, f"s3-upload-{args.s3_upload_mb}mb")
    if not os.path.exists(os.path.join(big, ".complete")):
        os.makedirs(big, exist_ok=True)
        line = json.dumps({"page": "NextSong", "userId": "7", "song": "x" * 400}).encode() + b"\n"
        with open(os.path.join(big, "big.json"), "wb") as f:
            f.write(line * (args.s3_upload_mb * (1 << 20) // len(line)))
        open(os.path.join(big, ".complete"), "w").close()
    tests_s3 = os.path.join(HERE, "..", "tests", "s3")
    if not os.path.isdir(os.path.join(tests_s3, "node_modules", "s3rver")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=tests_s3, check=True)
    latencies = (0, args.s3_latency)
    objects = {latency: [] for latency in latencies}
    large = {latency: [] for latency in latencies}
    for _ in range(max(1, args.runs)):
        for latency in latencies:
            with tempfile.TemporaryDirectory() as workdir, \
                    s3_server(tests_s3, workdir, latency) as ports:
                env = dict(os.environ, AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="x",
                           AWS_ENDPOINT_URL=f"http://127.0.0.1:{ports['front']}")
                for source, results in ((os.path.join(data, "song_data"), objects), (big, large)):
                    _, rss, out = timed([tool, "--concurrency", str(args.s3_concurrency), source,
                                         f"s3://bench/up-{len(results[latency])}-{source == big}"],
                                        env=env)
                    report = json.loads(out)
                    stats = json.loads(subprocess.run(
                        ["curl", "-s", f"http://127.0.0.1:{ports['front']}/__stats"],
                        check=True, stdout=subprocess.PIPE, text=True).stdout)
                    results[latency].append((report["objects"] / report["send_seconds"],
                                             report["bytes"] / 1e6 / report["send_seconds"],
                                             stats["maxInFlight"], report["read_seconds"], rss))
    median = lambda rows, i: statistics.median(row[i] for row in rows)
    ceiling = median(objects[0], 0)
    achieved = median(objects[args.s3_latency], 0)
    bound = args.s3_concurrency / (args.s3_latency / 1000.0)
    print(f"\nS3 uploads: {count} one-object song files to s3rver on 127.0.0.1, "
          f"concurrency {args.s3_concurrency} (median of {max(1, args.runs)})")
    print(f"{'added latency':<16} {'objects/s':>10} {'max in flight':>14} {'read pass s':>12}")
    for latency in latencies:
        rows = objects[latency]
        print(f"{str(latency) + ' ms':<16} {median(rows, 0):>10.0f} {max(r[2] for r in rows):>14} "
              f"{median(rows, 3):>12.2f}")
    achievable = min(bound, ceiling)
    print(f"bound at {args.s3_latency} ms: concurrency/latency = {bound:.0f}/s; s3rver ceiling "
          f"(no added latency) = {ceiling:.0f}/s; achieved {achieved:.0f}/s = "
          f"{100 * achieved / achievable:.0f}% of min(bound, ceiling)")
    rates = [median(large[latency], 1) for latency in latencies]
    print(f"S3 uploads: one {args.s3_upload_mb} MB file in parts of 16 MiB: "
          f"{rates[0]:.0f} MB/s with no added latency, {rates[1]:.0f} MB/s with {args.s3_latency} ms "
          f"({100 * rates[1] / rates[0]:.0f}%); peak RSS "
          f"{max(r[4] for rows in large.values() for r in rows):.0f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sparkify", required=True, help="the binary under test")
    parser.add_argument("--floor", required=True,
                        help="directory holding parse_floor and insert_floor (bench/floor)")
    parser.add_argument("--data", default=os.path.join(HERE, "data"), help="dataset cache")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--songs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per tool; the median counts")
    parser.add_argument("--scale", action="store_true",
                        help="also 10x the events (sparkify, the floor and +1 day only)")
    parser.add_argument("--s3-objects", type=int, default=10_000,
                        help="small objects for the S3 fetch benchmark (0 skips it)")
    parser.add_argument("--s3-latency", type=int, default=20, help="added latency, ms")
    parser.add_argument("--s3-concurrency", type=int, default=32)
    parser.add_argument("--s3-upload-mb", type=int, default=256,
                        help="the large file of the S3 upload benchmark, MB")
    parser.add_argument("--upload-files", help="tools/upload_files.c's binary (default: "
                        "tools/upload_files beside --sparkify)")
    parser.add_argument("--no-postgres", action="store_true",
                        help="skip the PostgreSQL target")
    parser.add_argument("--real", default=os.path.join(HERE, "..", "..", "shared", "data", "udacity"),
                        help="the real Udacity sample (skipped when absent)")
    args = parser.parse_args()
    os.makedirs(args.data, exist_ok=True)

    # (name, data, events, songs); songs is None where the dataset's song count is not known.
    datasets = [
        (f"{args.events} events, {args.songs} song files",
         generate(args, f"e{args.events}-s{args.songs}-files", args.events, args.songs, False),
         args.events, args.songs),
        (f"{args.events} events, songs in one file",
         generate(args, f"e{args.events}-s{args.songs}-onefile", args.events, args.songs, True),
         args.events, args.songs),
    ]
    if os.path.isdir(os.path.join(args.real, "log_data")):
        datasets.append(("real sample (8,056 events, 71 songs)", os.path.abspath(args.real), 8056,
                         71))
    else:
        print(f"bench: real sample absent at {args.real}; skipped", file=sys.stderr)
    scaled = None
    if args.scale:
        scaled_events = args.events * 10
        scaled_data = generate(args, f"e{scaled_events}-s{args.songs}-files", scaled_events,
                               args.songs, False)
        # One more day of the same users and catalogue, dated the day after the last one.
        last = log_files(scaled_data)[-1]
        days = len(log_files(scaled_data))
        extra_day = generate(
            args, f"e{scaled_events}-s{args.songs}-day-after", scaled_events // days, args.songs,
            True, ["--days", "1", "--start-date", next_day(last),
                   "--users", str(max(10, scaled_events // 80))])
        scaled = (f"{scaled_events} events, {args.songs} song files (scale)", scaled_data,
                  scaled_events, args.songs, log_files(extra_day)[0])

    # rows: (dataset, tool, seconds, events/s, peak MB, note)
    rows, failures = [], []
    server = None

    def floor_rows(name, data, events, songs, s_time, s_counts, workdir):
        """The floor's three rows for the table, and whether its programs agree with sparkify."""
        parse_s, insert_s, (parse, insert) = measure_floor(args, data, workdir)
        floor = parse_s + insert_s
        problems = floor_disagreement(s_counts, events, songs, parse, insert)
        failures.extend(f"{name}: {p}" for p in problems)
        return [(name, "floor: parse", parse_s, events / parse_s, None,
                 f"simdjson, {parse['bytes'] / 1e6 / parse_s:,.0f} MB/s"),
                (name, "floor: insert", insert_s, events / insert_s, None,
                 f"SQLite, {insert['rows']:,} star rows"),
                (name, "floor", floor, events / floor, None,
                 f"sparkify sqlite / floor = {s_time / floor:.2f}x (goal <= 1.3x)")], not problems

    with tempfile.TemporaryDirectory() as workdir:
        if not args.no_postgres:
            server = tempfile.mkdtemp(prefix="sparkify-bench-pg.")
            os.chmod(server, 0o755)
            args.postgres = subprocess.run(
                [os.path.join(HERE, "..", "scripts", "pg_server.sh"), "start", server + "/s"],
                check=True, stdout=subprocess.PIPE, text=True,
                env=dict(os.environ, PG_FSYNC="on")).stdout.strip()
        full_load = None
        try:
            for name, data, events, songs in datasets:
                print(f"timing {name} ...", file=sys.stderr, flush=True)
                s_time, s_rss, s_counts = measure(args, run_sparkify, data, workdir)
                if full_load is None:
                    full_load = (name, data, s_time, s_counts)
                floor, floor_agrees = floor_rows(name, data, events, songs, s_time, s_counts,
                                                 workdir)
                d_time, d_rss, d_counts = measure(args, run_duckdb, data, workdir)
                p_time, p_rss, p_counts = measure(args, run_polars, data, workdir)
                results = [("sparkify sqlite", s_time, s_rss, s_counts)]
                if server:
                    for tool, runner in (("sparkify pg", run_postgres_direct),
                                         ("sparkify pg sql", run_postgres_sql)):
                        pg_time, pg_rss, pg_counts = measure(args, runner, data, workdir)
                        results.append((tool, pg_time, pg_rss, pg_counts))
                for tool, seconds, rss, counts in results:
                    if counts != d_counts:
                        failures.append(f"{name}: {tool} {counts} != duckdb {d_counts}")
                    rows.append((name, tool, seconds, events / seconds, rss,
                                 f"duckdb {d_time / seconds:.2f}x, polars {p_time / seconds:.2f}x"))
                rows.append((name, "duckdb", d_time, events / d_time, d_rss, ""))
                rows.append((name, "polars", p_time, events / p_time, p_rss, ""))
                if p_counts != d_counts:
                    failures.append(f"{name}: polars {p_counts} != duckdb {d_counts}")
                rows.extend(floor)
                same = (floor_agrees and p_counts == d_counts
                        and all(counts == d_counts for _, _, _, counts in results))
                rows.append((name, "  same counts" if same else "  COUNTS DIFFER",
                             None, None, None, json.dumps(s_counts)))
        finally:
            if server:
                subprocess.run([os.path.join(HERE, "..", "scripts", "pg_server.sh"), "stop",
                                server + "/s"], check=False)
                shutil.rmtree(server, ignore_errors=True)

        # +1 day: days 1-29 of the first dataset in a warehouse, then day 30 into it.
        name, data, full_time, full_counts = full_load
        print(f"timing +1 day on {name} ...", file=sys.stderr, flush=True)
        logs = log_files(data)
        linked = linked_dataset(data, os.path.join(workdir, "plus1"), len(logs) - 1)
        base = os.path.join(workdir, "plus1-base.db")
        sqlite_etl(args, linked, base)
        for songs, label in ((True, "+1 day"), (False, "+1 day, logs")):
            seconds, rss, counts, day_events = plus_one_day(args, linked, base, logs[-1], workdir,
                                                            songs)
            same = counts == full_counts
            if not same:
                failures.append(f"{name}: days 1-29 then day 30 {counts} != one load "
                                f"{full_counts}")
            rows.append((name, label, seconds, day_events / seconds, rss,
                         f"{seconds / full_time:.2f} of the full load (goal <= 0.15)"))
            rows.append((name, "  +1 day = one load" if same else "  COUNTS DIFFER",
                         None, None, None, json.dumps(counts)))
        remove_database(base)

        if scaled:
            name, data, events, songs, extra_log = scaled
            print(f"timing {name} ...", file=sys.stderr, flush=True)
            # Loaded through a directory of links, so that the day after is one more link.
            linked = linked_dataset(data, os.path.join(workdir, "scale"), len(log_files(data)))
            s_time, s_rss, s_counts = measure(args, run_sparkify, linked, workdir)
            rows.append((name, "sparkify sqlite", s_time, events / s_time, s_rss, ""))
            floor, floor_agrees = floor_rows(name, data, events, songs, s_time, s_counts, workdir)
            rows.extend(floor)
            if not floor_agrees:
                rows.append((name, "  COUNTS DIFFER", None, None, None, json.dumps(s_counts)))
            base = os.path.join(workdir, "scale-base.db")
            os.replace(os.path.join(workdir, "sparkify.db"), base)
            print(f"timing +1 day on {name} ...", file=sys.stderr, flush=True)
            for songs, label in ((True, "+1 day"), (False, "+1 day, logs")):
                seconds, rss, counts, day_events = plus_one_day(args, linked, base, extra_log,
                                                                workdir, songs)
                rows.append((name, label, seconds, day_events / seconds, rss,
                             f"goal < 1 s and < 100 MB; "
                             f"{counts['songplays'] - s_counts['songplays']:,} songplays added"))
            remove_database(base)

    print(f"{'dataset':<44} {'tool':<16} {'seconds':>8} {'events/s':>11} {'peak MB':>8}  notes")
    for name, tool, seconds, rate, rss, note in rows:
        if seconds is None:
            print(f"{name:<44} {tool:<16} {note}")
            continue
        shown_rss = f"{rss:>8.0f}" if rss is not None else f"{'':>8}"
        print(f"{name:<44} {tool:<16} {seconds:>8.2f} {rate:>11,.0f} {shown_rss}  {note}")
    print(f"duckdb/polars Nx = that tool's seconds / sparkify's seconds; median of {args.runs} "
          "runs each; floor = parse + insert; +1 day = the last day loaded into a warehouse "
          "holding the others")
    if args.s3_objects > 0:
        s3_bench(args)
        s3_upload_bench(args)
    if failures:
        sys.exit("bench: the tools disagree:\n" + "\n".join(failures))

if __name__ == "__main__":
    main()
