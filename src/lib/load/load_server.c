/* load_server.c - the server load: Amazon Redshift COPYs the raw JSON from S3 into the staging
 * tables itself, and SQL in the warehouse builds the star tables (transform_sql.h). The direct
 * load (etl.c) is the other flow; both share load_run.h.
 *
 * One run, one transaction: list the sources, skip what loaded_objects already holds, write a
 * COPY manifest of exactly the new objects to the staging prefix, COPY, transform, record the
 * objects, commit. --full-refresh empties the tables and COPYs whole prefixes instead. Local
 * sources are uploaded to the staging prefix first: log files one object each, song files
 * bundled into parts of up to 64 MB (COPY is slow on many tiny files; AWS advises 1 MB-1 GB),
 * with a map that turns a load error's part:line back into the song file's own file:line; each
 * file is read once to plan them, then all are streamed from disk at once (upload.h).
 * A failed COPY aborts the transaction; the load errors are then read from STL_LOAD_ERRORS
 * (SYS_LOAD_ERROR_DETAIL on Serverless) and the first is reported as file:line: column: reason.
 * Uploads are not undone when a run fails: they are unique to the run and harmless (a multipart
 * upload that fails is aborted, so that no parts are left stored).
 */
#include "load_server.h"

#include "load_run.h"

#include "json.h"
#include "warehouse_redshift.h"
#include "transform_sql.h"
#include "upload.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PART_BYTES (64u << 20)

/* Where the lines of an uploaded object came from. */
struct upload_origin {
    char *url;           /* the uploaded object */
    size_t first_line;   /* its line where `source` begins */
    size_t lines_before; /* lines of `source` not uploaded (a grown file's loaded part) */
    const char *source;
};

struct copy_kind {
    const char *kind;  /* "song" or "log", as in loaded_objects */
    const char *table; /* the staging table */
    const char *spec;  /* --song-data / --log-data, or NULL */
    struct source_list *objects;
    /* What to COPY: a manifest per compression. */
    struct redshift_copy copies[2];
    char *sources[2]; /* the copies' `from`, owned */
    size_t copy_count;
};

/* The two kinds of source, in the order they are copied: songs first, as in the direct load. */
enum { KIND_SONGS, KIND_LOGS, KIND_COUNT };

struct server_run {
    struct load_run core;
    struct copy_kind kinds[KIND_COUNT];
    struct s3_client *s3;
    bool dry;
    char run_prefix[1024]; /* s3://bucket/prefix/RUN-ID */
    char *jsonpath_url;
    struct upload_origin *origins;
    size_t origin_count, origin_capacity;
    long slices; /* the cluster's slices (STV_SLICES), 1 when unknown */
    long errors_left;
};

static void dry_run_note(struct server_run *run, const char *fmt, ...) SP_PRINTF(2, 3);

/* A dry run says in SQL comments what a real run would do besides SQL. */
static void dry_run_note(struct server_run *run, const char *fmt, ...)
{
    char text[1200] = "-- ";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text + 3, sizeof text - 3, fmt, ap);
    va_end(ap);
    warehouse_dry_run(run->core.wh, text);
}

static void copy_progress(struct server_run *run, const char *phase, size_t done, size_t total,
                          uint64_t bytes_done, uint64_t bytes_total)
{
    if (run->core.options->progress) {
        struct etl_progress p = {phase, done, total, bytes_done, bytes_total, 0};
        run->core.options->progress(run->core.options->progress_ctx, &p);
    }
}

static bool is_gzip_key(const char *key)
{
    size_t n = strlen(key);
    return n > 3 && strcmp(key + n - 3, ".gz") == 0;
}

static const char *base_name(const char *key)
{
    const char *slash = strrchr(key, '/');
    return slash ? slash + 1 : key;
}

static int put_object(struct server_run *run, const char *url, const void *data, size_t len,
                      const char *what, struct sp_error *err)
{
    if (run->dry) {
        dry_run_note(run, "upload %s (%s, %zu bytes)", url, what, len);
        return SP_OK;
    }
    if (!run->s3)
        return sp_usage(err, "%s: no S3 client configured for the staging prefix", url);
    return s3_put_object(run->s3, url, data, len, "application/json", err);
}

