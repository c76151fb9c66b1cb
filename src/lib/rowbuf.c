/* rowbuf.c - row batches, their text arena and the table definitions (see rowbuf.h). */
#include "rowbuf.h"

#include "buffer.h"

#include <stdlib.h>
#include <string.h>

static const char *const songplays_columns[] = {"start_time", "user_id",   "level",
                                                "song_id",    "artist_id", "session_id",
                                                "location",   "user_agent"};
static const enum column_type songplays_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT,
                                                   COLUMN_TEXT, COLUMN_TEXT, COLUMN_INT,
                                                   COLUMN_TEXT, COLUMN_TEXT};
/* A star column is as wide as the staging column it is copied from. */
static const uint32_t songplays_text_bytes[] = {
    0, TEXT_BYTES_ID,       TEXT_BYTES_CODE,      TEXT_BYTES_ID, TEXT_BYTES_ID,
    0, TEXT_BYTES_LOCATION, TEXT_BYTES_USER_AGENT};
static const char *const users_columns[] = {"user_id", "first_name", "last_name", "gender",
                                            "level"};
static const enum column_type users_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT,
                                               COLUMN_TEXT};
static const uint32_t users_text_bytes[] = {TEXT_BYTES_ID, TEXT_BYTES_PERSON_NAME,
                                            TEXT_BYTES_PERSON_NAME, TEXT_BYTES_CODE,
                                            TEXT_BYTES_CODE};
static const char *const songs_columns[] = {"song_id", "title", "artist_id", "year", "duration"};
static const enum column_type songs_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT, COLUMN_INT,
                                               COLUMN_DOUBLE};
static const uint32_t songs_text_bytes[] = {TEXT_BYTES_ID, TEXT_BYTES_TITLE, TEXT_BYTES_ID, 0, 0};
static const char *const artists_columns[] = {"artist_id", "name", "location", "latitude",
                                              "longitude"};
static const enum column_type artists_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT,
                                                 COLUMN_DOUBLE, COLUMN_DOUBLE};
static const uint32_t artists_text_bytes[] = {TEXT_BYTES_ID, TEXT_BYTES_TITLE, TEXT_BYTES_LOCATION,
                                              0, 0};
static const char *const time_columns[] = {"start_time", "hour", "day",    "week",
                                           "month",      "year", "weekday"};
static const enum column_type time_types[] = {COLUMN_TEXT, COLUMN_INT, COLUMN_INT, COLUMN_INT,
                                              COLUMN_INT,  COLUMN_INT, COLUMN_INT};
static const uint32_t time_text_bytes[] = {0, 0, 0, 0, 0, 0, 0};
static const char *const song_lookup_columns[] = {"title", "artist_name", "duration", "song_id",
                                                  "artist_id"};
static const enum column_type song_lookup_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_DOUBLE,
                                                     COLUMN_TEXT, COLUMN_TEXT};
static const uint32_t song_lookup_text_bytes[] = {TEXT_BYTES_TITLE, TEXT_BYTES_TITLE, 0,
                                                  TEXT_BYTES_ID, TEXT_BYTES_ID};
/* Each user's latest play as the warehouse holds it (start_time, then level), so that a run
 * decides its users by probing their keys instead of reading every songplay. */
static const char *const user_latest_columns[] = {"user_id", "start_time", "level"};
static const enum column_type user_latest_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT};
static const uint32_t user_latest_text_bytes[] = {TEXT_BYTES_ID, 0, TEXT_BYTES_CODE};

/* Bookkeeping text is sparkify's own, not the sources': short codes and times, and paths, keys
 * and messages of any length. */
#define BOOKKEEPING_SHORT 256
#define BOOKKEEPING_LONG 65535

/* fingerprint comes last: warehouses created before it gained it as an added column. */
static const char *const loaded_objects_columns[] = {"kind",    "object_key", "size",
                                                     "version", "loaded_at",  "fingerprint"};
static const enum column_type loaded_objects_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_BIGINT,
                                                        COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT};
