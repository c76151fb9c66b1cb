/* loaded_objects.c - the record of loaded objects and a run's plan (see loaded_objects.h).
 *
 * The rows are read once per run into four hash indexes: by path for the fast path, by
 * content for moved and copied objects, by size to know when a fingerprint is worth computing,
 * by file name for a file that was moved and then grew. Pitfalls: a listed size is only a
 * snapshot (a file may grow or shrink before it is fingerprinted), so fingerprints are computed
 * over the bytes that are there and the size they cover; the same content listed twice in one
 * run (a link, a copy) is loaded once, whichever comes first in key order.
 */
#include "loaded_objects.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RUN_ENTRY UINT32_MAX /* by_content: loaded by this run */

void loaded_record_init(struct loaded_record *r, const char *run_at)
{
    memset(r, 0, sizeof *r);
    strmap_init(&r->by_path);
    strmap_init(&r->by_content);
    strmap_init(&r->sizes);
    strmap_init(&r->by_name);
    arena_init(&r->strings);
    buffer_init(&r->key);
    r->run_at = run_at;
}

void loaded_record_release(struct loaded_record *r)
{
    strmap_release(&r->by_path);
    strmap_release(&r->by_content);
    strmap_release(&r->sizes);
    strmap_release(&r->by_name);
    arena_release(&r->strings);
    buffer_release(&r->key);
    free(r->entries);
    free(r->seen);
}

static const char *file_name(const char *key)
{
    const char *slash = strrchr(key, '/');
    return slash ? slash + 1 : key;
}

/* "kind\0" followed by `rest` (len bytes). */
static struct buffer *index_key(struct loaded_record *r, const char *kind, const void *rest,
                                size_t len)
{
    buffer_clear(&r->key);
    buffer_append(&r->key, kind, strlen(kind) + 1);
    buffer_append(&r->key, rest, len);
    return &r->key;
}

static struct buffer *content_key(struct loaded_record *r, const char *kind, uint64_t size,
                                  const char *fingerprint)
{
    index_key(r, kind, &size, sizeof size);
    buffer_append(&r->key, fingerprint, strlen(fingerprint));
    return &r->key;
}

static const struct loaded_entry *find_path(struct loaded_record *r, const char *kind,
                                            const char *key)
{
    struct buffer *k = index_key(r, kind, key, strlen(key));
    uint32_t *slot = strmap_find(&r->by_path, k->data, k->len);
    return slot ? &r->entries[*slot] : NULL;
}

static const char *cell_copy(struct arena *a, const struct cell *c)
{
    return c->type == CELL_TEXT ? arena_copy(a, c->text.ptr, c->text.len) : NULL;
}

/* Rows (kind, object_key, size, version, loaded_at, fingerprint). */
static int on_row(void *ctx, size_t columns, const char *const *names, const struct cell *v)
{
    (void)names;
    struct loaded_record *r = ctx;
    if (columns < 6 || v[0].type != CELL_TEXT || v[1].type != CELL_TEXT)
        return SP_OK;
    if (r->count == r->capacity) {
        r->capacity = r->capacity ? r->capacity * 2 : 256;
        r->entries = xrealloc(r->entries, r->capacity * sizeof *r->entries);
    }
    uint32_t index = (uint32_t)r->count++;
    struct loaded_entry *e = &r->entries[index];
    char kind[16];
    snprintf(kind, sizeof kind, "%.*s", (int)v[0].text.len, v[0].text.ptr);
    e->key = cell_copy(&r->strings, &v[1]);
    e->size = v[2].type == CELL_INT ? (uint64_t)v[2].i : 0;
    e->version = cell_copy(&r->strings, &v[3]);
    e->loaded_at = cell_copy(&r->strings, &v[4]);
    e->fingerprint = cell_copy(&r->strings, &v[5]);
    e->next_same_name = UINT32_MAX;
    int inserted;
    struct buffer *k = index_key(r, kind, e->key, strlen(e->key));
    *strmap_upsert(&r->by_path, k->data, k->len, &inserted) = index;
    k = index_key(r, kind, &e->size, sizeof e->size);
    strmap_upsert(&r->sizes, k->data, k->len, &inserted);
    if (e->fingerprint) {
        k = content_key(r, kind, e->size, e->fingerprint);
        uint32_t *slot = strmap_upsert(&r->by_content, k->data, k->len, &inserted);
        if (inserted)
            *slot = index;
    }
    const char *name = file_name(e->key);
    k = index_key(r, kind, name, strlen(name));
    uint32_t *first = strmap_upsert(&r->by_name, k->data, k->len, &inserted);
    if (!inserted)
        e->next_same_name = *first;
    *first = index;
    return SP_OK;
}

int loaded_record_read(struct warehouse *wh, struct loaded_record *r, bool songs, bool logs,
                       struct sp_error *err)
{
    if (!songs && !logs)
        return SP_OK;
    const char *where = !songs ? " WHERE kind = 'log'" : !logs ? " WHERE kind = 'song'" : "";
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT kind, object_key, size, version, loaded_at, fingerprint FROM loaded_objects%s",
             where);
    return wh->ops->query(wh, sql, on_row, r, err);
}

