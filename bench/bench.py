#!/usr/bin/env python3
"""Times `sparkify etl` (SQLite) against DuckDB doing the same job, in the same run.

For each dataset: generate it once (cached under --data), then run each tool --runs times on a
fresh database, keep the median wall time and the largest peak RSS (from /usr/bin/time), check
that both produced the same row counts and the same number of matched songplays, and print a
table with the ratio DuckDB time / sparkify time. Run through bench/run.sh, which builds and
installs what this needs.
"""
import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTS_SQL = (
    "SELECT (SELECT COUNT(*) FROM songplays) AS songplays, "
    "(SELECT COUNT(song_id) FROM songplays) AS matched, (SELECT COUNT(*) FROM users) AS users, "
    "(SELECT COUNT(*) FROM songs) AS songs, (SELECT COUNT(*) FROM artists) AS artists, "
    "(SELECT COUNT(*) FROM time) AS time"
)


def timed(command, env=None):
    """Runs command under /usr/bin/time; returns (seconds, peak RSS in MB, stdout)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", report.name] + command,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        if result.returncode != 0:
            sys.exit(f"bench: {' '.join(command)} failed:\n{result.stderr}")
        seconds, kilobytes = report.read().split()[-2:]
    return float(seconds), int(kilobytes) / 1024, result.stdout


def generate(args, name, events, songs, one_file):
    path = os.path.join(args.data, name)
    if os.path.exists(os.path.join(path, ".complete")):
        return path
    shutil.rmtree(path, ignore_errors=True)
    command = [args.sparkify, "-q", "generate", "--out", path, "--events", str(events),
               "--songs", str(songs), "--seed", "1"]
    if one_file:
        command.append("--songs-in-one-file")
    print(f"generating {name} ...", file=sys.stderr, flush=True)
    subprocess.run(command, check=True)
    open(os.path.join(path, ".complete"), "w").close()
    return path


def run_sparkify(args, data, workdir):
    db = os.path.join(workdir, "sparkify.db")
    for suffix in ("", "-journal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    seconds, rss, _ = timed([args.sparkify, "-q", "--target", f"sqlite:{db}", "etl",
                             "--song-data", os.path.join(data, "song_data"),
                             "--log-data", os.path.join(data, "log_data")])
    out = subprocess.run([args.sparkify, "--target", f"sqlite:{db}", "query", "--format", "json",
                          COUNTS_SQL], check=True, stdout=subprocess.PIPE, text=True).stdout
    return seconds, rss, json.loads(out)[0]


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


def warm(data):
    """Reads every file once so that no tool pays for a cold page cache the other did not."""
    for base, _, names in os.walk(data):
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
        with tempfile.TemporaryDirectory() as workdir:
            env = dict(os.environ, S3_TEST_LATENCY_MS=str(latency), S3_TEST_VERIFY="0")
            server = subprocess.Popen(
                ["node", "--openssl-legacy-provider", os.path.join(tests_s3, "server.mjs"),
                 os.path.join(workdir, "s3"), "bench"],
                stdout=subprocess.PIPE, text=True, env=env)
            try:
                ports = json.loads(server.stdout.readline())
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
            finally:
                server.terminate()
                server.wait()
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


def s3_upload_bench(args):
    """Uploads the --s3-objects small song files to s3rver through the test front, as a Redshift
    run uploads local files (tests/unit/upload_files.c drives the same library code), with no
    added latency and then with --s3-latency ms, and compares objects/s with both bounds; then
    one --s3-upload-mb file, sent in parts of 16 MiB, in MB/s. The two latencies alternate,
    --runs times (this machine is shared: a pair run back to back sees the same load), and the
    medians count."""
    tool = args.upload_files or os.path.join(os.path.dirname(os.path.abspath(args.sparkify)),
                                             "tests", "upload_files")
    if not os.access(tool, os.X_OK):
        print(f"\nS3 uploads: skipped, no {tool} (it is built with the tests)")
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
    parser.add_argument("--data", default=os.path.join(HERE, "data"), help="dataset cache")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--songs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per tool; the median counts")
    parser.add_argument("--scale", action="store_true", help="also 10x the events (sparkify only)")
    parser.add_argument("--s3-objects", type=int, default=10_000,
                        help="small objects for the S3 fetch benchmark (0 skips it)")
    parser.add_argument("--s3-latency", type=int, default=20, help="added latency, ms")
    parser.add_argument("--s3-concurrency", type=int, default=32)
    parser.add_argument("--s3-upload-mb", type=int, default=256,
                        help="the large file of the S3 upload benchmark, MB")
    parser.add_argument("--upload-files", help="tests/unit/upload_files.c's binary (default: "
                        "tests/upload_files beside --sparkify)")
    parser.add_argument("--no-postgres", action="store_true",
                        help="skip the PostgreSQL target")
    parser.add_argument("--real", default=os.path.join(HERE, "..", "..", "shared", "data", "udacity"),
                        help="the real Udacity sample (skipped when absent)")
    args = parser.parse_args()
    os.makedirs(args.data, exist_ok=True)

    datasets = [
        (f"{args.events} events, {args.songs} song files",
         generate(args, f"e{args.events}-s{args.songs}-files", args.events, args.songs, False), args.events),
        (f"{args.events} events, songs in one file",
         generate(args, f"e{args.events}-s{args.songs}-onefile", args.events, args.songs, True), args.events),
    ]
    if os.path.isdir(os.path.join(args.real, "log_data")):
        datasets.append(("real sample (8,056 events, 71 songs)", os.path.abspath(args.real), 8056))
    else:
        print(f"bench: real sample absent at {args.real}; skipped", file=sys.stderr)
    scaled = None
    if args.scale:
        scaled = (f"{args.events * 10} events, {args.songs} song files (scale)",
                  generate(args, f"e{args.events * 10}-s{args.songs}-files", args.events * 10,
                           args.songs, False), args.events * 10)

    rows, failures = [], []
    server = None
    with tempfile.TemporaryDirectory() as workdir:
        if not args.no_postgres:
            server = tempfile.mkdtemp(prefix="sparkify-bench-pg.")
            os.chmod(server, 0o755)
            args.postgres = subprocess.run(
                [os.path.join(HERE, "..", "scripts", "pg_server.sh"), "start", server + "/s"],
                check=True, stdout=subprocess.PIPE, text=True,
                env=dict(os.environ, PG_FSYNC="on")).stdout.strip()
        try:
            for name, data, events in datasets:
                print(f"timing {name} ...", file=sys.stderr, flush=True)
                s_time, s_rss, s_counts = measure(args, run_sparkify, data, workdir)
                d_time, d_rss, d_counts = measure(args, run_duckdb, data, workdir)
                results = [("sparkify sqlite", s_time, s_rss, s_counts)]
                if server:
                    for tool, runner in (("sparkify pg", run_postgres_direct),
                                         ("sparkify pg sql", run_postgres_sql)):
                        p_time, p_rss, p_counts = measure(args, runner, data, workdir)
                        results.append((tool, p_time, p_rss, p_counts))
                for tool, seconds, rss, counts in results:
                    if counts != d_counts:
                        failures.append(f"{name}: {tool} {counts} != duckdb {d_counts}")
                    rows.append((name, tool, seconds, events / seconds, rss, d_time / seconds))
                rows.append((name, "duckdb", d_time, events / d_time, d_rss, None))
                same = all(counts == d_counts for _, _, _, counts in results)
                rows.append((name, "  same counts" if same else "  COUNTS DIFFER",
                             None, None, None, json.dumps(s_counts)))
        finally:
            if server:
                subprocess.run([os.path.join(HERE, "..", "scripts", "pg_server.sh"), "stop",
                                server + "/s"], check=False)
                shutil.rmtree(server, ignore_errors=True)
        if scaled:
            name, data, events = scaled
            print(f"timing {name} ...", file=sys.stderr, flush=True)
            s_time, s_rss, _ = measure(args, run_sparkify, data, workdir)
            rows.append((name, "sparkify sqlite", s_time, events / s_time, s_rss, None))

    print(f"{'dataset':<44} {'tool':<16} {'seconds':>8} {'events/s':>11} {'peak MB':>8}  ratio")
    for name, tool, seconds, rate, rss, ratio in rows:
        if seconds is None:
            print(f"{name:<44} {tool:<16} {ratio}")
            continue
        shown = f"{ratio:.2f}x" if ratio is not None else ""
        print(f"{name:<44} {tool:<16} {seconds:>8.2f} {rate:>11,.0f} {rss:>8.0f}  {shown}")
    print("ratio = DuckDB seconds / sparkify seconds (median of %d runs each)" % args.runs)
    if args.s3_objects > 0:
        s3_bench(args)
        s3_upload_bench(args)
    if failures:
        sys.exit("bench: the tools disagree:\n" + "\n".join(failures))


if __name__ == "__main__":
    main()
