/* warehouse_sqlite.c - the embedded warehouse: one SQLite file.
 *
 * Writes go through cached prepared statements that insert 64 rows per step (one VALUES
 * list), which halves SQLite's per-row overhead against single-row statements. Tables are
 * STRICT, so a value of the wrong type is an error, not a silent conversion; dimension tables
 * are WITHOUT ROWID (their key is the only index). Upserts carry the model's deterministic
 * rules (model.h) as row-value comparisons, so a row loaded in one run loses to a better one
 * in a later run exactly as it would within one run. One transaction per job: BEGIN
 * IMMEDIATE takes the write lock up front, and a rollback restores the file byte for byte.
 */
#include "warehouse.h"
#include "warehouse_int.h"

#include "buffer.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROWS_PER_STATEMENT 64

struct sqlite_warehouse {
    struct warehouse base;
    sqlite3 *db;
    char *path;
    bool created; /* the file did not exist before this open */
    sqlite3_stmt *insert_many[TABLE_COUNT];
    sqlite3_stmt *insert_one[TABLE_COUNT];
    unsigned insert_shown; /* dry run: tables whose INSERT was shown */
};

static const char *const create_sql[TABLE_COUNT] = {
    [TABLE_STAGING_EVENTS] =
        "CREATE TABLE IF NOT EXISTS staging_events (artist TEXT, auth TEXT, first_name TEXT, "
        "gender TEXT, item_in_session INTEGER, last_name TEXT, length REAL, level TEXT, "
        "location TEXT, method TEXT, page TEXT, registration REAL, session_id INTEGER, "
        "song TEXT, status INTEGER, ts INTEGER, user_agent TEXT, user_id TEXT) STRICT",
    [TABLE_STAGING_SONGS] =
        "CREATE TABLE IF NOT EXISTS staging_songs (num_songs INTEGER, artist_id TEXT, "
        "artist_latitude REAL, artist_longitude REAL, artist_location TEXT, artist_name TEXT, "
        "song_id TEXT, title TEXT, duration REAL, year INTEGER) STRICT",
    [TABLE_SONGPLAYS] =
        "CREATE TABLE IF NOT EXISTS songplays (songplay_id INTEGER PRIMARY KEY, "
        "start_time TEXT NOT NULL, user_id TEXT NOT NULL, level TEXT, song_id TEXT, "
        "artist_id TEXT, session_id INTEGER, location TEXT, user_agent TEXT) STRICT",
    [TABLE_USERS] = "CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, first_name TEXT, "
                    "last_name TEXT, gender TEXT, level TEXT) STRICT, WITHOUT ROWID",
    [TABLE_SONGS] = "CREATE TABLE IF NOT EXISTS songs (song_id TEXT PRIMARY KEY, title TEXT, "
                    "artist_id TEXT, year INTEGER, duration REAL) STRICT, WITHOUT ROWID",
    [TABLE_ARTISTS] = "CREATE TABLE IF NOT EXISTS artists (artist_id TEXT PRIMARY KEY, name TEXT, "
                      "location TEXT, latitude REAL, longitude REAL) STRICT, WITHOUT ROWID",
    [TABLE_TIME] = "CREATE TABLE IF NOT EXISTS time (start_time TEXT PRIMARY KEY, "
                   "hour INTEGER NOT NULL, day INTEGER NOT NULL, week INTEGER NOT NULL, "
                   "month INTEGER NOT NULL, year INTEGER NOT NULL, weekday INTEGER NOT NULL) "
                   "STRICT, WITHOUT ROWID",
    [TABLE_SONG_LOOKUP] =
        "CREATE TABLE IF NOT EXISTS song_lookup (title TEXT NOT NULL, artist_name TEXT NOT NULL, "
        "duration REAL NOT NULL, song_id TEXT NOT NULL, artist_id TEXT, "
        "UNIQUE (title, artist_name, duration, song_id, artist_id)) STRICT",
    [TABLE_USER_LATEST] = "CREATE TABLE IF NOT EXISTS user_latest (user_id TEXT PRIMARY KEY, "
                          "start_time TEXT NOT NULL, level TEXT) STRICT, WITHOUT ROWID",
    [TABLE_LOADED_OBJECTS] =
        "CREATE TABLE IF NOT EXISTS loaded_objects (kind TEXT NOT NULL, object_key TEXT NOT NULL, "
        "size INTEGER NOT NULL, version TEXT NOT NULL, loaded_at TEXT NOT NULL, "
        "fingerprint TEXT, PRIMARY KEY (kind, object_key)) STRICT, WITHOUT ROWID",
    [TABLE_LOAD_ERRORS] =
        "CREATE TABLE IF NOT EXISTS load_errors (source TEXT NOT NULL, line INTEGER NOT NULL, "
        "reason TEXT NOT NULL, raw TEXT, loaded_at TEXT NOT NULL) STRICT",
    [TABLE_ETL_RUNS] =
        "CREATE TABLE IF NOT EXISTS etl_runs (run_at TEXT NOT NULL, log_objects INTEGER NOT NULL, "
        "song_objects INTEGER NOT NULL, events INTEGER NOT NULL, songplays INTEGER NOT NULL, "
        "bad_records INTEGER NOT NULL) STRICT",
};

