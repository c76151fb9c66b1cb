/* buffer.h - growable byte buffers and the allocation policy.
 *
 * Allocation failure is not recoverable in a batch tool that holds a whole run in one
 * transaction, so xmalloc and friends abort; everything else in the library returns errors.
 * A buffer owns its bytes: buffer_init/buffer_release. Buffers are reused across rows so the
 * hot path does not allocate once it has warmed up.
 */
#ifndef SPARKIFY_BUFFER_H
#define SPARKIFY_BUFFER_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);

struct buffer {
    char *data;
    size_t len;
    size_t cap;
};

void buffer_init(struct buffer *b);
void buffer_release(struct buffer *b);
/* Ensures room for `extra` more bytes (plus a NUL terminator the buffer always keeps). */
void buffer_reserve(struct buffer *b, size_t extra);
void buffer_append(struct buffer *b, const void *data, size_t len);
void buffer_append_str(struct buffer *b, const char *s);
void buffer_append_char(struct buffer *b, char c);
void buffer_printf(struct buffer *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void buffer_clear(struct buffer *b);

#endif
