/* source.h - where raw JSON comes from: listing objects, reading their bytes, knowing them by
 * their content.
 *
 * A source spec is a file, a directory (searched recursively; hidden entries skipped; files
 * ending in .json, .jsonl or .ndjson, each optionally .gz), a glob, or s3://bucket/prefix
 * (read through the S3 client the caller passes; NULL when there is none). Objects are listed in
 * byte order of their keys, so runs and error reports are deterministic; a spec that matches no
 * object is an error naming it.
 *
 * Every read goes through one object stream: raw bytes from a file, an S3 transfer or memory,
 * inflated when they start with gzip's magic bytes (every member of a multi-member file; a
 * truncated stream or bytes after the last member are errors), fingerprinted as they are read.
 * An object is known by its content: the fingerprint of its stored bytes (XXH3-128) for files,
 * S3's ETag for S3 objects. No record or line may exceed SOURCE_MAX_RECORD, Redshift COPY's
 * limit for one JSON object, so no reader holds more than that of one record at once.
 */
#ifndef SPARKIFY_SOURCE_H
#define SPARKIFY_SOURCE_H

#include "buffer.h"
#include "error.h"
#include "s3.h"

#include <stdbool.h>
#include <stdint.h>

/* Redshift COPY refuses a JSON object larger than 4 MB. */
#define SOURCE_MAX_RECORD (4u << 20)
/* "xxh128:" and 32 hex digits, or "etag:" and S3's ETag (at most 32 hex digits, a dash and a
 * part count). */
#define SOURCE_FINGERPRINT_SIZE 48

struct source_object {
    char *key;        /* absolute path or s3://bucket/key */
    uint64_t size;    /* bytes as stored, when listed */
    char version[48]; /* changes whenever the bytes may have: mtime for files, ETag for S3 */
    /* Set when deciding what to load (loaded_objects.h): */
    uint64_t start;                 /* a grown log file resumes here; 0 otherwise */
    const char *prefix_fingerprint; /* what bytes [0, start) must be (owned by the caller) */
    bool check_content; /* compare the fingerprint with what is loaded before using the bytes */
    bool skip;          /* found loaded already once read: neither loaded nor recorded */
    /* Set by reading it: */
    uint64_t loaded; /* bytes [0, loaded) are in the warehouse when the run commits */
    bool gzip;       /* its stored bytes are gzip data */
    char fingerprint[SOURCE_FINGERPRINT_SIZE]; /* of those bytes */
};

struct source_list {
    struct source_object *items;
    size_t count;
    size_t capacity;
    uint64_t total_size;
};

void source_list_init(struct source_list *list);
void source_list_release(struct source_list *list);
/* Appends one object (its key is copied). */
void source_list_append(struct source_list *list, const struct source_object *object);
/* Removes the objects marked `skip`; returns how many. */
size_t source_list_drop_skipped(struct source_list *list);
/* Appends the objects of `spec` (sorted) to `list`; no object at all is an error. */
int source_list_objects(const char *spec, struct s3_client *s3, struct source_list *list,
                        struct sp_error *err);
/* 1 when a file or object name ends in .json, .jsonl or .ndjson, optionally .gz. */
int source_has_json_name(const char *name);
/* 1 when the key names an S3 object. */
int source_is_s3(const char *key);
/* 1 when the key names a gzip object by its name. */
int source_has_gzip_name(const char *key);

/* The fingerprint of bytes, as stored in loaded_objects. */
void source_fingerprint(const void *data, size_t len, char out[SOURCE_FINGERPRINT_SIZE]);
/* The fingerprint of the first `length` bytes of a local file (all of them when it is shorter:
 * *hashed says how many there were). */
int source_fingerprint_file(const char *path, uint64_t length, uint64_t *hashed,
                            char out[SOURCE_FINGERPRINT_SIZE], struct sp_error *err);
/* SP_OK when `now`, the fingerprint of a grown file's first o->start bytes, is what was loaded;
 * otherwise the error that the file changed. */
int source_check_prefix(const struct source_object *o, const char *now, struct sp_error *err);

/* Reads a whole object (inflated) into `out`, followed by `padding` zero bytes that are not
 * counted in out->len. More than `max` bytes of content is an error. */
int source_read_all(const char *key, struct s3_client *s3, size_t padding, size_t max,
                    struct buffer *out, struct sp_error *err);

/* Reads a local file's stored bytes for loading, no more than `max` (nor its listed size), with
 * `padding` zero bytes behind them, and sets o->loaded, o->fingerprint and o->gzip. */
int source_read_raw(struct source_object *o, size_t padding, size_t max, struct buffer *raw,
                    struct sp_error *err);

