// The same job as `sparkify etl`, done by Polars (nodejs-polars): NDJSON scans with an explicit
// schema, then the star tables with sparkify's semantics (NextSong with a user, exact title +
// artist + duration match with the smallest song_id, then artist_id, on ties, latest user
// level, distinct time rows, the artist and song rules), each written as a Parquet file.
// Prints the row counts as JSON, in the form duckdb_etl.mjs prints them, for bench.py.
//
// Reading many small files: Polars' scan over a glob of 100k one-song files took 34 s and
// 3 GB here (each file becomes a source and a chunk of its own). So the song files are listed
// and read here, in order, into one NDJSON file beside the output (one object per line, as
// the files hold), which Polars then scans with the schema; that costs about 1.6 s for 100k
// files. One song file (the songs-in-one-file layout) is scanned directly. Frames read from
// many files are rechunked before use: without it every later step walks thousands of chunks.
//
// Values are read strictly: a value of the wrong type stops the run (ignoreErrors would turn
// it into a silent NULL), as DuckDB's read_json with typed columns does.
//
// usage: node polars_etl.mjs DATA_DIR OUT_DIR
import fs from 'node:fs';
import path from 'node:path';
import pl from 'nodejs-polars';

const [dataDir, outDir] = process.argv.slice(2);
if (!dataDir || !outDir) {
  console.error('usage: node polars_etl.mjs DATA_DIR OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

const eventSchema = {
  artist: pl.Utf8, auth: pl.Utf8, firstName: pl.Utf8, gender: pl.Utf8, itemInSession: pl.Int32,
  lastName: pl.Utf8, length: pl.Float64, level: pl.Utf8, location: pl.Utf8, method: pl.Utf8,
  page: pl.Utf8, registration: pl.Float64, sessionId: pl.Int32, song: pl.Utf8, status: pl.Int32,
  ts: pl.Int64, userAgent: pl.Utf8, userId: pl.Utf8,
};
const songSchema = {
  num_songs: pl.Int32, artist_id: pl.Utf8, artist_latitude: pl.Float64,
  artist_longitude: pl.Float64, artist_location: pl.Utf8, artist_name: pl.Utf8, song_id: pl.Utf8,
  title: pl.Utf8, duration: pl.Float64, year: pl.Int32,
};

const timings = [];
function step(name, fn) {
  const started = performance.now();
  const result = fn();
  timings.push(`${((performance.now() - started) / 1000).toFixed(2)} s  ${name}`);
  return result;
}

// Every *.json file under dir, in path order (as DuckDB's and sparkify's listings are).
function listJson(dir) {
  const files = [];
  (function walk(d) {
    const entries = fs.readdirSync(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json')) files.push(p);
      else if (e.isSymbolicLink() && fs.statSync(p).isDirectory()) walk(p);
    }
  })(dir);
  return files;
}

// The files' bytes, one after another, each ending in a newline: one NDJSON stream. Read
// with open/read/close into one growing buffer (readFileSync adds an fstat per file, and
// fs.promises was ten times slower here).
function concatenate(files, target) {
  let buffer = Buffer.allocUnsafe(1 << 24);
  let used = 0;
  for (const file of files) {
    const fd = fs.openSync(file, 'r');
    try {
      for (;;) {
        if (buffer.length - used < 1 << 16) {
          const bigger = Buffer.allocUnsafe(buffer.length * 2);
          buffer.copy(bigger, 0, 0, used);
          buffer = bigger;
        }
        const got = fs.readSync(fd, buffer, used, buffer.length - used - 1, null);
        if (got === 0) break;
        used += got;
      }
    } finally {
      fs.closeSync(fd);
    }
    if (used > 0 && buffer[used - 1] !== 0x0a) buffer[used++] = 0x0a;
  }
  fs.writeFileSync(target, buffer.subarray(0, used));
}

const nonEmpty = (name) => pl.col(name).isNotNull().and(pl.col(name).neq(pl.lit('')));

const events = step('read events', () =>
  pl.scanJson(path.join(dataDir, 'log_data', '**', '*.json'), { schema: eventSchema })
    .filter(pl.col('page').eq(pl.lit('NextSong')).and(nonEmpty('userId')))
    .select('artist', 'firstName', 'gender', 'lastName', 'length', 'level', 'location',
      'sessionId', 'song', 'ts', 'userAgent', 'userId')
    .collectSync()
    .rechunk());

const songFiles = step('list song files', () => listJson(path.join(dataDir, 'song_data')));
const compacted = path.join(outDir, 'staging_songs.ndjson');
const stagingSongs = step('read songs', () => {
  let source = songFiles[0];
  if (songFiles.length > 1) {
    concatenate(songFiles, compacted);
    source = compacted;
  }
  const frame = pl.scanJson(source, { schema: songSchema }).collectSync().rechunk();
  fs.rmSync(compacted, { force: true });
  return frame;
});

// One row per song_id: the least (title, artist_id, year, duration), NULLs last.
const songs = step('songs', () =>
  stagingSongs.filter(nonEmpty('song_id'))
    .sort({ by: ['song_id', 'title', 'artist_id', 'year', 'duration'], nullsLast: true })
    .unique({ subset: ['song_id'], keep: 'first', maintainOrder: true })
    .select('song_id', 'title', 'artist_id', 'year', 'duration'));

// One row per artist_id: the documented rule (coordinates present, a location, a name, the
// shortest name, then the least values), as duckdb_etl.mjs orders it.
const artists = step('artists', () =>
  stagingSongs.filter(nonEmpty('artist_id'))
    .sort({
      by: [
        pl.col('artist_id'),
        pl.col('artist_latitude').isNull(),
        pl.col('artist_longitude').isNull(),
        pl.col('artist_location').fillNull(pl.lit('')).eq(pl.lit('')),
        pl.col('artist_name').isNull(),
        pl.col('artist_name').fillNull(pl.lit('')).str.lengths(),
        pl.col('artist_name'),
        pl.col('artist_location').isNull(),
        pl.col('artist_location'),
        pl.col('artist_latitude'),
        pl.col('artist_longitude'),
      ],
      nullsLast: true,
    })
    .unique({ subset: ['artist_id'], keep: 'first', maintainOrder: true })
    .select(
      pl.col('artist_id'), pl.col('artist_name').alias('name'),
      pl.col('artist_location').alias('location'), pl.col('artist_latitude').alias('latitude'),
      pl.col('artist_longitude').alias('longitude')));

// The match index: for each exact (title, artist_name, duration), the smallest song_id, then
// the smallest artist_id (NULLs last).
const songMatch = step('song match', () =>
  stagingSongs.filter(pl.col('title').isNotNull().and(pl.col('artist_name').isNotNull())
    .and(pl.col('duration').isNotNull()).and(nonEmpty('song_id')))
    .sort({ by: ['song_id', 'artist_id'], nullsLast: true })
    .unique({ subset: ['title', 'artist_name', 'duration'], keep: 'first', maintainOrder: true })
    .select('title', 'artist_name', 'duration', 'song_id', 'artist_id'));

const songplays = step('songplays', () =>
  events.join(songMatch, {
    leftOn: ['song', 'artist', 'length'],
    rightOn: ['title', 'artist_name', 'duration'],
    how: 'left',
  })
    .select(
      pl.col('ts').cast(pl.Datetime('ms')).alias('start_time'),
      pl.col('userId').alias('user_id'), pl.col('level'), pl.col('song_id'),
      pl.col('artist_id'), pl.col('sessionId').alias('session_id'), pl.col('location'),
      pl.col('userAgent').alias('user_agent'))
    .withRowIndex('songplay_id', 1));

// Each user's latest NextSong event by ts; among events at that instant, the greatest level,
// then the least names and gender. Only the events at a user's latest ts are sorted.
const latestTs = pl.col('ts').max().over('userId');
const users = step('users', () =>
  events.filter(pl.col('ts').eq(latestTs).or(latestTs.isNull())).sort({
    by: ['userId', 'ts', 'level', 'firstName', 'lastName', 'gender'],
    descending: [false, true, true, false, false, false],
    nullsLast: true,
  })
    .unique({ subset: ['userId'], keep: 'first', maintainOrder: true })
    .select(
      pl.col('userId').alias('user_id'), pl.col('firstName').alias('first_name'),
      pl.col('lastName').alias('last_name'), pl.col('gender'), pl.col('level')));

// weekday: 0 = Sunday ... 6 = Saturday (Polars counts ISO days, Monday = 1 ... Sunday = 7).
const time = step('time', () =>
  songplays.select('start_time').unique().select(
    pl.col('start_time'), pl.col('start_time').dt.hour().alias('hour'),
    pl.col('start_time').dt.day().alias('day'), pl.col('start_time').dt.week().alias('week'),
    pl.col('start_time').dt.month().alias('month'), pl.col('start_time').dt.year().alias('year'),
    pl.col('start_time').dt.weekday().modulo(7).cast(pl.Int8).alias('weekday')));

const tables = { songplays, users, songs, artists, time };
step('write parquet', () => {
  for (const [name, frame] of Object.entries(tables)) {
    frame.writeParquet(path.join(outDir, `${name}.parquet`));
  }
});
if (process.env.BENCH_VERBOSE) console.error(timings.join('\n'));

console.log(JSON.stringify({
  songplays: songplays.height,
  matched: songplays.height - songplays.getColumn('song_id').nullCount(),
  users: users.height,
  songs: songs.height,
  artists: artists.height,
  time: time.height,
}));