static const uint32_t loaded_objects_text_bytes[] = {
    BOOKKEEPING_SHORT, BOOKKEEPING_LONG,  0,
    BOOKKEEPING_SHORT, BOOKKEEPING_SHORT, BOOKKEEPING_SHORT};
static const char *const load_errors_columns[] = {"source", "line", "reason", "raw", "loaded_at"};
static const enum column_type load_errors_types[] = {COLUMN_TEXT, COLUMN_BIGINT, COLUMN_TEXT,
                                                     COLUMN_TEXT, COLUMN_TEXT};
static const uint32_t load_errors_text_bytes[] = {BOOKKEEPING_LONG, 0, BOOKKEEPING_LONG,
                                                  BOOKKEEPING_LONG, BOOKKEEPING_SHORT};

static const char *const etl_runs_columns[] = {"run_at", "log_objects", "song_objects",
                                               "events", "songplays",   "bad_records"};
static const enum column_type etl_runs_types[] = {COLUMN_TEXT,   COLUMN_BIGINT, COLUMN_BIGINT,
                                                  COLUMN_BIGINT, COLUMN_BIGINT, COLUMN_BIGINT};
static const uint32_t etl_runs_text_bytes[] = {BOOKKEEPING_SHORT, 0, 0, 0, 0, 0};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define TABLE(name, prefix, key)                                                                   \
    {                                                                                              \
        name, COUNT(prefix##_columns), prefix##_columns, prefix##_types, prefix##_text_bytes, key  \
    }

const struct table_def table_defs[TABLE_COUNT] = {
    [TABLE_STAGING_EVENTS] = {"staging_events", EVENT_FIELD_COUNT, event_columns, event_types,
                              event_text_bytes, NULL},
    [TABLE_STAGING_SONGS] = {"staging_songs", SONG_FIELD_COUNT, song_columns, song_types,
                             song_text_bytes, NULL},
    [TABLE_SONGPLAYS] = TABLE("songplays", songplays, "songplay_id"),
    [TABLE_USERS] = TABLE("users", users, "user_id"),
    [TABLE_SONGS] = TABLE("songs", songs, "song_id"),
    [TABLE_ARTISTS] = TABLE("artists", artists, "artist_id"),
    [TABLE_TIME] = TABLE("time", time, "start_time"),
    [TABLE_SONG_LOOKUP] = TABLE("song_lookup", song_lookup, NULL),
    [TABLE_USER_LATEST] = TABLE("user_latest", user_latest, "user_id"),
    [TABLE_LOADED_OBJECTS] = TABLE("loaded_objects", loaded_objects, "kind, object_key"),
    [TABLE_LOAD_ERRORS] = TABLE("load_errors", load_errors, NULL),
    [TABLE_ETL_RUNS] = TABLE("etl_runs", etl_runs, NULL),
};

/* Each table's lists have as many entries as it has columns. */
_Static_assert(COUNT(songplays_text_bytes) == COUNT(songplays_columns), "songplays sizes");
_Static_assert(COUNT(users_text_bytes) == COUNT(users_columns), "users sizes");
_Static_assert(COUNT(songs_text_bytes) == COUNT(songs_columns), "songs sizes");
_Static_assert(COUNT(artists_text_bytes) == COUNT(artists_columns), "artists sizes");
_Static_assert(COUNT(time_text_bytes) == COUNT(time_columns), "time sizes");
_Static_assert(COUNT(song_lookup_text_bytes) == COUNT(song_lookup_columns), "song_lookup sizes");
_Static_assert(COUNT(user_latest_text_bytes) == COUNT(user_latest_columns), "user_latest sizes");
_Static_assert(COUNT(loaded_objects_text_bytes) == COUNT(loaded_objects_columns),
               "loaded_objects sizes");
_Static_assert(COUNT(load_errors_text_bytes) == COUNT(load_errors_columns), "load_errors sizes");
_Static_assert(COUNT(etl_runs_text_bytes) == COUNT(etl_runs_columns), "etl_runs sizes");

#define ARENA_BLOCK_SIZE (64 * 1024)

struct arena_block {
    struct arena_block *next;
    size_t used;
    size_t size;
    char data[];
};

void arena_init(struct arena *a)
{
    a->head = NULL;
}

void arena_release(struct arena *a)
{
    while (a->head) {
        struct arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

void arena_reset(struct arena *a)
{
    if (!a->head)
        return;
    /* Keep the oldest standard-size block; free the rest. */
    struct arena_block *keep = NULL;
    while (a->head) {
        struct arena_block *next = a->head->next;
        if (!keep && a->head->size == ARENA_BLOCK_SIZE)
            keep = a->head;
        else
            free(a->head);
        a->head = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
}

char *arena_alloc(struct arena *a, size_t len)
{
    struct arena_block *b = a->head;
    if (!b || b->size - b->used < len + 1) {
        size_t size = len + 1 > ARENA_BLOCK_SIZE / 4 ? len + 1 : ARENA_BLOCK_SIZE;
        struct arena_block *nb = xmalloc(sizeof *nb + size);
        nb->used = 0;
        nb->size = size;
        if (size == ARENA_BLOCK_SIZE || !b) {
            nb->next = b;
            a->head = nb;
        } else {
            /* An oversized string gets its own block behind the current one, which stays
             * open for the small strings that follow. */
            nb->next = b->next;
            b->next = nb;
        }
        b = nb;
    }
    char *p = b->data + b->used;
    p[len] = '\0';
    b->used += len + 1;
    return p;
}

char *arena_copy(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len);
    if (len)
        memcpy(p, s, len);
    return p;
}

void rowbuf_init(struct rowbuf *rb, enum table_id table)
{
    rb->table = table;
    rb->columns = table_defs[table].column_count;
    rb->rows = 0;
    rb->capacity = 0;
    rb->cells = NULL;
    arena_init(&rb->text);
}

void rowbuf_init_columns(struct rowbuf *rb, size_t columns)
{
    rowbuf_init(rb, TABLE_COUNT - 1);
    rb->table = TABLE_COUNT;
    rb->columns = columns;
}

void rowbuf_release(struct rowbuf *rb)
{
    free(rb->cells);
    rb->cells = NULL;
    rb->rows = rb->capacity = 0;
    arena_release(&rb->text);
}

void rowbuf_clear(struct rowbuf *rb)
{
    rb->rows = 0;
    arena_reset(&rb->text);
}

struct cell *rowbuf_add_row(struct rowbuf *rb)
{
    if (rb->rows == rb->capacity) {
        rb->capacity = rb->capacity ? rb->capacity * 2 : 256;
        rb->cells = xrealloc(rb->cells, rb->capacity * rb->columns * sizeof *rb->cells);
    }
    struct cell *row = rowbuf_row(rb, rb->rows++);
    memset(row, 0, rb->columns * sizeof *row);
    return row;
}

void rowbuf_set_text(struct rowbuf *rb, struct cell *c, const char *s, size_t len)
{
    c->type = CELL_TEXT;
    c->text.ptr = arena_copy(&rb->text, s, len);
    c->text.len = len;
}

void rowbuf_set_cell(struct rowbuf *rb, struct cell *dst, const struct cell *src)
{
    if (src->type == CELL_TEXT)
        rowbuf_set_text(rb, dst, src->text.ptr, src->text.len);
    else
        *dst = *src;
}

/* qsort has no context argument in C17; the key width travels in a thread-local. */
static _Thread_local size_t sort_key_columns;

static int compare_rows(const void *a, const void *b)
{
    const struct cell *x = a, *y = b;
    for (size_t i = 0; i < sort_key_columns; i++) {
        int c = cell_compare(&x[i], &y[i]);
        if (c)
            return c;
    }
    return 0;
}

void rowbuf_sort(struct rowbuf *rb, size_t key_columns)
{
    if (rb->rows < 2)
        return;
    sort_key_columns = key_columns;
    qsort(rb->cells, rb->rows, rb->columns * sizeof *rb->cells, compare_rows);
}
