/* s3.c - the S3 client (see s3.h for what it covers and why).
 *
 * One easy handle per request, configured by request_setup(); the multi interface drives
 * many of them in s3_transfer_many, which s3_fetch_many and s3_upload_many are built on. A
 * request that fails transiently is retried after backoff_ms(attempt): 100 ms doubling to at
 * most 5 s, a uniformly random fraction of it (full jitter), so that many clients do not retry
 * in step. A streamed body starts again from its first byte on every try.
 */
#include "s3.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_client {
    char *scheme; /* "https" */
    char *host;   /* "s3.us-west-2.amazonaws.com" or "127.0.0.1:4568" */
    char *region;
    bool path_style, sign;
    char *userpwd; /* key:secret, handed only to libcurl */
    char *token_header;
    char sigv4[96];
    int concurrency, max_attempts;
    long max_keys;
    uint64_t part_size;
    unsigned random_state;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
}

int s3_client_new(const struct s3_config *config, struct s3_client **out, struct sp_error *err)
{
    pthread_once(&curl_once, curl_init_once);
    struct s3_client *c = xcalloc(1, sizeof *c);
    c->region = xstrdup(config->region && *config->region ? config->region : "us-west-2");
    const char *endpoint = config->endpoint;
    struct buffer host;
    buffer_init(&host);
    if (endpoint && *endpoint) {
        const char *sep = strstr(endpoint, "://");
        if (!sep || sep == endpoint || !sep[3]) {
            free(c->region);
            free(c);
            return sp_usage(err, "S3 endpoint '%s' is not a URL like https://host[:port]",
                            endpoint);
        }
        c->scheme = xstrndup(endpoint, (size_t)(sep - endpoint));
        const char *h = sep + 3;
        size_t n = strcspn(h, "/");
        buffer_append(&host, h, n);
    } else {
        c->scheme = xstrdup("https");
        buffer_printf(&host, "s3.%s.amazonaws.com", c->region);
    }
    c->host = host.data;
    c->path_style = config->path_style < 0 ? (endpoint && *endpoint) : config->path_style;
    c->sign = config->sign;
    if (c->sign) {
        struct buffer up;
        buffer_init(&up);
        buffer_printf(&up, "%s:%s", config->access_key ? config->access_key : "",
                      config->secret_key ? config->secret_key : "");
        c->userpwd = up.data;
        snprintf(c->sigv4, sizeof c->sigv4, "aws:amz:%s:s3", c->region);
        if (config->session_token && *config->session_token) {
            struct buffer t;
            buffer_init(&t);
            buffer_printf(&t, "x-amz-security-token: %s", config->session_token);
            c->token_header = t.data;
        }
    }
    c->concurrency = config->concurrency > 0 ? config->concurrency : 32;
    c->max_attempts = config->max_attempts > 0 ? config->max_attempts : 6;
    c->max_keys = config->max_keys > 0 ? config->max_keys : 1000;
    c->part_size = config->part_size > 0 ? config->part_size : S3_PART_SIZE_DEFAULT;
    c->random_state = (unsigned)time(NULL) ^ (unsigned)getpid();
    *out = c;
    return SP_OK;
}

void s3_client_free(struct s3_client *c)
{
    if (!c)
        return;
    if (c->userpwd) {
        memset(c->userpwd, 0, strlen(c->userpwd)); /* do not leave the secret in freed memory */
        free(c->userpwd);
    }
    free(c->token_header);
    free(c->scheme);
    free(c->host);
    free(c->region);
    free(c);
}

int s3_parse_url(const char *url, char **bucket, char **key)
{
    if (strncmp(url, "s3://", 5) != 0)
        return -1;
    const char *b = url + 5;
    size_t n = strcspn(b, "/");
    if (n == 0)
        return -1;
    *bucket = xstrndup(b, n);
    *key = xstrdup(b[n] == '/' ? b + n + 1 : "");
    return 0;
}

/* RFC 3986 encoding as SigV4 wants it: unreserved bytes kept, '/' kept only in paths. */
static void uri_encode(struct buffer *out, const char *s, bool keep_slash)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~' || (keep_slash && *p == '/'))
            buffer_append_char(out, (char)*p);
        else
            buffer_printf(out, "%%%02X", *p);
    }
}