static void add_origin(struct server_run *run, const char *url, size_t first_line,
                       size_t lines_before, const char *source)
{
    if (run->origin_count == run->origin_capacity) {
        run->origin_capacity = run->origin_capacity ? 2 * run->origin_capacity : 64;
        run->origins = xrealloc(run->origins, run->origin_capacity * sizeof *run->origins);
    }
    run->origins[run->origin_count++] =
        (struct upload_origin){xstrdup(url), first_line, lines_before, source};
}

/* The source file and line behind line `line` of an object COPY read; unchanged for objects
 * that were not uploaded by this run. */
static const char *origin_of(const struct server_run *run, const char *url, size_t *line)
{
    const struct upload_origin *best = NULL;
    for (size_t i = 0; i < run->origin_count; i++) {
        const struct upload_origin *o = &run->origins[i];
        if (strcmp(o->url, url) == 0 && o->first_line <= *line &&
            (!best || o->first_line > best->first_line))
            best = o;
    }
    if (!best)
        return url;
    *line = *line - best->first_line + 1 + best->lines_before;
    return best->source;
}

/* ---- manifests ---- */

static char *manifest_json(const struct source_list *objects, bool gzip)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *entries = cJSON_AddArrayToObject(root, "entries");
    for (size_t i = 0; i < objects->count; i++) {
        if (is_gzip_key(objects->items[i].key) != gzip)
            continue;
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, "url", objects->items[i].key);
        cJSON_AddBoolToObject(entry, "mandatory", 1);
        cJSON_AddItemToArray(entries, entry);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

/* ---- load errors ---- */

struct error_rows {
    struct server_run *run;
    size_t count;
    char first[2048];
};

/* A cell as a NUL-terminated string, cut to `size`. */
static void cell_string(const struct cell *c, char *out, size_t size)
{
    char scratch[64];
    size_t len;
    const char *text = cell_text(c, scratch, sizeof scratch, &len);
    snprintf(out, size, "%.*s", (int)len, text);
}

/* Rows (file_name, line_number, column_name, reason, raw_line) of redshift_load_errors_sql. */
static int on_load_error(void *ctx, size_t columns, const char *const *names, const struct cell *v)
{
    (void)names;
    struct error_rows *e = ctx;
    struct server_run *run = e->run;
    if (columns < 5)
        return SP_OK;
    char file[1024], column[128], reason[512];
    cell_string(&v[0], file, sizeof file);
    cell_string(&v[2], column, sizeof column);
    cell_string(&v[3], reason, sizeof reason);
    size_t line = v[1].type == CELL_INT && v[1].i > 0 ? (size_t)v[1].i : 0;
    const char *source = origin_of(run, file, &line);
    char why[700];
    snprintf(why, sizeof why, "%s%s%s", column[0] ? column : "", column[0] ? ": " : "", reason);
    if (e->count++ == 0)
        snprintf(e->first, sizeof e->first, "%.1100s:%zu: %.700s", source, line, why);
    bool raw = v[4].type == CELL_TEXT;
    load_run_error_row(&run->core, source, line, why, raw ? v[4].text.ptr : NULL,
                       raw ? v[4].text.len : 0);
    return SP_OK;
}

static int read_load_errors(struct server_run *run, struct error_rows *rows, struct sp_error *err)
{
    memset(rows, 0, sizeof *rows);
    rows->run = run;
    return run->core.wh->ops->query(run->core.wh, redshift_load_errors_sql, on_load_error, rows,
                                    err);
}

/* Whether Redshift's message sends the reader to the load-error tables. Only the server's
 * words count, not the statement quoted after them (a path may hold any text). */
static bool mentions_load_errors(const char *message)
{
    const char *statement = strstr(message, " [COPY ");
    size_t end = statement ? (size_t)(statement - message) : strlen(message);
    char lower[sizeof((struct sp_error *)0)->message];
    size_t n = 0;
    for (; n < end && n + 1 < sizeof lower; n++)
        lower[n] = (char)tolower((unsigned char)message[n]);
    lower[n] = '\0';
    return strstr(lower, "stl_load_errors") || strstr(lower, "sys_load_error_detail");
}

