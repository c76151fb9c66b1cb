/* load_events.c - the direct load's events: a producer thread reads, parses and models them
 * into batches of rows that the calling thread writes; then the run's dimensions
 * (load_direct.h).
 */
#include "load_direct.h"

#include "buffer.h"
#include "source.h"
#include "timeconv.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_COUNT 4 /* batches in flight between the two threads */

struct batch {
    struct model_output out;
    struct rowbuf staging;
    struct batch *next;
};

struct pipeline {
    struct direct_run *run;
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
    struct direct_run *run = p->run;
    struct line_reader *reader;
    if (line_reader_open_object(&reader, o, run->core.options->s3, JSON_PADDING, err) != SP_OK)
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
            status = load_run_bad_record(&run->core, o->key, line_no, reason, line, len, err);
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
            run->core.result->open_lines++;
            continue;
        }
        if (songplay < 0) {
            status = load_run_bad_record(&run->core, o->key, line_no, reason, line, len, err);
            continue;
        }
        run->core.result->events++;
        run->core.result->blank_events +=
            cells[EVENT_PAGE].type == CELL_NULL && cells[EVENT_TS].type == CELL_NULL;
        run->core.result->songplays += (size_t)songplay;
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
                load_report_progress(run, "events", (size_t)(o - p->objects->items),
                                     p->objects->count, bytes_before + line_reader_offset(reader),
                                     p->objects->total_size, run->core.result->events);
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
        load_report_progress(p->run, "events", i + 1, p->objects->count, bytes,
                             p->objects->total_size, p->run->core.result->events);
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

static int write_batch(struct direct_run *run, struct batch *b, struct sp_error *err)
{
    struct warehouse *wh = run->core.wh;
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

int load_events(struct direct_run *run, struct sp_error *err)
{
    struct source_list *objects = &run->core.logs;
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
static int write_users(struct direct_run *run, struct sp_error *err)
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
        if (!run->core.options->full_refresh)
            status = run->core.wh->ops->user_latest(run->core.wh, ids, count, on_user_row,
                                                    run->model, err);
        model_user_rows(run->model, first, count, &users, &latest);
        if (status == SP_OK && users.rows)
            status = run->core.wh->ops->write(run->core.wh, &users, err);
        if (status == SP_OK && latest.rows)
            status = run->core.wh->ops->write(run->core.wh, &latest, err);
        rowbuf_clear(&users);
        rowbuf_clear(&latest);
    }
    rowbuf_release(&users);
    rowbuf_release(&latest);
    free(ids);
    return status;
}

int load_dimensions(struct direct_run *run, struct sp_error *err)
{
    const struct rowbuf *songs, *artists, *lookup;
    model_dimensions(run->model, &songs, &artists, &lookup);
    const struct rowbuf *parts[] = {songs, artists, lookup};
    int status = SP_OK;
    for (size_t i = 0; status == SP_OK && i < sizeof parts / sizeof parts[0]; i++)
        if (parts[i]->rows)
            status = run->core.wh->ops->write(run->core.wh, parts[i], err);
    if (status == SP_OK)
        status = write_users(run, err);
    struct model_counts counts;
    model_counts(run->model, &counts);
    run->core.result->songplays = counts.songplays;
    run->core.result->matched = counts.matched;
    run->core.result->users = counts.users;
    run->core.result->songs = counts.songs;
    run->core.result->artists = counts.artists;
    return status;
}