/* What follows "INSERT INTO t (...) VALUES (...), ..." for each table. */
static const char *const conflict_sql[TABLE_COUNT] = {
    [TABLE_TIME] = " ON CONFLICT (start_time) DO NOTHING",
    [TABLE_SONG_LOOKUP] = " ON CONFLICT DO NOTHING",
    [TABLE_USERS] = " ON CONFLICT (user_id) DO UPDATE SET first_name = excluded.first_name, "
                    "last_name = excluded.last_name, gender = excluded.gender, "
                    "level = excluded.level",
    [TABLE_USER_LATEST] = " ON CONFLICT (user_id) DO UPDATE SET start_time = excluded.start_time, "
                          "level = excluded.level",
    [TABLE_LOADED_OBJECTS] = " ON CONFLICT (kind, object_key) DO UPDATE SET "
                             "size = excluded.size, version = excluded.version, "
                             "loaded_at = excluded.loaded_at, fingerprint = excluded.fingerprint",
    [TABLE_SONGS] =
        " ON CONFLICT (song_id) DO UPDATE SET title = excluded.title, "
        "artist_id = excluded.artist_id, year = excluded.year, duration = excluded.duration "
        "WHERE (excluded.title IS NULL, COALESCE(excluded.title, ''), "
        "excluded.artist_id IS NULL, COALESCE(excluded.artist_id, ''), "
        "excluded.year IS NULL, COALESCE(excluded.year, 0), "
        "excluded.duration IS NULL, COALESCE(excluded.duration, 0)) "
        "< (songs.title IS NULL, COALESCE(songs.title, ''), "
        "songs.artist_id IS NULL, COALESCE(songs.artist_id, ''), "
        "songs.year IS NULL, COALESCE(songs.year, 0), "
        "songs.duration IS NULL, COALESCE(songs.duration, 0))",
    [TABLE_ARTISTS] = " ON CONFLICT (artist_id) DO UPDATE SET name = excluded.name, "
                      "location = excluded.location, latitude = excluded.latitude, "
                      "longitude = excluded.longitude "
                      "WHERE (excluded.latitude IS NULL, excluded.longitude IS NULL, "
                      "COALESCE(excluded.location, '') = '', excluded.name IS NULL, "
                      "length(COALESCE(excluded.name, '')), COALESCE(excluded.name, ''), "
                      "excluded.location IS NULL, COALESCE(excluded.location, ''), "
                      "COALESCE(excluded.latitude, 0), COALESCE(excluded.longitude, 0)) "
                      "< (artists.latitude IS NULL, artists.longitude IS NULL, "
                      "COALESCE(artists.location, '') = '', artists.name IS NULL, "
                      "length(COALESCE(artists.name, '')), COALESCE(artists.name, ''), "
                      "artists.location IS NULL, COALESCE(artists.location, ''), "
                      "COALESCE(artists.latitude, 0), COALESCE(artists.longitude, 0))",
};