static int copy_into(struct server_run *run, struct redshift_copy *copy, struct sp_error *err)
{
    struct warehouse *wh = run->core.wh;
    copy->iam_role = run->core.options->iam_role;
    copy->region = run->core.options->region;
    copy->max_errors = run->errors_left;
    struct buffer sql;
    buffer_init(&sql);
    int status = redshift_copy_sql(&sql, copy, err);
    if (status == SP_OK)
        status = wh->ops->query(wh, sql.data, NULL, NULL, err);
    buffer_release(&sql);
    if (status != SP_OK && mentions_load_errors(err->message)) {
        /* The transaction is aborted; the load errors outlive it. */
        wh->ops->rollback(wh);
        struct sp_error read_err;
        struct error_rows rows;
        rowbuf_clear(&run->core.errors);
        if (read_load_errors(run, &rows, &read_err) != SP_OK || rows.count == 0)
            return SP_FAIL; /* Redshift's own message is the best there is */
        if (run->core.options->max_errors == 0)
            return sp_fail(err,
                           "%s (COPY into %s; %zu load error%s); nothing was written (fix the "
                           "record, or skip up to N bad records with --max-errors N)",
                           rows.first, copy->table, rows.count, rows.count == 1 ? "" : "s");
        return sp_fail(err,
                       "%s (COPY into %s); more than --max-errors %ld bad records, nothing "
                       "was written",
                       rows.first, copy->table, run->core.options->max_errors);
    }
    if (status == SP_OK && copy->max_errors > 0 && !run->dry) {
        /* Records COPY skipped under MAXERROR are kept in load_errors, as the direct load keeps
         * the records it skips. */
        struct error_rows rows;
        status = read_load_errors(run, &rows, err);
        run->errors_left -= (long)rows.count;
        run->core.result->bad_records += rows.count;
    }
    return status;
}

/* ---- sources ---- */

static const char PHASE_READ[] = "read";
static const char PHASE_UPLOAD[] = "upload";

static void upload_progress(void *ctx, size_t objects_done, size_t objects, uint64_t bytes_done,
                            uint64_t bytes)
{
    copy_progress(ctx, PHASE_UPLOAD, objects_done, objects, bytes_done, bytes);
}

/* Uploads local objects to the run's prefix and replaces `uploads` with what COPY reads. Every
 * file is read once first, as a load reads it (fingerprint; a grown log file's new lines after
 * its loaded bytes are checked; an unfinished last line of a file that may still be being
 * written left for the next run, as the direct load leaves it); then all of them are sent at once,
 * streamed from disk (upload.h). */
static int upload_local(struct server_run *run, struct copy_kind *k, struct source_list *uploads,
                        struct sp_error *err)
{
    uint64_t part_size = run->s3 ? s3_part_size(run->s3) : S3_PART_SIZE_DEFAULT;
    struct upload_batch *batch = upload_batch_new(part_size);
    struct buffer url;
    buffer_init(&url);
    int status = SP_OK;
    size_t part_lines = 0, parts = 0;
    uint64_t done = 0;
    bool bundle = strcmp(k->kind, "song") == 0;
    /* Song files are bundled into parts of at most PART_BYTES, in a number that is a multiple
     * of the cluster's slices, so that every slice loads a part at once: "Split your load data
     * files so that the files are about equal size ... The number of files should be a
     * multiple of the number of slices in your cluster"
     * (https://docs.aws.amazon.com/redshift/latest/dg/c_best-practices-use-multiple-files.html). */
    uint64_t part_target = PART_BYTES;
    if (bundle) {
        uint64_t slices = run->slices > 0 ? (uint64_t)run->slices : 1;
        uint64_t count = (k->objects->total_size + PART_BYTES - 1) / PART_BYTES;
        count = (count + slices - 1) / slices * slices;
        if (count > k->objects->count)
            count = k->objects->count;
        if (count > 0)
            part_target = (k->objects->total_size + count - 1) / count;
    }
    for (size_t i = 0; status == SP_OK && i < k->objects->count; i++) {
        struct source_object *src = &k->objects->items[i];
        struct upload_added added;
        if (bundle) {
            if (parts == 0 || upload_batch_length(batch) >= part_target) {
                buffer_clear(&url);
                buffer_printf(&url, "%s/song/part-%05zu.json", run->run_prefix, ++parts);
                upload_batch_begin(batch, url.data);
                part_lines = 0;
            }
            status = upload_batch_add(batch, src, UPLOAD_ALL, true, &added, err);
            if (status != SP_OK)
                break;
            if (src->check_content &&
                loaded_record_check_content(&run->core.loaded, k->kind, src)) {
                upload_batch_undo(batch);
                src->skip = true; /* its content is loaded already, or earlier in this run */
            } else {
                add_origin(run, url.data, part_lines + 1, 0, src->key);
                part_lines += added.lines + 1;
            }
        } else {
            char name[300];
            snprintf(name, sizeof name, "%s", base_name(src->key));
            if (source_has_gzip_name(name))
                name[strlen(name) - 3] = '\0'; /* uploaded inflated */
            buffer_clear(&url);
            buffer_printf(&url, "%s/log/%05zu-%s", run->run_prefix, i + 1, name);
            upload_batch_begin(batch, url.data);
            status = upload_batch_add(batch, src, UPLOAD_NEW_LINES, false, &added, err);
            if (status != SP_OK)
                break;
            run->core.result->open_lines += added.open_line;
            add_origin(run, url.data, 1, added.lines_before, src->key);
        }
        done += src->size;
        copy_progress(run, PHASE_READ, i + 1, k->objects->count, done, k->objects->total_size);
    }
    if (bundle)
        upload_batch_drop_empty(batch); /* every song file of the last part was loaded already */
    size_t count = upload_batch_count(batch);
    if (status == SP_OK && run->dry) {
        for (size_t i = 0; i < count; i++) {
            const char *object_url;
            uint64_t length;
            uint32_t requests;
            upload_batch_object(batch, i, &object_url, &length, &requests);
            char in_parts[64] = "";
            if (requests > 1)
                snprintf(in_parts, sizeof in_parts, ", in %u parts of %llu MiB", requests,
                         (unsigned long long)(part_size >> 20));
            dry_run_note(run, "upload %s (%s, %llu bytes%s)", object_url,
                         bundle ? "song files" : "log file", (unsigned long long)length, in_parts);
        }
    } else if (status == SP_OK && count > 0) {
        if (!run->s3)
            status = sp_usage(err, "%s: no S3 client configured for the staging prefix",
                              run->run_prefix);
        else
            status = upload_batch_send(batch, run->s3, upload_progress, run, err);
    }
    for (size_t i = 0; status == SP_OK && i < count; i++) {
        const char *object_url;
        uint64_t length;
        uint32_t requests;
        upload_batch_object(batch, i, &object_url, &length, &requests);
        struct source_object o = {.key = (char *)object_url, .size = length};
        source_list_append(uploads, &o);
    }
    upload_batch_free(batch);
    buffer_release(&url);
    return status;
}

