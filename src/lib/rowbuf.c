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
static const char *const users_columns[] = {"user_id", "first_name", "last_name", "gender",
                                            "level"};
static const enum column_type users_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT,
                                               COLUMN_TEXT};
static const char *const songs_columns[] = {"song_id", "title", "artist_id", "year", "duration"};
static const enum column_type songs_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT, COLUMN_INT,
                                               COLUMN_DOUBLE};
static const char *const artists_columns[] = {"artist_id", "name", "location", "latitude",
                                              "longitude"};
static const enum column_type artists_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT,
                                                 COLUMN_DOUBLE, COLUMN_DOUBLE};
static const char *const time_columns[] = {"start_time", "hour", "day",    "week",
                                           "month",      "year", "weekday"};
static const enum column_type time_types[] = {COLUMN_TEXT, COLUMN_INT, COLUMN_INT, COLUMN_INT,
                                              COLUMN_INT,  COLUMN_INT, COLUMN_INT};
static const char *const song_lookup_columns[] = {"title", "artist_name", "duration", "song_id",
                                                  "artist_id"};
static const enum column_type song_lookup_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_DOUBLE,
                                                     COLUMN_TEXT, COLUMN_TEXT};
/* fingerprint comes last: warehouses created before it gained it as an added column. */
static const char *const loaded_objects_columns[] = {"kind",    "object_key", "size",
                                                     "version", "loaded_at",  "fingerprint"};
static const enum column_type loaded_objects_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_BIGINT,
                                                        COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT};
static const char *const load_errors_columns[] = {"source", "line", "reason", "raw", "loaded_at"};
static const enum column_type load_errors_types[] = {COLUMN_TEXT, COLUMN_BIGINT, COLUMN_TEXT,
                                                     COLUMN_TEXT, COLUMN_TEXT};

static const char *const etl_runs_columns[] = {"run_at", "log_objects", "song_objects",
                                               "events", "songplays",   "bad_records"};
static const enum column_type etl_runs_types[] = {COLUMN_TEXT,   COLUMN_BIGINT, COLUMN_BIGINT,
                                                  COLUMN_BIGINT, COLUMN_BIGINT, COLUMN_BIGINT};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct table_def table_defs[TABLE_COUNT] = {
    [TABLE_STAGING_EVENTS] = {"staging_events", EVENT_FIELD_COUNT, event_columns, event_types,
                              NULL},
    [TABLE_STAGING_SONGS] = {"staging_songs", SONG_FIELD_COUNT, song_columns, song_types, NULL},
    [TABLE_SONGPLAYS] = {"songplays", COUNT(songplays_columns), songplays_columns, songplays_types,
                         "songplay_id"},
    [TABLE_USERS] = {"users", COUNT(users_columns), users_columns, users_types, "user_id"},
    [TABLE_SONGS] = {"songs", COUNT(songs_columns), songs_columns, songs_types, "song_id"},
    [TABLE_ARTISTS] = {"artists", COUNT(artists_columns), artists_columns, artists_types,
                       "artist_id"},
    [TABLE_TIME] = {"time", COUNT(time_columns), time_columns, time_types, "start_time"},
    [TABLE_SONG_LOOKUP] = {"song_lookup", COUNT(song_lookup_columns), song_lookup_columns,
                           song_lookup_types, NULL},
    [TABLE_LOADED_OBJECTS] = {"loaded_objects", COUNT(loaded_objects_columns),
                              loaded_objects_columns, loaded_objects_types, "kind, object_key"},
    [TABLE_LOAD_ERRORS] = {"load_errors", COUNT(load_errors_columns), load_errors_columns,
                           load_errors_types, NULL},
    [TABLE_ETL_RUNS] = {"etl_runs", COUNT(etl_runs_columns), etl_runs_columns, etl_runs_types,
                        NULL},
};

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

char *arena_copy(struct arena *a, const char *s, size_t len)
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
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    b->used += len + 1;
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