void s3_query_encode(struct buffer *out, const char *s)
{
    uri_encode(out, s, false);
}

uint64_t s3_part_size(const struct s3_client *c)
{
    return c->part_size;
}

/* The URL of bucket/key; `query` must already be canonical (sorted, encoded). */
static void object_url(const struct s3_client *c, struct buffer *url, const char *bucket,
                       const char *key, const char *query)
{
    buffer_clear(url);
    if (c->path_style) {
        buffer_printf(url, "%s://%s/", c->scheme, c->host);
        uri_encode(url, bucket, false);
        buffer_append_char(url, '/');
    } else {
        buffer_printf(url, "%s://%s.%s/", c->scheme, bucket, c->host);
    }
    uri_encode(url, key, true);
    if (query && *query)
        buffer_printf(url, "?%s", query);
}

struct request {
    CURL *easy;
    struct curl_slist *headers;
    struct buffer *body; /* response body (objects and listings) */
    size_t padding;
    int fd;             /* or streamed to this descriptor */
    uint64_t written;   /* bytes delivered so far (for Range resumption) */
    bool range_ignored; /* a resumed request got the whole object again */
    char range[64];
    char *url_text;
    const char *method; /* "PUT", "POST", "DELETE", or NULL for GET */
    const char *upload; /* a body in memory, or NULL */
    size_t upload_len;
    const struct s3_body *stream; /* or a body read as it is sent */
    struct sp_error stream_err;   /* why reading `stream` failed */
    bool stream_failed;
    const char *content_type;
    char payload_hash[65];  /* hex SHA-256 of an in-memory body */
    bool head;              /* a HEAD request: headers only */
    char bucket_region[64]; /* the x-amz-bucket-region header of the answer */
    char etag[80];          /* the ETag header of the answer */
};

/* The value of header `name` (with its colon) in one header line, trimmed, or NULL. */
static const char *header_value(const char *line, size_t n, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    if (n <= name_len || strncasecmp(line, name, name_len) != 0)
        return NULL;
    const char *v = line + name_len;
    size_t l = n - name_len;
    while (l && (*v == ' ' || *v == '\t')) {
        v++;
        l--;
    }
    while (l && (v[l - 1] == '\r' || v[l - 1] == '\n' || v[l - 1] == ' '))
        l--;
    *len = l;
    return v;
}

/* Keeps the bucket's region, which S3 names in every answer about a bucket, even a redirect, and
 * the ETag of an uploaded part. */
static size_t on_header(char *data, size_t size, size_t count, void *ctx)
{
    struct request *r = ctx;
    size_t n = size * count, len;
    const char *v;
    if ((v = header_value(data, n, "x-amz-bucket-region:", &len)) != NULL)
        snprintf(r->bucket_region, sizeof r->bucket_region, "%.*s", (int)len, v);
    else if ((v = header_value(data, n, "etag:", &len)) != NULL)
        snprintf(r->etag, sizeof r->etag, "%.*s", (int)len, v);
    return n;
}

static size_t on_read(char *data, size_t size, size_t count, void *ctx)
{
    struct request *r = ctx;
    long n = r->stream->read(r->stream->ctx, data, size * count, &r->stream_err);
    if (n < 0) {
        r->stream_failed = true;
        return CURL_READFUNC_ABORT;
    }
    return (size_t)n;
}

/* libcurl rewinds a body itself when it sends a request again on a new connection. */
static int on_seek(void *ctx, curl_off_t offset, int origin)
{
    struct request *r = ctx;
    if (origin != SEEK_SET || offset < 0)
        return CURL_SEEKFUNC_CANTSEEK;
    if (r->stream->seek(r->stream->ctx, (uint64_t)offset, &r->stream_err) != SP_OK) {
        r->stream_failed = true;
        return CURL_SEEKFUNC_FAIL;
    }
    return CURL_SEEKFUNC_OK;
}

