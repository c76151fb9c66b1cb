/* etl.c - one ETL run: list, skip what is loaded, songs in parallel, events pipelined.
 *
 * Threads: song files are small and many, so reader threads fetch their bytes while the
 * calling thread parses and merges them in object order, which keeps the model and error
 * reports deterministic.
 * Events stream through a producer thread (read, parse, model) into a short queue of row
 * batches that the calling thread writes; only the calling thread touches the warehouse.
 * Everything happens inside one transaction, rolled back on any failure, so a failed run
 * leaves the warehouse exactly as it was.
 */
#include "etl.h"
#include "etl_internal.h"

#include "buffer.h"
#include "hashmap.h"
#include "json.h"
#include "loaded_objects.h"
#include "model.h"
#include "source.h"
#include "timeconv.h"
#include "transform_sql.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH_ROWS 8192 /* songplay rows per batch handed to the writer */
#define BATCH_COUNT 4   /* batches in flight between the two threads */
#define RAW_EXCERPT 256 /* bytes of a bad record kept in load_errors */
#define MAX_THREADS 16
_Static_assert(SOURCE_MAX_RECORD == JSON_MAX_RECORD, "lines and objects share COPY's 4 MB limit");
/* Song files hold one song each, sometimes a few: reader threads read those up to this size
 * whole; larger files, and gzip data, which can inflate to gigabytes, stream through a window
 * that holds two of the largest objects COPY takes. */
#define SONG_WHOLE_MAX (8u << 20)
#define SONG_WINDOW (2 * JSON_MAX_RECORD)
/* S3 song objects are fetched whole, many at a time. */
#define SONG_S3_MAX (64u << 20)

/* ---- bad records ---- */

struct bad_records {
    long max;
    size_t count;
    struct rowbuf rows; /* load_errors */
    char loaded_at[32];
};

/* The length of the valid UTF-8 sequence at s[0, len), or 0 (overlong forms, surrogates and
 * code points past U+10FFFF are not valid). */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
    unsigned c = s[0];
    size_t n = c < 0x80                 ? 1
               : c >= 0xC2 && c <= 0xDF ? 2
               : (c & 0xF0) == 0xE0     ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
    if (n == 0 || n > len)
        return 0;
    for (size_t k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] >= 0x90))
        return 0;
    return n;
}