/* Reads a whole object for loading: its content (inflated) into `content`, `padding` zero bytes
 * behind it, and o->loaded and o->fingerprint from its stored bytes (an S3 object keeps its
 * ETag). Content beyond `max` bytes is an error. */
int source_read_object(struct source_object *o, struct s3_client *s3, size_t padding, size_t max,
                       struct buffer *content, struct sp_error *err);

/* Inflates `raw` (gzip data, any number of members) into `out` with `padding` zero bytes
 * behind it; more than `max` bytes of content is an error. `key` names the object. */
int source_inflate(const char *raw, size_t len, size_t padding, size_t max, const char *key,
                   struct buffer *out, struct sp_error *err);
/* 1 when `data` starts with gzip's magic bytes. */
int source_is_gzip(const void *data, size_t len);

/* An object's content as a stream of bytes, inflated, for what is too large to hold at once. */
struct source_stream;

/* Opens `o`: its stored bytes from `raw` when they were read already (raw_len of them), else
 * from its file or S3 key. The fingerprint is taken as the bytes are read. */
int source_stream_open(struct source_stream **out, const struct source_object *o, const char *raw,
                       size_t raw_len, struct s3_client *s3, struct sp_error *err);
/* Reads up to `n` bytes of content: returns the count, 0 at the end, or -1 with `err` set. */
long source_stream_read(struct source_stream *s, char *buf, size_t n, struct sp_error *err);
/* After the end: sets o->loaded, o->fingerprint and o->gzip from what was read. */
void source_stream_finish(struct source_stream *s, struct source_object *o);
void source_stream_close(struct source_stream *s);

/* Streams an object line by line. Lines exclude the line end ("\n" or "\r\n") and are
 * followed in memory by at least `padding` readable bytes. */
struct line_reader;

/* Opens a whole object; no fingerprint is kept. */
int line_reader_open(struct line_reader **out, const char *key, struct s3_client *s3,
                     size_t padding, struct sp_error *err);
/* Opens an object for loading: from o->start when it is set (after checking that the bytes
 * before it still have o->prefix_fingerprint; line numbers continue from there), and for a plain
 * local file no further than o->size as listed (a file that grows during the run keeps the rest
 * for the next run). line_reader_finish sets o->loaded and o->fingerprint. */
int line_reader_open_object(struct line_reader **out, struct source_object *o, struct s3_client *s3,
                            size_t padding, struct sp_error *err);

enum line_status {
    LINE_ERROR = -1,
    LINE_END = 0,
    LINE_OK = 1,
    LINE_TOO_LONG = 2, /* longer than SOURCE_MAX_RECORD: `line` is its start, the rest skipped */
};

/* Returns the next line (LINE_OK or LINE_TOO_LONG), LINE_END, or LINE_ERROR with `err` set. */
int line_reader_next(struct line_reader *lr, const char **line, size_t *len, struct sp_error *err);
/* 1-based number of the line last returned. */
size_t line_reader_line(const struct line_reader *lr);
/* Uncompressed bytes consumed so far. S3 objects are streamed through a socket pair by a
 * fetching thread; a transfer that fails is reported by line_reader_next, not taken for the
 * end. */
uint64_t line_reader_offset(const struct line_reader *lr);
/* 1 when the line last returned ended at the end of the object, without a line end, in a plain
 * local file that may still be being written. */
int line_reader_last_is_open(const struct line_reader *lr);
/* After LINE_END: sets o->loaded and o->fingerprint for what was read, leaving out the last line
 * when `drop_open_line` (a line still being written; see line_reader_last_is_open). */
void line_reader_finish(struct line_reader *lr, struct source_object *o, bool drop_open_line);
void line_reader_close(struct line_reader *lr);

/* Many objects' stored bytes read ahead of their reader, and handed out in list order: local
 * files by `threads` threads, S3 objects by one thread keeping many requests in flight
 * (s3_fetch_many); at most 1,024 objects are held at once. An object larger than `whole_max`
 * is not read: the caller streams it (source_stream_open). */
struct source_reader;
struct source_reader *source_reader_open(const struct source_list *objects, struct s3_client *s3,
                                         int threads, size_t whole_max, size_t padding,
                                         struct sp_error *err);
/* Waits for object `i` (each in turn, from 0): its stored bytes (gzip data still compressed),
 * followed by `padding` zero bytes, or NULL when it is to be streamed; or the error that
 * reading it met. */
int source_reader_next(struct source_reader *r, size_t i, const struct buffer **raw,
                       struct sp_error *err);
/* Gives object `i`'s slot to the objects after it. */
void source_reader_done(struct source_reader *r, size_t i);
void source_reader_close(struct source_reader *r);

#endif
