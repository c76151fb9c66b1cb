/* s3.h - objects in S3 or any S3-compatible store, through libcurl.
 *
 * Requests are signed with AWS Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4); what
 * libcurl 7.88 leaves to the caller is done here: the query string is written in canonical
 * order and encoding, object keys are URI-encoded per path segment, and the
 * x-amz-content-sha256 header S3 requires is added. Listings use ListObjectsV2 with
 * continuation tokens (XML read with libxml2). Transient failures (5xx, SlowDown, timeouts,
 * resets) are retried with exponential backoff and full jitter, a bounded number of times;
 * 403 and 404 fail at once, naming the bucket and key. Secrets never appear in messages.
 *
 * Many requests at once go through one engine, s3_transfer_many (curl's multi interface, up to
 * `concurrency` in flight): GETs into buffers, and uploads whose bodies are read as they are
 * sent. s3_upload_many (s3_upload.c) builds on it: PUT, or a multipart upload above the part
 * size, aborted when anything fails.
 */
#ifndef SPARKIFY_S3_H
#define SPARKIFY_S3_H

#include "buffer.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct s3_config {
    const char *endpoint; /* NULL: https://s3.REGION.amazonaws.com */
    const char *region;   /* NULL: us-west-2 */
    int path_style;       /* 1 path-style, 0 virtual-hosted, -1 path-style iff a custom endpoint */
    bool sign;            /* false: anonymous requests (public buckets) */
    const char *access_key, *secret_key, *session_token;
    int concurrency;    /* requests in flight, fetching or uploading many objects; 0 = 32 */
    int max_attempts;   /* per request; 0 = 6 */
    long max_keys;      /* listing page size; 0 = 1000 */
    uint64_t part_size; /* uploads larger than this go in parts of this size; 0 = 16 MiB */
};

/* S3's limits for a multipart upload: parts of 5 MiB to 5 GiB (the last may be smaller), at most
 * 10,000 of them (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
#define S3_PART_SIZE_DEFAULT ((uint64_t)16 << 20)
#define S3_PART_SIZE_MIN ((uint64_t)5 << 20)
#define S3_PART_SIZE_MAX ((uint64_t)5 << 30)
#define S3_MAX_PARTS 10000u

struct s3_client;

int s3_client_new(const struct s3_config *config, struct s3_client **out, struct sp_error *err);
void s3_client_free(struct s3_client *c);

/* Whether a libcurl error (CURLcode) is worth another attempt: the connection failed, timed out
 * or was cut; the AWS control-plane client (aws_query.c) retries the same ones. */
bool s3_transient_curl_error(int code);

/* Splits s3://bucket/prefix; returns 0 or -1 when `url` is not an s3:// URL with a bucket. */
int s3_parse_url(const char *url, char **bucket, char **key);

/* Lists every object under s3://bucket/prefix (ListObjectsV2, page by page): `fn` gets each
 * one's URL ("s3://bucket/key"), size and ETag (without its quotes); a non-zero return from
 * `fn` stops the listing and is returned. Which objects are sources is source.c's business. */
typedef int (*s3_list_fn)(void *ctx, const char *url, uint64_t size, const char *etag);
int s3_list(struct s3_client *c, const char *url, s3_list_fn fn, void *ctx, struct sp_error *err);

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

/* Fetches the objects at `urls` with up to `concurrency` requests in flight. For object i,
 * `slot(ctx, i)` returns the buffer to fill, or NULL when there is no room for it yet (it must
 * not block: the transfers in flight would stall), and
 * `done(ctx, i, status, err)` is called when it is complete, from the calling thread. Stops
 * early when `done` returns non-zero. */
typedef struct buffer *(*s3_slot_fn)(void *ctx, size_t index);
typedef int (*s3_done_fn)(void *ctx, size_t index, int status, const struct sp_error *err);
int s3_fetch_many(struct s3_client *c, const char *const *urls, size_t count, size_t padding,
                  s3_slot_fn slot, s3_done_fn done, void *ctx);

/* ---- many requests of any kind ---- */

enum s3_method { S3_GET, S3_PUT, S3_POST, S3_DELETE };