static size_t on_body(char *data, size_t size, size_t count, void *ctx)
{
    struct request *r = ctx;
    size_t n = size * count;
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    if (r->fd >= 0 && r->range[0] && code == 200) {
        r->range_ignored = true;
        return 0;
    }
    if (r->fd >= 0 && code >= 200 && code < 300) {
        size_t done = 0;
        while (done < n) {
            ssize_t w = send(r->fd, data + done, n - done, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return 0; /* the reader went away: abort the transfer */
            }
            done += (size_t)w;
        }
        r->written += n;
        return n;
    }
    buffer_reserve(r->body, n + r->padding);
    memcpy(r->body->data + r->body->len, data, n);
    r->body->len += n;
    return n;
}

static void request_setup(struct s3_client *c, struct request *r, const char *url)
{
    if (!r->easy)
        r->easy = curl_easy_init();
    else
        curl_easy_reset(r->easy);
    CURL *h = r->easy;
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    free(r->url_text);
    r->url_text = xstrdup(url);
    r->etag[0] = '\0';
    r->stream_failed = false;
    curl_easy_setopt(h, CURLOPT_URL, r->url_text);
    /* An S3 key may hold "." and ".." segments: they name other objects than the collapsed
     * path would. */
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "sparkify/0.1");
    if (r->head)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    const char *payload_hash = EMPTY_SHA256;
    if (r->stream) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, r);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, r);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->stream->length);
        /* Fewer, larger reads of the body: 64 KB is libcurl's default. */
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
        if (r->method && strcmp(r->method, "PUT") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
        payload_hash = "UNSIGNED-PAYLOAD";
    } else if (r->upload) {
        /* libcurl 7.88 hashes CURLOPT_POSTFIELDS into the signature, so the body goes there
         * (with the method changed to PUT where it is not a POST) rather than through a read
         * callback. */
        if (r->method && strcmp(r->method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->upload);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->upload_len);
        payload_hash = r->payload_hash;
    } else if (r->method) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    }
    if (r->stream || r->upload) {
        /* The body goes at once, without waiting for the answer to "Expect: 100-continue": a
         * refusal is rare here, and the wait costs a round trip on every upload (a second on
         * servers that never answer it). The header itself stays: one given in
         * CURLOPT_HTTPHEADER, even an empty one that removes it, would be signed by libcurl
         * 7.88 as sent. */
        curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
        char header[128];
        snprintf(header, sizeof header, "Content-Type: %s",
                 r->content_type ? r->content_type : "application/octet-stream");
        r->headers = curl_slist_append(r->headers, header);
    }
    if (c->sign) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
        curl_easy_setopt(h, CURLOPT_USERPWD, c->userpwd);
        /* S3 requires the payload hash header, and libcurl 7.88 signs the value it finds there
         * (the body's SHA-256, or UNSIGNED-PAYLOAD for a streamed body). */
        char header[128];
        snprintf(header, sizeof header, "x-amz-content-sha256: %s", payload_hash);
        r->headers = curl_slist_append(r->headers, header);
        if (c->token_header)
            r->headers = curl_slist_append(r->headers, c->token_header);
    }
    if (r->range[0])
        r->headers = curl_slist_append(r->headers, r->range);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
}

/* The hex SHA-256 of an in-memory body, which the signature covers. */
static void hash_payload(struct request *r)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    EVP_Digest(r->upload, r->upload_len, digest, &digest_len, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < digest_len && i < 32; i++)
        snprintf(r->payload_hash + 2 * i, 3, "%02x", digest[i]);
}

static void request_release(struct request *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r->url_text);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