static const char *const index_sql[] = {
    "CREATE INDEX IF NOT EXISTS load_errors_source ON load_errors (source, line)",
};

static struct sqlite_warehouse *as_sqlite(struct warehouse *wh)
{
    return (struct sqlite_warehouse *)wh;
}

static int exec_sql(struct sqlite_warehouse *w, const char *sql, struct sp_error *err)
{
    if (warehouse_dry_run(&w->base, sql))
        return SP_OK;
    char *message = NULL;
    if (sqlite3_exec(w->db, sql, NULL, NULL, &message) != SQLITE_OK) {
        sp_fail(err, "%s: SQL failed: %s [%.200s]", w->path,
                message ? message : sqlite3_errmsg(w->db), sql);
        sqlite3_free(message);
        return SP_FAIL;
    }
    return SP_OK;
}

static void finalize_statements(struct sqlite_warehouse *w)
{
    for (int t = 0; t < TABLE_COUNT; t++) {
        sqlite3_finalize(w->insert_many[t]);
        sqlite3_finalize(w->insert_one[t]);
        w->insert_many[t] = w->insert_one[t] = NULL;
    }
}

/* 1 when `table` has `column`. */
static int has_column(struct sqlite_warehouse *w, const char *table, const char *column)
{
    sqlite3_stmt *stmt = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(w->db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &stmt,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, column, -1, SQLITE_STATIC);
        found = sqlite3_step(stmt) == SQLITE_ROW;
    }
    sqlite3_finalize(stmt);
    return found;
}

static int sqlite_create_tables(struct warehouse *wh, bool drop_first, struct sp_error *err)
{
    struct sqlite_warehouse *w = as_sqlite(wh);
    finalize_statements(w); /* statements on dropped tables would be stale */
    char drop[96];
    int status = SP_OK;
    for (int t = 0; status == SP_OK && t < TABLE_COUNT; t++) {
        snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS %s", table_defs[t].name);
        if (drop_first)
            status = exec_sql(w, drop, err);
        if (status == SP_OK)
            status = exec_sql(w, create_sql[t], err);
    }
    for (size_t i = 0; status == SP_OK && i < sizeof index_sql / sizeof index_sql[0]; i++)
        status = exec_sql(w, index_sql[i], err);
    /* A warehouse from before content fingerprints gains the column. */
    if (status == SP_OK && !w->base.dry_run.fn && !has_column(w, "loaded_objects", "fingerprint"))
        status = exec_sql(w, "ALTER TABLE loaded_objects ADD COLUMN fingerprint TEXT", err);
    return status;
}

static int sqlite_begin(struct warehouse *wh, struct sp_error *err)
{
    as_sqlite(wh)->insert_shown = 0;
    return exec_sql(as_sqlite(wh), "BEGIN IMMEDIATE", err);
}

static int sqlite_commit(struct warehouse *wh, struct sp_error *err)
{
    return exec_sql(as_sqlite(wh), "COMMIT", err);
}

static void sqlite_rollback(struct warehouse *wh)
{
    struct sqlite_warehouse *w = as_sqlite(wh);
    if (w->db && !sqlite3_get_autocommit(w->db))
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
}

static int sqlite_truncate(struct warehouse *wh, unsigned tables, struct sp_error *err)
{
    char sql[96];
    int status = SP_OK;
    for (int t = 0; status == SP_OK && t < TABLE_COUNT; t++) {
        snprintf(sql, sizeof sql, "DELETE FROM %s", table_defs[t].name);
        if (tables & (1u << t))
            status = exec_sql(as_sqlite(wh), sql, err);
    }
    return status;
}

