/* s3_upload.c - many objects uploaded at once (s3_upload_many, see s3.h).
 *
 * An object up to the part size goes in one PUT; a larger one in a multipart upload:
 * CreateMultipartUpload, then UploadPart for each part (parts of all objects in flight together,
 * up to the client's concurrency; one at a time for an object whose body is a stream), then
 * CompleteMultipartUpload with the parts' ETags (https://docs.aws.amazon.com/AmazonS3/latest/
 * userguide/mpuoverview.html). Every request goes through s3_transfer_many, so retries and
 * backoff are the GET path's. When anything fails for good, the uploads in flight are dropped
 * and every multipart upload begun is aborted (AbortMultipartUpload): an upload left open keeps
 * its parts stored, and billed, until a lifecycle rule or an abort removes them. A request body
 * is opened only when its transfer starts, so a file that cannot be read fails like a request.
 */
#include "s3.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum stage {
    STAGE_WAITING,    /* not started */
    STAGE_CREATING,   /* CreateMultipartUpload in flight */
    STAGE_SENDING,    /* the PUT, or the parts, in flight */
    STAGE_COMPLETING, /* CompleteMultipartUpload in flight */
    STAGE_ABORTING,   /* AbortMultipartUpload in flight */
    STAGE_DONE,
    STAGE_CLOSED, /* failed or aborted: nothing of it is left open */
};

struct object_state {
    enum stage stage;
    char *upload_id;
    uint32_t parts, next_part, parts_done, in_flight;
    char **etags; /* of each part, as S3 returned them */
};

enum request_kind { KIND_PUT, KIND_CREATE, KIND_PART, KIND_COMPLETE, KIND_ABORT };

/* One request handed to the engine, and what it needs until it completes. */
struct pending {
    struct pending *prev, *next; /* the requests not completed yet */
    struct uploader *uploader;
    enum request_kind kind;
    size_t object;
    uint32_t part;        /* 1-based */
    struct s3_body outer; /* what the engine reads: opens `inner` on first use */
    struct s3_body inner; /* the source's */
    bool opened;
    struct buffer query, what, response;
    xmlChar *xml; /* a CompleteMultipartUpload body */
    int xml_len;
};

struct uploader {
    struct s3_client *c;
    const struct s3_upload *objects;
    size_t count, next_object;
    const struct s3_upload_source *source;
    uint64_t part_size;
    struct object_state *states;
    size_t *active; /* multipart uploads under way, oldest first */
    size_t active_count;
    struct pending *requests;
    bool failing;
    struct sp_error *err;
    size_t abort_failures;
};

static void pending_close_body(struct pending *p)
{
    if (p->opened) {
        p->uploader->source->close(p->uploader->source->ctx, &p->inner);
        p->opened = false;
    }
}

static int outer_seek(void *ctx, uint64_t offset, struct sp_error *err)
{
    struct pending *p = ctx;
    struct uploader *u = p->uploader;
    if (!p->opened) {
        uint64_t part_offset = p->kind == KIND_PART ? (uint64_t)(p->part - 1) * u->part_size : 0;
        memset(&p->inner, 0, sizeof p->inner);
        int status = u->source->open(u->source->ctx, p->object, part_offset, p->outer.length,
                                     &p->inner, err);
        if (status != SP_OK)
            return status;
        p->opened = true;
    }
    return p->inner.seek(p->inner.ctx, offset, err);
}

static long outer_read(void *ctx, char *buf, size_t n, struct sp_error *err)
{
    struct pending *p = ctx;
    return p->inner.read(p->inner.ctx, buf, n, err);
}

static struct pending *pending_new(struct uploader *u, enum request_kind kind, size_t object,
                                   uint32_t part)
{
    struct pending *p = xcalloc(1, sizeof *p);
    p->uploader = u;
    p->kind = kind;
    p->object = object;
    p->part = part;
    buffer_init(&p->query);
    buffer_init(&p->what);
    buffer_init(&p->response);
    p->next = u->requests;
    if (u->requests)
        u->requests->prev = p;
    u->requests = p;
    return p;
}

static void pending_free(struct uploader *u, struct pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        u->requests = p->next;
    if (p->next)
        p->next->prev = p->prev;
    pending_close_body(p);
    buffer_release(&p->query);
    buffer_release(&p->what);
    buffer_release(&p->response);
    xmlFree(p->xml);
    free(p);
}

static void active_remove(struct uploader *u, size_t object)
{
    for (size_t i = 0; i < u->active_count; i++) {
        if (u->active[i] == object) {
            memmove(u->active + i, u->active + i + 1,
                    (u->active_count - i - 1) * sizeof *u->active);
            u->active_count--;
            return;
        }
    }
}

