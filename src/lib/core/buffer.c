/* buffer.c - growable byte buffers (see buffer.h). */
#include "buffer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
    /* The one place the library writes to stderr: there is no caller left to tell. */
    fprintf(stderr, "sparkify: out of memory (allocating %zu bytes)\n", size);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(count * size);
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t len)
{
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void buffer_init(struct buffer *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buffer_release(struct buffer *b)
{
    free(b->data);
    buffer_init(b);
}

void buffer_reserve(struct buffer *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buffer_append(struct buffer *b, const void *data, size_t len)
{
    buffer_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buffer_append_str(struct buffer *b, const char *s)
{
    buffer_append(b, s, strlen(s));
}

void buffer_append_char(struct buffer *b, char c)
{
    buffer_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void buffer_printf(struct buffer *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n > 0) {
        buffer_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
    }
    va_end(ap);
}

void buffer_clear(struct buffer *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}