/* INSERT INTO table (...) VALUES (?, ...), ... for `rows` rows, with the table's upsert. */
static void insert_sql(struct buffer *sql, enum table_id table, size_t rows)
{
    const struct table_def *def = &table_defs[table];
    buffer_printf(sql, "INSERT INTO %s (", def->name);
    for (size_t c = 0; c < def->column_count; c++)
        buffer_printf(sql, "%s%s", c ? ", " : "", def->columns[c]);
    buffer_append_str(sql, ") VALUES ");
    for (size_t r = 0; r < rows; r++) {
        buffer_append_str(sql, r ? ", (" : "(");
        for (size_t c = 0; c < def->column_count; c++)
            buffer_append_str(sql, c ? ", ?" : "?");
        buffer_append_char(sql, ')');
    }
    if (conflict_sql[table])
        buffer_append_str(sql, conflict_sql[table]);
}

static sqlite3_stmt *insert_statement(struct sqlite_warehouse *w, enum table_id table, size_t rows,
                                      struct sp_error *err)
{
    sqlite3_stmt **slot = rows == 1 ? &w->insert_one[table] : &w->insert_many[table];
    if (*slot)
        return *slot;
    const struct table_def *def = &table_defs[table];
    struct buffer sql;
    buffer_init(&sql);
    insert_sql(&sql, table, rows);
    if (sqlite3_prepare_v3(w->db, sql.data, (int)sql.len, SQLITE_PREPARE_PERSISTENT, slot, NULL) !=
        SQLITE_OK) {
        sp_fail(err, "%s: cannot prepare the insert into %s: %s", w->path, def->name,
                sqlite3_errmsg(w->db));
        *slot = NULL;
    }
    buffer_release(&sql);
    return *slot;
}

static int bind_cell(sqlite3_stmt *stmt, int index, const struct cell *c)
{
    switch (c->type) {
    case CELL_INT:
        return sqlite3_bind_int64(stmt, index, c->i);
    case CELL_DOUBLE:
        return sqlite3_bind_double(stmt, index, c->d);
    case CELL_TEXT:
        return sqlite3_bind_text64(stmt, index, c->text.ptr, c->text.len, SQLITE_STATIC,
                                   SQLITE_UTF8);
    default:
        return sqlite3_bind_null(stmt, index);
    }
}

static int sqlite_write(struct warehouse *wh, const struct rowbuf *rows, struct sp_error *err)
{
    struct sqlite_warehouse *w = as_sqlite(wh);
    if (w->base.dry_run.fn) {
        /* A dry run shows each table's insert once, in its one-row form. */
        if (!(w->insert_shown & (1u << rows->table))) {
            struct buffer sql;
            buffer_init(&sql);
            insert_sql(&sql, rows->table, 1);
            warehouse_dry_run(&w->base, sql.data);
            buffer_release(&sql);
        }
        w->insert_shown |= 1u << rows->table;
        return SP_OK;
    }
    size_t row = 0;
    while (row < rows->rows) {
        size_t n = rows->rows - row >= ROWS_PER_STATEMENT ? ROWS_PER_STATEMENT : 1;
        sqlite3_stmt *stmt = insert_statement(w, rows->table, n, err);
        if (!stmt)
            return SP_FAIL;
        const struct cell *cells = rowbuf_row(rows, row);
        size_t values = n * rows->columns;
        for (size_t i = 0; i < values; i++)
            bind_cell(stmt, (int)i + 1, &cells[i]);
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc != SQLITE_DONE)
            return sp_fail(err, "%s: writing %s failed: %s", w->path, table_defs[rows->table].name,
                           sqlite3_errmsg(w->db));
        row += n;
    }
    return SP_OK;
}

