/* insert_floor.c - the writing half of the benchmark's floor: SQLite inserting the star rows
 * that sparkify produced, from memory, into a fresh database file in one transaction.
 *
 * The tables' CREATE statements (and any index on them) come from the warehouse's
 * sqlite_master, so the schema and keys are sparkify's own. Every row of the five star tables
 * is loaded into memory first, in key order (the order the tables store them: B-tree appends);
 * only what follows is timed: BEGIN, the CREATEs, the INSERTs (prepared statements of 64
 * rows, as sparkify writes them) and COMMIT with its fsyncs, under the pragmas sparkify opens
 * its warehouse with (src/lib/warehouse/warehouse_sqlite.c). sparkify's own bookkeeping tables
 * (song_lookup, loaded_objects, etl_runs) are not part of the job and not counted here.
 *
 * usage: insert_floor WAREHOUSE.db NEW.db
 * prints {"rows": N, "songplays": N, ..., "seconds": S}
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROWS_PER_STATEMENT 64
#define PRAGMAS "PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;" /* sparkify's */

static const char *const star_tables[] = {"songplays", "users", "songs", "artists", "time"};
#define TABLE_COUNT (sizeof star_tables / sizeof star_tables[0])

/* One column value in 16 bytes (10M songplays are held at once); text and blobs are an
 * offset into the table's byte arena and a size. */
struct cell {
    union {
        sqlite3_int64 integer;
        double real;
        uint64_t offset;
    } v;
    uint32_t size;
    int32_t type;
};

struct table {
    const char *name;
    char **schema; /* CREATE TABLE, then CREATE INDEX statements */
    size_t schema_count;
    int columns;
    size_t rows;
    struct cell *cells; /* rows * columns */
    size_t cells_capacity;
    char *arena;
    size_t arena_size, arena_capacity;
};

