/* load_songs.c - the direct load's songs: reader threads fetch bytes, the caller parses and
 * merges them in order (load_direct.h).
 */
#include "load_direct.h"

#include "buffer.h"
#include "source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 16
/* Song files hold one song each, sometimes a few: the source reader reads those up to this size
 * whole; larger files, and gzip data, which can inflate to gigabytes, stream through a window
 * that holds two of the largest objects COPY takes. */
#define SONG_WHOLE_MAX (8u << 20)
#define SONG_WINDOW (2 * JSON_MAX_RECORD)
/* S3 song objects are fetched whole, many at a time. */
#define SONG_S3_MAX (64u << 20)

static int online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

struct song_merge {
    struct direct_run *run;
    const char *key;
    struct sp_error *err;
};

static int merge_song(void *ctx, const struct cell *cells, size_t line)
{
    struct song_merge *m = ctx;
    struct direct_run *run = m->run;
    char reason[256];
    int rc = run->model ? model_add_song(run->model, cells, reason, sizeof reason)
                        : model_check_song(cells, reason, sizeof reason);
    if (rc != 0) {
        if (load_run_bad_record(&run->core, m->key, line, reason, NULL, 0, m->err) == SP_OK)
            return 0;
        bool keyless = true; /* no song field has a value: not song data at all */
        for (size_t i = 0; i < SONG_FIELD_COUNT && keyless; i++)
            keyless = cells[i].type == CELL_NULL;
        if (keyless)
            sp_fail(m->err,
                    "%s:%zu: not a song record (no song_id, title, artist, duration, year or "
                    "num_songs, all absent or null): this looks like event data given as "
                    "--song-data; are --song-data and --log-data swapped? Nothing was written",
                    m->key, line);
        return -2;
    }
    run->core.result->song_records++;
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

static int merge_song_object(struct direct_run *run, struct json_parser *parser,
                             struct source_object *o, const struct buffer *data,
                             struct sp_error *err)
{
    if (o->check_content && loaded_record_check_content(&run->core.loaded, "song", o)) {
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
        return load_run_bad_record(&run->core, o->key, bad_line, reason, raw, len, err);
    }
    return SP_OK;
}

/* Streams a song object through `window`: gzip data (its stored bytes in `raw`) or a file too
 * large to read whole (`raw` NULL), never holding more than SONG_WINDOW of its content. */
static int merge_song_stream(struct direct_run *run, struct json_parser *parser,
                             struct source_object *o, const struct buffer *raw, char *window,
                             struct sp_error *err)
{
    if (o->check_content && !raw) {
        /* Its content is compared before it is loaded: fingerprint it first. */
        uint64_t hashed;
        if (source_fingerprint_file(o->key, o->size, &hashed, o->fingerprint, err) != SP_OK)
            return SP_FAIL;
        o->loaded = hashed;
    }
    if (o->check_content && loaded_record_check_content(&run->core.loaded, "song", o)) {
        o->skip = true; /* its content is loaded already, or earlier in this run */
        return SP_OK;
    }
    struct source_stream *stream;
    if (source_stream_open(&stream, o, raw ? raw->data : NULL, raw ? raw->len : 0,
                           run->core.options->s3, err) != SP_OK)
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
            status = load_run_bad_record(&run->core, o->key, bad_line, reason, excerpt, len, err);
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

int load_songs(struct direct_run *run, struct sp_error *err)
{
    struct source_list *objects = &run->core.songs;
    /* S3 bodies are fetched whole: the listing says how large they are before any is. */
    for (size_t i = 0; i < objects->count; i++)
        if (source_is_s3(objects->items[i].key) && objects->items[i].size > SONG_S3_MAX)
            return sp_fail(err,
                           "%s: a song object of %llu MB; song files hold one song each, or a "
                           "few: more than %u MB is refused from S3",
                           objects->items[i].key,
                           (unsigned long long)(objects->items[i].size >> 20), SONG_S3_MAX >> 20);
    const struct etl_options *opt = run->core.options;
    int threads = opt->threads > 0 ? opt->threads : online_cores();
    struct source_reader *reader =
        source_reader_open(objects, opt->s3, threads, SONG_WHOLE_MAX, JSON_PADDING, err);
    if (!reader)
        return SP_FAIL;
    int status = SP_OK;
    char *window = NULL;
    struct json_parser *parser = json_parser_new();
    uint64_t bytes_done = 0;
    for (size_t i = 0; status == SP_OK && i < objects->count; i++) {
        const struct buffer *raw;
        status = source_reader_next(reader, i, &raw, err);
        if (status == SP_OK && (!raw || source_is_gzip(raw->data, raw->len))) {
            if (!window)
                window = xmalloc(SONG_WINDOW + JSON_PADDING);
            status = merge_song_stream(run, parser, &objects->items[i], raw, window, err);
        } else if (status == SP_OK) {
            status = merge_song_object(run, parser, &objects->items[i], raw, err);
        }
        bytes_done += objects->items[i].size;
        source_reader_done(reader, i);
        if (status == SP_OK && run->staging_songs.rows >= BATCH_ROWS) {
            status = run->core.wh->ops->write(run->core.wh, &run->staging_songs, err);
            rowbuf_clear(&run->staging_songs);
        }
        if ((i + 1) % 1024 == 0 || i + 1 == objects->count)
            load_report_progress(run, "songs", i + 1, objects->count, bytes_done,
                                 objects->total_size, run->core.result->song_records);
    }
    if (status == SP_OK && run->staging_songs.rows > 0)
        status = run->core.wh->ops->write(run->core.wh, &run->staging_songs, err);
    rowbuf_clear(&run->staging_songs);
    source_reader_close(reader);
    json_parser_free(parser);
    free(window);
    return status;
}