static void column_cell(sqlite3_stmt *stmt, int i, struct cell *c)
{
    switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
        c->type = CELL_INT;
        c->i = sqlite3_column_int64(stmt, i);
        break;
    case SQLITE_FLOAT:
        c->type = CELL_DOUBLE;
        c->d = sqlite3_column_double(stmt, i);
        break;
    case SQLITE_NULL:
        c->type = CELL_NULL;
        break;
    default:
        c->type = CELL_TEXT;
        c->text.ptr = (const char *)sqlite3_column_text(stmt, i);
        c->text.len = (size_t)sqlite3_column_bytes(stmt, i);
        break;
    }
}

/* Steps `stmt` to its end, handing each row to `fn` (NULL: discarded); finalizes it. */
static int run_statement(struct sqlite_warehouse *w, sqlite3_stmt *stmt, warehouse_row_fn fn,
                         void *ctx, struct sp_error *err)
{
    int columns = sqlite3_column_count(stmt);
    const char *names[256];
    struct cell values[256];
    if (columns > 256) {
        sqlite3_finalize(stmt);
        return sp_fail(err, "%s: a query may return at most 256 columns", w->path);
    }
    for (int i = 0; i < columns; i++)
        names[i] = sqlite3_column_name(stmt, i);
    int rc, status = SP_OK;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        for (int i = 0; i < columns; i++)
            column_cell(stmt, i, &values[i]);
        if (fn && (status = fn(ctx, (size_t)columns, names, values)) != SP_OK)
            break;
    }
    if (status == SP_OK && rc != SQLITE_DONE)
        status = sp_fail(err, "%s: %s [%.200s]", w->path, sqlite3_errmsg(w->db), sqlite3_sql(stmt));
    sqlite3_finalize(stmt);
    return status;
}

static int sqlite_query(struct warehouse *wh, const char *sql, warehouse_row_fn fn, void *ctx,
                        struct sp_error *err)
{
    struct sqlite_warehouse *w = as_sqlite(wh);
    if (warehouse_dry_run(&w->base, sql))
        return SP_OK;
    const char *next = sql;
    int status = SP_OK;
    while (status == SP_OK && next && *next) {
        sqlite3_stmt *stmt = NULL;
        const char *statement = next;
        if (sqlite3_prepare_v2(w->db, statement, -1, &stmt, &next) != SQLITE_OK)
            return sp_fail(err, "%s: %s [%.200s]", w->path, sqlite3_errmsg(w->db), statement);
        if (!stmt)
            break; /* only whitespace or comments left */
        status = run_statement(w, stmt, fn, ctx, err);
    }
    return status;
}

/* Whether `sql` holds a statement (or anything that is not whitespace, ';' or a comment). */
static bool holds_statement(sqlite3 *db, const char *sql)
{
    while (*sql) {
        sqlite3_stmt *stmt = NULL;
        const char *next = sql;
        if (sqlite3_prepare_v2(db, sql, -1, &stmt, &next) != SQLITE_OK || stmt) {
            sqlite3_finalize(stmt);
            return true;
        }
        if (next == sql)
            return false;
        sql = next;
    }
    return false;
}

/* A read-only query opens no other database file: ATTACH would create one. */
static int deny_attach(void *ctx, int action, const char *a, const char *b, const char *c,
                       const char *d)
{
    (void)ctx, (void)a, (void)b, (void)c, (void)d;
    return action == SQLITE_ATTACH || action == SQLITE_DETACH ? SQLITE_DENY : SQLITE_OK;
}

static int read_only_refusal(struct sqlite_warehouse *w, const char *sql, struct sp_error *err)
{
    return sp_usage(err,
                    "%s: query is read-only, and this statement would change the warehouse "
                    "(`sparkify query --write` allows it) [%.200s]",
                    w->path, sql);
}