size_t etl_utf8_excerpt(const char *s, size_t len, char *out, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0, i = 0;
    while (i < len && o < max) {
        size_t n = utf8_sequence(u + i, len - i);
        if (n > 1 && o + n > max)
            break;
        if (n == 0 || u[i] < 0x20 || u[i] == 0x7F) {
            out[o++] = (u[i] == '\t') ? '\t' : '?';
            i++;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    return o;
}

static int bad_record(struct bad_records *b, const char *source, size_t line, const char *reason,
                      const char *raw, size_t raw_len, struct sp_error *err)
{
    b->count++;
    if ((long)b->count > b->max) {
        if (b->max == 0)
            return sp_fail(err,
                           "%s:%zu: %s; nothing was written (fix the record, or skip up to N bad "
                           "records into load_errors with --max-errors N)",
                           source, line, reason);
        return sp_fail(err,
                       "%s:%zu: %s; more than --max-errors %ld bad records, nothing was "
                       "written",
                       source, line, reason, b->max);
    }
    struct cell *row = rowbuf_add_row(&b->rows);
    rowbuf_set_text(&b->rows, &row[0], source, strlen(source));
    row[1].type = CELL_INT;
    row[1].i = (int64_t)line;
    rowbuf_set_text(&b->rows, &row[2], reason, strlen(reason));
    if (raw) {
        char excerpt[RAW_EXCERPT];
        size_t n = etl_utf8_excerpt(raw, raw_len, excerpt, sizeof excerpt);
        rowbuf_set_text(&b->rows, &row[3], excerpt, n);
    }
    rowbuf_set_text(&b->rows, &row[4], b->loaded_at, strlen(b->loaded_at));
    return SP_OK;
}

/* ---- the run ---- */

struct run {
    struct warehouse *wh;
    const struct etl_options *options;
    struct etl_result *result;
    struct loaded_record loaded;
    struct model *model; /* NULL with --transform sql: the warehouse builds the star rows */
    struct field_spec event_spec, song_spec;
    struct bad_records bad;
    struct rowbuf staging_songs;
    bool stage; /* raw records go to the staging tables (--keep-staging, --transform sql) */
};

static int online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

static void report_progress(const struct run *run, const char *phase, size_t done, size_t total,
                            uint64_t bytes_done, uint64_t bytes_total, uint64_t records)
{
    if (!run->options->progress)
        return;
    struct etl_progress p = {phase, done, total, bytes_done, bytes_total, records};
    run->options->progress(run->options->progress_ctx, &p);
}

/* ---- songs: reader threads fetch bytes, the caller parses and merges in order ---- */

/* Song files are small and many: reading them is system calls, parsing them is quick. So
 * reader threads only fetch bytes into a ring of slots, and the calling thread parses and
 * models each object in list order as soon as its slot is filled. Ordered merging keeps the
 * model and the error reports deterministic; the ring bounds memory. */
#define SONG_RING 1024

struct song_slot {
    size_t index; /* the object this slot holds, valid while `ready` */
    bool ready;
    bool streamed; /* too large to read whole: the merging thread streams it */
    int status;
    struct sp_error error;
    struct buffer data;
};

struct song_readers {
    struct source_list *objects;
    atomic_size_t next;
    pthread_mutex_t lock;
    pthread_cond_t filled, freed;
    size_t consumed; /* objects merged so far */
    bool stop;
    struct song_slot slots[SONG_RING];
};

static void *song_reader_main(void *arg)
{
    struct song_readers *r = arg;
    size_t i;
    while ((i = atomic_fetch_add(&r->next, 1)) < r->objects->count) {
        struct song_slot *slot = &r->slots[i % SONG_RING];
        pthread_mutex_lock(&r->lock);
        while (!r->stop && i >= r->consumed + SONG_RING)
            pthread_cond_wait(&r->freed, &r->lock);
        bool stop = r->stop;
        pthread_mutex_unlock(&r->lock);
        if (stop)
            break;
        struct source_object *o = &r->objects->items[i];
        slot->streamed = o->size > SONG_WHOLE_MAX;
        slot->status = slot->streamed ? SP_OK
                                      : source_read_raw(o, JSON_PADDING, SONG_WHOLE_MAX,
                                                        &slot->data, &slot->error);
        pthread_mutex_lock(&r->lock);
        slot->index = i;
        slot->ready = true;
        pthread_cond_broadcast(&r->filled);
        pthread_mutex_unlock(&r->lock);
    }
    return NULL;
}

/* For S3 objects one thread keeps many requests in flight (s3_fetch_many) and fills the
 * same ring the local readers fill. */
struct s3_fetcher {
    struct song_readers *readers;
    struct s3_client *s3;
};

static struct buffer *s3_slot(void *ctx, size_t i)
{
    struct song_readers *r = ((struct s3_fetcher *)ctx)->readers;
    pthread_mutex_lock(&r->lock);
    bool room = r->stop || i < r->consumed + SONG_RING;
    pthread_mutex_unlock(&r->lock);
    return room ? &r->slots[i % SONG_RING].data : NULL;
}

static int s3_done(void *ctx, size_t i, int status, const struct sp_error *err)
{
    struct song_readers *r = ((struct s3_fetcher *)ctx)->readers;
    struct song_slot *slot = &r->slots[i % SONG_RING];
    pthread_mutex_lock(&r->lock);
    slot->status = status;
    if (err)
        slot->error = *err;
    slot->index = i;
    slot->ready = true;
    bool stop = r->stop;
    pthread_cond_broadcast(&r->filled);
    pthread_mutex_unlock(&r->lock);
    return stop;
}

static void *s3_fetcher_main(void *arg)
{
    struct s3_fetcher *f = arg;
    s3_fetch_many(f->s3, f->readers->objects, JSON_PADDING, s3_slot, s3_done, f);
    return NULL;
}

struct song_merge {
    struct run *run;
    const char *key;
    struct sp_error *err;
};

static int merge_song(void *ctx, const struct cell *cells, size_t line)
{
    struct song_merge *m = ctx;
    struct run *run = m->run;
    char reason[256];
    int rc = run->model ? model_add_song(run->model, cells, reason, sizeof reason)
                        : model_check_song(cells, reason, sizeof reason);
    if (rc != 0)
        return bad_record(&run->bad, m->key, line, reason, NULL, 0, m->err) == SP_OK ? 0 : -2;
    run->result->song_records++;
    if (run->stage) {
        struct cell *row = rowbuf_add_row(&run->staging_songs);
        for (size_t i = 0; i < SONG_FIELD_COUNT; i++)
            rowbuf_set_cell(&run->staging_songs, &row[i], &cells[i]);
    }
    return 0;
}

/* The text of line `line` of `buf`, for a load_errors excerpt. */
static const char *line_start(const char *buf, size_t len, size_t line, size_t *line_len)
{
    const char *p = buf, *end = buf + len;
    for (size_t l = 1; l < line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *line_len = (size_t)((nl ? nl : end) - p);
    return p;
}

static int merge_song_object(struct run *run, struct json_parser *parser, struct source_object *o,
                             const struct buffer *data, struct sp_error *err)
{
    if (o->check_content && loaded_record_check_content(&run->loaded, "song", o)) {
        o->skip = true; /* its content is loaded already, or earlier in this run */
        return SP_OK;
    }
    struct song_merge m = {run, o->key, err};
    size_t bad_line;
    char reason[256];
    int rc = json_parse_objects(parser, data->data, data->len, &run->song_spec, merge_song, &m,
                                &bad_line, reason, sizeof reason);
    if (rc == -2)
        return SP_FAIL; /* a bad record beyond --max-errors; err is set */
    if (rc != 0) {
        size_t len;
        const char *raw = line_start(data->data, data->len, bad_line, &len);
        return bad_record(&run->bad, o->key, bad_line, reason, raw, len, err);
    }
    return SP_OK;
}

/* Streams a song object through `window`: gzip data (its stored bytes in `raw`) or a file too
 * large to read whole (`raw` NULL), never holding more than SONG_WINDOW of its content. */
static int merge_song_stream(struct run *run, struct json_parser *parser, struct source_object *o,
                             const struct buffer *raw, char *window, struct sp_error *err)
{
    if (o->check_content && !raw) {
        /* Its content is compared before it is loaded: fingerprint it first. */
        uint64_t hashed;
        if (source_fingerprint_file(o->key, o->size, &hashed, o->fingerprint, err) != SP_OK)
            return SP_FAIL;
        o->loaded = hashed;
    }
    if (o->check_content && loaded_record_check_content(&run->loaded, "song", o)) {
        o->skip = true; /* its content is loaded already, or earlier in this run */
        return SP_OK;
    }
    struct source_stream *stream;
    if (source_stream_open(&stream, o, raw ? raw->data : NULL, raw ? raw->len : 0, run->options->s3,
                           err) != SP_OK)
        return SP_FAIL;
    struct song_merge m = {run, o->key, err};
    struct json_window w = {.first_line = 1, .at_start = true};
    size_t have = 0;
    int status = SP_OK;
    for (;;) {
        while (!w.final && have < SONG_WINDOW) {
            long n = source_stream_read(stream, window + have, SONG_WINDOW - have, err);
            if (n < 0)
                status = SP_FAIL;
            if (n <= 0)
                w.final = true;
            have += n > 0 ? (size_t)n : 0;
        }
        if (status != SP_OK)
            break;
        memset(window + have, 0, JSON_PADDING);
        size_t bad_line;
        char reason[256];
        int rc = json_parse_window(parser, window, have, &w, &run->song_spec, merge_song, &m,
                                   &bad_line, reason, sizeof reason);
        if (rc == -2) {
            status = SP_FAIL; /* a bad record beyond --max-errors; err is set */
            break;
        }
        if (rc != 0) {
            size_t len;
            const char *excerpt = line_start(window, have, bad_line - w.first_line + 1, &len);
            status = bad_record(&run->bad, o->key, bad_line, reason, excerpt, len, err);
            break;
        }
        if (w.final)
            break;
        memmove(window, window + w.consumed, have - w.consumed);
        have -= w.consumed;
        w.first_line += w.lines;
        w.at_start = w.at_start && w.consumed == 0;
    }
    if (status == SP_OK && !raw)
        source_stream_finish(stream, o);
    source_stream_close(stream);
    return status;
}

static int load_songs(struct run *run, struct source_list *objects, struct sp_error *err)
{
    /* S3 bodies are fetched whole: the listing says how large they are before any is. */
    for (size_t i = 0; i < objects->count; i++)
        if (source_is_s3(objects->items[i].key) && objects->items[i].size > SONG_S3_MAX)
            return sp_fail(err,
                           "%s: a song object of %llu MB; song files hold one song each, or a "
                           "few: more than %u MB is refused from S3",
                           objects->items[i].key,
                           (unsigned long long)(objects->items[i].size >> 20), SONG_S3_MAX >> 20);
    int threads = run->options->threads > 0 ? run->options->threads : online_cores();
    struct song_readers *r = xcalloc(1, sizeof *r);
    r->objects = objects;
    atomic_init(&r->next, 0);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->filled, NULL);
    pthread_cond_init(&r->freed, NULL);
    for (size_t i = 0; i < SONG_RING; i++)
        buffer_init(&r->slots[i].data);
    pthread_t ids[MAX_THREADS];
    int started = 0;
    struct s3_fetcher fetcher = {r, run->options->s3};
    char *window = NULL;
    if (objects->count && source_is_s3(objects->items[0].key)) {
        if (pthread_create(&ids[0], NULL, s3_fetcher_main, &fetcher) == 0)
            started = 1;
    } else {
        while (started < threads && pthread_create(&ids[started], NULL, song_reader_main, r) == 0)
            started++;
    }
    int status = started ? SP_OK : sp_fail(err, "cannot start the song reader threads");
    struct json_parser *parser = json_parser_new();
    uint64_t bytes_done = 0;
    for (size_t i = 0; status == SP_OK && i < objects->count; i++) {
        struct song_slot *slot = &r->slots[i % SONG_RING];
        pthread_mutex_lock(&r->lock);
        while (!(slot->ready && slot->index == i))
            pthread_cond_wait(&r->filled, &r->lock);
        pthread_mutex_unlock(&r->lock);
        if (slot->status != SP_OK) {
            *err = slot->error;
            status = slot->status;
        } else if (slot->streamed || source_is_gzip(slot->data.data, slot->data.len)) {
            if (!window)
                window = xmalloc(SONG_WINDOW + JSON_PADDING);
            status = merge_song_stream(run, parser, &objects->items[i],
                                       slot->streamed ? NULL : &slot->data, window, err);
        } else {
            status = merge_song_object(run, parser, &objects->items[i], &slot->data, err);
        }
        bytes_done += objects->items[i].size;
        pthread_mutex_lock(&r->lock);
        slot->ready = false;
        r->consumed = i + 1;
        pthread_cond_broadcast(&r->freed);
        pthread_mutex_unlock(&r->lock);
        if (status == SP_OK && run->staging_songs.rows >= BATCH_ROWS) {
            status = run->wh->ops->write(run->wh, &run->staging_songs, err);
            rowbuf_clear(&run->staging_songs);
        }
        if ((i + 1) % 1024 == 0 || i + 1 == objects->count)
            report_progress(run, "songs", i + 1, objects->count, bytes_done, objects->total_size,
                            run->result->song_records);
    }
    if (status == SP_OK && run->staging_songs.rows > 0)
        status = run->wh->ops->write(run->wh, &run->staging_songs, err);
    rowbuf_clear(&run->staging_songs);
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->freed);
    pthread_mutex_unlock(&r->lock);
    for (int t = 0; t < started; t++)
        pthread_join(ids[t], NULL);
    json_parser_free(parser);
    free(window);
    for (size_t i = 0; i < SONG_RING; i++)
        buffer_release(&r->slots[i].data);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->filled);
    pthread_cond_destroy(&r->freed);
    free(r);
    return status;
}

