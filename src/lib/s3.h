/* s3.h - objects in S3 or any S3-compatible store, through libcurl.
 *
 * Requests are signed with AWS Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4); what
 * libcurl 7.88 leaves to the caller is done here: the query string is written in canonical
 * order and encoding, object keys are URI-encoded per path segment, and the
 * x-amz-content-sha256 header S3 requires is added. Listings use ListObjectsV2 with
 * continuation tokens (XML read with libxml2). Transient failures (5xx, SlowDown, timeouts,
 * resets) are retried with exponential backoff and full jitter, a bounded number of times;
 * 403 and 404 fail at once, naming the bucket and key. Secrets never appear in messages.
 */
#ifndef SPARKIFY_S3_H
#define SPARKIFY_S3_H

#include "buffer.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct source_list;

struct s3_config {
    const char *endpoint; /* NULL: https://s3.REGION.amazonaws.com */
    const char *region;   /* NULL: us-west-2 */
    int path_style;       /* 1 path-style, 0 virtual-hosted, -1 path-style iff a custom endpoint */
    bool sign;            /* false: anonymous requests (public buckets) */
    const char *access_key, *secret_key, *session_token;
    int concurrency;  /* requests in flight when fetching many objects; 0 = 32 */
    int max_attempts; /* per request; 0 = 6 */
    long max_keys;    /* listing page size; 0 = 1000 */
};

struct s3_client;

int s3_client_new(const struct s3_config *config, struct s3_client **out, struct sp_error *err);
void s3_client_free(struct s3_client *c);

/* Splits s3://bucket/prefix; returns 0 or -1 when `url` is not an s3:// URL with a bucket. */
int s3_parse_url(const char *url, char **bucket, char **key);

/* Appends the objects under s3://bucket/prefix whose names end in .json, .jsonl or .ndjson
 * (optionally .gz) to `list`, keyed "s3://bucket/key", versioned by ETag. */
int s3_list_objects(struct s3_client *c, const char *url, struct source_list *list,
                    struct sp_error *err);

/* The region S3 says `bucket` is in (its x-amz-bucket-region header, sent even with a redirect
 * to another region); "" when the store does not say. */
int s3_bucket_region(struct s3_client *c, const char *bucket, char *region, size_t size,
                     struct sp_error *err);

/* Reads a whole object into `out`, followed by `padding` zero bytes not counted in len. */
int s3_get_object(struct s3_client *c, const char *url, size_t padding, struct buffer *out,
                  struct sp_error *err);

/* Uploads `len` bytes as the object at `url` (PUT, signed over the body's SHA-256). */
int s3_put_object(struct s3_client *c, const char *url, const void *data, size_t len,
                  const char *content_type, struct sp_error *err);

/* Writes an object's bytes to `fd` as they arrive (resuming with a Range request after a
 * transient failure), for streaming large objects into the parser. */
int s3_stream_object(struct s3_client *c, const char *url, int fd, struct sp_error *err);

/* Fetches many objects with up to `concurrency` requests in flight. For object i,
 * `slot(ctx, i)` returns the buffer to fill, or NULL when there is no room for it yet (it must
 * not block: the transfers in flight would stall), and
 * `done(ctx, i, status, err)` is called when it is complete, from the calling thread. Stops
 * early when `done` returns non-zero. */
typedef struct buffer *(*s3_slot_fn)(void *ctx, size_t index);
typedef int (*s3_done_fn)(void *ctx, size_t index, int status, const struct sp_error *err);
int s3_fetch_many(struct s3_client *c, const struct source_list *objects, size_t padding,
                  s3_slot_fn slot, s3_done_fn done, void *ctx);

#endif