static void add_copy(struct copy_kind *k, const char *from, bool manifest, bool gzip)
{
    char *owned = xstrdup(from);
    k->sources[k->copy_count] = owned;
    k->copies[k->copy_count++] = (struct redshift_copy){
        .table = k->table, .from = owned, .manifest = manifest, .gzip = gzip};
}

/* Decides what one kind of source is COPYed from, uploading local objects and manifests. */
/* Always from a manifest of exactly the objects listed, never from a key prefix: "'s3://mybucket/
 * custfolder' refers to the folders custfolder, custfolder_1 ... If a key prefix might result in
 * COPY attempting to load unwanted files, use a manifest file"
 * (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html). */
static int prepare_kind(struct server_run *run, struct copy_kind *k, struct sp_error *err)
{
    if (k->objects->count == 0)
        return SP_OK;
    struct source_list uploads;
    source_list_init(&uploads);
    const struct source_list *objects = k->objects;
    int status = SP_OK;
    if (!source_is_s3(k->objects->items[0].key)) {
        status = upload_local(run, k, &uploads, err);
        objects = &uploads;
    }
    struct buffer url;
    buffer_init(&url);
    for (int gzip = 0; status == SP_OK && gzip <= 1; gzip++) {
        size_t n = 0;
        for (size_t i = 0; i < objects->count; i++)
            n += is_gzip_key(objects->items[i].key) == (bool)gzip;
        if (n == 0)
            continue;
        buffer_clear(&url);
        buffer_printf(&url, "%s/%s%s.manifest", run->run_prefix, k->kind, gzip ? "-gz" : "");
        char *manifest = manifest_json(objects, gzip);
        char what[64];
        snprintf(what, sizeof what, "COPY manifest of %zu objects", n);
        status = put_object(run, url.data, manifest, strlen(manifest), what, err);
        cJSON_free(manifest);
        add_copy(k, url.data, true, gzip);
    }
    buffer_release(&url);
    source_list_release(&uploads);
    return status;
}

/* The JSONPaths file for staging_events: the user's in S3 as it is; a local one, or the
 * canonical one when none is given, uploaded to the run's prefix. Either way it is checked
 * here first, so a bad file fails with sparkify's message rather than inside COPY. */