/* ---- events: a producer thread and the writing caller ---- */

struct batch {
    struct model_output out;
    struct rowbuf staging;
    struct batch *next;
};

struct pipeline {
    struct run *run;
    struct source_list *objects;
    pthread_mutex_t lock;
    pthread_cond_t filled, emptied;
    struct batch *queue_head, *queue_tail, *free_list;
    bool done, abort;
    int status;
    struct sp_error err;
    struct batch batches[BATCH_COUNT];
};

static struct batch *take_free_batch(struct pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    while (!p->free_list && !p->abort)
        pthread_cond_wait(&p->emptied, &p->lock);
    struct batch *b = p->abort ? NULL : p->free_list;
    if (b)
        p->free_list = b->next;
    pthread_mutex_unlock(&p->lock);
    return b;
}

/* Waits until the writer has written every batch pushed (all are free again); false when it
 * failed. */
static bool wait_until_written(struct pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    for (;;) {
        size_t free_batches = 0;
        for (const struct batch *b = p->free_list; b; b = b->next)
            free_batches++;
        if (free_batches == BATCH_COUNT || p->abort)
            break;
        pthread_cond_wait(&p->emptied, &p->lock);
    }
    bool ok = !p->abort;
    pthread_mutex_unlock(&p->lock);
    return ok;
}

