/* source.h - where raw JSON comes from: listing objects and reading their bytes.
 *
 * A source spec is a file, a directory (searched recursively; hidden entries skipped; files
 * ending in .json, .jsonl or .ndjson, each optionally .gz), a glob, or s3://bucket/prefix
 * (read through the S3 client the caller passes; NULL when there is none). Objects are listed in
 * byte order of their keys, so runs and error reports are deterministic. Reading goes through
 * zlib's gz* functions, which pass plain files through and inflate gzip on the fly; a
 * truncated gzip stream is an error, not a short file.
 */
#ifndef SPARKIFY_SOURCE_H
#define SPARKIFY_SOURCE_H

#include "buffer.h"
#include "error.h"
#include "s3.h"

#include <stdint.h>

struct source_object {
    char *key;        /* absolute path */
    uint64_t size;    /* bytes as stored */
    char version[48]; /* what changes when the content does: mtime for files */
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
/* Appends the objects of `spec` (sorted) to `list`. */
int source_list_objects(const char *spec, struct s3_client *s3, struct source_list *list,
                        struct sp_error *err);
/* 1 when a file or object name ends in .json, .jsonl or .ndjson, optionally .gz. */
int source_has_json_name(const char *name);
/* 1 when the key names an S3 object. */
int source_is_s3(const char *key);

/* Reads a whole object (decompressed) into `out`, followed by `padding` zero bytes that are
 * not counted in out->len. */
int source_read_all(const char *key, struct s3_client *s3, size_t padding, struct buffer *out,
                    struct sp_error *err);

/* Inflates `data` in place when it holds gzip data (by its magic bytes), keeping `padding`
 * zero bytes behind it; plain data is left alone. `key` names the object in errors. */
int source_gunzip_if_needed(struct buffer *data, size_t padding, const char *key,
                            struct sp_error *err);

/* Streams an object line by line. Lines exclude the line end ("\n" or "\r\n") and are
 * followed in memory by at least `padding` readable bytes. */
struct line_reader;

int line_reader_open(struct line_reader **out, const char *key, struct s3_client *s3,
                     size_t padding, struct sp_error *err);
/* Returns 1 with a line, 0 at the end, or SP_FAIL-status -1 with `err` set. */
int line_reader_next(struct line_reader *lr, const char **line, size_t *len, struct sp_error *err);
/* 1-based number of the line last returned. */
size_t line_reader_line(const struct line_reader *lr);
/* Uncompressed bytes consumed so far. S3 objects are streamed through a pipe by a fetching
 * thread; a transfer that fails is reported by line_reader_next, not taken for the end. */
uint64_t line_reader_offset(const struct line_reader *lr);
void line_reader_close(struct line_reader *lr);

#endif