/* One statement; read-only through sqlite3_stmt_readonly, and underneath through query_only and
 * an authorizer. The connection stays read-write, so that a hot journal left by a killed run is
 * rolled back as the file is opened. */
static int sqlite_user_query(struct warehouse *wh, const char *sql, bool write, warehouse_row_fn fn,
                             void *ctx, struct sp_error *err)
{
    struct sqlite_warehouse *w = as_sqlite(wh);
    if (warehouse_dry_run(&w->base, sql))
        return SP_OK;
    if (!write) {
        sqlite3_set_authorizer(w->db, deny_attach, NULL);
        sqlite3_exec(w->db, "PRAGMA query_only = ON", NULL, NULL, NULL);
    }
    sqlite3_stmt *stmt = NULL;
    const char *tail = sql;
    int status = SP_OK;
    int rc = sqlite3_prepare_v2(w->db, sql, -1, &stmt, &tail);
    if (rc == SQLITE_AUTH)
        status = read_only_refusal(w, sql, err);
    else if (rc != SQLITE_OK)
        status = sp_fail(err, "%s: %s [%.200s]", w->path, sqlite3_errmsg(w->db), sql);
    else if (!stmt)
        status = sp_usage(err, "%s: query needs an SQL statement, and this holds none [%.200s]",
                          w->path, sql);
    else if (holds_statement(w->db, tail))
        status = sp_usage(err,
                          "%s: query runs one SQL statement at a time, and this holds more than "
                          "one [%.200s]",
                          w->path, sql);
    else if (!write && !sqlite3_stmt_readonly(stmt))
        status = read_only_refusal(w, sql, err);
    if (status == SP_OK)
        return run_statement(w, stmt, fn, ctx, err);
    sqlite3_finalize(stmt);
    return status;
}

/* Runs `sql` once per key (`width` cells each, bound as ?1..?width), handing each row to `fn`
 * as (key index, the row's columns): an index probe per key, a few microseconds each, whatever
 * the warehouse holds. */