bool s3_transient_curl_error(int code)
{
    switch ((CURLcode)code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static bool retryable_http(long code)
{
    return code == 500 || code == 502 || code == 503 || code == 504 || code == 429;
}

static long backoff_ms(struct s3_client *c, int attempt)
{
    long cap = 100L << (attempt < 6 ? attempt : 6);
    if (cap > 5000)
        cap = 5000;
    return (long)(rand_r(&c->random_state) % (unsigned)(cap + 1));
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The Code and Message of an S3 error body, or the HTTP status alone. */
static void describe_failure(const struct buffer *body, long code, char *out, size_t size)
{
    char error_code[128] = "", message[256] = "";
    if (body && body->len) {
        xmlDocPtr doc = xmlReadMemory(body->data, (int)body->len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
        for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
            if (n->type != XML_ELEMENT_NODE)
                continue;
            xmlChar *text = xmlNodeGetContent(n);
            if (xmlStrcmp(n->name, BAD_CAST "Code") == 0)
                snprintf(error_code, sizeof error_code, "%s", (const char *)text);
            else if (xmlStrcmp(n->name, BAD_CAST "Message") == 0)
                snprintf(message, sizeof message, "%s", (const char *)text);
            xmlFree(text);
        }
        xmlFreeDoc(doc);
    }
    if (error_code[0])
        snprintf(out, size, "HTTP %ld %s%s%s", code, error_code, message[0] ? ": " : "", message);
    else
        snprintf(out, size, "HTTP %ld", code);
}

static const char *hint_for(long code)
{
    if (code == 403)
        return " (check the credentials, the region and the bucket's permissions)";
    if (code == 404)
        return " (check the bucket and key)";
    return "";
}

/* Runs one request to completion with retries. For streamed objects, a retry resumes at the
 * first byte not yet delivered. `what` names the object in messages. */
static int perform(struct s3_client *c, struct request *r, const char *url, const char *what,
                   struct sp_error *err)
{
    for (int attempt = 0;; attempt++) {
        if (r->fd >= 0 && r->written > 0)
            snprintf(r->range, sizeof r->range, "Range: bytes=%llu-",
                     (unsigned long long)r->written);
        if (r->stream && r->stream->seek(r->stream->ctx, 0, err) != SP_OK)
            return err->status;
        request_setup(c, r, url);
        if (r->body)
            buffer_clear(r->body);
        CURLcode rc = curl_easy_perform(r->easy);
        long code = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
        bool last = attempt + 1 >= c->max_attempts;
        if (r->stream_failed) {
            *err = r->stream_err;
            return err->status ? err->status : SP_FAIL;
        }
        if (rc == CURLE_OK && code >= 200 && code < 300)
            return SP_OK;
        if (rc == CURLE_WRITE_ERROR && r->range_ignored)
            return sp_fail(err, "%s: the server ignored a Range request while resuming", what);
        if (rc == CURLE_WRITE_ERROR && r->fd >= 0)
            return sp_fail(err, "%s: the reader stopped", what);
        if (rc != CURLE_OK) {
            if (!s3_transient_curl_error(rc) || last)
                return sp_fail(err, "%s: %s%s", what, curl_easy_strerror(rc),
                               last && s3_transient_curl_error(rc) ? " (gave up after retries)"
                                                                   : "");
        } else if (!retryable_http(code) || last) {
            char why[512];
            describe_failure(r->body, code, why, sizeof why);
            return sp_fail(err, "%s: %s%s%s", what, why, hint_for(code),
                           retryable_http(code) ? " (gave up after retries)" : "");
        }
        sleep_ms(backoff_ms(c, attempt));
    }
}

int s3_get_object(struct s3_client *c, const char *url, size_t padding, struct buffer *out,
                  struct sp_error *err)
{
    char *bucket, *key;
    if (s3_parse_url(url, &bucket, &key) != 0)
        return sp_usage(err, "%s: not an s3://bucket/key URL", url);
    struct buffer target;
    buffer_init(&target);
    object_url(c, &target, bucket, key, NULL);
    struct request r = {.body = out, .padding = padding, .fd = -1};
    buffer_clear(out);
    int status = perform(c, &r, target.data, url, err);
    buffer_reserve(out, padding);
    memset(out->data + out->len, 0, padding + 1);
    request_release(&r);
    buffer_release(&target);
    free(bucket);
    free(key);
    return status;
}

int s3_bucket_region(struct s3_client *c, const char *bucket, char *region, size_t size,
                     struct sp_error *err)
{
    struct buffer target, body;
    buffer_init(&target);
    buffer_init(&body);
    object_url(c, &target, bucket, "", NULL);
    struct request r = {.body = &body, .fd = -1, .head = true};
    char what[300];
    snprintf(what, sizeof what, "s3://%s", bucket);
    int status = SP_OK;
    for (int attempt = 0;; attempt++) {
        r.bucket_region[0] = '\0';
        request_setup(c, &r, target.data);
        CURLcode rc = curl_easy_perform(r.easy);
        long code = 0;
        curl_easy_getinfo(r.easy, CURLINFO_RESPONSE_CODE, &code);
        bool last = attempt + 1 >= c->max_attempts;
        bool transient = rc != CURLE_OK ? s3_transient_curl_error(rc) : retryable_http(code);
        if (rc == CURLE_OK && (r.bucket_region[0] || (code >= 200 && code < 300)))
            break; /* known, or a store that does not say */
        if (!transient || last) {
            if (rc != CURLE_OK)
                status = sp_fail(err, "%s: %s", what, curl_easy_strerror(rc));
            else
                status = sp_fail(err, "%s: HTTP %ld while asking for the bucket's region%s", what,
                                 code, hint_for(code));
            break;
        }
        sleep_ms(backoff_ms(c, attempt));
    }
    if (status == SP_OK)
        snprintf(region, size, "%s", r.bucket_region);
    request_release(&r);
    buffer_release(&target);
    buffer_release(&body);
    return status;
}

int s3_stream_object(struct s3_client *c, const char *url, int fd, struct sp_error *err)
{
    char *bucket, *key;
    if (s3_parse_url(url, &bucket, &key) != 0)
        return sp_usage(err, "%s: not an s3://bucket/key URL", url);
    struct buffer target, errors;
    buffer_init(&target);
    buffer_init(&errors);
    object_url(c, &target, bucket, key, NULL);
    struct request r = {.body = &errors, .fd = fd};
    int status = perform(c, &r, target.data, url, err);
    request_release(&r);
    buffer_release(&target);
    buffer_release(&errors);
    free(bucket);
    free(key);
    return status;
}

int s3_put_object(struct s3_client *c, const char *url, const void *data, size_t len,
                  const char *content_type, struct sp_error *err)
{
    char *bucket = NULL, *key = NULL;
    if (s3_parse_url(url, &bucket, &key) != 0 || !*key) {
        free(bucket);
        free(key);
        return sp_usage(err, "%s: not an s3://bucket/key URL", url);
    }
    struct buffer target, body;
    buffer_init(&target);
    buffer_init(&body);
    object_url(c, &target, bucket, key, NULL);
    /* An empty body must still be a PUT with a body, not a GET. */
    struct request r = {.body = &body,
                        .fd = -1,
                        .method = "PUT",
                        .upload = len ? data : "",
                        .upload_len = len,
                        .content_type = content_type};
    hash_payload(&r);
    int status = perform(c, &r, target.data, url, err);
    request_release(&r);
    buffer_release(&target);
    buffer_release(&body);
    free(bucket);
    free(key);
    return status;
}

static char *child_text(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr n = parent->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0) {
            xmlChar *text = xmlNodeGetContent(n);
            char *copy = xstrdup((const char *)text);
            xmlFree(text);
            return copy;
        }
    }
    return NULL;
}

/* Reads one ListObjectsV2 page, handing each object to `fn`; sets the continuation token
 * (malloc'd) or NULL. */
static int parse_listing(const struct buffer *body, const char *bucket, s3_list_fn fn, void *ctx,
                         char **next_token, const char *what, struct sp_error *err)
{
    *next_token = NULL;
    xmlDocPtr doc = xmlReadMemory(body->data, (int)body->len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || xmlStrcmp(root->name, BAD_CAST "ListBucketResult") != 0) {
        xmlFreeDoc(doc);
        return sp_fail(err, "%s: the listing is not a ListBucketResult document", what);
    }
    struct buffer key;
    buffer_init(&key);
    int status = SP_OK;
    for (xmlNodePtr n = root->children; n && status == SP_OK; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, BAD_CAST "Contents") != 0)
            continue;
        char *name = child_text(n, "Key"), *size = child_text(n, "Size");
        char *etag = child_text(n, "ETag");
        if (name) {
            buffer_clear(&key);
            buffer_printf(&key, "s3://%s/%s", bucket, name);
            char *e = etag ? etag : "";
            size_t elen = strlen(e);
            if (elen >= 2 && e[0] == '"' && e[elen - 1] == '"') {
                e[elen - 1] = '\0';
                e++;
            }
            status = fn(ctx, key.data, size ? strtoull(size, NULL, 10) : 0, e);
        }
        free(name);
        free(size);
        free(etag);
    }
    char *truncated = child_text(root, "IsTruncated");
    if (status == SP_OK && truncated && strcmp(truncated, "true") == 0)
        *next_token = child_text(root, "NextContinuationToken");
    free(truncated);
    buffer_release(&key);
    xmlFreeDoc(doc);
    return status;
}

