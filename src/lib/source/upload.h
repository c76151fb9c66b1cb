/* upload.h - local source files sent to S3 for the server load, never held whole in memory.
 *
 * A batch holds objects, each the content of one or more local files: a log file's new lines,
 * or song files joined by line ends. Adding a file reads it once, as a load reads it: its
 * fingerprint, its lines, where a grown log file's new lines begin (the bytes before checked
 * against what was loaded) and whether its last line is unfinished, and a hash of every stretch
 * of it that will travel in one request. Sending reads the files again as the requests go out,
 * up to the S3 client's concurrency (s3_upload_many: one PUT, or parts above the part size), and
 * checks every stretch against its hash before its last byte leaves: a file that changed in
 * between fails the batch, named, and its request never completes. gzip files are sent
 * inflated, inflated again as they are sent; the parts of an object that holds inflated bytes go
 * one after another (a stream is read in order).
 */
#ifndef SPARKIFY_UPLOAD_H
#define SPARKIFY_UPLOAD_H

#include "error.h"
#include "s3.h"
#include "source.h"

#include <stdbool.h>
#include <stdint.h>

struct upload_batch;

/* `part_size` must be the S3 client's (s3_part_size): stretches end where parts do. */
struct upload_batch *upload_batch_new(uint64_t part_size);
void upload_batch_free(struct upload_batch *b);

/* Starts the next object, to be stored at `url`. */
void upload_batch_begin(struct upload_batch *b, const char *url);

enum upload_range {
    UPLOAD_ALL,       /* the whole content */
    UPLOAD_NEW_LINES, /* a log file's lines from o->start, less an unfinished last line */
};

/* What adding a file found. */
struct upload_added {
    uint64_t bytes;      /* content added (the separator not counted) */
    size_t lines;        /* line ends in it */
    size_t lines_before; /* lines before o->start, loaded by earlier runs */
    bool open_line;      /* an unfinished last line was left for the next run */
};

/* Reads `o` (a local file; it and its key must outlive the batch) and adds its content to the
 * current object, followed by "\n" when `separate`. Sets o->loaded, o->fingerprint and o->gzip
 * as a load does; with UPLOAD_NEW_LINES, a grown file's first o->start bytes must have
 * o->prefix_fingerprint. A plain file is read no further than its listed size. */
int upload_batch_add(struct upload_batch *b, struct source_object *o, enum upload_range range,
                     bool separate, struct upload_added *added, struct sp_error *err);
/* Takes the file added last out again (its content turned out to be loaded already). */
void upload_batch_undo(struct upload_batch *b);
/* Removes the current object if nothing was added to it. */
void upload_batch_drop_empty(struct upload_batch *b);

size_t upload_batch_count(const struct upload_batch *b);
/* The current object's bytes so far. */
uint64_t upload_batch_length(const struct upload_batch *b);
/* Object `i`: its URL, its bytes and the requests that carry them (1: one PUT). */
void upload_batch_object(const struct upload_batch *b, size_t i, const char **url, uint64_t *length,
                         uint32_t *parts);

/* Called as the bytes go out and as objects complete. */
typedef void (*upload_progress_fn)(void *ctx, size_t objects_done, size_t objects,
                                   uint64_t bytes_done, uint64_t bytes);

/* Sends every object (see above); on failure nothing is left open in S3 (objects already
 * complete stay: they are unique to the run's prefix). */
int upload_batch_send(struct upload_batch *b, struct s3_client *s3, upload_progress_fn progress,
                      void *ctx, struct sp_error *err);

#endif