static int prepare_jsonpaths(struct server_run *run, struct sp_error *err)
{
    const char *path = run->core.options->log_jsonpath;
    struct buffer text;
    buffer_init(&text);
    int status = SP_OK;
    if (path && (!source_is_s3(path) || !run->dry))
        status = source_read_all(path, run->s3, JSON_PADDING, JSONPATHS_MAX, &text, err);
    if (status == SP_OK && text.len) {
        struct field_spec spec;
        char *keys[EVENT_FIELD_COUNT + 1] = {0};
        field_spec_events(&spec);
        status = field_spec_from_jsonpaths(&spec, text.data, text.len, path, keys, err);
        for (size_t i = 0; i < EVENT_FIELD_COUNT + 1; i++)
            free(keys[i]);
    }
    if (status == SP_OK && path && source_is_s3(path)) {
        run->jsonpath_url = xstrdup(path);
    } else if (status == SP_OK) {
        if (!path) {
            /* The canonical file: each staging_events column from its classic key. */
            struct field_spec spec;
            field_spec_events(&spec);
            cJSON *root = cJSON_CreateObject();
            cJSON *paths = cJSON_AddArrayToObject(root, "jsonpaths");
            for (size_t i = 0; i < spec.count; i++) {
                char p[128];
                snprintf(p, sizeof p, "$['%s']", spec.keys[i]);
                cJSON_AddItemToArray(paths, cJSON_CreateString(p));
            }
            char *json = cJSON_Print(root);
            buffer_clear(&text);
            buffer_append_str(&text, json);
            cJSON_free(json);
            cJSON_Delete(root);
        }
        struct buffer url;
        buffer_init(&url);
        buffer_printf(&url, "%s/log_json_path.json", run->run_prefix);
        status = put_object(run, url.data, text.data, text.len, "JSONPaths file", err);
        run->jsonpath_url = url.data;
    }
    buffer_release(&text);
    return status;
}

/* Everything a run needs that can be checked before it begins. */
static int check_settings(const struct etl_options *o, struct sp_error *err)
{
    if (o->transform == ETL_TRANSFORM_C)
        return sp_usage(err, "--transform c: a Redshift target loads the sources itself (COPY "
                             "from S3) and builds the star tables with SQL; drop the option");
    if (!o->iam_role || !*o->iam_role)
        return sp_usage(err, "a Redshift target needs an IAM role that can read the sources: "
                             "--iam-role ARN, SPARKIFY_IAM_ROLE or [IAM_ROLE] ARN in dwh.cfg");
    if (redshift_check_iam_role(o->iam_role, err) != SP_OK ||
        redshift_check_region(o->region, err) != SP_OK)
        return err->status;
    if (!o->staging || !*o->staging)
        return sp_usage(err, "a Redshift run needs a staging prefix for its COPY manifests, "
                             "uploads and JSONPaths file: --staging s3://BUCKET/PREFIX, "
                             "SPARKIFY_STAGING or [S3] STAGING in dwh.cfg");
    char *bucket = NULL, *key = NULL;
    if (s3_parse_url(o->staging, &bucket, &key) != 0)
        return sp_usage(err, "staging prefix '%s' is not an s3://BUCKET/PREFIX URL", o->staging);
    free(bucket);
    free(key);
    /* A source prefix is a string prefix of keys: one that the staging prefix starts with would
     * list the run's own uploads, manifests and JSONPaths file as sources. */
    const char *sources[] = {o->song_data, o->log_data};
    for (size_t i = 0; i < 2; i++)
        if (sources[i] && source_is_s3(sources[i]) &&
            strncmp(o->staging, sources[i], strlen(sources[i])) == 0)
            return sp_usage(err,
                            "staging prefix %s lies under the source %s, whose listing would "
                            "then hold the run's own uploads and manifests: put STAGING "
                            "elsewhere",
                            o->staging, sources[i]);
    return redshift_check_value("the staging prefix", o->staging, err);
}

static int count_staged(void *ctx, size_t columns, const char *const *names, const struct cell *v)
{
    (void)names;
    struct etl_result *r = ctx;
    if (columns == 4) {
        r->events = v[0].type == CELL_INT ? (size_t)v[0].i : 0;
        r->songplays = v[1].type == CELL_INT ? (size_t)v[1].i : 0;
        r->song_records = v[2].type == CELL_INT ? (size_t)v[2].i : 0;
        r->blank_events = v[3].type == CELL_INT ? (size_t)v[3].i : 0;
    }
    return SP_OK;
}