static void push_batch(struct pipeline *p, struct batch *b)
{
    pthread_mutex_lock(&p->lock);
    b->next = NULL;
    if (p->queue_tail)
        p->queue_tail->next = b;
    else
        p->queue_head = b;
    p->queue_tail = b;
    pthread_cond_signal(&p->filled);
    pthread_mutex_unlock(&p->lock);
}

static int blank_line(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return 0;
    return 1;
}

static int stream_object(struct pipeline *p, struct json_parser *parser, struct source_object *o,
                         struct batch **batch, uint64_t bytes_before, struct sp_error *err)
{
    struct run *run = p->run;
    struct line_reader *reader;
    if (line_reader_open_object(&reader, o, run->options->s3, JSON_PADDING, err) != SP_OK)
        return SP_FAIL;
    struct cell cells[EVENT_FIELD_COUNT];
    char reason[256];
    const char *line;
    size_t len;
    int rc, status = SP_OK;
    bool drop_open_line = false;
    while (status == SP_OK && (rc = line_reader_next(reader, &line, &len, err)) >= LINE_OK) {
        size_t line_no = line_reader_line(reader);
        if (rc == LINE_TOO_LONG) {
            /* The same reason the parser gives a song object over the limit. */
            snprintf(reason, sizeof reason, "JSON object larger than %u MB (Redshift COPY's limit)",
                     SOURCE_MAX_RECORD >> 20);
            status = bad_record(&run->bad, o->key, line_no, reason, line, len, err);
            continue;
        }
        if (blank_line(line, len))
            continue;
        int songplay = -1;
        if (json_parse_record(parser, line, len, &run->event_spec, cells, reason, sizeof reason) ==
            0) {
            songplay = run->model ? model_add_event(run->model, cells, &(*batch)->out, reason,
                                                    sizeof reason)
                                  : model_check_event(cells, reason, sizeof reason);
        } else if (line_reader_last_is_open(reader) && json_text_is_incomplete(line, len)) {
            /* The file's last line has no line end and its JSON is unfinished: it is still
             * being written. It is left for the run after the writer finishes it. */
            drop_open_line = true;
            run->result->open_lines++;
            continue;
        }
        if (songplay < 0) {
            status = bad_record(&run->bad, o->key, line_no, reason, line, len, err);
            continue;
        }
        run->result->events++;
        run->result->songplays += (size_t)songplay;
        if (run->stage) {
            struct rowbuf *staging = &(*batch)->staging;
            struct cell *row = rowbuf_add_row(staging);
            for (size_t i = 0; i < EVENT_FIELD_COUNT; i++)
                rowbuf_set_cell(staging, &row[i], &cells[i]);
        }
        if ((*batch)->out.songplays.rows >= BATCH_ROWS || (*batch)->staging.rows >= BATCH_ROWS) {
            push_batch(p, *batch);
            /* The batches in flight point into the model's match entries: they are forgotten
             * only once every batch is written. */
            if (run->model && model_probe_full(run->model)) {
                if (wait_until_written(p))
                    model_probe_forget(run->model);
            }
            if (!(*batch = take_free_batch(p)))
                status = SP_FAIL; /* the writer failed; its error is the one reported */
            else
                report_progress(run, "events", (size_t)(o - p->objects->items), p->objects->count,
                                bytes_before + line_reader_offset(reader), p->objects->total_size,
                                run->result->events);
        }
    }
    if (status == SP_OK && rc < 0)
        status = SP_FAIL;
    if (status == SP_OK)
        line_reader_finish(reader, o, drop_open_line);
    line_reader_close(reader);
    if (run->model)
        model_end_object(run->model);
    return status;
}

