/* s3.c - the S3 client (see s3.h for what it covers and why).
 *
 * One easy handle per request, configured by request_setup(); the multi interface drives
 * many of them for s3_fetch_many. A request that fails transiently is retried after
 * backoff_ms(attempt): 100 ms doubling to at most 5 s, a uniformly random fraction of it
 * (full jitter), so that many clients do not retry in step.
 */
#include "s3.h"

#include "source.h"

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
    const char *upload; /* PUT body, or NULL for GET */
    size_t upload_len;
    const char *content_type;
    char payload_hash[65];  /* hex SHA-256 of the body */
    bool head;              /* a HEAD request: headers only */
    char bucket_region[64]; /* the x-amz-bucket-region header of the answer */
};

/* Keeps the bucket's region, which S3 names in every answer about a bucket, even a redirect. */
static size_t on_header(char *data, size_t size, size_t count, void *ctx)
{
    struct request *r = ctx;
    size_t n = size * count;
    static const char name[] = "x-amz-bucket-region:";
    if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        size_t len = n - (sizeof name - 1);
        while (len && (*v == ' ' || *v == '\t')) {
            v++;
            len--;
        }
        while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
            len--;
        snprintf(r->bucket_region, sizeof r->bucket_region, "%.*s", (int)len, v);
    }
    return n;
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
    curl_easy_setopt(h, CURLOPT_USERAGENT, "sparkify/0.1");
    if (r->head) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    }
    if (r->upload) {
        /* libcurl 7.88 hashes CURLOPT_POSTFIELDS into the signature, so the body goes there
         * (with the method changed to PUT) rather than through a read callback. */
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->upload);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->upload_len);
        char header[128];
        snprintf(header, sizeof header, "Content-Type: %s", r->content_type);
        r->headers = curl_slist_append(r->headers, header);
    }
    if (c->sign) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
        curl_easy_setopt(h, CURLOPT_USERPWD, c->userpwd);
        /* S3 requires the payload hash header; libcurl 7.88 signs the hash of the same body. */
        char header[128];
        snprintf(header, sizeof header, "x-amz-content-sha256: %s",
                 r->upload ? r->payload_hash : EMPTY_SHA256);
        r->headers = curl_slist_append(r->headers, header);
        if (c->token_header)
            r->headers = curl_slist_append(r->headers, c->token_header);
    }
    if (r->range[0])
        r->headers = curl_slist_append(r->headers, r->range);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
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

static bool retryable_curl(CURLcode rc)
{
    switch (rc) {
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
        request_setup(c, r, url);
        if (r->body)
            buffer_clear(r->body);
        CURLcode rc = curl_easy_perform(r->easy);
        long code = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
        bool last = attempt + 1 >= c->max_attempts;
        if (rc == CURLE_OK && code >= 200 && code < 300)
            return SP_OK;
        if (rc == CURLE_WRITE_ERROR && r->range_ignored)
            return sp_fail(err, "%s: the server ignored a Range request while resuming", what);
        if (rc == CURLE_WRITE_ERROR && r->fd >= 0)
            return sp_fail(err, "%s: the reader stopped", what);
        if (rc != CURLE_OK) {
            if (!retryable_curl(rc) || last)
                return sp_fail(err, "%s: %s%s", what, curl_easy_strerror(rc),
                               last && retryable_curl(rc) ? " (gave up after retries)" : "");
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
        bool transient = rc != CURLE_OK ? retryable_curl(rc) : retryable_http(code);
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
                        .upload = len ? data : "",
                        .upload_len = len,
                        .content_type = content_type};
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < digest_len && i < 32; i++)
        snprintf(r.payload_hash + 2 * i, 3, "%02x", digest[i]);
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

/* Reads one ListObjectsV2 page; returns the continuation token (malloc'd) or NULL. */
static int parse_listing(const struct buffer *body, const char *bucket, struct source_list *list,
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
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, BAD_CAST "Contents") != 0)
            continue;
        char *name = child_text(n, "Key"), *size = child_text(n, "Size");
        char *etag = child_text(n, "ETag");
        if (name && source_has_json_name(name)) {
            buffer_clear(&key);
            buffer_printf(&key, "s3://%s/%s", bucket, name);
            struct source_object o = {.key = key.data, .size = size ? strtoull(size, NULL, 10) : 0};
            const char *e = etag ? etag : "";
            size_t elen = strlen(e);
            if (elen >= 2 && e[0] == '"' && e[elen - 1] == '"') {
                e++;
                elen -= 2;
            }
            snprintf(o.version, sizeof o.version, "etag:%.*s", (int)elen, e);
            source_list_append(list, &o);
        }
        free(name);
        free(size);
        free(etag);
    }
    char *truncated = child_text(root, "IsTruncated");
    if (truncated && strcmp(truncated, "true") == 0)
        *next_token = child_text(root, "NextContinuationToken");
    free(truncated);
    buffer_release(&key);
    xmlFreeDoc(doc);
    return SP_OK;
}

