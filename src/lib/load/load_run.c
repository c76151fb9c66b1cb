/* load_run.c - the core both load flows share (see load_run.h). */
#include "load_run.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define RAW_EXCERPT 256 /* bytes of a bad record kept in load_errors */

void load_run_init(struct load_run *run, struct warehouse *wh, const struct etl_options *options,
                   struct etl_result *result)
{
    memset(result, 0, sizeof *result);
    memset(run, 0, sizeof *run);
    run->wh = wh;
    run->options = options;
    run->result = result;
    source_list_init(&run->songs);
    source_list_init(&run->logs);
    rowbuf_init(&run->errors, TABLE_LOAD_ERRORS);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(run->run_at, sizeof run->run_at, "%Y-%m-%d %H:%M:%S", &tm);
    loaded_record_init(&run->loaded, run->run_at);
}

void load_run_release(struct load_run *run)
{
    source_list_release(&run->songs);
    source_list_release(&run->logs);
    rowbuf_release(&run->errors);
    loaded_record_release(&run->loaded);
}

int load_run_list(struct load_run *run, struct sp_error *err)
{
    const struct etl_options *o = run->options;
    if (!o->log_data && !o->song_data)
        return sp_usage(err, "nothing to load: give --log-data and/or --song-data (or "
                             "SPARKIFY_LOG_DATA / SPARKIFY_SONG_DATA, or [S3] LOG_DATA / "
                             "SONG_DATA in dwh.cfg)");
    if (o->song_data && source_list_objects(o->song_data, o->s3, &run->songs, err) != SP_OK)
        return err->status;
    if (o->log_data && source_list_objects(o->log_data, o->s3, &run->logs, err) != SP_OK)
        return err->status;
    return SP_OK;
}

int load_run_plan(struct load_run *run, bool read_record, struct sp_error *err)
{
    struct etl_result *r = run->result;
    int status = read_record ? loaded_record_read(run->wh, &run->loaded, run->songs.count > 0,
                                                  run->logs.count > 0, err)
                             : SP_OK;
    if (status == SP_OK)
        status = loaded_record_plan(&run->loaded, "song", &run->songs, true,
                                    &r->skipped_song_objects, err);
    if (status == SP_OK)
        status =
            loaded_record_plan(&run->loaded, "log", &run->logs, true, &r->skipped_log_objects, err);
    r->skipped_objects = r->skipped_song_objects + r->skipped_log_objects;
    r->song_objects = run->songs.count;
    r->log_objects = run->logs.count;
    return status;
}

void load_run_drop_skipped(struct load_run *run)
{
    struct etl_result *r = run->result;
    r->skipped_song_objects += source_list_drop_skipped(&run->songs);
    r->skipped_log_objects += source_list_drop_skipped(&run->logs);
    r->skipped_objects = r->skipped_song_objects + r->skipped_log_objects;
    run->result->song_objects = run->songs.count;
    run->result->log_objects = run->logs.count;
}

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

size_t load_utf8_excerpt(const char *s, size_t len, char *out, size_t max)
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

void load_run_error_row(struct load_run *run, const char *source, size_t line, const char *reason,
                        const char *raw, size_t raw_len)
{
    struct rowbuf *rows = &run->errors;
    struct cell *row = rowbuf_add_row(rows);
    rowbuf_set_text(rows, &row[0], source, strlen(source));
    row[1].type = CELL_INT;
    row[1].i = (int64_t)line;
    rowbuf_set_text(rows, &row[2], reason, strlen(reason));
    if (raw) {
        char excerpt[RAW_EXCERPT];
        size_t n = load_utf8_excerpt(raw, raw_len, excerpt, sizeof excerpt);
        rowbuf_set_text(rows, &row[3], excerpt, n);
    }
    rowbuf_set_text(rows, &row[4], run->run_at, strlen(run->run_at));
}

int load_run_bad_record(struct load_run *run, const char *source, size_t line, const char *reason,
                        const char *raw, size_t raw_len, struct sp_error *err)
{
    long max = run->options->max_errors;
    if ((long)++run->result->bad_records > max) {
        if (max == 0)
            return sp_fail(err,
                           "%s:%zu: %s; nothing was written (fix the record, or skip up to N bad "
                           "records into load_errors with --max-errors N)",
                           source, line, reason);
        return sp_fail(err,
                       "%s:%zu: %s; more than --max-errors %ld bad records, nothing was "
                       "written",
                       source, line, reason, max);
    }
    load_run_error_row(run, source, line, reason, raw, raw_len);
    return SP_OK;
}

/* The run's last writes, inside its transaction: the loaded_objects rows of what it loaded (and
 * of objects found loaded already at a path of their own), its load_errors rows, its etl_runs
 * row; then options->before_commit. */
static int finish(struct load_run *run, struct sp_error *err)
{
    struct warehouse *wh = run->wh;
    struct rowbuf rows;
    rowbuf_init(&rows, TABLE_LOADED_OBJECTS);
    loaded_record_rows(&rows, "song", &run->songs, run->run_at);
    loaded_record_rows(&rows, "log", &run->logs, run->run_at);
    loaded_record_seen_rows(&run->loaded, &rows);
    int status = rows.rows ? wh->ops->write(wh, &rows, err) : SP_OK;
    rowbuf_release(&rows);
    if (status == SP_OK && run->errors.rows)
        status = wh->ops->write(wh, &run->errors, err);
    if (status != SP_OK)
        return status;
    const struct etl_result *r = run->result;
    rowbuf_init(&rows, TABLE_ETL_RUNS);
    struct cell *row = rowbuf_add_row(&rows);
    rowbuf_set_text(&rows, &row[0], run->run_at, strlen(run->run_at));
    const size_t counts[] = {r->log_objects, r->song_objects, r->events, r->songplays,
                             r->bad_records};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        row[i + 1].type = CELL_INT;
        row[i + 1].i = (int64_t)counts[i];
    }
    status = wh->ops->write(wh, &rows, err);
    rowbuf_release(&rows);
    const struct etl_options *o = run->options;
    if (status == SP_OK && o->before_commit)
        status = o->before_commit(o->before_commit_ctx, wh, err);
    return status;
}

int load_run_transaction(struct load_run *run,
                         int (*body)(struct load_run *run, void *ctx, struct sp_error *err),
                         void *ctx, struct sp_error *err)
{
    struct warehouse *wh = run->wh;
    int status = wh->ops->begin(wh, err);
    if (status != SP_OK)
        return status;
    status = body(run, ctx, err);
    run->result->bytes = run->songs.total_size + run->logs.total_size;
    const struct etl_options *o = run->options;
    if (status == SP_OK && o->progress) {
        /* The record, the checks and the commit can take a while (a sync to disk, a server's
         * commit): say so, rather than leave the last phase's line standing as if stuck. */
        struct etl_progress committing = {ETL_PHASE_COMMITTING, 0, 0, 0, 0, 0};
        o->progress(o->progress_ctx, &committing);
    }
    if (status == SP_OK)
        status = finish(run, err);
    if (status == SP_OK)
        status = wh->ops->commit(wh, err);
    if (status != SP_OK)
        wh->ops->rollback(wh);
    return status;
}