int s3_list(struct s3_client *c, const char *url, s3_list_fn fn, void *ctx, struct sp_error *err)
{
    char *bucket, *prefix;
    if (s3_parse_url(url, &bucket, &prefix) != 0)
        return sp_usage(err, "%s: not an s3://bucket/prefix URL", url);
    struct buffer query, target, body;
    buffer_init(&query);
    buffer_init(&target);
    buffer_init(&body);
    char *token = NULL;
    int status = SP_OK;
    struct request r = {.body = &body, .fd = -1};
    do {
        /* Canonical order: parameter names sorted, values encoded. */
        buffer_clear(&query);
        if (token) {
            buffer_append_str(&query, "continuation-token=");
            uri_encode(&query, token, false);
            buffer_append_char(&query, '&');
        }
        buffer_printf(&query, "list-type=2&max-keys=%ld&prefix=", c->max_keys);
        uri_encode(&query, prefix, false);
        object_url(c, &target, bucket, "", query.data);
        free(token);
        token = NULL;
        status = perform(c, &r, target.data, url, err);
        if (status == SP_OK)
            status = parse_listing(&body, bucket, fn, ctx, &token, url, err);
    } while (status == SP_OK && token);
    free(token);
    request_release(&r);
    buffer_release(&query);
    buffer_release(&target);
    buffer_release(&body);
    free(bucket);
    free(prefix);
    return status;
}

