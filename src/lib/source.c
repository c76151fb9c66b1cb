/* source.c - local files, directories and globs as sources of JSON objects (see source.h).
 *
 * The line reader keeps one buffer per object, refilled from gzread and compacted in place;
 * lines are handed out as pointers into it (no copy), with the padding simdjson needs behind
 * them. Long lines grow the buffer; nothing limits a line but memory.
 */
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

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

void source_list_append(struct source_list *list, const struct source_object *object)
{
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 64;
        list->items = xrealloc(list->items, list->capacity * sizeof *list->items);
    }
    struct source_object *o = &list->items[list->count++];
    *o = *object;
    o->key = xstrdup(object->key);
    list->total_size += o->size;
}

static void list_add(struct source_list *list, const char *path, const struct stat *st)
{
    struct source_object o = {.key = (char *)path, .size = (uint64_t)st->st_size};
    snprintf(o.version, sizeof o.version, "mtime:%lld.%09ld", (long long)st->st_mtim.tv_sec,
             (long)st->st_mtim.tv_nsec);
    source_list_append(list, &o); /* callers pass absolute paths */
}

int source_is_s3(const char *key)
{
    return strncmp(key, "s3://", 5) == 0;
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

static int walk_directory(const char *dir, struct source_list *list, struct sp_error *err)
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
        if (entry->d_type == DT_REG && !source_has_json_name(entry->d_name))
            continue;
        buffer_clear(&path);
        buffer_printf(&path, "%s/%s", dir, entry->d_name);
        struct stat st;
        /* Relative to the open directory: no path walk from the root for every file. */
        if (fstatat(dirfd(d), entry->d_name, &st, 0) != 0) {
            status = sp_fail(err, "%s: %s", path.data, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            status = walk_directory(path.data, list, err);
        } else if (S_ISREG(st.st_mode) && source_has_json_name(entry->d_name)) {
            list_add(list, path.data, &st);
        }
    }
    buffer_release(&path);
    closedir(d);
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
        return walk_directory(resolved, list, err);
    if (!S_ISREG(st.st_mode))
        return sp_fail(err, "%s: not a regular file or directory", path);
    list_add(list, resolved, &st);
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
        status = s3_list_objects(s3, spec, list, err);
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
    qsort(list->items + first, list->count - first, sizeof *list->items, compare_objects);
    return SP_OK;
}

static int gz_failure(gzFile f, const char *key, struct sp_error *err)
{
    int code;
    const char *message = gzerror(f, &code);
    if (code == Z_ERRNO)
        return sp_fail(err, "%s: read error: %s", key, strerror(errno));
    if (code == Z_BUF_ERROR)
        return sp_fail(err, "%s: truncated gzip data (unexpected end of file)", key);
    if (code != Z_OK)
        return sp_fail(err, "%s: corrupt gzip data: %s", key, message);
    return SP_OK;
}

