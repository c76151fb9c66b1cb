/* aws_query.c - the Query-protocol client (see aws_query.h for what it covers and why).
 *
 * One easy handle per request: these are a handful of control-plane calls, never a hot path.
 * libcurl 7.88 signs a POST over the SHA-256 of CURLOPT_POSTFIELDS and signs every header given
 * in CURLOPT_HTTPHEADER, so the body goes there and the Content-Type is set explicitly (the same
 * header is then signed and sent). A retried request is signed again (a fresh X-Amz-Date). A
 * request that changes something may have succeeded before its answer was lost; the callers
 * treat "already exists" and "not found" answers as done, which makes a retry safe.
 */
#include "aws_query.h"

#include "s3.h"

#include "buffer.h"
#include "textfile.h"

#include <curl/curl.h>
#include <errno.h>
#include <ini.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Answers of the control-plane actions used here are a few kilobytes. */
#define MAX_ANSWER (8 << 20)

static const struct {
    const char *name, *env, *version;
} services[AWS_SERVICES] = {
    [AWS_IAM] = {"iam", "AWS_ENDPOINT_URL_IAM", "2010-05-08"},
    [AWS_STS] = {"sts", "AWS_ENDPOINT_URL_STS", "2011-06-15"},
    [AWS_EC2] = {"ec2", "AWS_ENDPOINT_URL_EC2", "2016-11-15"},
    [AWS_REDSHIFT] = {"redshift", "AWS_ENDPOINT_URL_REDSHIFT", "2012-12-01"},
};

struct aws_client {
    char *region;
    char *endpoint[AWS_SERVICES]; /* "https://host[:port]/path" */
    char sigv4[AWS_SERVICES][96]; /* "aws:amz:REGION:SERVICE" */
    char *userpwd;                /* key:secret, handed only to libcurl */
    char *token_header;
    int max_attempts;
    char **secrets; /* masked in messages */
    size_t secret_count;
    aws_show_fn show; /* a dry run */
    void *show_ctx;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
}

const char *aws_service_name(enum aws_service service)
{
    return services[service].name;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

static bool env_true(const char *name)
{
    const char *v = getenv(name);
    return v && strcasecmp(v, "true") == 0;
}

/* The endpoint of `service`: its own variable, the general one, or AWS's. */
static int resolve_endpoint(struct aws_client *c, enum aws_service service, struct sp_error *err)
{
    const char *url = NULL, *from = NULL;
    if (!env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
        const char *own = getenv(services[service].env), *general = getenv("AWS_ENDPOINT_URL");
        if (own && *own) {
            url = own;
            from = services[service].env;
        } else if (general && *general) {
            url = general;
            from = "AWS_ENDPOINT_URL";
        }
    }
    struct buffer b;
    buffer_init(&b);
    if (url) {
        const char *sep = strstr(url, "://");
        if (!sep || sep == url || !sep[3] || sep[3] == '/')
            return sp_usage(err, "%s '%s' is not a URL like https://host[:port]", from, url);
        buffer_append_str(&b, url);
        if (!strchr(sep + 3, '/'))
            buffer_append_char(&b, '/');
    } else if (service == AWS_IAM) {
        buffer_append_str(&b, "https://iam.amazonaws.com/");
    } else {
        buffer_printf(&b, "https://%s.%s.amazonaws.com/", services[service].name, c->region);
    }
    c->endpoint[service] = b.data;
    /* IAM is a global service whose requests are signed for us-east-1. */
    snprintf(c->sigv4[service], sizeof c->sigv4[service], "aws:amz:%s:%s",
             service == AWS_IAM ? "us-east-1" : c->region, services[service].name);
    return SP_OK;
}

int aws_client_new(const struct aws_config *config, struct aws_client **out, struct sp_error *err)
{
    pthread_once(&init_once, global_init);
    *out = NULL;
    struct aws_client *c = xcalloc(1, sizeof *c);
    c->region = xstrdup(config->region && *config->region ? config->region : "us-west-2");
    for (int s = 0; s < AWS_SERVICES; s++) {
        if (resolve_endpoint(c, (enum aws_service)s, err) != SP_OK) {
            aws_client_free(c);
            return SP_USAGE;
        }
    }
    struct buffer up;
    buffer_init(&up);
    buffer_printf(&up, "%s:%s", config->access_key ? config->access_key : "",
                  config->secret_key ? config->secret_key : "");
    c->userpwd = up.data;
    if (config->session_token && *config->session_token) {
        struct buffer t;
        buffer_init(&t);
        buffer_printf(&t, "X-Amz-Security-Token: %s", config->session_token);
        c->token_header = t.data;
        aws_client_add_secret(c, config->session_token);
    }
    if (config->secret_key && *config->secret_key)
        aws_client_add_secret(c, config->secret_key);
    c->max_attempts = config->max_attempts > 0 ? config->max_attempts : 6;
    *out = c;
    return SP_OK;
}

void aws_client_free(struct aws_client *c)
{
    if (!c)
        return;
    wipe_free(c->userpwd);
    wipe_free(c->token_header);
    for (size_t i = 0; i < c->secret_count; i++)
        wipe_free(c->secrets[i]);
    free(c->secrets);
    for (int s = 0; s < AWS_SERVICES; s++)
        free(c->endpoint[s]);
    free(c->region);
    free(c);
}

void aws_client_add_secret(struct aws_client *c, const char *secret)
{
    if (!secret || !*secret)
        return;
    c->secrets = xrealloc(c->secrets, (c->secret_count + 1) * sizeof *c->secrets);
    c->secrets[c->secret_count++] = xstrdup(secret);
}

const char *aws_client_endpoint(const struct aws_client *c, enum aws_service service)
{
    return c->endpoint[service];
}

const char *aws_client_region(const struct aws_client *c)
{
    return c->region;
}

void aws_client_dry_run(struct aws_client *c, aws_show_fn show, void *ctx)
{
    c->show = show;
    c->show_ctx = ctx;
}

bool aws_client_is_dry_run(const struct aws_client *c)
{
    return c->show != NULL;
}

/* ---- parameters ---- */

void aws_params_init(struct aws_params *p)
{
    memset(p, 0, sizeof *p);
}

void aws_params_release(struct aws_params *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].name);
        if (p->items[i].secret)
            wipe_free(p->items[i].value);
        else
            free(p->items[i].value);
    }
    free(p->items);
    memset(p, 0, sizeof *p);
}