static void die(const char *what, sqlite3 *db)
{
    fprintf(stderr, "insert_floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
    exit(1);
}

static void *grow(void *p, size_t *capacity, size_t needed, size_t size)
{
    if (needed <= *capacity)
        return p;
    size_t n = *capacity ? *capacity : 1024;
    while (n < needed)
        n *= 2;
    p = realloc(p, n * size);
    if (!p)
        die("allocating", NULL);
    *capacity = n;
    return p;
}

static void exec_or_die(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(sql, db);
}

static void load_schema(sqlite3 *db, struct table *t)
{
    sqlite3_stmt *stmt;
    const char *sql = "SELECT sql FROM sqlite_master WHERE tbl_name = ?1 AND sql IS NOT NULL "
                      "ORDER BY type = 'table' DESC, name";
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        die(sql, db);
    sqlite3_bind_text(stmt, 1, t->name, -1, SQLITE_STATIC);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        t->schema = realloc(t->schema, (t->schema_count + 1) * sizeof *t->schema);
        if (!t->schema)
            die("allocating", NULL);
        t->schema[t->schema_count++] = strdup((const char *)sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    if (t->schema_count == 0) {
        fprintf(stderr, "insert_floor: the warehouse has no table %s\n", t->name);
        exit(1);
    }
}

static void load_rows(sqlite3 *db, struct table *t)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", t->name);
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        die(sql, db);
    t->columns = sqlite3_column_count(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        size_t first = t->rows * (size_t)t->columns;
        t->cells = grow(t->cells, &t->cells_capacity, first + (size_t)t->columns, sizeof *t->cells);
        for (int c = 0; c < t->columns; c++) {
            struct cell *cell = &t->cells[first + (size_t)c];
            cell->type = sqlite3_column_type(stmt, c);
            switch (cell->type) {
            case SQLITE_INTEGER:
                cell->v.integer = sqlite3_column_int64(stmt, c);
                break;
            case SQLITE_FLOAT:
                cell->v.real = sqlite3_column_double(stmt, c);
                break;
            case SQLITE_TEXT:
            case SQLITE_BLOB: {
                const void *data = cell->type == SQLITE_TEXT
                                       ? (const void *)sqlite3_column_text(stmt, c)
                                       : sqlite3_column_blob(stmt, c);
                size_t size = (size_t)sqlite3_column_bytes(stmt, c);
                t->arena = grow(t->arena, &t->arena_capacity, t->arena_size + size + 1, 1);
                if (size)
                    memcpy(t->arena + t->arena_size, data, size);
                if (size > UINT32_MAX)
                    die("a value over 4 GiB", NULL);
                cell->v.offset = t->arena_size;
                cell->size = (uint32_t)size;
                t->arena_size += size;
                break;
            }
            default:
                break;
            }
        }
        t->rows++;
    }
    if (rc != SQLITE_DONE)
        die(sql, db);
    sqlite3_finalize(stmt);
}

/* INSERT INTO name VALUES (?, ...), ... with `rows` rows. */
static sqlite3_stmt *prepare_insert(sqlite3 *db, const struct table *t, int rows)
{
    size_t size = 64 + strlen(t->name) + (size_t)rows * ((size_t)t->columns * 3 + 4);
    char *sql = malloc(size);
    if (!sql)
        die("allocating", NULL);
    size_t n = (size_t)snprintf(sql, size, "INSERT INTO \"%s\" VALUES ", t->name);
    for (int r = 0; r < rows; r++) {
        sql[n++] = r ? ',' : ' ';
        sql[n++] = '(';
        for (int c = 0; c < t->columns; c++) {
            if (c)
                sql[n++] = ',';
            sql[n++] = '?';
        }
        sql[n++] = ')';
    }
    sql[n] = '\0';
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
        die(sql, db);
    free(sql);
    return stmt;
}

static void bind_row(sqlite3_stmt *stmt, const struct table *t, size_t row, int first_param)
{
    const struct cell *cells = &t->cells[row * (size_t)t->columns];
    for (int c = 0; c < t->columns; c++) {
        const struct cell *cell = &cells[c];
        int param = first_param + c;
        switch (cell->type) {
        case SQLITE_INTEGER:
            sqlite3_bind_int64(stmt, param, cell->v.integer);
            break;
        case SQLITE_FLOAT:
            sqlite3_bind_double(stmt, param, cell->v.real);
            break;
        case SQLITE_TEXT:
            sqlite3_bind_text(stmt, param, t->arena + cell->v.offset, (int)cell->size,
                              SQLITE_STATIC);
            break;
        case SQLITE_BLOB:
            sqlite3_bind_blob(stmt, param, t->arena + cell->v.offset, (int)cell->size,
                              SQLITE_STATIC);
            break;
        default:
            sqlite3_bind_null(stmt, param);
            break;
        }
    }
}

static void step_or_die(sqlite3 *db, sqlite3_stmt *stmt)
{
    if (sqlite3_step(stmt) != SQLITE_DONE)
        die("INSERT", db);
    sqlite3_reset(stmt);
}

static void insert_rows(sqlite3 *db, const struct table *t)
{
    sqlite3_stmt *many = prepare_insert(db, t, ROWS_PER_STATEMENT);
    sqlite3_stmt *one = prepare_insert(db, t, 1);
    size_t row = 0;
    for (; row + ROWS_PER_STATEMENT <= t->rows; row += ROWS_PER_STATEMENT) {
        for (int r = 0; r < ROWS_PER_STATEMENT; r++)
            bind_row(many, t, row + (size_t)r, 1 + r * t->columns);
        step_or_die(db, many);
    }
    for (; row < t->rows; row++) {
        bind_row(one, t, row, 1);
        step_or_die(db, one);
    }
    sqlite3_finalize(many);
    sqlite3_finalize(one);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: insert_floor WAREHOUSE.db NEW.db\n");
        return 2;
    }
    sqlite3 *source;
    if (sqlite3_open_v2(argv[1], &source, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die(argv[1], source);
    struct table tables[TABLE_COUNT];
    memset(tables, 0, sizeof tables);
    for (size_t i = 0; i < TABLE_COUNT; i++) {
        tables[i].name = star_tables[i];
        load_schema(source, &tables[i]);
        load_rows(source, &tables[i]);
    }
    sqlite3_close(source);

    char journal[4096];
    snprintf(journal, sizeof journal, "%s-journal", argv[2]);
    unlink(argv[2]);
    unlink(journal);
    sqlite3 *db;
    if (sqlite3_open_v2(argv[2], &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        die(argv[2], db);
    exec_or_die(db, PRAGMAS);

    double started = now();
    exec_or_die(db, "BEGIN IMMEDIATE");
    for (size_t i = 0; i < TABLE_COUNT; i++)
        for (size_t s = 0; s < tables[i].schema_count; s++)
            exec_or_die(db, tables[i].schema[s]);
    for (size_t i = 0; i < TABLE_COUNT; i++)
        insert_rows(db, &tables[i]);
    exec_or_die(db, "COMMIT");
    double seconds = now() - started;
    if (sqlite3_close(db) != SQLITE_OK)
        die(argv[2], db);

    size_t total = 0;
    printf("{");
    for (size_t i = 0; i < TABLE_COUNT; i++) {
        printf("\"%s\": %zu, ", tables[i].name, tables[i].rows);
        total += tables[i].rows;
    }
    printf("\"rows\": %zu, \"seconds\": %.3f}\n", total, seconds);
    for (size_t i = 0; i < TABLE_COUNT; i++) {
        for (size_t s = 0; s < tables[i].schema_count; s++)
            free(tables[i].schema[s]);
        free(tables[i].schema);
        free(tables[i].cells);
        free(tables[i].arena);
    }
    return 0;
}