static gzFile open_object(const char *key, struct sp_error *err)
{
    gzFile f = gzopen(key, "rb");
    if (!f) {
        sp_fail(err, "%s: cannot open: %s", key, errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    gzbuffer(f, 256 * 1024);
    return f;
}

/* Plain files are read with open/read (three system calls for a small song file); only
 * gzip data, recognised by its magic bytes, goes through zlib. */
static int read_plain_or_detect_gzip(const char *key, size_t padding, struct buffer *out,
                                     int *is_gzip, struct sp_error *err)
{
    int fd = open(key, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sp_fail(err, "%s: cannot open: %s", key, strerror(errno));
    buffer_clear(out);
    int status = SP_OK;
    *is_gzip = 0;
    for (;;) {
        buffer_reserve(out, 64 * 1024 + padding);
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len - padding - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            status = sp_fail(err, "%s: read error: %s", key, strerror(errno));
            break;
        }
        if (out->len == 0 && n >= 2 && (unsigned char)out->data[0] == 0x1f &&
            (unsigned char)out->data[1] == 0x8b) {
            *is_gzip = 1;
            break;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
    }
    close(fd);
    return status;
}

int source_read_all(const char *key, struct s3_client *s3, size_t padding, struct buffer *out,
                    struct sp_error *err)
{
    if (source_is_s3(key)) {
        if (!s3)
            return sp_usage(err, "%s: no S3 client configured", key);
        int status = s3_get_object(s3, key, padding, out, err);
        return status == SP_OK ? source_gunzip_if_needed(out, padding, key, err) : status;
    }
    int is_gzip = 0;
    int status = read_plain_or_detect_gzip(key, padding, out, &is_gzip, err);
    if (status != SP_OK || !is_gzip) {
        buffer_reserve(out, padding);
        memset(out->data + out->len, 0, padding + 1);
        return status;
    }
    gzFile f = open_object(key, err);
    if (!f)
        return SP_FAIL;
    buffer_clear(out);
    status = SP_OK;
    for (;;) {
        buffer_reserve(out, 64 * 1024 + padding);
        int n = gzread(f, out->data + out->len, 64 * 1024);
        if (n < 0) {
            status = gz_failure(f, key, err);
            if (status == SP_OK)
                status = sp_fail(err, "%s: read error", key);
            break;
        }
        if (n == 0) {
            status = gz_failure(f, key, err);
            break;
        }
        out->len += (size_t)n;
    }
    gzclose(f);
    buffer_reserve(out, padding);
    memset(out->data + out->len, 0, padding + 1);
    return status;
}

/* An S3 object streamed into a socket pair by a fetching thread. */
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

int source_gunzip_if_needed(struct buffer *data, size_t padding, const char *key,
                            struct sp_error *err)
{
    if (data->len < 2 || (unsigned char)data->data[0] != 0x1f ||
        (unsigned char)data->data[1] != 0x8b)
        return SP_OK;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return sp_fail(err, "%s: cannot start gzip decompression", key);
    struct buffer out;
    buffer_init(&out);
    z.next_in = (unsigned char *)data->data;
    z.avail_in = (unsigned)data->len;
    int rc;
    do {
        buffer_reserve(&out, 256 * 1024 + padding);
        z.next_out = (unsigned char *)out.data + out.len;
        z.avail_out = (unsigned)(out.cap - out.len - padding - 1);
        rc = inflate(&z, Z_NO_FLUSH);
        out.len = (size_t)((char *)z.next_out - out.data);
    } while (rc == Z_OK);
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        buffer_release(&out);
        return sp_fail(err, "%s: %s gzip data", key, rc == Z_BUF_ERROR ? "truncated" : "corrupt");
    }
    buffer_reserve(&out, padding);
    memset(out.data + out.len, 0, padding + 1);
    buffer_release(data);
    *data = out;
    return SP_OK;
}

struct line_reader {
    gzFile file;
    struct s3_stream *stream; /* NULL for local files */
    char *key;
    char *data;
    size_t capacity; /* usable bytes; `padding` more are allocated behind them */
    size_t padding;
    size_t start, end; /* unread bytes are data[start, end) */
    size_t line;
    uint64_t offset;
    int eof;
};

int line_reader_open(struct line_reader **out, const char *key, struct s3_client *s3,
                     size_t padding, struct sp_error *err)
{
    gzFile f;
    struct s3_stream *stream = NULL;
    if (source_is_s3(key)) {
        if (!s3)
            return sp_usage(err, "%s: no S3 client configured", key);
        /* A socket pair rather than a pipe: send() with MSG_NOSIGNAL reports a reader that
         * went away as an error instead of raising SIGPIPE. */
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
            return sp_fail(err, "%s: cannot create a socket pair: %s", key, strerror(errno));
        stream = xcalloc(1, sizeof *stream);
        stream->s3 = s3;
        stream->key = xstrdup(key);
        stream->fd = fds[1];
        if (pthread_create(&stream->thread, NULL, s3_stream_main, stream) != 0) {
            close(fds[0]);
            close(fds[1]);
            free(stream->key);
            free(stream);
            return sp_fail(err, "%s: cannot start the download thread", key);
        }
        f = gzdopen(fds[0], "rb"); /* .gz objects are inflated on the fly, like files */
        if (!f) {
            close(fds[0]);
            s3_stream_finish(stream);
            free(stream->key);
            free(stream);
            return sp_fail(err, "%s: out of memory", key);
        }
        gzbuffer(f, 256 * 1024);
    } else if (!(f = open_object(key, err))) {
        return SP_FAIL;
    }
    struct line_reader *lr = xcalloc(1, sizeof *lr);
    lr->stream = stream;
    lr->file = f;
    lr->key = xstrdup(key);
    lr->capacity = 1024 * 1024;
    lr->padding = padding;
    /* Zeroed so that simdjson's read-ahead never touches uninitialised bytes. */
    lr->data = xcalloc(1, lr->capacity + padding);
    *out = lr;
    return SP_OK;
}

/* Moves unread bytes to the front and reads more; grows when a line fills the buffer. */
static int refill(struct line_reader *lr, struct sp_error *err)
{
    if (lr->start > 0) {
        memmove(lr->data, lr->data + lr->start, lr->end - lr->start);
        lr->end -= lr->start;
        lr->start = 0;
    }
    if (lr->end == lr->capacity) {
        size_t old = lr->capacity;
        lr->capacity *= 2;
        lr->data = xrealloc(lr->data, lr->capacity + lr->padding);
        memset(lr->data + old, 0, lr->capacity - old + lr->padding);
    }
    size_t want = lr->capacity - lr->end;
    if (want > INT_MAX)
        want = INT_MAX;
    int n = gzread(lr->file, lr->data + lr->end, (unsigned)want);
    if (n < 0) {
        int status = gz_failure(lr->file, lr->key, err);
        return status ? -1 : (sp_fail(err, "%s: read error", lr->key), -1);
    }
    if (n == 0) {
        /* The end of a streamed object is only the end if the download succeeded. */
        if (lr->stream && s3_stream_finish(lr->stream) != SP_OK) {
            *err = lr->stream->err;
            return -1;
        }
        if (gz_failure(lr->file, lr->key, err) != SP_OK)
            return -1;
        lr->eof = 1;
    }
    lr->end += (size_t)n;
    return 0;
}

int line_reader_next(struct line_reader *lr, const char **line, size_t *len, struct sp_error *err)
{
    for (;;) {
        char *begin = lr->data + lr->start;
        char *newline = memchr(begin, '\n', lr->end - lr->start);
        size_t n;
        if (newline) {
            n = (size_t)(newline - begin);
            lr->start += n + 1;
            lr->offset += n + 1;
        } else if (lr->eof) {
            n = lr->end - lr->start;
            if (n == 0)
                return 0;
            lr->start = lr->end;
            lr->offset += n;
        } else {
            if (refill(lr, err) != 0)
                return -1;
            continue;
        }
        if (n > 0 && begin[n - 1] == '\r')
            n--;
        lr->line++;
        *line = begin;
        *len = n;
        /* The bytes behind the line (the rest of the buffer, or the allocation's padding)
         * are readable; simdjson only needs that. */
        return 1;
    }
}

size_t line_reader_line(const struct line_reader *lr)
{
    return lr->line;
}

uint64_t line_reader_offset(const struct line_reader *lr)
{
    return lr->offset;
}

void line_reader_close(struct line_reader *lr)
{
    if (!lr)
        return;
    gzclose(lr->file); /* closes the reading end: an unfinished download stops */
    if (lr->stream) {
        s3_stream_finish(lr->stream);
        free(lr->stream->key);
        free(lr->stream);
    }
    free(lr->key);
    free(lr->data);
    free(lr);
}
