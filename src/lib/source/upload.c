/* upload.c - local source files sent to S3 (see upload.h for what a batch does and why).
 *
 * An object is a list of pieces: a stretch of one file's content, or the "\n" that joins two
 * song files. Pieces end at part boundaries, so a request's body (one part, or the whole object)
 * is a run of whole pieces, and each piece carries the XXH3-64 of its bytes as first read. While
 * sending, a body reads its pieces with pread (plain files) or from the file's inflating stream
 * (gzip), hashing as it goes; a piece whose hash differs is refused before its last byte is
 * handed to libcurl, so S3 never receives a whole body that is not what was fingerprinted.
 * Pitfalls: a grown file's prefix check and its line count come from the bytes before o->start;
 * an unfinished last line is found from the file's tail before the content is read, so that the
 * fingerprint covers exactly the bytes sent.
 */
#include "upload.h"

#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define SEPARATOR SIZE_MAX
#define CHUNK ((size_t)1 << 20)
#define TAIL_STEP ((size_t)64 << 10)

struct upload_file {
    const char *path;
    bool gzip;
    uint64_t raw_length;          /* stored bytes read when it was added */
    uint64_t content_length;      /* content bytes read (all of a gzip file's; a plain file's up to
                                     what is sent) */
    struct source_stream *stream; /* gzip, while sending: the stream and where it is */
    uint64_t stream_at;
};

struct upload_piece {
    size_t file;     /* or SEPARATOR */
    uint64_t offset; /* in the file's content */
    uint64_t at;     /* in the object */
    uint64_t length;
    XXH64_hash_t hash;
};

struct upload_object {
    char *url;
    size_t first_piece, first_file;
    uint64_t length;
    bool gzip; /* some of its bytes are inflated as they are sent */
};

struct upload_batch {
    uint64_t part_size;
    struct upload_object *objects;
    size_t object_count, object_capacity;
    struct upload_file *files;
    size_t file_count, file_capacity;
    struct upload_piece *pieces;
    size_t piece_count, piece_capacity;
    bool piece_open; /* the last piece still grows */
    XXH3_state_t *hash;
    char *chunk;
    /* The state before the last add, for upload_batch_undo. */
    size_t undo_pieces, undo_files;
    uint64_t undo_length;
    bool undo_gzip;
    /* While sending. */
    upload_progress_fn progress;
    void *progress_ctx;
    size_t objects_done;
    uint64_t bytes_done, bytes_total;
};

struct upload_batch *upload_batch_new(uint64_t part_size)
{
    struct upload_batch *b = xcalloc(1, sizeof *b);
    b->part_size = part_size;
    b->hash = XXH3_createState();
    if (!b->hash)
        abort(); /* out of memory, as xmalloc */
    b->chunk = xmalloc(CHUNK);
    return b;
}

static void close_streams(struct upload_batch *b, size_t first, size_t end)
{
    for (size_t i = first; i < end; i++) {
        source_stream_close(b->files[i].stream);
        b->files[i].stream = NULL;
    }
}

void upload_batch_free(struct upload_batch *b)
{
    if (!b)
        return;
    close_streams(b, 0, b->file_count);
    for (size_t i = 0; i < b->object_count; i++)
        free(b->objects[i].url);
    free(b->objects);
    free(b->files);
    free(b->pieces);
    XXH3_freeState(b->hash);
    free(b->chunk);
    free(b);
}

void upload_batch_begin(struct upload_batch *b, const char *url)
{
    if (b->object_count == b->object_capacity) {
        b->object_capacity = b->object_capacity ? 2 * b->object_capacity : 16;
        b->objects = xrealloc(b->objects, b->object_capacity * sizeof *b->objects);
    }
    b->objects[b->object_count++] = (struct upload_object){
        .url = xstrdup(url), .first_piece = b->piece_count, .first_file = b->file_count};
}

size_t upload_batch_count(const struct upload_batch *b)
{
    return b->object_count;
}

uint64_t upload_batch_length(const struct upload_batch *b)
{
    return b->object_count ? b->objects[b->object_count - 1].length : 0;
}

void upload_batch_object(const struct upload_batch *b, size_t i, const char **url, uint64_t *length,
                         uint32_t *parts)
{
    const struct upload_object *o = &b->objects[i];
    *url = o->url;
    *length = o->length;
    *parts =
        o->length <= b->part_size ? 1 : (uint32_t)((o->length + b->part_size - 1) / b->part_size);
}