/* ---- many requests at once ---- */

struct transfer {
    struct request request;
    struct s3_request spec; /* the caller's */
    bool busy;
    int attempt;
    long not_before_ms; /* retry time, or 0 */
    struct buffer target;
    struct buffer scratch; /* the answer's body when the caller keeps none */
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const char *method_name(enum s3_method method)
{
    switch (method) {
    case S3_PUT:
        return "PUT";
    case S3_POST:
        return "POST";
    case S3_DELETE:
        return "DELETE";
    case S3_GET:
        break;
    }
    return NULL;
}

/* Sets a transfer up for the request in t->spec. */
static int transfer_prepare(struct s3_client *c, struct transfer *t, struct sp_error *err)
{
    const struct s3_request *q = &t->spec;
    char *bucket, *key;
    if (s3_parse_url(q->url, &bucket, &key) != 0)
        return sp_usage(err, "%s: not an s3://bucket/key URL", q->url);
    object_url(c, &t->target, bucket, key, q->query);
    free(bucket);
    free(key);
    struct request *r = &t->request;
    r->body = q->response ? q->response : &t->scratch;
    r->padding = q->padding;
    r->fd = -1;
    r->written = 0;
    r->range_ignored = false;
    r->range[0] = '\0';
    r->method = method_name(q->method);
    r->content_type = q->content_type;
    r->stream = q->body;
    r->upload = NULL;
    r->upload_len = 0;
    if (!q->body && (q->data || q->method == S3_PUT || q->method == S3_POST)) {
        r->upload = q->data ? q->data : ""; /* an empty body is still a body */
        r->upload_len = q->data_len;
        hash_payload(r);
    }
    t->attempt = 0;
    t->not_before_ms = 0;
    return SP_OK;
}

/* (Re)starts a transfer: a streamed body from its first byte. */
static int transfer_start(struct s3_client *c, CURLM *multi, struct transfer *t,
                          struct sp_error *err)
{
    const struct s3_body *body = t->request.stream;
    if (body && body->seek(body->ctx, 0, err) != SP_OK)
        return err->status ? err->status : SP_FAIL;
    request_setup(c, &t->request, t->target.data);
    buffer_clear(t->request.body);
    curl_multi_add_handle(multi, t->request.easy);
    return SP_OK;
}

/* Whether a 2xx answer is an <Error> document (CompleteMultipartUpload may answer 200 and fail
 * later: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html);
 * *transient when its Code says to try again. */
static bool error_document(const struct buffer *body, bool *transient)
{
    *transient = false;
    if (!body->len)
        return false;
    xmlDocPtr doc = xmlReadMemory(body->data, (int)body->len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    bool error = root && xmlStrcmp(root->name, BAD_CAST "Error") == 0;
    for (xmlNodePtr n = error ? root->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, BAD_CAST "Code") != 0)
            continue;
        xmlChar *text = xmlNodeGetContent(n);
        const char *code = (const char *)text;
        *transient = strcmp(code, "InternalError") == 0 || strcmp(code, "SlowDown") == 0 ||
                     strcmp(code, "ServiceUnavailable") == 0;
        xmlFree(text);
    }
    xmlFreeDoc(doc);
    return error;
}