static void add_seen(struct loaded_record *r, const char *kind, const struct source_object *o,
                     const char *loaded_at)
{
    if (r->seen_count == r->seen_capacity) {
        r->seen_capacity = r->seen_capacity ? r->seen_capacity * 2 : 64;
        r->seen = xrealloc(r->seen, r->seen_capacity * sizeof *r->seen);
    }
    struct seen_object *s = &r->seen[r->seen_count++];
    s->kind = kind;
    s->key = arena_copy(&r->strings, o->key, strlen(o->key));
    s->version = arena_copy(&r->strings, o->version, strlen(o->version));
    s->fingerprint = arena_copy(&r->strings, o->fingerprint, strlen(o->fingerprint));
    s->loaded_at = loaded_at;
    s->size = o->loaded;
}

int loaded_record_check_content(struct loaded_record *r, const char *kind,
                                const struct source_object *o)
{
    struct buffer *k = content_key(r, kind, o->loaded, o->fingerprint);
    int inserted;
    uint32_t *slot = strmap_upsert(&r->by_content, k->data, k->len, &inserted);
    if (inserted) {
        *slot = RUN_ENTRY;
        return 0;
    }
    const struct loaded_entry *same = *slot == RUN_ENTRY ? NULL : &r->entries[*slot];
    /* Record the path too (or refresh a row whose version went stale, as after a touch), so
     * that the next run knows it without reading it. */
    const struct loaded_entry *mine = find_path(r, kind, o->key);
    if (!mine || !mine->fingerprint || strcmp(mine->fingerprint, o->fingerprint) != 0 ||
        strcmp(mine->version, o->version) != 0 || mine->size != o->loaded)
        add_seen(r, kind, o, same ? same->loaded_at : r->run_at);
    return 1;
}

static bool same_size_listed(struct strmap *sizes, uint64_t size)
{
    uint32_t *count = strmap_find(sizes, &size, sizeof size);
    return count && *count > 1;
}

/* A file moved (its old path gone) and grown since: the row of the bytes it starts with. */
static const struct loaded_entry *moved_and_grown(struct loaded_record *r, const char *kind,
                                                  const struct source_object *o,
                                                  struct sp_error *err, int *status)
{
    const char *name = file_name(o->key);
    struct buffer *k = index_key(r, kind, name, strlen(name));
    uint32_t *first = strmap_find(&r->by_name, k->data, k->len);
    for (uint32_t i = first ? *first : UINT32_MAX; i != UINT32_MAX;
         i = r->entries[i].next_same_name) {
        const struct loaded_entry *e = &r->entries[i];
        struct stat st;
        if (!e->fingerprint || e->size == 0 || e->size >= o->size || source_is_s3(e->key) ||
            lstat(e->key, &st) == 0 || errno != ENOENT)
            continue;
        char prefix[SOURCE_FINGERPRINT_SIZE];
        uint64_t hashed;
        if ((*status = source_fingerprint_file(o->key, e->size, &hashed, prefix, err)) != SP_OK)
            return NULL;
        if (hashed == e->size && strcmp(prefix, e->fingerprint) == 0)
            return e;
    }
    return NULL;
}

static int changed_error(const struct source_object *o, const struct loaded_entry *e,
                         struct sp_error *err)
{
    if (source_is_s3(o->key))
        return sp_fail(err,
                       "%s: changed since it was loaded (%s, %llu bytes -> %s, %llu bytes); its "
                       "events are already in songplays and S3 objects are replaced whole, not "
                       "appended to: write new events to new objects, or rerun with "
                       "--full-refresh",
                       o->key, e->version, (unsigned long long)e->size, o->version,
                       (unsigned long long)o->size);
    if (!e->fingerprint)
        return sp_fail(err,
                       "%s: changed since it was loaded (size %llu -> %llu), by a run that did "
                       "not record content fingerprints yet; its events are already in "
                       "songplays: rerun with --full-refresh",
                       o->key, (unsigned long long)e->size, (unsigned long long)o->size);
    return sp_fail(err,
                   "%s: changed since it was loaded (size %llu -> %llu, not by appending lines); "
                   "its events are already in songplays: restore it, or rerun with "
                   "--full-refresh",
                   o->key, (unsigned long long)e->size, (unsigned long long)o->size);
}

/* Decides one object that is not loaded unchanged at its own path. Returns 1 to skip it, 0 to
 * load it, or -1 with `err` set. */