void upload_batch_drop_empty(struct upload_batch *b)
{
    if (b->object_count && b->objects[b->object_count - 1].length == 0 &&
        b->objects[b->object_count - 1].first_piece == b->piece_count) {
        free(b->objects[b->object_count - 1].url);
        b->object_count--;
    }
}

/* ---- reading a file when it is added ---- */

static struct upload_piece *piece_new(struct upload_batch *b)
{
    if (b->piece_count == b->piece_capacity) {
        b->piece_capacity = b->piece_capacity ? 2 * b->piece_capacity : 256;
        b->pieces = xrealloc(b->pieces, b->piece_capacity * sizeof *b->pieces);
    }
    struct upload_piece *p = &b->pieces[b->piece_count++];
    memset(p, 0, sizeof *p);
    return p;
}

static void piece_close(struct upload_batch *b)
{
    if (b->piece_open) {
        b->pieces[b->piece_count - 1].hash = XXH3_64bits_digest(b->hash);
        b->piece_open = false;
    }
}

/* Appends content bytes [offset, offset + len) of file `file` to the current object, in pieces
 * that end where the object's parts do. */
static void feed(struct upload_batch *b, size_t file, uint64_t offset, const char *data, size_t len)
{
    struct upload_object *o = &b->objects[b->object_count - 1];
    while (len > 0) {
        if (!b->piece_open) {
            struct upload_piece *p = piece_new(b);
            p->file = file;
            p->offset = offset;
            p->at = o->length;
            XXH3_64bits_reset(b->hash);
            b->piece_open = true;
        }
        struct upload_piece *p = &b->pieces[b->piece_count - 1];
        uint64_t room = b->part_size - o->length % b->part_size;
        size_t take = len < room ? len : (size_t)room;
        XXH3_64bits_update(b->hash, data, take);
        p->length += take;
        o->length += take;
        offset += take;
        data += take;
        len -= take;
        if (o->length % b->part_size == 0)
            piece_close(b);
    }
}

static size_t count_lines(const char *data, size_t len)
{
    size_t lines = 0;
    const char *end = data + len;
    while ((data = memchr(data, '\n', (size_t)(end - data))) != NULL) {
        lines++;
        data++;
    }
    return lines;
}