/* What became of a transfer that ended: SP_OK, a failure in `err`, or -1 when it is to be tried
 * again (t->not_before_ms is then set). */
static int transfer_outcome(struct s3_client *c, struct transfer *t, CURLcode rc, long code,
                            struct sp_error *err)
{
    struct request *r = &t->request;
    const char *what = t->spec.what ? t->spec.what : t->spec.url;
    if (r->stream_failed) {
        *err = r->stream_err;
        return err->status ? err->status : SP_FAIL;
    }
    bool ok = rc == CURLE_OK && code >= 200 && code < 300;
    bool transient = rc != CURLE_OK ? s3_transient_curl_error(rc) : retryable_http(code);
    if (ok && t->spec.error_in_body && error_document(r->body, &transient))
        ok = false;
    if (ok) {
        buffer_reserve(r->body, r->padding);
        memset(r->body->data + r->body->len, 0, r->padding + 1);
        return SP_OK;
    }
    if (transient && t->attempt + 1 < c->max_attempts) {
        t->not_before_ms = now_ms() + backoff_ms(c, t->attempt++);
        return -1;
    }
    if (rc != CURLE_OK)
        return sp_fail(err, "%s: %s%s", what, curl_easy_strerror(rc),
                       transient ? " (gave up after retries)" : "");
    char why[512];
    describe_failure(r->body, code, why, sizeof why);
    return sp_fail(err, "%s: %s%s%s", what, why, hint_for(code),
                   transient ? " (gave up after retries)" : "");
}

struct engine {
    CURLM *multi;
    struct transfer *transfers;
    size_t slots, active;
    bool ended, stop;
    s3_complete_fn complete;
    void *ctx;
};

/* Hands a finished request to the caller and does what it asks next. */
static void engine_complete(struct engine *e, struct transfer *t, int status,
                            const struct sp_error *err)
{
    t->busy = false;
    e->active--;
    int after = e->complete(e->ctx, &t->spec, status, status == SP_OK ? NULL : err);
    if (after == S3_STOP) {
        e->stop = true;
    } else if (after == S3_CANCEL) {
        for (size_t s = 0; s < e->slots; s++) {
            struct transfer *other = &e->transfers[s];
            if (other->busy && other->spec.cancellable) {
                curl_multi_remove_handle(e->multi, other->request.easy);
                other->busy = false;
                e->active--;
            }
        }
    }
}

/* Starts requests in the free slots while the caller has some ready. */
static void engine_fill(struct s3_client *c, struct engine *e, void *ctx, s3_next_fn next)
{
    struct sp_error err;
    for (size_t s = 0; s < e->slots && !e->ended && !e->stop; s++) {
        struct transfer *t = &e->transfers[s];
        if (t->busy)
            continue;
        memset(&t->spec, 0, sizeof t->spec);
        int got = next(ctx, &t->spec);
        if (got == S3_NEXT_END)
            e->ended = true;
        if (got != S3_NEXT_READY)
            break;
        t->busy = true;
        e->active++;
        int status = transfer_prepare(c, t, &err);
        if (status == SP_OK)
            status = transfer_start(c, e->multi, t, &err);
        if (status != SP_OK)
            engine_complete(e, t, status, &err);
    }
}

/* Hands each transfer curl has finished to its outcome: done, or restarted later. Returns whether
 * any slot was freed. */