/* A request body read as it is sent, so that it never has to be held whole. `read` returns
 * up to `n` bytes from the current position (never 0 before `length` bytes: a body that ends
 * early is an error), or -1 with `err` set; `seek` moves to `offset` (0 when a request is sent
 * again). Such a body is sent with x-amz-content-sha256: UNSIGNED-PAYLOAD, the option S3 offers
 * for a payload not hashed in advance ("Unsigned payload option", https://docs.aws.amazon.com/
 * AmazonS3/latest/API/sig-v4-header-based-auth.html): its owner checks the bytes it reads. */
struct s3_body {
    uint64_t length;
    long (*read)(void *ctx, char *buf, size_t n, struct sp_error *err);
    int (*seek)(void *ctx, uint64_t offset, struct sp_error *err);
    void *ctx;
};

/* One request of s3_transfer_many, filled in by the caller's `next`. Strings and bodies must
 * live until the request completes. */
struct s3_request {
    enum s3_method method;
    const char *url;   /* s3://bucket/key */
    const char *query; /* canonical: names sorted, values URI-encoded; NULL: none */
    const char *what;  /* names the request in messages; NULL: the URL */
    const char *content_type;
    const void *data; /* a body in memory, signed over its SHA-256 ... */
    size_t data_len;
    const struct s3_body *body; /* ... or a body streamed as it is sent */
    struct buffer *response;    /* the answer's body; NULL: kept for error messages only */
    size_t padding;             /* zero bytes after `response` (GET) */
    bool cancellable;           /* dropped by S3_CANCEL (see s3_complete_fn) */
    bool error_in_body; /* a 2xx answer may still carry an <Error> (CompleteMultipartUpload) */
    size_t index;       /* the caller's */
    void *user;         /* the caller's */
    /* Set when it completes: */
    long http_status;
    char etag[80]; /* the answer's ETag header, quotes included */
};

enum s3_next { S3_NEXT_END = -1, S3_NEXT_WAIT = 0, S3_NEXT_READY = 1 };
enum s3_after { S3_GO_ON = 0, S3_STOP = 1, S3_CANCEL = 2 };

/* `next` fills in the next request and returns S3_NEXT_READY, or S3_NEXT_WAIT when none can go
 * yet (it must not block: the transfers in flight would stall), or S3_NEXT_END when no more will
 * come. `complete` is called from the calling thread when a request has succeeded or failed for
 * good (after the retries of transient failures) and returns S3_GO_ON; S3_STOP to end at once,
 * dropping the transfers in flight; or S3_CANCEL to drop the cancellable transfers in flight and
 * go on asking `next`. Dropped transfers get no `complete` and their bodies are not read again.
 * Returns SP_FAIL when stopped, else SP_OK. */
typedef int (*s3_next_fn)(void *ctx, struct s3_request *request);
typedef int (*s3_complete_fn)(void *ctx, struct s3_request *request, int status,
                              const struct sp_error *err);
int s3_transfer_many(struct s3_client *c, s3_next_fn next, s3_complete_fn complete, void *ctx);

/* URI-encodes `s` into `out` as a SigV4 canonical query value. */
void s3_query_encode(struct buffer *out, const char *s);
/* The part size of uploads (s3_config.part_size). */
uint64_t s3_part_size(const struct s3_client *c);

/* ---- uploads of many objects (s3_upload.c) ---- */

/* One object to upload: `length` bytes at `url`, in one PUT up to the client's part size, else
 * in a multipart upload of parts of that size. */
struct s3_upload {
    const char *url;  /* s3://bucket/key */
    const char *what; /* names where its bytes come from, in messages; NULL: the URL */
    const char *content_type;
    uint64_t length;
    bool sequential; /* its parts one at a time, in order (a body that is read as a stream) */
};

/* Where the bodies come from: `open` prepares `body` to send bytes [offset, offset + length) of
 * object `index`; `close` releases it (also after a failure). `done` (may be NULL) is called
 * when an object is complete. */
struct s3_upload_source {
    int (*open)(void *ctx, size_t index, uint64_t offset, uint64_t length, struct s3_body *body,
                struct sp_error *err);
    void (*close)(void *ctx, struct s3_body *body);
    void (*done)(void *ctx, size_t index);
    void *ctx;
};

/* Uploads every object with up to `concurrency` requests in flight. On the first failure the
 * uploads in flight are dropped and every multipart upload begun is aborted, so that none is
 * left open; `err` then says what failed first. */
int s3_upload_many(struct s3_client *c, const struct s3_upload *objects, size_t count,
                   const struct s3_upload_source *source, struct sp_error *err);

#endif