static ssize_t pread_full(int fd, char *buf, size_t n, uint64_t at)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(fd, buf + done, n - done, (off_t)(at + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (ssize_t)done;
}

/* Where a log file's content to send ends: before its last line when that line is an unfinished
 * JSON text (a writer is in the middle of it), as the direct load leaves it. Only the tail is read.
 * A last line longer than SOURCE_MAX_RECORD counts as finished: no COPY loads it either way, and
 * COPY's error then names it. */
static int find_end(const char *path, int fd, uint64_t start, uint64_t size, uint64_t *end,
                    bool *open_line, struct sp_error *err)
{
    *end = size;
    *open_line = false;
    uint64_t low = size - start > SOURCE_MAX_RECORD ? size - SOURCE_MAX_RECORD : start;
    uint64_t open_from = size, hi = size;
    char step[TAIL_STEP];
    bool found = false;
    while (hi > low && !found) {
        uint64_t lo = hi - low > TAIL_STEP ? hi - TAIL_STEP : low;
        ssize_t got = pread_full(fd, step, (size_t)(hi - lo), lo);
        if (got < 0)
            return sp_fail(err, "%s: read error: %s", path, strerror(errno));
        if ((uint64_t)got < hi - lo)
            return sp_fail(err, "%s: changed while it was read (shorter than %llu bytes)", path,
                           (unsigned long long)size);
        for (size_t i = (size_t)got; i > 0 && !found; i--) {
            if (step[i - 1] == '\n') {
                open_from = lo + i;
                found = true;
            }
        }
        hi = lo;
    }
    if (!found && low > start)
        return SP_OK; /* a last line too long to be a record */
    if (!found)
        open_from = start;
    if (open_from == size)
        return SP_OK;
    size_t len = (size_t)(size - open_from);
    char *tail = xmalloc(len + JSON_PADDING);
    ssize_t got = pread_full(fd, tail, len, open_from);
    int status = SP_OK;
    if (got < 0)
        status = sp_fail(err, "%s: read error: %s", path, strerror(errno));
    else if ((size_t)got < len)
        status = sp_fail(err, "%s: changed while it was read (shorter than %llu bytes)", path,
                         (unsigned long long)size);
    if (status == SP_OK) {
        memset(tail + len, 0, JSON_PADDING);
        if (json_text_is_incomplete(tail, len)) {
            *end = open_from;
            *open_line = true;
        }
    }
    free(tail);
    return status;
}

/* The checks and limits of a file before its content is read: a grown file's prefix, its size,
 * plain or gzip, and where its content to send ends. */
static int survey(struct source_object *o, enum upload_range range, uint64_t *size, bool *gzip,
                  uint64_t *end, bool *open_line, struct sp_error *err)
{
    int fd = open(o->key, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sp_fail(err, "%s: cannot open: %s", o->key, strerror(errno));
    struct stat st;
    *size = o->size;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_size < *size)
        *size = (uint64_t)st.st_size; /* read as far as it goes, as a load reads it */
    unsigned char magic[2];
    ssize_t got = pread_full(fd, (char *)magic, sizeof magic, 0);
    *gzip = got == 2 && source_is_gzip(magic, 2);
    *end = *size;
    *open_line = false;
    int status = SP_OK;
    if (o->start > 0) {
        /* A grown log file: its loaded bytes must be those loaded (gzip data never is). */
        char now[SOURCE_FINGERPRINT_SIZE] = "";
        uint64_t hashed = 0;
        if (!*gzip)
            status = source_fingerprint_file(o->key, o->start, &hashed, now, err);
        if (status == SP_OK && hashed < o->start)
            now[0] = '\0';
        if (status == SP_OK)
            status = source_check_prefix(o, now, err);
    }
    if (status == SP_OK && !*gzip && range == UPLOAD_NEW_LINES)
        status = find_end(o->key, fd, o->start, *size, end, open_line, err);
    close(fd);
    return status;
}

int upload_batch_add(struct upload_batch *b, struct source_object *o, enum upload_range range,
                     bool separate, struct upload_added *added, struct sp_error *err)
{
    memset(added, 0, sizeof *added);
    struct upload_object *obj = &b->objects[b->object_count - 1];
    b->undo_pieces = b->piece_count;
    b->undo_files = b->file_count;
    b->undo_length = obj->length;
    b->undo_gzip = obj->gzip;
    /* A whole file (a song file: many and small) needs no survey: the stream stops at its
     * listed size or its end, and tells plain from gzip. */
    uint64_t size = o->size, end = o->size;
    bool gzip = false, whole = range == UPLOAD_ALL && o->start == 0;
    int status = whole ? SP_OK : survey(o, range, &size, &gzip, &end, &added->open_line, err);
    if (status != SP_OK)
        return status;
    uint64_t start = o->start;
    /* The stream reads the stored bytes a load would read: a plain file up to `end`. */
    struct source_object limited = *o;
    limited.size = gzip ? size : end;
    struct source_stream *s = NULL;
    status = source_stream_open(&s, &limited, NULL, 0, NULL, err);
    if (status != SP_OK)
        return status;
    if (b->file_count == b->file_capacity) {
        b->file_capacity = b->file_capacity ? 2 * b->file_capacity : 64;
        b->files = xrealloc(b->files, b->file_capacity * sizeof *b->files);
    }
    size_t file = b->file_count++;
    b->files[file] = (struct upload_file){.path = o->key};
    uint64_t pos = 0;
    char last = '\n';
    for (;;) {
        long n = source_stream_read(s, b->chunk, CHUNK, err);
        if (n < 0) {
            status = err->status ? err->status : SP_FAIL;
            break;
        }
        if (n == 0)
            break;
        const char *data = b->chunk;
        size_t len = (size_t)n;
        if (pos < start) {
            size_t skip = start - pos < len ? (size_t)(start - pos) : len;
            added->lines_before += count_lines(data, skip);
            data += skip;
            len -= skip;
            pos += skip;
        }
        if (len) {
            added->lines += count_lines(data, len);
            feed(b, file, pos, data, len);
            pos += len;
            last = data[len - 1];
        }
    }
    piece_close(b);
    if (status == SP_OK) {
        source_stream_finish(s, &limited);
        gzip = limited.gzip;
        if (whole)
            end = pos;
        if (!gzip && (pos != end || (added->open_line && end > start && last != '\n')))
            status = sp_fail(err, "%s: changed while it was read (%llu bytes, not %llu)", o->key,
                             (unsigned long long)pos, (unsigned long long)end);
    }
    source_stream_close(s);
    if (status != SP_OK) {
        upload_batch_undo(b);
        return status;
    }
    o->loaded = limited.loaded;
    o->gzip = limited.gzip;
    snprintf(o->fingerprint, sizeof o->fingerprint, "%s", limited.fingerprint);
    b->files[file].gzip = gzip;
    b->files[file].raw_length = limited.loaded;
    b->files[file].content_length = pos;
    added->bytes = pos - start;
    obj->gzip |= gzip;
    if (separate) {
        struct upload_piece *p = piece_new(b);
        p->file = SEPARATOR;
        p->at = obj->length;
        p->length = 1;
        obj->length++;
    }
    return SP_OK;
}

void upload_batch_undo(struct upload_batch *b)
{
    struct upload_object *obj = &b->objects[b->object_count - 1];
    b->piece_count = b->undo_pieces;
    b->file_count = b->undo_files;
    b->piece_open = false;
    obj->length = b->undo_length;
    obj->gzip = b->undo_gzip;
}

/* ---- sending ---- */

/* One request's body: the pieces of bytes [offset, offset + length) of an object. */
struct body_reader {
    struct upload_batch *b;
    size_t first_piece, piece;
    uint64_t piece_done; /* bytes of `piece` read */
    uint64_t length, sent, counted;
    XXH3_state_t *hash;
    int fd; /* a plain file's, `fd_file` */
    size_t fd_file;
};

static int changed_error(const struct upload_file *f, const struct upload_piece *p,
                         struct sp_error *err)
{
    return sp_fail(err,
                   "%s: changed during the run: its bytes %llu to %llu are not those read when "
                   "the run began; nothing was written (run again once it is complete)",
                   f->path, (unsigned long long)p->offset,
                   (unsigned long long)(p->offset + p->length));
}

static int body_open(void *ctx, size_t index, uint64_t offset, uint64_t length,
                     struct s3_body *body, struct sp_error *err);
static void body_close(void *ctx, struct s3_body *body);

static int body_seek(void *ctx, uint64_t offset, struct sp_error *err)
{
    struct body_reader *r = ctx;
    if (offset != 0)
        return sp_fail(err, "%s: a request body can only start again from its first byte",
                       r->b->files[r->b->pieces[r->first_piece].file].path);
    r->piece = r->first_piece;
    r->piece_done = 0;
    r->sent = 0;
    XXH3_64bits_reset(r->hash);
    return SP_OK;
}

/* Content bytes of a gzip file from its inflating stream, reopened when it is past them. */
static long read_inflated(struct upload_batch *b, struct upload_file *f, uint64_t at, char *buf,
                          size_t n, struct sp_error *err)
{
    if (!f->stream || f->stream_at > at) {
        source_stream_close(f->stream);
        f->stream = NULL;
        struct source_object o = {.key = (char *)f->path, .size = f->raw_length};
        if (source_stream_open(&f->stream, &o, NULL, 0, NULL, err) != SP_OK)
            return -1;
        f->stream_at = 0;
    }
    while (f->stream_at < at) {
        size_t skip = at - f->stream_at < CHUNK ? (size_t)(at - f->stream_at) : CHUNK;
        long got = source_stream_read(f->stream, b->chunk, skip, err);
        if (got <= 0)
            return got;
        f->stream_at += (uint64_t)got;
    }
    long got = source_stream_read(f->stream, buf, n, err);
    if (got > 0)
        f->stream_at += (uint64_t)got;
    if (f->stream_at == f->content_length) {
        source_stream_close(f->stream); /* read to its end: no file stays open */
        f->stream = NULL;
    }
    return got;
}

static long read_plain(struct body_reader *r, size_t file, uint64_t at, char *buf, size_t n,
                       struct sp_error *err)
{
    const struct upload_file *f = &r->b->files[file];
    if (r->fd < 0 || r->fd_file != file) {
        if (r->fd >= 0)
            close(r->fd);
        r->fd = open(f->path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0)
            return sp_fail(err,
                           "%s: cannot open it again to upload it: %s (was it removed during the "
                           "run?); nothing was written",
                           f->path, strerror(errno)),
                   -1;
        r->fd_file = file;
    }
    ssize_t got;
    do
        got = pread(r->fd, buf, n, (off_t)at);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return sp_fail(err, "%s: read error: %s", f->path, strerror(errno)), -1;
    return (long)got;
}

static long body_read(void *ctx, char *buf, size_t n, struct sp_error *err)
{
    struct body_reader *r = ctx;
    struct upload_batch *b = r->b;
    size_t got = 0;
    while (got < n && r->sent < r->length) {
        const struct upload_piece *p = &b->pieces[r->piece];
        uint64_t left = p->length - r->piece_done;
        size_t want = n - got < left ? n - got : (size_t)left;
        long k = 1;
        if (p->file == SEPARATOR)
            buf[got] = '\n';
        else if (b->files[p->file].gzip)
            k = read_inflated(b, &b->files[p->file], p->offset + r->piece_done, buf + got, want,
                              err);
        else
            k = read_plain(r, p->file, p->offset + r->piece_done, buf + got, want, err);
        if (k < 0)
            return -1;
        if (k == 0)
            return changed_error(&b->files[p->file], p, err), -1; /* it ends early */
        XXH3_64bits_update(r->hash, buf + got, (size_t)k);
        r->piece_done += (uint64_t)k;
        r->sent += (uint64_t)k;
        got += (size_t)k;
        if (r->piece_done == p->length) {
            /* The whole piece is in hand and none of its last bytes has left yet. */
            if (p->file != SEPARATOR && XXH3_64bits_digest(r->hash) != p->hash)
                return changed_error(&b->files[p->file], p, err), -1;
            r->piece++;
            r->piece_done = 0;
            XXH3_64bits_reset(r->hash);
        }
    }
    if (r->sent > r->counted) {
        b->bytes_done += r->sent - r->counted; /* a body sent again counts once */
        r->counted = r->sent;
        if (b->progress)
            b->progress(b->progress_ctx, b->objects_done, b->object_count, b->bytes_done,
                        b->bytes_total);
    }
    return (long)got;
}

static int body_open(void *ctx, size_t index, uint64_t offset, uint64_t length,
                     struct s3_body *body, struct sp_error *err)
{
    struct upload_batch *b = ctx;
    const struct upload_object *o = &b->objects[index];
    size_t lo = o->first_piece;
    size_t hi = index + 1 < b->object_count ? b->objects[index + 1].first_piece : b->piece_count;
    /* Parts begin where pieces do. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->pieces[mid].at < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (length > 0 && (lo == b->piece_count || b->pieces[lo].at != offset))
        return sp_fail(err, "%s: no piece begins at byte %llu", o->url, (unsigned long long)offset);
    struct body_reader *r = xcalloc(1, sizeof *r);
    r->b = b;
    r->first_piece = r->piece = lo;
    r->length = length;
    r->fd = -1;
    r->hash = XXH3_createState();
    if (!r->hash)
        abort();
    XXH3_64bits_reset(r->hash);
    body->length = length;
    body->read = body_read;
    body->seek = body_seek;
    body->ctx = r;
    return SP_OK;
}

static void body_close(void *ctx, struct s3_body *body)
{
    (void)ctx;
    struct body_reader *r = body->ctx;
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    XXH3_freeState(r->hash);
    free(r);
    body->ctx = NULL;
}

static void object_done(void *ctx, size_t index)
{
    struct upload_batch *b = ctx;
    size_t end = index + 1 < b->object_count ? b->objects[index + 1].first_file : b->file_count;
    close_streams(b, b->objects[index].first_file, end);
    b->objects_done++;
    if (b->progress)
        b->progress(b->progress_ctx, b->objects_done, b->object_count, b->bytes_done,
                    b->bytes_total);
}

int upload_batch_send(struct upload_batch *b, struct s3_client *s3, upload_progress_fn progress,
                      void *ctx, struct sp_error *err)
{
    if (s3_part_size(s3) != b->part_size)
        return sp_usage(err, "an upload batch was planned for parts of %llu bytes, not %llu",
                        (unsigned long long)b->part_size, (unsigned long long)s3_part_size(s3));
    b->progress = progress;
    b->progress_ctx = ctx;
    b->objects_done = 0;
    b->bytes_done = 0;
    b->bytes_total = 0;
    struct s3_upload *uploads = xcalloc(b->object_count, sizeof *uploads);
    char **whats = xcalloc(b->object_count, sizeof *whats);
    for (size_t i = 0; i < b->object_count; i++) {
        const struct upload_object *o = &b->objects[i];
        size_t end = i + 1 < b->object_count ? b->objects[i + 1].first_file : b->file_count;
        struct buffer what;
        buffer_init(&what);
        if (end == o->first_file + 1)
            buffer_append_str(&what, b->files[o->first_file].path);
        else if (end > o->first_file)
            buffer_printf(&what, "%s and %zu more files", b->files[o->first_file].path,
                          end - o->first_file - 1);
        whats[i] = what.data;
        uploads[i] = (struct s3_upload){.url = o->url,
                                        .what = whats[i],
                                        .content_type = "application/json",
                                        .length = o->length,
                                        .sequential = o->gzip};
        b->bytes_total += o->length;
    }
    const struct s3_upload_source source = {body_open, body_close, object_done, b};
    int status = s3_upload_many(s3, uploads, b->object_count, &source, err);
    close_streams(b, 0, b->file_count);
    for (size_t i = 0; i < b->object_count; i++)
        free(whats[i]);
    free(whats);
    free(uploads);
    return status;
}