static void params_push(struct aws_params *p, const char *name, char *value, bool secret)
{
    if (p->count == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->items = xrealloc(p->items, p->cap * sizeof *p->items);
    }
    p->items[p->count++] = (struct aws_param){xstrdup(name), value, secret};
}

void aws_params_add(struct aws_params *p, const char *name, const char *value)
{
    params_push(p, name, xstrdup(value), false);
}

void aws_params_add_secret(struct aws_params *p, const char *name, const char *value)
{
    params_push(p, name, xstrdup(value), true);
}

void aws_params_addf(struct aws_params *p, const char *name, const char *fmt, ...)
{
    struct buffer b;
    buffer_init(&b);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    buffer_reserve(&b, (size_t)(n > 0 ? n : 0) + 1);
    va_start(ap, fmt);
    vsnprintf(b.data, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
    va_end(ap);
    b.len = (size_t)(n > 0 ? n : 0);
    params_push(p, name, b.data, false);
}

/* ---- answers ---- */

void aws_answer_release(struct aws_answer *a)
{
    if (a->doc)
        xmlFreeDoc(a->doc);
    memset(a, 0, sizeof *a);
}

/* Each service and API version has a namespace of its own (and EC2's errors none): dropped, so
 * that XPath selects by the names AWS documents. */
static void drop_namespaces(xmlNodePtr node)
{
    for (; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        node->ns = NULL;
        for (xmlAttrPtr a = node->properties; a; a = a->next)
            a->ns = NULL;
        drop_namespaces(node->children);
    }
}

static xmlDocPtr parse_answer(const struct buffer *body)
{
    if (!body->len || body->len > INT32_MAX)
        return NULL;
    xmlDocPtr doc = xmlReadMemory(body->data, (int)body->len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc)
        drop_namespaces(xmlDocGetRootElement(doc));
    return doc;
}

static xmlXPathObjectPtr evaluate(xmlDocPtr doc, xmlNodePtr node, const char *xpath)
{
    if (!doc)
        return NULL;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    if (!ctx)
        return NULL;
    ctx->node = node ? node : (xmlNodePtr)doc;
    xmlXPathObjectPtr result = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
    xmlXPathFreeContext(ctx);
    return result;
}

size_t aws_xml_nodes(xmlDocPtr doc, xmlNodePtr node, const char *xpath, xmlNodePtr **nodes)
{
    *nodes = NULL;
    xmlXPathObjectPtr result = evaluate(doc, node, xpath);
    size_t count = 0;
    if (result && result->type == XPATH_NODESET && result->nodesetval &&
        result->nodesetval->nodeNr > 0) {
        count = (size_t)result->nodesetval->nodeNr;
        *nodes = xmalloc(count * sizeof **nodes);
        memcpy(*nodes, result->nodesetval->nodeTab, count * sizeof **nodes);
    }
    xmlXPathFreeObject(result);
    return count;
}

char *aws_xml_text(xmlDocPtr doc, xmlNodePtr node, const char *xpath)
{
    xmlNodePtr *nodes;
    size_t count = aws_xml_nodes(doc, node, xpath, &nodes);
    char *text = NULL;
    if (count) {
        xmlChar *content = xmlNodeGetContent(nodes[0]);
        text = xstrdup(content ? (const char *)content : "");
        xmlFree(content);
    }
    free(nodes);
    return text;
}

/* ---- requests ---- */

static size_t on_body(char *data, size_t size, size_t count, void *ctx)
{
    struct buffer *b = ctx;
    size_t n = size * count;
    if (b->len + n > MAX_ANSWER)
        return 0;
    buffer_append(b, data, n);
    return n;
}

/* name=value, form-encoded as the AWS SDKs write it: curl_easy_escape's RFC 3986 encoding with
 * a space as '+'. (moto checks a signature against the body it rebuilds that way from the
 * parsed form; AWS against the bytes sent, whichever encoding they use.) */
static void form_append(struct buffer *body, const char *name, const char *value)
{
    const char *parts[2] = {name, value};
    if (body->len)
        buffer_append_char(body, '&');
    for (int i = 0; i < 2; i++) {
        char *escaped = curl_easy_escape(NULL, parts[i], 0);
        if (i)
            buffer_append_char(body, '=');
        for (const char *p = escaped; p && *p; p++) {
            if (strncmp(p, "%20", 3) == 0) {
                buffer_append_char(body, '+');
                p += 2;
            } else {
                buffer_append_char(body, *p);
            }
        }
        if (escaped) {
            memset(escaped, 0, strlen(escaped)); /* a value may be a password */
            curl_free(escaped);
        }
    }
}

/* The codes the AWS SDKs retry as throttling or transient ("Retries", standard mode,
 * https://docs.aws.amazon.com/boto3/latest/guide/retries.html). IAM's LimitExceeded, a quota,
 * is not among them. */
static bool retryable_code(const char *code)
{
    static const char *const codes[] = {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

static bool retryable_http(long status)
{
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

bool aws_code_is_credentials(const char *code)
{
    static const char *const codes[] = {
        "SignatureDoesNotMatch",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "AuthFailure",
        "ExpiredToken",
        "InvalidAccessKeyId",
        "IncompleteSignature",
        "MissingAuthenticationToken",
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

/* Full jitter over 200 ms doubling up to 20 s, the SDKs' cap. */
static void backoff(int attempt)
{
    long cap = 200L << (attempt < 7 ? attempt : 7);
    if (cap > 20000)
        cap = 20000;
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        r = (uint32_t)time(NULL);
    long ms = (long)(r % (uint32_t)(cap + 1));
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Replaces each registered secret in `text` by ***. */
static void mask_secrets(const struct aws_client *c, char *text)
{
    for (size_t i = 0; i < c->secret_count; i++) {
        const char *secret = c->secrets[i];
        size_t len = strlen(secret);
        char *from = text, *hit;
        while (len && (hit = strstr(from, secret)) != NULL) {
            if (len >= 3) {
                memcpy(hit, "***", 3);
                memmove(hit + 3, hit + len, strlen(hit + len) + 1);
                from = hit + 3;
            } else { /* too short to shrink: overwritten in place */
                memset(hit, '*', len);
                from = hit + len;
            }
        }
    }
}

/* Code and message of an error answer (IAM, STS, Redshift: ErrorResponse/Error; EC2:
 * Response/Errors/Error). */
static void read_error(const struct buffer *body, char *code, size_t code_size, char *message,
                       size_t message_size)
{
    code[0] = message[0] = '\0';
    xmlDocPtr doc = parse_answer(body);
    if (!doc)
        return;
    char *c = aws_xml_text(doc, NULL, "//Error/Code"),
         *m = aws_xml_text(doc, NULL, "//Error/Message");
    snprintf(code, code_size, "%s", c ? c : "");
    snprintf(message, message_size, "%s", m ? m : "");
    free(c);
    free(m);
    xmlFreeDoc(doc);
}

static int fail(const struct aws_client *c, struct sp_error *err, const char *fmt, ...)
    SP_PRINTF(3, 4);

static int fail(const struct aws_client *c, struct sp_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->status = SP_FAIL;
    mask_secrets(c, err->message);
    return SP_FAIL;
}

static bool changes_nothing(const char *action)
{
    return strncmp(action, "Describe", 8) == 0 || strncmp(action, "Get", 3) == 0 ||
           strncmp(action, "List", 4) == 0;
}

int aws_call(struct aws_client *c, enum aws_service service, const char *action,
             const struct aws_params *params, struct aws_answer *answer, struct sp_error *err,
             const char *doing, ...)
{
    memset(answer, 0, sizeof *answer);
    char what[512];
    va_list ap;
    va_start(ap, doing);
    vsnprintf(what, sizeof what, doing, ap);
    va_end(ap);
    if (c->show && !changes_nothing(action)) {
        c->show(c->show_ctx, service, action, params);
        return SP_OK;
    }

    struct buffer body, response;
    buffer_init(&body);
    buffer_init(&response);
    form_append(&body, "Action", action);
    form_append(&body, "Version", services[service].version);
    for (size_t i = 0; params && i < params->count; i++)
        form_append(&body, params->items[i].name, params->items[i].value);

    struct curl_slist *headers =
        curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded; charset=utf-8");
    if (c->token_header)
        headers = curl_slist_append(headers, c->token_header);
    const char *url = c->endpoint[service];
    int status = SP_OK;
    for (int attempt = 0;; attempt++) {
        CURL *h = curl_easy_init();
        buffer_clear(&response);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "sparkify/0.1");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4[service]);
        curl_easy_setopt(h, CURLOPT_USERPWD, c->userpwd);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
        CURLcode rc = curl_easy_perform(h);
        long http = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
        curl_easy_cleanup(h);
        bool last = attempt + 1 >= c->max_attempts;
        answer->http_status = http;
        if (rc != CURLE_OK) {
            if (s3_transient_curl_error(rc) && !last) {
                backoff(attempt);
                continue;
            }
            status = fail(c, err, "%s: %s %s at %s: %s%s", what, services[service].name, action,
                          url, curl_easy_strerror(rc),
                          s3_transient_curl_error(rc) ? " (gave up after retries)" : "");
            break;
        }
        if (http >= 200 && http < 300) {
            answer->doc = parse_answer(&response);
            if (!answer->doc)
                status = fail(c, err, "%s: %s %s at %s answered HTTP %ld with no XML document",
                              what, services[service].name, action, url, http);
            break;
        }
        char message[512];
        read_error(&response, answer->code, sizeof answer->code, message, sizeof message);
        bool transient = retryable_http(http) || (answer->code[0] && retryable_code(answer->code));
        if (transient && !last) {
            backoff(attempt);
            continue;
        }
        if (answer->code[0])
            status = fail(c, err, "%s: %s: %s (HTTP %ld%s)", what, answer->code,
                          message[0] ? message : "no message", http,
                          transient ? ", gave up after retries" : "");
        else
            status =
                fail(c, err, "%s: %s %s at %s answered HTTP %ld%s", what, services[service].name,
                     action, url, http, transient ? " (gave up after retries)" : "");
        break;
    }
    curl_slist_free_all(headers);
    memset(body.data, 0, body.len); /* it may hold a password */
    buffer_release(&body);
    buffer_release(&response);
    return status;
}

/* ---- the region of the usual settings ---- */

struct region_lookup {
    const char *profile;
    char region[64];
};

static int on_config(void *user, const char *section, const char *name, const char *value)
{
    struct region_lookup *r = user;
    bool ours = strcmp(section, r->profile) == 0 ||
                (strncmp(section, "profile ", 8) == 0 && strcmp(section + 8, r->profile) == 0);
    if (ours && strcasecmp(name, "region") == 0)
        snprintf(r->region, sizeof r->region, "%s", value);
    return 1;
}

int aws_default_region(char *out, size_t size, struct sp_error *err)
{
    out[0] = '\0';
    const char *names[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = getenv(names[i]);
        if (v && *v) {
            snprintf(out, size, "%s", v);
            return SP_OK;
        }
    }
    struct buffer path;
    buffer_init(&path);
    const char *file = getenv("AWS_CONFIG_FILE");
    if (file && *file)
        buffer_append_str(&path, file);
    else if (getenv("HOME"))
        buffer_printf(&path, "%s/.aws/config", getenv("HOME"));
    if (!path.len)
        return SP_OK;
    const char *profile = getenv("AWS_PROFILE");
    struct region_lookup lookup = {profile && *profile ? profile : "default", ""};
    struct text_file text;
    int status = text_file_open(&text, path.data, "AWS config file", err);
    if (status != SP_OK) {
        buffer_release(&path);
        return errno == ENOENT ? SP_OK : status;
    }
    int rc = ini_parse_stream(text_file_line, &text, on_config, &lookup);
    status = text_file_finish(&text, rc, "[profile NAME] or key = value");
    text_file_close(&text);
    buffer_release(&path);
    if (status == SP_OK)
        snprintf(out, size, "%s", lookup.region);
    return status;
}