static int probe_keys(struct sqlite_warehouse *w, const char *sql, const struct cell *keys,
                      size_t count, int width, warehouse_row_fn fn, void *ctx, struct sp_error *err)
{
    if (warehouse_dry_run(&w->base, sql))
        return SP_OK;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(w->db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return sp_fail(err, "%s: %s [%s]", w->path, sqlite3_errmsg(w->db), sql);
    int columns = sqlite3_column_count(stmt);
    const char *names[8] = {"i"};
    struct cell values[8];
    for (int c = 0; c < columns && c < 7; c++)
        names[c + 1] = sqlite3_column_name(stmt, c);
    int status = SP_OK;
    for (size_t k = 0; status == SP_OK && k < count; k++) {
        for (int b = 0; b < width; b++)
            bind_cell(stmt, b + 1, &keys[k * (size_t)width + (size_t)b]);
        values[0].type = CELL_INT;
        values[0].i = (int64_t)k;
        int rc;
        while (status == SP_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            for (int c = 0; c < columns && c < 7; c++)
                column_cell(stmt, c, &values[c + 1]);
            status = fn(ctx, (size_t)columns + 1, names, values);
        }
        if (status == SP_OK && rc != SQLITE_DONE)
            status = sp_fail(err, "%s: %s [%s]", w->path, sqlite3_errmsg(w->db), sql);
        sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    return status;
}

/* Hands a probe's row on without its key index. */
struct skip_index {
    warehouse_row_fn fn;
    void *ctx;
};

static int without_index(void *ctx, size_t columns, const char *const *names,
                         const struct cell *values)
{
    struct skip_index *s = ctx;
    return s->fn(s->ctx, columns - 1, names + 1, values + 1);
}

static int sqlite_user_latest(struct warehouse *wh, const struct cell *user_ids, size_t count,
                              warehouse_row_fn fn, void *ctx, struct sp_error *err)
{
    struct skip_index skip = {fn, ctx};
    return probe_keys(as_sqlite(wh),
                      "SELECT user_id, start_time, level FROM user_latest WHERE user_id = ?1",
                      user_ids, count, 1, without_index, &skip, err);
}

static int sqlite_song_lookup_probe(struct warehouse *wh, const struct cell *keys, size_t count,
                                    warehouse_row_fn fn, void *ctx, struct sp_error *err)
{
    return probe_keys(as_sqlite(wh),
                      "SELECT song_id, artist_id FROM song_lookup "
                      "WHERE title = ?1 AND artist_name = ?2 AND duration = ?3",
                      keys, count, 3, fn, ctx, err);
}

static void sqlite_close(struct warehouse *wh)
{
    struct sqlite_warehouse *w = as_sqlite(wh);
    finalize_statements(w);
    sqlite3_close(w->db);
    /* A run that failed before writing anything leaves no empty database file behind. */
    struct stat st;
    if (w->created && stat(w->path, &st) == 0 && st.st_size == 0)
        unlink(w->path);
    free(w->path);
    free(w->base.display);
    free(w);
}

static const struct warehouse_ops sqlite_ops = {
    .engine = "sqlite",
    .create_tables = sqlite_create_tables,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .truncate = sqlite_truncate,
    .write = sqlite_write,
    .query = sqlite_query,
    .user_query = sqlite_user_query,
    .user_latest = sqlite_user_latest,
    .song_lookup_probe = sqlite_song_lookup_probe,
    .close = sqlite_close,
};

static char *sqlite_display(const char *path)
{
    struct buffer display;
    buffer_init(&display);
    buffer_printf(&display, "sqlite:%s", path);
    return display.data;
}

int warehouse_open_sqlite(const char *path, enum warehouse_mode mode,
                          const struct warehouse_dry_run *dry_run, struct warehouse **out,
                          struct sp_error *err)
{
    if (dry_run) {
        struct sqlite_warehouse *w = xcalloc(1, sizeof *w);
        w->base.ops = &sqlite_ops;
        w->base.dry_run = *dry_run;
        w->base.display = sqlite_display(path);
        w->path = xstrdup(path);
        *out = &w->base;
        return SP_OK;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (mode == WAREHOUSE_WRITE)
        flags |= SQLITE_OPEN_CREATE;
    struct stat st;
    bool created = stat(path, &st) != 0;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        int status;
        if (mode == WAREHOUSE_READ && rc == SQLITE_CANTOPEN)
            status = sp_fail(err,
                             "sqlite:%s: cannot open the warehouse (%s); "
                             "run `sparkify create-tables` and `sparkify etl` first",
                             path, db ? sqlite3_errmsg(db) : "out of memory");
        else
            status = sp_fail(err, "sqlite:%s: cannot open: %s", path,
                             db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return status;
    }
    struct sqlite_warehouse *w = xcalloc(1, sizeof *w);
    w->base.ops = &sqlite_ops;
    w->db = db;
    w->path = xstrdup(path);
    w->created = created;
    w->base.display = sqlite_display(path);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_extended_result_codes(db, 1);
    /* A page cache of 16 MB (SQLite's default is 2 MB): every star table is written in key
     * order, so a load appends at the right edge of each B-tree and needs few pages at once.
     * 64 MB was no faster (a full load of 1M events, the same to within 5%; one day into a
     * 10M-event warehouse 0.92-1.04 s against 1.20-1.26 s) and cost 50 MB more at the peak.
     * The default rollback journal (not WAL) keeps a failed run from leaving any file behind. */
    int status = exec_sql(w, "PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;", err);
    if (status == SP_OK) {
        /* Reading a file that is not a database fails here with a clear message. */
        status = exec_sql(w, "SELECT count(*) FROM sqlite_schema", err);
    }
    if (status != SP_OK) {
        sqlite_close(&w->base);
        return status;
    }
    *out = &w->base;
    return SP_OK;
}