static void *producer_main(void *arg)
{
    struct pipeline *p = arg;
    struct json_parser *parser = json_parser_new();
    struct batch *batch = take_free_batch(p);
    int status = batch ? SP_OK : SP_FAIL;
    uint64_t bytes = 0;
    for (size_t i = 0; status == SP_OK && i < p->objects->count; i++) {
        status = stream_object(p, parser, &p->objects->items[i], &batch, bytes, &p->err);
        bytes += p->objects->items[i].size;
        report_progress(p->run, "events", i + 1, p->objects->count, bytes, p->objects->total_size,
                        p->run->result->events);
    }
    if (batch)
        push_batch(p, batch);
    json_parser_free(parser);
    pthread_mutex_lock(&p->lock);
    p->done = true;
    if (status != SP_OK && p->status == SP_OK)
        p->status = status;
    pthread_cond_signal(&p->filled);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct probe_answer {
    struct model *model;
    struct model_output *out;
};

static int on_probe_row(void *ctx, size_t columns, const char *const *names,
                        const struct cell *values)
{
    (void)columns;
    (void)names;
    struct probe_answer *a = ctx;
    if (values[0].type == CELL_INT && values[0].i >= 0)
        model_output_found(a->model, a->out, (size_t)values[0].i, &values[1], &values[2]);
    return SP_OK;
}

static int write_batch(struct run *run, struct batch *b, struct sp_error *err)
{
    struct warehouse *wh = run->wh;
    if (run->model) { /* probe mode: the batch's new match keys, looked up in song_lookup */
        size_t count;
        const struct cell *keys = model_output_probe_keys(&b->out, &count);
        struct probe_answer answer = {run->model, &b->out};
        if (count &&
            wh->ops->song_lookup_probe(wh, keys, count, on_probe_row, &answer, err) != SP_OK)
            return SP_FAIL;
        model_output_resolve(run->model, &b->out);
    }
    const struct rowbuf *parts[] = {&b->out.songplays, &b->out.time, &b->staging};
    for (size_t i = 0; i < 3; i++)
        if (parts[i]->rows && wh->ops->write(wh, parts[i], err) != SP_OK)
            return SP_FAIL;
    return SP_OK;
}

static int load_events(struct run *run, struct source_list *objects, struct sp_error *err)
{
    struct pipeline p;
    memset(&p, 0, sizeof p);
    p.run = run;
    p.objects = objects;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.filled, NULL);
    pthread_cond_init(&p.emptied, NULL);
    for (int i = 0; i < BATCH_COUNT; i++) {
        model_output_init(&p.batches[i].out);
        rowbuf_init(&p.batches[i].staging, TABLE_STAGING_EVENTS);
        p.batches[i].next = p.free_list;
        p.free_list = &p.batches[i];
    }
    pthread_t producer;
    int write_status = SP_OK;
    struct sp_error write_err;
    sp_error_clear(&write_err);
    if (pthread_create(&producer, NULL, producer_main, &p) != 0) {
        write_status = sp_fail(&write_err, "cannot start the event reader thread");
    } else {
        for (;;) {
            pthread_mutex_lock(&p.lock);
            while (!p.queue_head && !p.done)
                pthread_cond_wait(&p.filled, &p.lock);
            struct batch *b = p.queue_head;
            if (b) {
                p.queue_head = b->next;
                if (!p.queue_head)
                    p.queue_tail = NULL;
            }
            pthread_mutex_unlock(&p.lock);
            if (!b)
                break;
            if (write_status == SP_OK)
                write_status = write_batch(run, b, &write_err);
            model_output_clear(&b->out);
            rowbuf_clear(&b->staging);
            pthread_mutex_lock(&p.lock);
            b->next = p.free_list;
            p.free_list = b;
            if (write_status != SP_OK)
                p.abort = true;
            pthread_cond_signal(&p.emptied);
            pthread_mutex_unlock(&p.lock);
        }
        pthread_join(producer, NULL);
    }
    int status = SP_OK;
    if (write_status != SP_OK) {
        *err = write_err;
        status = SP_FAIL;
    } else if (p.status != SP_OK) {
        *err = p.err;
        status = p.status;
    }
    for (int i = 0; i < BATCH_COUNT; i++) {
        model_output_release(&p.batches[i].out);
        rowbuf_release(&p.batches[i].staging);
    }
    pthread_mutex_destroy(&p.lock);
    pthread_cond_destroy(&p.filled);
    pthread_cond_destroy(&p.emptied);
    return status;
}

