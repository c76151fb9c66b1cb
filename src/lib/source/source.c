/* source.c - local files, directories, globs and S3 objects as sources of JSON (see source.h).
 *
 * One object stream reads every object: raw bytes from a file descriptor (a local file, or the
 * reading end of a socket pair an S3 transfer writes into) or from memory, inflated by zlib when
 * they start with gzip's magic bytes, and fingerprinted with XXH3-128 as they are read. Every
 * member of a multi-member gzip file is inflated; anything after the last member is an error,
 * as is a member cut short. The line reader keeps one buffer per object, compacted in place;
 * lines are handed out as pointers into it with the padding simdjson needs behind them, and a
 * line longer than SOURCE_MAX_RECORD is reported and skipped without being held.
 * Pitfalls: a plain local file may be growing while it is read (today's log), so it is read no
 * further than its listed size and its last line, if unterminated, can be left for the next run;
 * its fingerprint then covers exactly the bytes loaded.
 */
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#define RAW_CHUNK (256 * 1024)

void source_list_init(struct source_list *list)
{
    memset(list, 0, sizeof *list);
}

void source_list_release(struct source_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].key);
    free(list->items);
    source_list_init(list);
}

/* Appends `object`, whose key the list then owns. */
static void source_list_append_owned(struct source_list *list, const struct source_object *object)
{
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 64;
        list->items = xrealloc(list->items, list->capacity * sizeof *list->items);
    }
    list->items[list->count++] = *object;
    list->total_size += object->size;
}

void source_list_append(struct source_list *list, const struct source_object *object)
{
    struct source_object o = *object;
    o.key = xstrdup(object->key);
    source_list_append_owned(list, &o);
}

size_t source_list_drop_skipped(struct source_list *list)
{
    size_t kept = 0, dropped = 0;
    list->total_size = 0;
    for (size_t i = 0; i < list->count; i++) {
        if (list->items[i].skip) {
            free(list->items[i].key);
            dropped++;
            continue;
        }
        list->total_size += list->items[i].size;
        list->items[kept++] = list->items[i];
    }
    list->count = kept;
    return dropped;
}

/* 1 when `s` is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80             ? 0
                   : (c & 0xE0) == 0xC0 ? 1
                   : (c & 0xF0) == 0xE0 ? 2
                   : (c & 0xF8) == 0xF0 ? 3
                                        : 4;
        if (n == 4 || (n == 1 && c < 0xC2) || (n == 3 && c > 0xF4))
            return 0;
        for (size_t k = 1; k <= n; k++)
            if ((p[k] & 0xC0) != 0x80)
                return 0;
        if (n == 2 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)))
            return 0;
        if (n == 3 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)))
            return 0;
        p += n + 1;
    }
    return 1;
}

/* A path in a message: control characters and bytes that are not UTF-8 as \xHH. */
static const char *shown_path(const char *path, char *out, size_t size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p && o + 5 < size; p++) {
        if (*p < 0x20 || *p == 0x7F || *p >= 0x80)
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", *p);
        else
            out[o++] = (char)*p;
    }
    out[o] = '\0';
    return out;
}

static int list_add(struct source_list *list, const char *path, const struct stat *st,
                    struct sp_error *err)
{
    /* Every warehouse stores keys as UTF-8 text: a name that is not UTF-8 cannot be recorded
     * the same way everywhere, so it is refused on every target alike. */
    if (!valid_utf8(path)) {
        char shown[1024];
        return sp_fail(err,
                       "%s: the path is not valid UTF-8, which the warehouses cannot record: "
                       "rename the file",
                       shown_path(path, shown, sizeof shown));
    }
    struct source_object o = {.key = (char *)path, .size = (uint64_t)st->st_size};
    snprintf(o.version, sizeof o.version, "mtime:%lld.%09ld", (long long)st->st_mtim.tv_sec,
             (long)st->st_mtim.tv_nsec);
    source_list_append(list, &o); /* callers pass absolute paths */
    return SP_OK;
}

int source_is_s3(const char *key)
{
    return strncmp(key, "s3://", 5) == 0;
}

int source_has_gzip_name(const char *key)
{
    size_t n = strlen(key);
    return n > 3 && strcmp(key + n - 3, ".gz") == 0;
}

int source_has_json_name(const char *name)
{
    static const char *const suffixes[] = {".json",    ".jsonl",    ".ndjson",
                                           ".json.gz", ".jsonl.gz", ".ndjson.gz"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t s = strlen(suffixes[i]);
        if (n > s && strcmp(name + n - s, suffixes[i]) == 0)
            return 1;
    }
    return 0;
}

/* Lists `dir`'s JSON files and walks its subdirectories; with `skip_dirs`, plain
 * subdirectories are left out (walk_tree gives them to its threads). */