int s3_list_objects(struct s3_client *c, const char *url, struct source_list *list,
                    struct sp_error *err)
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
    size_t before = list->count;
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
            status = parse_listing(&body, bucket, list, &token, url, err);
    } while (status == SP_OK && token);
    free(token);
    request_release(&r);
    if (status == SP_OK && list->count == before)
        status = sp_fail(err, "%s: no .json objects under this prefix", url);
    buffer_release(&query);
    buffer_release(&target);
    buffer_release(&body);
    free(bucket);
    free(prefix);
    return status;
}

/* ---- many objects at once ---- */

struct transfer {
    struct request request;
    size_t index;
    int attempt;
    long not_before_ms; /* retry time, or 0 */
    struct buffer target;
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void transfer_start(struct s3_client *c, CURLM *multi, struct transfer *t)
{
    request_setup(c, &t->request, t->target.data);
    buffer_clear(t->request.body);
    curl_multi_add_handle(multi, t->request.easy);
}

int s3_fetch_many(struct s3_client *c, const struct source_list *objects, size_t padding,
                  s3_slot_fn slot, s3_done_fn done, void *ctx)
{
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->concurrency);
    size_t slots = (size_t)c->concurrency;
    struct transfer *transfers = xcalloc(slots, sizeof *transfers);
    size_t next = 0, active = 0;
    int stop = 0;
    struct sp_error err;
    while (!stop && (next < objects->count || active > 0)) {
        /* Fill free transfer slots with the next objects. */
        for (size_t s = 0; s < slots && next < objects->count && !stop; s++) {
            struct transfer *t = &transfers[s];
            if (t->request.easy && t->request.body)
                continue; /* busy */
            /* No room for this object yet: keep driving the transfers in flight (the oldest
             * of them may be the one the consumer waits for) and try again later. */
            struct buffer *body = slot(ctx, next);
            if (!body)
                break;
            char *bucket, *key;
            const char *url = objects->items[next].key;
            if (s3_parse_url(url, &bucket, &key) != 0) {
                sp_usage(&err, "%s: not an s3://bucket/key URL", url);
                stop = done(ctx, next, SP_USAGE, &err);
                next++;
                continue;
            }
            t->index = next++;
            t->attempt = 0;
            t->not_before_ms = 0;
            t->request.fd = -1;
            t->request.padding = padding;
            t->request.body = body;
            buffer_init(&t->target);
            object_url(c, &t->target, bucket, key, NULL);
            free(bucket);
            free(key);
            transfer_start(c, multi, t);
            active++;
        }
        int running;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct transfer *t = NULL;
            for (size_t s = 0; s < slots; s++)
                if (transfers[s].request.easy == msg->easy_handle)
                    t = &transfers[s];
            CURLcode rc = msg->data.result;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            curl_multi_remove_handle(multi, msg->easy_handle);
            const char *url = objects->items[t->index].key;
            bool ok = rc == CURLE_OK && code >= 200 && code < 300;
            bool transient = rc != CURLE_OK ? retryable_curl(rc) : retryable_http(code);
            if (!ok && transient && t->attempt + 1 < c->max_attempts) {
                t->not_before_ms = now_ms() + backoff_ms(c, t->attempt++);
                continue; /* restarted below when its time comes */
            }
            int status = SP_OK;
            if (!ok && rc != CURLE_OK) {
                status = sp_fail(&err, "%s: %s%s", url, curl_easy_strerror(rc),
                                 transient ? " (gave up after retries)" : "");
            } else if (!ok) {
                char why[512];
                describe_failure(t->request.body, code, why, sizeof why);
                status = sp_fail(&err, "%s: %s%s%s", url, why, hint_for(code),
                                 transient ? " (gave up after retries)" : "");
            } else {
                struct buffer *b = t->request.body;
                buffer_reserve(b, padding);
                memset(b->data + b->len, 0, padding + 1);
            }
            t->request.body = NULL; /* the slot is free again */
            buffer_release(&t->target);
            active--;
            if (done(ctx, t->index, status, status == SP_OK ? NULL : &err))
                stop = 1;
        }
        /* Restart transfers whose backoff has passed. */
        long now = now_ms();
        for (size_t s = 0; s < slots && !stop; s++) {
            struct transfer *t = &transfers[s];
            if (t->request.body && t->not_before_ms && t->not_before_ms <= now) {
                t->not_before_ms = 0;
                transfer_start(c, multi, t);
            }
        }
        if (!stop)
            curl_multi_poll(multi, NULL, 0, active > 0 ? 50 : 5, NULL);
    }
    for (size_t s = 0; s < slots; s++) {
        if (transfers[s].request.easy) {
            curl_multi_remove_handle(multi, transfers[s].request.easy);
            request_release(&transfers[s].request);
        }
        buffer_release(&transfers[s].target);
    }
    free(transfers);
    curl_multi_cleanup(multi);
    return stop ? SP_FAIL : SP_OK;
}