/* ---- what an incremental run needs from the warehouse ---- */

static int on_user_row(void *ctx, size_t columns, const char *const *names,
                       const struct cell *values)
{
    (void)columns;
    (void)names;
    int64_t ts;
    char text[32];
    if (values[1].type != CELL_TEXT || values[1].text.len >= sizeof text)
        return SP_OK;
    memcpy(text, values[1].text.ptr, values[1].text.len);
    text[values[1].text.len] = '\0';
    struct cell level = values[2];
    if (level.type == CELL_TEXT && level.text.len == 0)
        level.type = CELL_NULL;
    if (time_parse_text(text, &ts) == 0)
        model_settle_user(ctx, &values[0], ts, &level);
    return SP_OK;
}

/* The run's users a chunk at a time: their user_latest rows probed, settled, and the rows the
 * run decides written, so that a run of a million users holds no million rows at once. */
static int write_users(struct run *run, struct sp_error *err)
{
    enum { USER_CHUNK = 65536 };
    struct cell *ids = xmalloc(USER_CHUNK * sizeof *ids);
    struct rowbuf users, latest;
    rowbuf_init(&users, TABLE_USERS);
    rowbuf_init(&latest, TABLE_USER_LATEST);
    int status = SP_OK;
    size_t count;
    for (size_t first = 0;
         status == SP_OK && (count = model_user_ids(run->model, first, USER_CHUNK, ids)) > 0;
         first += count) {
        /* A full refresh has emptied user_latest: nothing to probe. */
        if (!run->options->full_refresh)
            status = run->wh->ops->user_latest(run->wh, ids, count, on_user_row, run->model, err);
        model_user_rows(run->model, first, count, &users, &latest);
        if (status == SP_OK && users.rows)
            status = run->wh->ops->write(run->wh, &users, err);
        if (status == SP_OK && latest.rows)
            status = run->wh->ops->write(run->wh, &latest, err);
        rowbuf_clear(&users);
        rowbuf_clear(&latest);
    }
    rowbuf_release(&users);
    rowbuf_release(&latest);
    free(ids);
    return status;
}

static int write_dimensions(struct run *run, struct sp_error *err)
{
    const struct rowbuf *songs, *artists, *lookup;
    model_dimensions(run->model, &songs, &artists, &lookup);
    const struct rowbuf *parts[] = {songs, artists, lookup};
    int status = SP_OK;
    for (size_t i = 0; status == SP_OK && i < sizeof parts / sizeof parts[0]; i++)
        if (parts[i]->rows)
            status = run->wh->ops->write(run->wh, parts[i], err);
    if (status == SP_OK)
        status = write_users(run, err);
    struct model_counts counts;
    model_counts(run->model, &counts);
    run->result->songplays = counts.songplays;
    run->result->matched = counts.matched;
    run->result->users = counts.users;
    run->result->songs = counts.songs;
    run->result->artists = counts.artists;
    return status;
}

int etl_list_sources(const struct etl_options *o, struct source_list *songs,
                     struct source_list *logs, struct sp_error *err)
{
    if (!o->log_data && !o->song_data)
        return sp_usage(err, "nothing to load: give --log-data and/or --song-data (or "
                             "SPARKIFY_LOG_DATA / SPARKIFY_SONG_DATA, or [S3] LOG_DATA / "
                             "SONG_DATA in dwh.cfg)");
    if (o->song_data && source_list_objects(o->song_data, o->s3, songs, err) != SP_OK)
        return err->status;
    if (o->log_data && source_list_objects(o->log_data, o->s3, logs, err) != SP_OK)
        return err->status;
    return SP_OK;
}