static int plan_object(struct loaded_record *r, const char *kind, struct source_object *o,
                       bool compare_content, bool defer, struct sp_error *err)
{
    bool s3 = source_is_s3(o->key);
    bool log = strcmp(kind, "log") == 0;
    if (s3) {
        snprintf(o->fingerprint, sizeof o->fingerprint, "%s", o->version);
        o->loaded = o->size;
        compare_content = true;
    } else if (compare_content && defer) {
        o->check_content = true;
        compare_content = false;
    } else if (compare_content) {
        uint64_t hashed;
        if (source_fingerprint_file(o->key, o->size, &hashed, o->fingerprint, err) != SP_OK)
            return -1;
        o->loaded = hashed;
    }
    if (compare_content && loaded_record_check_content(r, kind, o))
        return 1;
    const struct loaded_entry *e = find_path(r, kind, o->key);
    if (!log || s3 || source_has_gzip_name(o->key)) {
        if (e && log) {
            changed_error(o, e, err);
            return -1;
        }
        return 0; /* new, or a changed song file: loaded again */
    }
    if (e) {
        if (!e->fingerprint || e->size >= o->size) {
            changed_error(o, e, err);
            return -1;
        }
    } else {
        int status = SP_OK;
        e = moved_and_grown(r, kind, o, err, &status);
        if (status != SP_OK)
            return -1;
        if (!e)
            return 0;
    }
    /* A grown log file: its loaded bytes are checked when it is read, then its new lines are
     * loaded. */
    o->start = e->size;
    o->prefix_fingerprint = e->fingerprint; /* the record outlives the run's reading */
    return 0;
}

int loaded_record_plan(struct loaded_record *r, const char *kind, struct source_list *list,
                       bool defer_songs, size_t *skipped, struct sp_error *err)
{
    /* The fast path first: the same key, size and version as a row. */
    size_t kept = 0;
    for (size_t i = 0; i < list->count; i++) {
        struct source_object *o = &list->items[i];
        const struct loaded_entry *e = find_path(r, kind, o->key);
        if (e && e->size == o->size && strcmp(e->version, o->version) == 0) {
            if (!e->fingerprint) {
                /* A row from before fingerprints: add its fingerprint now, once. */
                snprintf(o->fingerprint, sizeof o->fingerprint, "%s", o->version);
                uint64_t hashed = o->size;
                if (!source_is_s3(o->key) &&
                    source_fingerprint_file(o->key, o->size, &hashed, o->fingerprint, err) != SP_OK)
                    return err->status;
                o->loaded = hashed;
                add_seen(r, kind, o, e->loaded_at);
            }
            (*skipped)++;
            free(o->key);
            continue;
        }
        list->items[kept++] = *o;
    }
    list->count = kept;
    /* Sizes listed more than once in this run: content may repeat (a copy, a link). */
    struct strmap sizes;
    strmap_init(&sizes);
    for (size_t i = 0; i < list->count; i++) {
        int inserted;
        uint32_t *count = strmap_upsert(&sizes, &list->items[i].size, sizeof(uint64_t), &inserted);
        *count = inserted ? 1 : *count + 1;
    }
    bool defer = defer_songs && strcmp(kind, "song") == 0;
    int status = SP_OK;
    kept = 0;
    for (size_t i = 0; i < list->count; i++) {
        struct source_object *o = &list->items[i];
        int decision = 0;
        if (status == SP_OK) {
            struct buffer *k = index_key(r, kind, &o->size, sizeof o->size);
            bool compare =
                strmap_find(&r->sizes, k->data, k->len) || same_size_listed(&sizes, o->size);
            decision = plan_object(r, kind, o, compare, defer, err);
            if (decision < 0)
                status = err->status ? err->status : SP_FAIL;
        }
        if (status != SP_OK || decision == 1) {
            *skipped += status == SP_OK;
            free(o->key);
            continue;
        }
        list->items[kept++] = *o;
    }
    list->count = kept;
    list->total_size = 0;
    for (size_t i = 0; i < list->count; i++)
        list->total_size += list->items[i].size;
    strmap_release(&sizes);
    return status;
}

static void add_row(struct rowbuf *rows, const char *kind, const char *key, uint64_t size,
                    const char *version, const char *loaded_at, const char *fingerprint)
{
    struct cell *row = rowbuf_add_row(rows);
    rowbuf_set_text(rows, &row[0], kind, strlen(kind));
    rowbuf_set_text(rows, &row[1], key, strlen(key));
    row[2].type = CELL_INT;
    row[2].i = (int64_t)size;
    rowbuf_set_text(rows, &row[3], version, strlen(version));
    rowbuf_set_text(rows, &row[4], loaded_at, strlen(loaded_at));
    rowbuf_set_text(rows, &row[5], fingerprint, strlen(fingerprint));
}

void loaded_record_rows(struct rowbuf *rows, const char *kind, const struct source_list *list,
                        const char *loaded_at)
{
    for (size_t i = 0; i < list->count; i++) {
        const struct source_object *o = &list->items[i];
        add_row(rows, kind, o->key, o->loaded, o->version, loaded_at, o->fingerprint);
    }
}

void loaded_record_seen_rows(struct loaded_record *r, struct rowbuf *rows)
{
    for (size_t i = 0; i < r->seen_count; i++) {
        const struct seen_object *s = &r->seen[i];
        add_row(rows, s->kind, s->key, s->size, s->version, s->loaded_at, s->fingerprint);
    }
}