static int walk_directory_entries(const char *dir, struct source_list *list, bool skip_dirs,
                                  struct sp_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return sp_fail(err, "%s: cannot open directory: %s", dir, strerror(errno));
    int status = SP_OK;
    struct dirent *entry;
    struct buffer path;
    buffer_init(&path);
    while (status == SP_OK && (entry = readdir(d)) != NULL) {
        if (entry->d_name[0] == '.')
            continue; /* ., .., and hidden entries such as .ipynb_checkpoints */
        bool json = source_has_json_name(entry->d_name);
        if (entry->d_type == DT_REG && !json)
            continue;
        buffer_clear(&path);
        buffer_printf(&path, "%s/%s", dir, entry->d_name);
        if (entry->d_type == DT_DIR) { /* no stat needed to know it (a link to one has DT_LNK) */
            if (!skip_dirs)
                status = walk_directory_entries(path.data, list, false, err);
            continue;
        }
        struct stat st;
        /* Relative to the open directory: no path walk from the root for every file. */
        if (fstatat(dirfd(d), entry->d_name, &st, 0) != 0) {
            /* A dangling link under a name that would not be loaded is none of our business. */
            if (json || entry->d_type == DT_DIR)
                status = sp_fail(err, "%s: %s", path.data, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            status = walk_directory_entries(path.data, list, false, err);
        } else if (S_ISREG(st.st_mode) && json) {
            status = list_add(list, path.data, &st, err);
        }
    }
    buffer_release(&path);
    closedir(d);
    return status;
}

static int walk_directory(const char *dir, struct source_list *list, struct sp_error *err)
{
    return walk_directory_entries(dir, list, false, err);
}

/* A named directory's subdirectories are walked by two threads (100k song files in 17k
 * directories: the kernel's getdents and stat calls are most of a daily run that lists them),
 * each into a list of its own. Each thread takes the next subdirectory in readdir order, so the
 * first one that fails is the one a walk in order would have reported first. */
#define WALK_THREADS 2

struct tree_walk {
    char **dirs;
    size_t count;
    atomic_size_t next;
    size_t failed_at; /* the smallest index that failed, or count */
    struct sp_error err;
    pthread_mutex_t lock;
};

struct tree_walker {
    struct tree_walk *walk;
    struct source_list list;
};

static void *tree_walker_main(void *arg)
{
    struct tree_walker *w = arg;
    struct tree_walk *t = w->walk;
    for (;;) {
        size_t i = atomic_fetch_add(&t->next, 1);
        if (i >= t->count)
            break;
        struct sp_error err;
        sp_error_clear(&err);
        if (walk_directory(t->dirs[i], &w->list, &err) != SP_OK) {
            pthread_mutex_lock(&t->lock);
            if (i < t->failed_at) {
                t->failed_at = i;
                t->err = err;
            }
            pthread_mutex_unlock(&t->lock);
            break;
        }
    }
    return NULL;
}

static int walk_tree(const char *dir, struct source_list *list, struct sp_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return sp_fail(err, "%s: cannot open directory: %s", dir, strerror(errno));
    struct tree_walk t = {.failed_at = SIZE_MAX};
    size_t capacity = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        if (entry->d_name[0] == '.' || entry->d_type != DT_DIR)
            continue;
        if (t.count == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            t.dirs = xrealloc(t.dirs, capacity * sizeof *t.dirs);
        }
        size_t n = strlen(dir) + strlen(entry->d_name) + 2;
        t.dirs[t.count] = xmalloc(n);
        snprintf(t.dirs[t.count++], n, "%s/%s", dir, entry->d_name);
    }
    closedir(d);
    /* Files and anything that is not a plain directory (links, unknown types) in order. */
    int status = walk_directory_entries(dir, list, true, err);
    if (status == SP_OK && t.count) {
        struct tree_walker walkers[WALK_THREADS];
        pthread_t threads[WALK_THREADS];
        bool started[WALK_THREADS] = {false};
        atomic_init(&t.next, 0);
        t.failed_at = t.count;
        sp_error_clear(&t.err);
        pthread_mutex_init(&t.lock, NULL);
        int helpers = t.count > 1 ? WALK_THREADS - 1 : 0;
        for (int i = 0; i <= helpers; i++) {
            walkers[i].walk = &t;
            source_list_init(&walkers[i].list);
        }
        for (int i = 1; i <= helpers; i++)
            started[i] = pthread_create(&threads[i], NULL, tree_walker_main, &walkers[i]) == 0;
        tree_walker_main(&walkers[0]);
        for (int i = 1; i <= helpers; i++)
            if (started[i])
                pthread_join(threads[i], NULL);
        for (int i = 0; i <= helpers; i++) {
            for (size_t k = 0; k < walkers[i].list.count; k++) /* the keys change hands */
                source_list_append_owned(list, &walkers[i].list.items[k]);
            free(walkers[i].list.items);
        }
        pthread_mutex_destroy(&t.lock);
        if (t.failed_at < t.count) {
            *err = t.err;
            status = SP_FAIL;
        }
    }
    for (size_t i = 0; i < t.count; i++)
        free(t.dirs[i]);
    free(t.dirs);
    return status;
}

static int compare_objects(const void *a, const void *b)
{
    return strcmp(((const struct source_object *)a)->key, ((const struct source_object *)b)->key);
}

/* Keys are absolute: the same file reached from another working directory is the same
 * object. Only the named path is resolved; the walk below it appends names (resolving every
 * file would cost ten readlink calls each). */