/* Fills `q` for request `p`: its method, query, body and the words naming it in messages. */
static int pending_fill(struct uploader *u, struct pending *p, struct s3_request *q)
{
    const struct s3_upload *o = &u->objects[p->object];
    struct object_state *st = &u->states[p->object];
    const char *source = o->what ? o->what : o->url;
    q->url = o->url;
    q->user = p;
    q->index = p->object;
    q->response = &p->response;
    if (p->kind != KIND_PUT && p->kind != KIND_CREATE) {
        /* Canonical order: partNumber before uploadId. */
        if (p->kind == KIND_PART)
            buffer_printf(&p->query, "partNumber=%u&", p->part);
        buffer_append_str(&p->query, "uploadId=");
        s3_query_encode(&p->query, st->upload_id);
        q->query = p->query.data;
    }
    switch (p->kind) {
    case KIND_PUT:
        q->method = S3_PUT;
        q->content_type = o->content_type;
        q->cancellable = true;
        if (o->what)
            buffer_printf(&p->what, "%s, uploaded to %s", source, o->url);
        else
            buffer_append_str(&p->what, o->url);
        break;
    case KIND_CREATE:
        q->method = S3_POST;
        q->query = "uploads=";
        q->content_type = o->content_type;
        buffer_printf(&p->what, "%s, starting a multipart upload to %s", source, o->url);
        break;
    case KIND_PART:
        q->method = S3_PUT;
        q->cancellable = true;
        buffer_printf(&p->what, "%s, part %u of %u of the upload to %s", source, p->part, st->parts,
                      o->url);
        break;
    case KIND_COMPLETE:
        q->method = S3_POST;
        q->data = p->xml;
        q->data_len = (size_t)p->xml_len;
        q->content_type = "application/xml";
        q->error_in_body = true;
        buffer_printf(&p->what, "%s, completing the multipart upload to %s", source, o->url);
        break;
    case KIND_ABORT:
        q->method = S3_DELETE;
        buffer_printf(&p->what, "%s, aborting the multipart upload to %s", source, o->url);
        break;
    }
    q->what = p->what.data;
    if (p->kind == KIND_PUT || p->kind == KIND_PART) {
        p->outer.length = p->kind == KIND_PUT ? o->length
                          : p->part < st->parts
                              ? u->part_size
                              : o->length - (uint64_t)(p->part - 1) * u->part_size;
        p->outer.read = outer_read;
        p->outer.seek = outer_seek;
        p->outer.ctx = p;
        q->body = &p->outer;
    }
    return S3_NEXT_READY;
}

/* <CompleteMultipartUpload> listing every part with its ETag, written by libxml2. */
static void complete_body(struct pending *p, const struct object_state *st)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "CompleteMultipartUpload");
    xmlNewNs(root, BAD_CAST "http://s3.amazonaws.com/doc/2006-03-01/", NULL);
    xmlDocSetRootElement(doc, root);
    for (uint32_t i = 0; i < st->parts; i++) {
        xmlNodePtr part = xmlNewChild(root, NULL, BAD_CAST "Part", NULL);
        char number[16];
        snprintf(number, sizeof number, "%u", i + 1);
        xmlNewTextChild(part, NULL, BAD_CAST "PartNumber", BAD_CAST number);
        xmlNewTextChild(part, NULL, BAD_CAST "ETag", BAD_CAST st->etags[i]);
    }
    xmlDocDumpMemoryEnc(doc, &p->xml, &p->xml_len, "UTF-8");
    xmlFreeDoc(doc);
}

/* After a failure: an abort for every multipart upload begun, once nothing of it is in flight
 * that would still create or complete it. */
static int next_abort(struct uploader *u, struct s3_request *q)
{
    for (size_t i = 0; i < u->active_count; i++) {
        size_t object = u->active[i];
        struct object_state *st = &u->states[object];
        if (st->stage == STAGE_SENDING) {
            st->stage = STAGE_ABORTING;
            return pending_fill(u, pending_new(u, KIND_ABORT, object, 0), q);
        }
    }
    return u->active_count ? S3_NEXT_WAIT : S3_NEXT_END;
}

static int upload_next(void *ctx, struct s3_request *q)
{
    struct uploader *u = ctx;
    if (u->failing)
        return next_abort(u, q);
    /* Uploads under way first, so that their parts go before new objects begin. */
    for (size_t i = 0; i < u->active_count; i++) {
        size_t object = u->active[i];
        struct object_state *st = &u->states[object];
        if (st->stage != STAGE_SENDING)
            continue;
        if (st->parts_done == st->parts) {
            st->stage = STAGE_COMPLETING;
            struct pending *p = pending_new(u, KIND_COMPLETE, object, 0);
            complete_body(p, st);
            return pending_fill(u, p, q);
        }
        if (st->next_part < st->parts && (!u->objects[object].sequential || st->in_flight == 0)) {
            st->in_flight++;
            return pending_fill(u, pending_new(u, KIND_PART, object, ++st->next_part), q);
        }
    }
    if (u->next_object < u->count) {
        size_t object = u->next_object++;
        struct object_state *st = &u->states[object];
        if (u->objects[object].length <= u->part_size) {
            st->stage = STAGE_SENDING;
            return pending_fill(u, pending_new(u, KIND_PUT, object, 0), q);
        }
        st->stage = STAGE_CREATING;
        st->parts = (uint32_t)((u->objects[object].length + u->part_size - 1) / u->part_size);
        st->etags = xcalloc(st->parts, sizeof *st->etags);
        u->active[u->active_count++] = object;
        return pending_fill(u, pending_new(u, KIND_CREATE, object, 0), q);
    }
    return u->active_count ? S3_NEXT_WAIT : S3_NEXT_END;
}