static int load_jsonpaths(struct run *run, char **storage, struct sp_error *err)
{
    field_spec_events(&run->event_spec);
    field_spec_songs(&run->song_spec);
    const char *path = run->options->log_jsonpath;
    if (!path)
        return SP_OK;
    struct buffer text;
    buffer_init(&text);
    int status = source_read_all(path, run->options->s3, JSON_PADDING, JSONPATHS_MAX, &text, err);
    if (status == SP_OK)
        status =
            field_spec_from_jsonpaths(&run->event_spec, text.data, text.len, path, storage, err);
    buffer_release(&text);
    return status;
}

void etl_utc_now(char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static int on_any_row(void *ctx, size_t columns, const char *const *names,
                      const struct cell *values)
{
    (void)columns, (void)names, (void)values;
    *(bool *)ctx = true;
    return SP_OK;
}

int etl_fill_user_latest(struct warehouse *wh, struct sp_error *err)
{
    bool latest = false, plays = false;
    int status = wh->ops->query(wh, "SELECT 1 FROM user_latest LIMIT 1", on_any_row, &latest, err);
    if (status == SP_OK && !latest)
        status = wh->ops->query(wh, "SELECT 1 FROM songplays LIMIT 1", on_any_row, &plays, err);
    if (status == SP_OK && plays)
        status = wh->ops->query(wh, transform_user_latest_fill, NULL, NULL, err);
    if (status != SP_OK)
        sp_error_prefix(err, "filling user_latest from songplays: ");
    return status;
}

int etl_transform(struct warehouse *wh, const struct etl_options *o, uint64_t records,
                  struct sp_error *err)
{
    if (etl_fill_user_latest(wh, err) != SP_OK)
        return SP_FAIL;
    size_t count;
    const struct transform_statement *statements = transform_statements(&count);
    for (size_t i = 0; i <= count; i++) {
        if (o->progress) {
            struct etl_progress p = {"transform", i, count, 0, 0, records};
            o->progress(o->progress_ctx, &p);
        }
        if (i < count && wh->ops->query(wh, statements[i].sql, NULL, NULL, err) != SP_OK) {
            sp_error_prefix(err, "transform step '%s': ", statements[i].name);
            return SP_FAIL;
        }
    }
    return SP_OK;
}

static int run_in_transaction(struct run *run, struct source_list *songs, struct source_list *logs,
                              struct sp_error *err)
{
    struct warehouse *wh = run->wh;
    const struct etl_options *o = run->options;
    int status = wh->ops->create_tables(wh, false, err);
    unsigned staging = (1u << TABLE_STAGING_EVENTS) | (1u << TABLE_STAGING_SONGS);
    unsigned star = (1u << TABLE_SONGPLAYS) | (1u << TABLE_USERS) | (1u << TABLE_SONGS) |
                    (1u << TABLE_ARTISTS) | (1u << TABLE_TIME) | (1u << TABLE_SONG_LOOKUP) |
                    (1u << TABLE_USER_LATEST) | (1u << TABLE_LOADED_OBJECTS) |
                    (1u << TABLE_LOAD_ERRORS) | (1u << TABLE_ETL_RUNS);
    if (status == SP_OK && (o->full_refresh || run->stage))
        status =
            wh->ops->truncate(wh, (o->full_refresh ? star : 0) | (run->stage ? staging : 0), err);
    /* A full refresh has emptied loaded_objects: it still loads the same content only once. */
    if (status == SP_OK)
        status = etl_plan(o->full_refresh ? NULL : wh, &run->loaded, songs, logs,
                          &run->result->skipped_objects, err);
    run->result->song_objects = songs->count;
    run->result->log_objects = logs->count;
    if (status == SP_OK && songs->count) {
        status = load_songs(run, songs, err);
        run->result->skipped_objects += source_list_drop_skipped(songs);
        run->result->song_objects = songs->count;
    }
    if (status == SP_OK && run->model && logs->count && !o->full_refresh) {
        /* Matches against the songs of earlier runs are looked up per batch, for the batch's
         * keys only. */
        bool songs_known = false;
        status =
            wh->ops->query(wh, "SELECT 1 FROM song_lookup LIMIT 1", on_any_row, &songs_known, err);
        if (songs_known)
            model_probe_warehouse(run->model);
        if (status == SP_OK) /* before this run's songplays exist */
            status = etl_fill_user_latest(wh, err);
    }
    if (status == SP_OK && logs->count)
        status = load_events(run, logs, err);
    if (status == SP_OK)
        status = run->model ? write_dimensions(run, err)
                            : etl_transform(wh, o, run->result->events, err);
    if (status == SP_OK)
        status = etl_write_loaded(wh, &run->loaded, songs, logs, run->bad.loaded_at, err);
    if (status == SP_OK && run->bad.rows.rows)
        status = wh->ops->write(wh, &run->bad.rows, err);
    run->result->bad_records = run->bad.count;
    for (size_t i = 0; i < songs->count; i++)
        run->result->bytes += songs->items[i].size;
    for (size_t i = 0; i < logs->count; i++)
        run->result->bytes += logs->items[i].size;
    if (status == SP_OK)
        status = etl_finish_run(wh, o, run->result, run->bad.loaded_at, err);
    return status;
}

int etl_plan(struct warehouse *wh, struct loaded_record *loaded, struct source_list *songs,
             struct source_list *logs, size_t *skipped, struct sp_error *err)
{
    int status =
        wh ? loaded_record_read(wh, loaded, songs->count > 0, logs->count > 0, err) : SP_OK;
    if (status == SP_OK)
        status = loaded_record_plan(loaded, "song", songs, true, skipped, err);
    if (status == SP_OK)
        status = loaded_record_plan(loaded, "log", logs, true, skipped, err);
    return status;
}

int etl_write_loaded(struct warehouse *wh, struct loaded_record *loaded,
                     const struct source_list *songs, const struct source_list *logs,
                     const char *loaded_at, struct sp_error *err)
{
    struct rowbuf record;
    rowbuf_init(&record, TABLE_LOADED_OBJECTS);
    loaded_record_rows(&record, "song", songs, loaded_at);
    loaded_record_rows(&record, "log", logs, loaded_at);
    loaded_record_seen_rows(loaded, &record);
    int status = record.rows ? wh->ops->write(wh, &record, err) : SP_OK;
    rowbuf_release(&record);
    return status;
}

int etl_finish_run(struct warehouse *wh, const struct etl_options *options,
                   const struct etl_result *result, const char *run_at, struct sp_error *err)
{
    struct rowbuf record;
    rowbuf_init(&record, TABLE_ETL_RUNS);
    struct cell *row = rowbuf_add_row(&record);
    rowbuf_set_text(&record, &row[0], run_at, strlen(run_at));
    const size_t counts[] = {result->log_objects, result->song_objects, result->events,
                             result->songplays, result->bad_records};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        row[i + 1].type = CELL_INT;
        row[i + 1].i = (int64_t)counts[i];
    }
    int status = wh->ops->write(wh, &record, err);
    rowbuf_release(&record);
    if (status == SP_OK && options->before_commit)
        status = options->before_commit(options->before_commit_ctx, wh, err);
    return status;
}