/* With REGION, "all resources, including a manifest file or multiple Amazon S3 buckets, must be
 * located in the specified Region"
 * (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html): every
 * bucket the run's COPYs read — the sources', STAGING's (manifests, uploads, the JSONPaths file
 * sparkify writes) and a JSONPaths file's of the user's own — is asked for its region first, so
 * a mismatch fails before anything runs, saying what to change. */
static int check_regions(struct server_run *run, struct sp_error *err)
{
    const struct etl_options *o = run->core.options;
    const char *urls[] = {o->song_data, o->log_data, o->staging, o->log_jsonpath};
    char checked[4][256];
    size_t count = 0;
    for (size_t i = 0; i < 4; i++) {
        char *bucket = NULL, *key = NULL;
        if (!urls[i] || !source_is_s3(urls[i]) || s3_parse_url(urls[i], &bucket, &key) != 0)
            continue;
        bool seen = false;
        for (size_t j = 0; j < count && !seen; j++)
            seen = strcmp(checked[j], bucket) == 0;
        char region[64] = "";
        int status = SP_OK;
        if (!seen && strlen(bucket) < sizeof checked[0]) {
            snprintf(checked[count++], sizeof checked[0], "%s", bucket);
            status = s3_bucket_region(run->s3, bucket, region, sizeof region, err);
        }
        if (status == SP_OK && region[0] && strcmp(region, o->region) != 0)
            status = sp_usage(err,
                              "s3://%s is in %s, but COPY reads every object of a run with "
                              "REGION '%s', and all of them (sources, STAGING's manifests and "
                              "uploads, the JSONPaths file) must be in that region: set "
                              "--s3-region %s (or AWS_REGION), or keep them in one region",
                              bucket, region, o->region, region);
        free(bucket);
        free(key);
        if (status != SP_OK)
            return status;
    }
    return SP_OK;
}

static int first_count(void *ctx, size_t columns, const char *const *names, const struct cell *v)
{
    (void)names;
    if (columns == 1 && v[0].type == CELL_INT)
        *(long *)ctx = (long)v[0].i;
    return SP_OK;
}

/* The server load inside the run's transaction. */
static int load_on_server(struct load_run *core, void *ctx, struct sp_error *err)
{
    struct server_run *run = ctx;
    struct warehouse *wh = core->wh;
    const struct etl_options *o = core->options;
    /* CREATE TABLE IF NOT EXISTS costs Redshift a catalog round trip per table: create them
     * only when some are missing (or loaded_objects lacks its newest column). */
    struct buffer sql;
    buffer_init(&sql);
    buffer_append_str(&sql, "SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE "
                            "table_schema = CURRENT_SCHEMA() AND table_name IN (");
    for (int t = 0; t < TABLE_COUNT; t++)
        buffer_printf(&sql, "%s'%s'", t ? ", " : "", table_defs[t].name);
    buffer_append_str(&sql, ")) + (" REDSHIFT_FINGERPRINT_COLUMN_SQL ") AS present");
    long present = 0;
    int status = wh->ops->query(wh, sql.data, first_count, &present, err);
    buffer_release(&sql);
    if (status == SP_OK && present < TABLE_COUNT + 1)
        status = wh->ops->create_tables(wh, false, err);
    /* Every table the run writes is locked first, created or not: AWS's advice for serializable
     * isolation (https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation.html), and
     * one run at a time, as the locks are held until COMMIT. */
    buffer_init(&sql);
    buffer_append_str(&sql, "LOCK ");
    for (int t = 0; t < TABLE_COUNT; t++)
        buffer_printf(&sql, "%s%s", t ? ", " : "", table_defs[t].name);
    if (status == SP_OK)
        status = wh->ops->query(wh, sql.data, NULL, NULL, err);
    buffer_release(&sql);
    unsigned staging = (1u << TABLE_STAGING_EVENTS) | (1u << TABLE_STAGING_SONGS);
    unsigned everything = (1u << TABLE_COUNT) - 1;
    if (status == SP_OK)
        status = wh->ops->truncate(wh, o->full_refresh ? everything : staging, err);
    if (status == SP_OK && !o->full_refresh && run->dry) {
        dry_run_note(run, "a real run first leaves out the objects loaded_objects already holds:");
        status = wh->ops->query(wh,
                                "SELECT kind, object_key, size, version, loaded_at, fingerprint "
                                "FROM loaded_objects",
                                NULL, NULL, err);
    }
    if (status == SP_OK)
        status = wh->ops->query(wh, "SELECT COUNT(*) AS slices FROM stv_slices", first_count,
                                &run->slices, err);
    /* Without the record (a dry run cannot read it; a full refresh has emptied it) the same
     * content is still loaded once per run. */
    if (status == SP_OK)
        status = load_run_plan(core, !o->full_refresh && !run->dry, err);
    for (size_t i = 0; status == SP_OK && i < KIND_COUNT; i++)
        status = prepare_kind(run, &run->kinds[i], err);
    load_run_drop_skipped(core);
    if (status == SP_OK && run->kinds[KIND_LOGS].copy_count)
        status = prepare_jsonpaths(run, err);
    for (size_t i = 0; status == SP_OK && i < KIND_COUNT; i++) {
        struct copy_kind *k = &run->kinds[i];
        copy_progress(run, "copy", i, KIND_COUNT, 0, 0);
        for (size_t c = 0; status == SP_OK && c < k->copy_count; c++) {
            k->copies[c].jsonpath = i == KIND_LOGS ? run->jsonpath_url : NULL;
            status = copy_into(run, &k->copies[c], err);
        }
    }
    if (status == SP_OK)
        status = wh->ops->query(wh,
                                "SELECT (SELECT COUNT(*) FROM staging_events) AS events, "
                                "(SELECT COUNT(*) FROM staging_events WHERE page = 'NextSong' "
                                "AND user_id IS NOT NULL AND user_id <> '') AS songplays, "
                                "(SELECT COUNT(*) FROM staging_songs) AS song_records, "
                                "(SELECT COUNT(*) FROM staging_events WHERE page IS NULL "
                                "AND ts IS NULL) AS blank_events",
                                count_staged, core->result, err);
    if (status == SP_OK)
        status = transform_run(wh, o, core->result->events, err);
    return status;
}