static bool engine_harvest(struct s3_client *c, struct engine *e)
{
    bool finished = false;
    struct sp_error err;
    CURLMsg *msg;
    int left;
    while (!e->stop && (msg = curl_multi_info_read(e->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct transfer *t = NULL;
        for (size_t s = 0; s < e->slots && !t; s++)
            if (e->transfers[s].busy && e->transfers[s].request.easy == msg->easy_handle)
                t = &e->transfers[s];
        if (!t)
            continue; /* dropped */
        CURLcode rc = msg->data.result;
        long code = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        curl_multi_remove_handle(e->multi, msg->easy_handle);
        int status = transfer_outcome(c, t, rc, code, &err);
        if (status < 0)
            continue; /* restarted by engine_retry when its time comes */
        t->spec.http_status = code;
        snprintf(t->spec.etag, sizeof t->spec.etag, "%s", t->request.etag);
        engine_complete(e, t, status, &err);
        finished = true;
    }
    return finished;
}

/* Restarts the transfers whose backoff has passed. */
static void engine_retry(struct s3_client *c, struct engine *e)
{
    struct sp_error err;
    long now = now_ms();
    for (size_t s = 0; s < e->slots && !e->stop; s++) {
        struct transfer *t = &e->transfers[s];
        if (t->busy && t->not_before_ms && t->not_before_ms <= now) {
            t->not_before_ms = 0;
            int status = transfer_start(c, e->multi, t, &err);
            if (status != SP_OK)
                engine_complete(e, t, status, &err);
        }
    }
}

int s3_transfer_many(struct s3_client *c, s3_next_fn next, s3_complete_fn complete, void *ctx)
{
    struct engine e = {.multi = curl_multi_init(),
                       .slots = (size_t)c->concurrency,
                       .complete = complete,
                       .ctx = ctx};
    curl_multi_setopt(e.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->concurrency);
    e.transfers = xcalloc(e.slots, sizeof *e.transfers);
    for (size_t s = 0; s < e.slots; s++) {
        e.transfers[s].request.fd = -1;
        buffer_init(&e.transfers[s].target);
        buffer_init(&e.transfers[s].scratch);
    }
    while (!e.stop && (!e.ended || e.active > 0)) {
        engine_fill(c, &e, ctx, next);
        int running;
        curl_multi_perform(e.multi, &running);
        bool finished = engine_harvest(c, &e);
        engine_retry(c, &e);
        /* Slots freed by this round take their next transfers before any wait: waiting first
         * leaves them idle until another transfer stirs. */
        if (!e.stop && !finished)
            curl_multi_poll(e.multi, NULL, 0, e.active > 0 ? 50 : 5, NULL);
    }
    for (size_t s = 0; s < e.slots; s++) {
        if (e.transfers[s].request.easy) {
            curl_multi_remove_handle(e.multi, e.transfers[s].request.easy);
            request_release(&e.transfers[s].request);
        }
        buffer_release(&e.transfers[s].target);
        buffer_release(&e.transfers[s].scratch);
    }
    free(e.transfers);
    curl_multi_cleanup(e.multi);
    return e.stop ? SP_FAIL : SP_OK;
}

/* ---- many objects fetched at once ---- */

struct fetch_many {
    const char *const *urls;
    size_t count, padding, next;
    s3_slot_fn slot;
    s3_done_fn done;
    void *ctx;
};

static int fetch_next(void *ctx, struct s3_request *q)
{
    struct fetch_many *f = ctx;
    if (f->next >= f->count)
        return S3_NEXT_END;
    /* No room for this object yet: keep driving the transfers in flight (the oldest of them may
     * be the one the consumer waits for) and try again later. */
    struct buffer *body = f->slot(f->ctx, f->next);
    if (!body)
        return S3_NEXT_WAIT;
    q->method = S3_GET;
    q->url = f->urls[f->next];
    q->response = body;
    q->padding = f->padding;
    q->index = f->next++;
    return S3_NEXT_READY;
}

static int fetch_complete(void *ctx, struct s3_request *q, int status, const struct sp_error *err)
{
    struct fetch_many *f = ctx;
    return f->done(f->ctx, q->index, status, err) ? S3_STOP : S3_GO_ON;
}

int s3_fetch_many(struct s3_client *c, const char *const *urls, size_t count, size_t padding,
                  s3_slot_fn slot, s3_done_fn done, void *ctx)
{
    struct fetch_many f = {urls, count, padding, 0, slot, done, ctx};
    return s3_transfer_many(c, fetch_next, fetch_complete, &f);
}