int etl_run(struct warehouse *wh, const struct etl_options *options, struct etl_result *result,
            struct sp_error *err)
{
    if (wh->ops->server_load)
        return etl_copy_run(wh, options, result, err);
    memset(result, 0, sizeof *result);
    struct run run;
    memset(&run, 0, sizeof run);
    run.wh = wh;
    run.options = options;
    run.result = result;
    run.bad.max = options->max_errors;
    rowbuf_init(&run.bad.rows, TABLE_LOAD_ERRORS);
    rowbuf_init(&run.staging_songs, TABLE_STAGING_SONGS);
    etl_utc_now(run.bad.loaded_at, sizeof run.bad.loaded_at);
    loaded_record_init(&run.loaded, run.bad.loaded_at);

    char *jsonpaths[EVENT_FIELD_COUNT + 1] = {0};
    struct source_list songs, logs;
    source_list_init(&songs);
    source_list_init(&logs);
    bool transform_sql = options->transform == ETL_TRANSFORM_SQL;
    run.stage = options->keep_staging || transform_sql;
    int status = SP_OK;
    if (transform_sql && !wh->ops->sql_transform)
        status = sp_usage(err,
                          "--transform sql needs a PostgreSQL or Redshift target; %s builds "
                          "the star tables in C",
                          wh->display);
    if (status == SP_OK)
        status = load_jsonpaths(&run, jsonpaths, err);
    if (status == SP_OK)
        status = etl_list_sources(options, &songs, &logs, err);
    if (status == SP_OK)
        status = wh->ops->begin(wh, err);
    if (status == SP_OK) {
        if (!transform_sql)
            run.model = model_new();
        status = run_in_transaction(&run, &songs, &logs, err);
        if (status == SP_OK)
            status = wh->ops->commit(wh, err);
        if (status != SP_OK)
            wh->ops->rollback(wh);
        model_free(run.model);
    }
    source_list_release(&songs);
    source_list_release(&logs);
    for (size_t i = 0; i < EVENT_FIELD_COUNT + 1; i++)
        free(jsonpaths[i]);
    rowbuf_release(&run.bad.rows);
    rowbuf_release(&run.staging_songs);
    loaded_record_release(&run.loaded);
    return status;
}