/* The UploadId of an InitiateMultipartUploadResult, or NULL. */
static char *upload_id_of(const struct buffer *body)
{
    char *id = NULL;
    xmlDocPtr doc = xmlReadMemory(body->data, (int)body->len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (root && xmlStrcmp(root->name, BAD_CAST "InitiateMultipartUploadResult") == 0) {
        for (xmlNodePtr n = root->children; n && !id; n = n->next) {
            if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST "UploadId") == 0) {
                xmlChar *text = xmlNodeGetContent(n);
                if (text && *text)
                    id = xstrdup((const char *)text);
                xmlFree(text);
            }
        }
    }
    xmlFreeDoc(doc);
    return id;
}

/* Records the end of request `p` in its object's state; returns what the engine is to do. */
static int upload_outcome(struct uploader *u, struct pending *p, const struct s3_request *q,
                          int status, const struct sp_error *err)
{
    struct object_state *st = &u->states[p->object];
    struct sp_error local;
    pending_close_body(p);
    switch (p->kind) {
    case KIND_PUT:
        st->stage = status == SP_OK ? STAGE_DONE : STAGE_CLOSED;
        break;
    case KIND_CREATE:
        if (status == SP_OK && !(st->upload_id = upload_id_of(&p->response))) {
            status = sp_fail(&local, "%s: the answer has no UploadId", p->what.data);
            err = &local;
        }
        st->stage = status == SP_OK ? STAGE_SENDING : STAGE_CLOSED;
        if (status != SP_OK)
            active_remove(u, p->object);
        break;
    case KIND_PART:
        st->in_flight--;
        if (status == SP_OK && !q->etag[0]) {
            status = sp_fail(&local, "%s: the answer has no ETag", p->what.data);
            err = &local;
        }
        if (status == SP_OK) {
            st->etags[p->part - 1] = xstrdup(q->etag);
            st->parts_done++;
        }
        break;
    case KIND_COMPLETE:
        st->stage = status == SP_OK ? STAGE_DONE : STAGE_SENDING; /* then aborted */
        if (status == SP_OK)
            active_remove(u, p->object);
        break;
    case KIND_ABORT:
        /* NoSuchUpload: it is gone already. */
        if (status != SP_OK && q->http_status != 404)
            u->abort_failures++;
        st->stage = STAGE_CLOSED;
        active_remove(u, p->object);
        return S3_GO_ON;
    }
    if (st->stage == STAGE_DONE && u->source->done)
        u->source->done(u->source->ctx, p->object);
    if (status == SP_OK)
        return S3_GO_ON;
    if (!u->failing) {
        u->failing = true;
        *u->err = *err;
    }
    return S3_CANCEL;
}

static int upload_complete(void *ctx, struct s3_request *q, int status, const struct sp_error *err)
{
    struct uploader *u = ctx;
    struct pending *p = q->user;
    int after = upload_outcome(u, p, q, status, err);
    pending_free(u, p);
    return after;
}

int s3_upload_many(struct s3_client *c, const struct s3_upload *objects, size_t count,
                   const struct s3_upload_source *source, struct sp_error *err)
{
    uint64_t part_size = s3_part_size(c);
    for (size_t i = 0; i < count; i++)
        if (objects[i].length > part_size * S3_MAX_PARTS)
            return sp_fail(err,
                           "%s: %llu bytes are more than S3 takes in one object in parts of %llu "
                           "MiB (at most %u parts): raise --s3-part-size",
                           objects[i].what ? objects[i].what : objects[i].url,
                           (unsigned long long)objects[i].length,
                           (unsigned long long)(part_size >> 20), S3_MAX_PARTS);
    struct uploader u = {.c = c,
                         .objects = objects,
                         .count = count,
                         .source = source,
                         .part_size = part_size,
                         .states = xcalloc(count, sizeof *u.states),
                         .active = xcalloc(count, sizeof *u.active),
                         .err = err};
    int status = s3_transfer_many(c, upload_next, upload_complete, &u);
    if (u.failing) {
        status = SP_FAIL;
        size_t len = strlen(err->message);
        if (u.abort_failures)
            snprintf(err->message + len, sizeof err->message - len,
                     "; and %zu multipart upload%s could not be aborted (a bucket lifecycle rule "
                     "with AbortIncompleteMultipartUpload removes %s)",
                     u.abort_failures, u.abort_failures == 1 ? "" : "s",
                     u.abort_failures == 1 ? "it" : "them");
    }
    while (u.requests)
        pending_free(&u, u.requests); /* transfers dropped in flight */
    for (size_t i = 0; i < count; i++) {
        for (uint32_t k = 0; u.states[i].etags && k < u.states[i].parts; k++)
            free(u.states[i].etags[k]);
        free(u.states[i].etags);
        free(u.states[i].upload_id);
    }
    free(u.states);
    free(u.active);
    return status;
}