static int add_path(const char *path, struct source_list *list, struct sp_error *err)
{
    struct stat st;
    char resolved[PATH_MAX];
    if (stat(path, &st) != 0 || !realpath(path, resolved))
        return sp_fail(err, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return walk_tree(resolved, list, err);
    if (!S_ISREG(st.st_mode))
        return sp_fail(err, "%s: not a regular file or directory", path);
    return list_add(list, resolved, &st, err);
}

/* An S3 object listed: a source when its name says JSON, versioned by its ETag. */
static int add_s3_object(void *ctx, const char *url, uint64_t size, const char *etag)
{
    if (!source_has_json_name(url))
        return SP_OK;
    struct source_object o = {.key = (char *)url, .size = size};
    snprintf(o.version, sizeof o.version, "etag:%s", etag);
    source_list_append(ctx, &o);
    return SP_OK;
}

int source_list_objects(const char *spec, struct s3_client *s3, struct source_list *list,
                        struct sp_error *err)
{
    size_t first = list->count;
    int status;
    if (source_is_s3(spec)) {
        if (!s3)
            return sp_usage(err, "%s: no S3 client configured", spec);
        status = s3_list(s3, spec, add_s3_object, list, err);
        if (status == SP_OK && list->count == first)
            return sp_fail(err, "%s: no .json objects under this prefix", spec);
    } else if (strpbrk(spec, "*?[")) {
        glob_t g;
        int rc = glob(spec, GLOB_ERR, NULL, &g);
        if (rc == GLOB_NOMATCH)
            return sp_fail(err, "%s: no file matches this pattern", spec);
        if (rc != 0)
            return sp_fail(err, "%s: cannot expand the pattern: %s", spec, strerror(errno));
        status = SP_OK;
        for (size_t i = 0; status == SP_OK && i < g.gl_pathc; i++)
            status = add_path(g.gl_pathv[i], list, err);
        globfree(&g);
    } else {
        status = add_path(spec, list, err);
    }
    if (status != SP_OK)
        return status;
    if (list->count == first)
        return sp_fail(err,
                       "%s: no JSON object to load here (files ending .json, .jsonl or .ndjson, "
                       "optionally .gz; hidden entries are skipped)",
                       spec);
    qsort(list->items + first, list->count - first, sizeof *list->items, compare_objects);
    return SP_OK;
}

/* ---- fingerprints ---- */

/* read(2), retried when interrupted; -1 with `err` naming `path` on an error. */
static ssize_t read_some(int fd, void *buf, size_t n, const char *path, struct sp_error *err)
{
    ssize_t got;
    do
        got = read(fd, buf, n);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        sp_fail(err, "%s: read error: %s", path, strerror(errno));
    return got;
}

static void fingerprint_text(XXH128_hash_t h, char out[SOURCE_FINGERPRINT_SIZE])
{
    snprintf(out, SOURCE_FINGERPRINT_SIZE, "xxh128:%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}

void source_fingerprint(const void *data, size_t len, char out[SOURCE_FINGERPRINT_SIZE])
{
    fingerprint_text(XXH3_128bits(data, len), out);
}

int source_is_gzip(const void *data, size_t len)
{
    const unsigned char *p = data;
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

int source_check_prefix(const struct source_object *o, const char *now, struct sp_error *err)
{
    if (strcmp(now, o->prefix_fingerprint) == 0)
        return SP_OK;
    return sp_fail(err,
                   "%s: changed since it was loaded: its first %llu bytes are not those loaded "
                   "before, whose events are already in songplays (a log file may only grow); "
                   "restore it, or rerun with --full-refresh",
                   o->key, (unsigned long long)o->start);
}

int source_fingerprint_file(const char *path, uint64_t length, uint64_t *hashed,
                            char out[SOURCE_FINGERPRINT_SIZE], struct sp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sp_fail(err, "%s: cannot open: %s", path, strerror(errno));
    XXH3_state_t *state = XXH3_createState();
    if (!state)
        abort();
    XXH3_128bits_reset(state);
    char *chunk = xmalloc(RAW_CHUNK);
    uint64_t done = 0;
    ssize_t n = 1;
    while (done < length && n > 0) {
        n = read_some(fd, chunk, length - done < RAW_CHUNK ? (size_t)(length - done) : RAW_CHUNK,
                      path, err);
        if (n > 0)
            XXH3_128bits_update(state, chunk, (size_t)n);
        done += n > 0 ? (uint64_t)n : 0;
    }
    fingerprint_text(XXH3_128bits_digest(state), out);
    *hashed = done;
    free(chunk);
    XXH3_freeState(state);
    close(fd);
    return n < 0 ? SP_FAIL : SP_OK;
}

/* ---- S3 objects streamed into a socket pair by a fetching thread ---- */

struct s3_stream {
    pthread_t thread;
    struct s3_client *s3;
    char *key;
    int fd; /* the writing end, closed by the thread when the transfer ends */
    int status;
    struct sp_error err;
    bool joined;
};

static void *s3_stream_main(void *arg)
{
    struct s3_stream *st = arg;
    st->status = s3_stream_object(st->s3, st->key, st->fd, &st->err);
    close(st->fd);
    return NULL;
}

static int s3_stream_finish(struct s3_stream *st)
{
    if (!st->joined) {
        pthread_join(st->thread, NULL);
        st->joined = true;
    }
    return st->status;
}

static void s3_stream_free(struct s3_stream *st)
{
    if (!st)
        return;
    s3_stream_finish(st);
    free(st->key);
    free(st);
}

/* Starts the transfer of `key`; *fd is the end to read it from. */
static int s3_stream_start(struct s3_client *s3, const char *key, struct s3_stream **out, int *fd,
                           struct sp_error *err)
{
    if (!s3)
        return sp_usage(err, "%s: no S3 client configured", key);
    /* A socket pair rather than a pipe: send() with MSG_NOSIGNAL reports a reader that went
     * away as an error instead of raising SIGPIPE. */
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return sp_fail(err, "%s: cannot create a socket pair: %s", key, strerror(errno));
    struct s3_stream *st = xcalloc(1, sizeof *st);
    st->s3 = s3;
    st->key = xstrdup(key);
    st->fd = fds[1];
    if (pthread_create(&st->thread, NULL, s3_stream_main, st) != 0) {
        close(fds[0]);
        close(fds[1]);
        free(st->key);
        free(st);
        return sp_fail(err, "%s: cannot start the download thread", key);
    }
    *out = st;
    *fd = fds[0];
    return SP_OK;
}

/* ---- the object stream: raw bytes in, content out ---- */

enum stream_format { FORMAT_UNKNOWN, FORMAT_PLAIN, FORMAT_GZIP };

struct object_stream {
    char *key;
    int fd; /* -1 when the raw bytes are in memory */
    struct s3_stream *s3;
    const unsigned char *mem;
    size_t mem_len;
    uint64_t raw_read;  /* raw bytes taken from the source so far */
    uint64_t raw_limit; /* read no further (a growing plain file); UINT64_MAX otherwise */
    XXH3_state_t *hash; /* of every raw byte read, or NULL */
    enum stream_format format;
    z_stream z;
    bool z_ready, member_ended;
    unsigned char *in; /* raw bytes read but not consumed: in[in_pos, in_len) */
    size_t in_pos, in_len;
    bool raw_eof;
};

static void stream_init(struct object_stream *s, const char *key)
{
    memset(s, 0, sizeof *s);
    s->key = xstrdup(key);
    s->fd = -1;
    s->raw_limit = UINT64_MAX;
}

static void stream_release(struct object_stream *s)
{
    if (s->fd >= 0)
        close(s->fd); /* for S3, closing the reading end stops an unfinished download */
    s3_stream_free(s->s3);
    if (s->z_ready)
        inflateEnd(&s->z);
    if (s->hash)
        XXH3_freeState(s->hash);
    if (!s->mem)
        free(s->in);
    free(s->key);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

static void stream_hash_raw(struct object_stream *s)
{
    s->hash = XXH3_createState();
    if (!s->hash)
        abort(); /* out of memory, as xmalloc */
    XXH3_128bits_reset(s->hash);
}

/* Opens a local file or starts an S3 transfer. */
static int stream_open_key(struct object_stream *s, const char *key, struct s3_client *s3,
                           struct sp_error *err)
{
    stream_init(s, key);
    if (source_is_s3(key))
        return s3_stream_start(s3, key, &s->s3, &s->fd, err);
    s->fd = open(key, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return sp_fail(err, "%s: cannot open: %s", key, strerror(errno));
    return SP_OK;
}

static void stream_open_memory(struct object_stream *s, const char *key, const void *raw,
                               size_t len)
{
    stream_init(s, key);
    s->mem = raw;
    s->mem_len = len;
    s->in = (unsigned char *)raw;
    s->in_len = len;
    s->raw_read = len;
    s->raw_eof = true;
}

/* Reads raw bytes into `dst` (at most `n`); returns the count, 0 at the end, -1 on error. */
static ssize_t raw_read(struct object_stream *s, unsigned char *dst, size_t n, struct sp_error *err)
{
    if (s->raw_eof || s->fd < 0)
        return 0;
    if (s->raw_limit - s->raw_read < n)
        n = (size_t)(s->raw_limit - s->raw_read);
    ssize_t got = n > 0 ? read_some(s->fd, dst, n, s->key, err) : 0;
    if (got < 0)
        return -1;
    if (got == 0) {
        s->raw_eof = true;
        /* The end of a streamed object is only the end if the download succeeded. */
        if (s->s3 && s3_stream_finish(s->s3) != SP_OK) {
            *err = s->s3->err;
            return -1;
        }
        return 0;
    }
    if (s->hash)
        XXH3_128bits_update(s->hash, dst, (size_t)got);
    s->raw_read += (uint64_t)got;
    return got;
}

/* Makes at least `want` unread raw bytes available in `in`, unless the source ends first.
 * Returns 0 or -1. */
static int fill_input(struct object_stream *s, size_t want, struct sp_error *err)
{
    if (s->mem)
        return 0;
    if (!s->in)
        s->in = xmalloc(RAW_CHUNK);
    if (s->in_pos > 0) {
        memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
        s->in_len -= s->in_pos;
        s->in_pos = 0;
    }
    while (s->in_len < want && !s->raw_eof) {
        ssize_t n = raw_read(s, s->in + s->in_len, RAW_CHUNK - s->in_len, err);
        if (n < 0)
            return -1;
        s->in_len += (size_t)n;
    }
    return 0;
}

static int start_member(struct object_stream *s, struct sp_error *err)
{
    int rc = s->z_ready ? inflateReset(&s->z) : inflateInit2(&s->z, 16 + MAX_WBITS);
    if (rc != Z_OK)
        return sp_fail(err, "%s: cannot start gzip decompression", s->key), -1;
    s->z_ready = true;
    s->member_ended = false;
    return 0;
}

static int detect_format(struct object_stream *s, struct sp_error *err)
{
    if (fill_input(s, 2, err) != 0)
        return -1;
    if (source_is_gzip(s->in + s->in_pos, s->in_len - s->in_pos)) {
        s->format = FORMAT_GZIP;
        return start_member(s, err);
    }
    s->format = FORMAT_PLAIN;
    return 0;
}

/* Reads up to `n` content bytes into `out`; returns the count, 0 at the end, -1 on error. */
static ssize_t stream_read(struct object_stream *s, char *out, size_t n, struct sp_error *err)
{
    if (n == 0)
        return 0;
    if (s->format == FORMAT_UNKNOWN && detect_format(s, err) != 0)
        return -1;
    if (s->format == FORMAT_PLAIN) {
        if (s->in_pos < s->in_len) {
            size_t take = s->in_len - s->in_pos < n ? s->in_len - s->in_pos : n;
            memcpy(out, s->in + s->in_pos, take);
            s->in_pos += take;
            return (ssize_t)take;
        }
        return raw_read(s, (unsigned char *)out, n, err);
    }
    for (;;) {
        if (s->in_pos == s->in_len && fill_input(s, 1, err) != 0)
            return -1;
        size_t avail = s->in_len - s->in_pos;
        if (s->member_ended) {
            /* Another member, the end, or bytes that are not gzip at all. */
            if (avail == 0)
                return 0;
            if (avail < 2 && fill_input(s, 2, err) != 0)
                return -1;
            avail = s->in_len - s->in_pos;
            if (!source_is_gzip(s->in + s->in_pos, avail))
                return sp_fail(err, "%s: corrupt gzip data: bytes after the last gzip member",
                               s->key),
                       -1;
            if (start_member(s, err) != 0)
                return -1;
        }
        if (avail == 0)
            return sp_fail(err, "%s: truncated gzip data (unexpected end of file)", s->key), -1;
        s->z.next_in = s->in + s->in_pos;
        s->z.avail_in = (uInt)(avail > UINT_MAX ? UINT_MAX : avail);
        s->z.next_out = (unsigned char *)out;
        s->z.avail_out = (uInt)(n > UINT_MAX ? UINT_MAX : n);
        int rc = inflate(&s->z, Z_NO_FLUSH);
        s->in_pos = (size_t)(s->z.next_in - s->in);
        size_t produced = (size_t)((char *)s->z.next_out - out);
        if (rc == Z_STREAM_END)
            s->member_ended = true;
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            return sp_fail(err, "%s: corrupt gzip data: %s", s->key,
                           s->z.msg ? s->z.msg : "inflate failed"),
                   -1;
        if (produced > 0)
            return (ssize_t)produced;
    }
}

/* Reads the whole content into `out` (cleared first), `padding` zero bytes behind it. */
static int stream_read_all(struct object_stream *s, size_t padding, size_t max, struct buffer *out,
                           struct sp_error *err)
{
    buffer_clear(out);
    for (;;) {
        /* Doubling from a small start: content is usually small, and buffers are reused. */
        buffer_reserve(out, (out->len < 65536 ? 65536 : out->len) + padding);
        size_t room = out->cap - out->len - padding - 1;
        ssize_t n = stream_read(s, out->data + out->len, room, err);
        if (n < 0)
            return SP_FAIL;
        if (n == 0)
            break;
        out->len += (size_t)n;
        if (out->len > max)
            return sp_fail(err, "%s: more than %zu MB of content%s; nothing was loaded", s->key,
                           max >> 20, s->format == FORMAT_GZIP ? " after decompression" : "");
    }
    buffer_reserve(out, padding);
    memset(out->data + out->len, 0, padding + 1);
    return SP_OK;
}

int source_read_all(const char *key, struct s3_client *s3, size_t padding, size_t max,
                    struct buffer *out, struct sp_error *err)
{
    struct object_stream s;
    int status = stream_open_key(&s, key, s3, err);
    if (status == SP_OK)
        status = stream_read_all(&s, padding, max, out, err);
    stream_release(&s);
    return status;
}

int source_inflate(const char *raw, size_t len, size_t padding, size_t max, const char *key,
                   struct buffer *out, struct sp_error *err)
{
    struct object_stream s;
    stream_open_memory(&s, key, raw, len);
    int status = stream_read_all(&s, padding, max, out, err);
    stream_release(&s);
    return status;
}

/* A local file's stored bytes, no more than `limit` (its listed size: what it grows by during
 * the run is for the next run) nor `max`, into `raw` with `padding` zero bytes behind them. One
 * read into a buffer sized from fstat: song files are many and small. */
static int read_file_raw(const char *path, uint64_t limit, size_t padding, size_t max,
                         struct buffer *raw, struct sp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sp_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    uint64_t hint = fstat(fd, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 4096;
    if (hint > limit)
        hint = limit;
    buffer_clear(raw);
    buffer_reserve(raw, (size_t)(hint < max ? hint : max) + padding);
    int status = SP_OK;
    while (raw->len < limit) {
        if (raw->len > max) {
            status = sp_fail(err, "%s: more than %zu MB of content; nothing was loaded", path,
                             max >> 20);
            break;
        }
        if (raw->cap - raw->len - 1 <= padding)
            buffer_reserve(raw, raw->len + padding);
        size_t room = raw->cap - raw->len - padding - 1;
        if (room > limit - raw->len)
            room = (size_t)(limit - raw->len);
        ssize_t n = read_some(fd, raw->data + raw->len, room, path, err);
        if (n <= 0) {
            status = n < 0 ? SP_FAIL : SP_OK;
            break;
        }
        raw->len += (size_t)n;
    }
    close(fd);
    buffer_reserve(raw, padding);
    memset(raw->data + raw->len, 0, padding + 1);
    return status;
}

int source_read_raw(struct source_object *o, size_t padding, size_t max, struct buffer *raw,
                    struct sp_error *err)
{
    int status = read_file_raw(o->key, o->size, padding, max, raw, err);
    if (status != SP_OK)
        return status;
    o->loaded = raw->len;
    source_fingerprint(raw->data, raw->len, o->fingerprint);
    o->gzip = source_is_gzip(raw->data, raw->len);
    return SP_OK;
}

int source_read_object(struct source_object *o, struct s3_client *s3, size_t padding, size_t max,
                       struct buffer *content, struct sp_error *err)
{
    if (!source_is_s3(o->key)) {
        int status = source_read_raw(o, padding, max, content, err);
        if (status != SP_OK || !o->gzip)
            return status;
        struct buffer raw = *content;
        buffer_init(content);
        status = source_inflate(raw.data, raw.len, padding, max, o->key, content, err);
        buffer_release(&raw);
        return status;
    }
    struct object_stream s;
    int status = stream_open_key(&s, o->key, s3, err);
    if (status == SP_OK)
        status = stream_read_all(&s, padding, max, content, err);
    if (status == SP_OK) {
        o->gzip = s.format == FORMAT_GZIP;
        o->loaded = s.raw_read;
        snprintf(o->fingerprint, sizeof o->fingerprint, "%s", o->version);
    }
    stream_release(&s);
    return status;
}

struct source_stream {
    struct object_stream stream;
};

int source_stream_open(struct source_stream **out, const struct source_object *o, const char *raw,
                       size_t raw_len, struct s3_client *s3, struct sp_error *err)
{
    struct source_stream *s = xcalloc(1, sizeof *s);
    int status = SP_OK;
    if (raw) {
        stream_open_memory(&s->stream, o->key, raw, raw_len);
    } else {
        status = stream_open_key(&s->stream, o->key, s3, err);
        if (status == SP_OK && !source_is_s3(o->key))
            s->stream.raw_limit = o->size; /* what grows during the run is for the next run */
    }
    if (status == SP_OK && !source_is_s3(o->key)) {
        stream_hash_raw(&s->stream);
        if (raw)
            XXH3_128bits_update(s->stream.hash, raw, raw_len);
    }
    if (status != SP_OK) {
        source_stream_close(s);
        return status;
    }
    *out = s;
    return SP_OK;
}

long source_stream_read(struct source_stream *s, char *buf, size_t n, struct sp_error *err)
{
    return (long)stream_read(&s->stream, buf, n, err);
}

void source_stream_finish(struct source_stream *s, struct source_object *o)
{
    o->gzip = s->stream.format == FORMAT_GZIP;
    o->loaded = s->stream.raw_read;
    if (s->stream.hash)
        fingerprint_text(XXH3_128bits_digest(s->stream.hash), o->fingerprint);
    else
        snprintf(o->fingerprint, sizeof o->fingerprint, "%s", o->version);
}

void source_stream_close(struct source_stream *s)
{
    if (!s)
        return;
    stream_release(&s->stream);
    free(s);
}

/* ---- lines ---- */

struct line_reader {
    struct object_stream stream;
    struct source_object *object; /* NULL: nothing to fingerprint */
    bool plain_local;             /* a plain local file: fingerprinted line by line */
    XXH3_state_t *hash;           /* plain local files: the bytes of the lines consumed */
    char *data;
    size_t capacity; /* usable bytes; `padding` more are allocated behind them */
    size_t padding;
    size_t start, end; /* unread bytes are data[start, end) */
    size_t line;
    uint64_t offset; /* content bytes consumed, counted from the object's first byte */
    bool eof;
    size_t hashed;      /* data[hashed, start) is consumed but not fingerprinted yet */
    bool last_open;     /* the line last returned ended at EOF without a line end */
    size_t open_begin;  /* where in data that line begins */
    size_t open_length; /* its bytes, not counted in `offset` */
    char excerpt[256];  /* the start of a line too long to hold */
};

static struct line_reader *reader_new(size_t padding)
{
    struct line_reader *lr = xcalloc(1, sizeof *lr);
    lr->capacity = 1024 * 1024;
    lr->padding = padding;
    /* Zeroed so that simdjson's read-ahead never touches uninitialised bytes. */
    lr->data = xcalloc(1, lr->capacity + padding);
    return lr;
}

int line_reader_open(struct line_reader **out, const char *key, struct s3_client *s3,
                     size_t padding, struct sp_error *err)
{
    struct line_reader *lr = reader_new(padding);
    if (stream_open_key(&lr->stream, key, s3, err) != SP_OK) {
        line_reader_close(lr);
        return SP_FAIL;
    }
    *out = lr;
    return SP_OK;
}

/* Fingerprints the first o->start bytes of a growing file and checks them against what was
 * loaded, counting its lines so that line numbers stay those of the file. */
static int resume(struct line_reader *lr, struct source_object *o, struct sp_error *err)
{
    char *chunk = xmalloc(RAW_CHUNK);
    uint64_t left = o->start;
    int status = SP_OK;
    bool first = true;
    while (status == SP_OK && left > 0) {
        size_t want = left < RAW_CHUNK ? (size_t)left : RAW_CHUNK;
        ssize_t n = raw_read(&lr->stream, (unsigned char *)chunk, want, err);
        if (n < 0) {
            status = SP_FAIL;
            break;
        }
        if (n == 0 || (first && source_is_gzip(chunk, (size_t)n)))
            break;
        first = false;
        XXH3_128bits_update(lr->hash, chunk, (size_t)n);
        for (ssize_t i = 0; i < n; i++)
            lr->line += chunk[i] == '\n';
        left -= (uint64_t)n;
    }
    free(chunk);
    if (status != SP_OK)
        return status;
    char now[SOURCE_FINGERPRINT_SIZE] = "";
    if (left == 0)
        fingerprint_text(XXH3_128bits_digest(lr->hash), now);
    if (source_check_prefix(o, now, err) != SP_OK)
        return SP_FAIL;
    lr->offset = o->start;
    lr->stream.format = FORMAT_PLAIN;
    return SP_OK;
}

int line_reader_open_object(struct line_reader **out, struct source_object *o, struct s3_client *s3,
                            size_t padding, struct sp_error *err)
{
    struct line_reader *lr = reader_new(padding);
    lr->object = o;
    int status = stream_open_key(&lr->stream, o->key, s3, err);
    if (status == SP_OK && !source_is_s3(o->key)) {
        lr->stream.raw_limit = o->size; /* what grows during the run is for the next run */
        /* Plain or gzip is known from the first bytes; the decision for a resumed file was
         * made by name and is checked by resume(). */
        if (o->start == 0 && detect_format(&lr->stream, err) != 0)
            status = SP_FAIL;
        else if (o->start > 0 || lr->stream.format == FORMAT_PLAIN) {
            lr->plain_local = true;
            lr->hash = XXH3_createState();
            if (!lr->hash)
                abort();
            XXH3_128bits_reset(lr->hash);
            if (o->start > 0)
                status = resume(lr, o, err);
        } else {
            o->gzip = true;
            stream_hash_raw(&lr->stream); /* a gzip file is loaded whole or not at all */
            XXH3_128bits_update(lr->stream.hash, lr->stream.in, lr->stream.in_len);
        }
    }
    if (status != SP_OK) {
        line_reader_close(lr);
        return status;
    }
    *out = lr;
    return SP_OK;
}

/* Moves unread bytes to the front and reads more; grows while a line fills the buffer, up to
 * SOURCE_MAX_RECORD. Returns 0 or -1. */
static void fingerprint_upto(struct line_reader *lr, size_t upto)
{
    if (lr->hash && upto > lr->hashed)
        XXH3_128bits_update(lr->hash, lr->data + lr->hashed, upto - lr->hashed);
    lr->hashed = upto;
}

static int refill(struct line_reader *lr, struct sp_error *err)
{
    /* Consumed bytes are fingerprinted in one call per buffer, not one per line. */
    fingerprint_upto(lr, lr->start);
    if (lr->start > 0) {
        memmove(lr->data, lr->data + lr->start, lr->end - lr->start);
        lr->end -= lr->start;
        lr->start = 0;
        lr->hashed = 0;
    }
    if (lr->end == lr->capacity) {
        size_t old = lr->capacity;
        lr->capacity *= 2;
        lr->data = xrealloc(lr->data, lr->capacity + lr->padding);
        memset(lr->data + old, 0, lr->capacity - old + lr->padding);
    }
    ssize_t n = stream_read(&lr->stream, lr->data + lr->end, lr->capacity - lr->end, err);
    if (n < 0)
        return -1;
    if (n == 0)
        lr->eof = true;
    lr->end += (size_t)n;
    return 0;
}

/* Skips the rest of a line that is too long to hold, up to and including its line end. */
static int skip_line(struct line_reader *lr, struct sp_error *err)
{
    for (;;) {
        char *begin = lr->data + lr->start;
        char *newline = memchr(begin, '\n', lr->end - lr->start);
        if (newline) {
            lr->offset += (size_t)(newline - begin) + 1;
            lr->start += (size_t)(newline - begin) + 1;
            return 0;
        }
        lr->offset += lr->end - lr->start;
        lr->start = lr->end;
        if (lr->eof)
            return 0;
        if (refill(lr, err) != 0)
            return -1;
    }
}

int line_reader_next(struct line_reader *lr, const char **line, size_t *len, struct sp_error *err)
{
    for (;;) {
        char *begin = lr->data + lr->start;
        size_t avail = lr->end - lr->start;
        char *newline = memchr(begin, '\n', avail);
        size_t n, taken;
        bool open = false;
        if (newline) {
            n = (size_t)(newline - begin);
            taken = n + 1;
        } else if (avail > SOURCE_MAX_RECORD) {
            /* Longer than any record may be: report its start and skip the rest. */
            lr->line++;
            memcpy(lr->excerpt, begin, sizeof lr->excerpt);
            *line = lr->excerpt;
            *len = sizeof lr->excerpt;
            lr->offset += avail;
            lr->start = lr->end;
            lr->last_open = false;
            return skip_line(lr, err) == 0 ? LINE_TOO_LONG : LINE_ERROR;
        } else if (lr->eof) {
            if (avail == 0)
                return LINE_END;
            n = taken = avail;
            open = lr->plain_local;
        } else {
            if (refill(lr, err) != 0)
                return LINE_ERROR;
            continue;
        }
        if (open) {
            lr->open_begin = lr->start;
            lr->open_length = taken;
        } else {
            lr->offset += taken;
        }
        lr->start += taken;
        lr->last_open = open;
        if (n > SOURCE_MAX_RECORD) {
            lr->line++;
            *line = begin;
            *len = 256;
            return LINE_TOO_LONG;
        }
        if (n > 0 && begin[n - 1] == '\r')
            n--;
        if (lr->line == 0 && lr->offset - (open ? 0 : taken) == 0 && n >= 3 &&
            memcmp(begin, "\xEF\xBB\xBF", 3) == 0) {
            begin += 3; /* a UTF-8 byte order mark at the start of the file */
            n -= 3;
        }
        lr->line++;
        *line = begin;
        *len = n;
        /* The bytes behind the line (the rest of the buffer, or the allocation's padding)
         * are readable; simdjson only needs that. */
        return LINE_OK;
    }
}

size_t line_reader_line(const struct line_reader *lr)
{
    return lr->line;
}

uint64_t line_reader_offset(const struct line_reader *lr)
{
    return lr->offset + (lr->last_open ? lr->open_length : 0);
}

int line_reader_last_is_open(const struct line_reader *lr)
{
    return lr->last_open;
}

void line_reader_finish(struct line_reader *lr, struct source_object *o, bool drop_open_line)
{
    if (source_is_s3(o->key)) {
        o->loaded = o->size;
        snprintf(o->fingerprint, sizeof o->fingerprint, "%s", o->version);
        return;
    }
    if (!lr->plain_local) {
        o->loaded = lr->stream.raw_read;
        fingerprint_text(XXH3_128bits_digest(lr->stream.hash), o->fingerprint);
        return;
    }
    if (lr->last_open && drop_open_line) {
        fingerprint_upto(lr, lr->open_begin);
    } else {
        lr->offset += lr->last_open ? lr->open_length : 0;
        fingerprint_upto(lr, lr->start);
    }
    lr->last_open = false;
    o->loaded = lr->offset;
    fingerprint_text(XXH3_128bits_digest(lr->hash), o->fingerprint);
}

void line_reader_close(struct line_reader *lr)
{
    if (!lr)
        return;
    stream_release(&lr->stream);
    if (lr->hash)
        XXH3_freeState(lr->hash);
    free(lr->data);
    free(lr);
}

/* ---- many objects read ahead ---- */

/* Song files are small and many: reading them is system calls, parsing them is quick. So
 * reader threads (or, for S3, one thread keeping many requests in flight) only fetch bytes into
 * a ring of slots, and the caller takes each object in list order as soon as its slot is
 * filled; the ring bounds memory. */
#define READER_RING 1024
#define READER_THREADS_MAX 16

struct reader_slot {
    size_t index; /* the object this slot holds, valid while `ready` */
    bool ready;
    bool streamed; /* too large to read whole: the caller streams it */
    int status;
    struct sp_error error;
    struct buffer data;
};

struct source_reader {
    const struct source_list *objects;
    struct s3_client *s3;
    const char **urls; /* S3: the objects' URLs, for s3_fetch_many */
    size_t whole_max, padding;
    atomic_size_t next;
    pthread_mutex_t lock;
    pthread_cond_t filled, freed;
    size_t consumed; /* objects handed out and done with */
    bool stop;
    pthread_t threads[READER_THREADS_MAX];
    int started;
    struct reader_slot slots[READER_RING];
};

static void *local_reader_main(void *arg)
{
    struct source_reader *r = arg;
    size_t i;
    while ((i = atomic_fetch_add(&r->next, 1)) < r->objects->count) {
        struct reader_slot *slot = &r->slots[i % READER_RING];
        pthread_mutex_lock(&r->lock);
        while (!r->stop && i >= r->consumed + READER_RING)
            pthread_cond_wait(&r->freed, &r->lock);
        bool stop = r->stop;
        pthread_mutex_unlock(&r->lock);
        if (stop)
            break;
        struct source_object *o = &r->objects->items[i];
        slot->streamed = o->size > r->whole_max;
        slot->status = slot->streamed ? SP_OK
                                      : source_read_raw(o, r->padding, r->whole_max, &slot->data,
                                                        &slot->error);
        pthread_mutex_lock(&r->lock);
        slot->index = i;
        slot->ready = true;
        pthread_cond_broadcast(&r->filled);
        pthread_mutex_unlock(&r->lock);
    }
    return NULL;
}

static struct buffer *s3_reader_slot(void *ctx, size_t i)
{
    struct source_reader *r = ctx;
    pthread_mutex_lock(&r->lock);
    bool room = r->stop || i < r->consumed + READER_RING;
    pthread_mutex_unlock(&r->lock);
    return room ? &r->slots[i % READER_RING].data : NULL;
}

static int s3_reader_done(void *ctx, size_t i, int status, const struct sp_error *err)
{
    struct source_reader *r = ctx;
    struct reader_slot *slot = &r->slots[i % READER_RING];
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

static void *s3_reader_main(void *arg)
{
    struct source_reader *r = arg;
    s3_fetch_many(r->s3, r->urls, r->objects->count, r->padding, s3_reader_slot, s3_reader_done, r);
    return NULL;
}

struct source_reader *source_reader_open(const struct source_list *objects, struct s3_client *s3,
                                         int threads, size_t whole_max, size_t padding,
                                         struct sp_error *err)
{
    struct source_reader *r = xcalloc(1, sizeof *r);
    r->objects = objects;
    r->s3 = s3;
    r->whole_max = whole_max;
    r->padding = padding;
    atomic_init(&r->next, 0);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->filled, NULL);
    pthread_cond_init(&r->freed, NULL);
    for (size_t i = 0; i < READER_RING; i++)
        buffer_init(&r->slots[i].data);
    if (threads > READER_THREADS_MAX)
        threads = READER_THREADS_MAX;
    if (objects->count && source_is_s3(objects->items[0].key)) {
        r->urls = xmalloc(objects->count * sizeof *r->urls);
        for (size_t i = 0; i < objects->count; i++)
            r->urls[i] = objects->items[i].key;
        if (pthread_create(&r->threads[0], NULL, s3_reader_main, r) == 0)
            r->started = 1;
    } else {
        while (r->started < (threads < 1 ? 1 : threads) &&
               pthread_create(&r->threads[r->started], NULL, local_reader_main, r) == 0)
            r->started++;
    }
    if (!r->started && objects->count) {
        source_reader_close(r);
        sp_fail(err, "cannot start the threads that read the sources");
        return NULL;
    }
    return r;
}

int source_reader_next(struct source_reader *r, size_t i, const struct buffer **raw,
                       struct sp_error *err)
{
    struct reader_slot *slot = &r->slots[i % READER_RING];
    pthread_mutex_lock(&r->lock);
    while (!(slot->ready && slot->index == i))
        pthread_cond_wait(&r->filled, &r->lock);
    pthread_mutex_unlock(&r->lock);
    if (slot->status != SP_OK) {
        *err = slot->error;
        return slot->status;
    }
    *raw = slot->streamed ? NULL : &slot->data;
    return SP_OK;
}

void source_reader_done(struct source_reader *r, size_t i)
{
    pthread_mutex_lock(&r->lock);
    r->slots[i % READER_RING].ready = false;
    r->consumed = i + 1;
    pthread_cond_broadcast(&r->freed);
    pthread_mutex_unlock(&r->lock);
}

void source_reader_close(struct source_reader *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->freed);
    pthread_mutex_unlock(&r->lock);
    for (int t = 0; t < r->started; t++)
        pthread_join(r->threads[t], NULL);
    for (size_t i = 0; i < READER_RING; i++)
        buffer_release(&r->slots[i].data);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->filled);
    pthread_cond_destroy(&r->freed);
    free(r->urls);
    free(r);
}