/* s3://bucket/prefix/20261125T015455Z-1234: unique to this run. */
static void set_run_prefix(struct server_run *run)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    const char *staging = run->core.options->staging;
    size_t len = strlen(staging);
    while (len > 5 && staging[len - 1] == '/')
        len--;
    snprintf(run->run_prefix, sizeof run->run_prefix, "%.*s/%s-%ld", (int)len, staging, stamp,
             (long)getpid());
}

int load_server_run(struct warehouse *wh, const struct etl_options *o, struct etl_result *result,
                    struct sp_error *err)
{
    struct server_run run;
    memset(&run, 0, sizeof run);
    load_run_init(&run.core, wh, o, result);
    run.s3 = o->s3;
    run.dry = wh->dry_run.fn != NULL;
    run.errors_left = o->max_errors;
    run.kinds[KIND_SONGS] = (struct copy_kind){
        .kind = "song", .table = "staging_songs", .spec = o->song_data, .objects = &run.core.songs};
    run.kinds[KIND_LOGS] = (struct copy_kind){
        .kind = "log", .table = "staging_events", .spec = o->log_data, .objects = &run.core.logs};
    /* The staging prefix holds the COPY manifests, uploads of local sources and the events'
     * JSONPaths file unless the user's own is in S3. */
    int status = check_settings(o, err);
    if (status == SP_OK && run.dry) {
        for (size_t i = 0; i < KIND_COUNT; i++)
            if (run.kinds[i].spec && source_is_s3(run.kinds[i].spec))
                dry_run_note(&run, "%s is listed (read-only) to find the objects a run would load",
                             run.kinds[i].spec);
    }
    if (status == SP_OK)
        status = load_run_list(&run.core, err);
    if (status == SP_OK && run.dry)
        dry_run_note(&run, "a real run first asks S3 that every bucket it reads is in REGION '%s'",
                     o->region);
    else if (status == SP_OK && run.s3)
        status = check_regions(&run, err);
    if (status == SP_OK) {
        set_run_prefix(&run);
        status = load_run_transaction(&run.core, load_on_server, &run, err);
    }
    for (size_t i = 0; i < KIND_COUNT; i++)
        for (size_t c = 0; c < run.kinds[i].copy_count; c++)
            free(run.kinds[i].sources[c]);
    for (size_t i = 0; i < run.origin_count; i++)
        free(run.origins[i].url);
    free(run.origins);
    free(run.jsonpath_url);
    load_run_release(&run.core);
    return status;
}
