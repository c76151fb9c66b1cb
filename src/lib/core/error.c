/* error.c - formatting of library error messages (see error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sp_error_set(struct sp_error *err, int status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void sp_error_prefix(struct sp_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Truncation is fine here: the start of the message carries the context. */
    size_t plen = strlen(prefix), size = sizeof err->message;
    if (plen >= size)
        plen = size - 1;
    size_t mlen = strnlen(err->message, size - 1);
    if (plen + mlen >= size)
        mlen = size - 1 - plen;
    memmove(err->message + plen, err->message, mlen);
    memcpy(err->message, prefix, plen);
    err->message[plen + mlen] = '\0';
}

void sp_error_clear(struct sp_error *err)
{
    if (err) {
        err->status = SP_OK;
        err->message[0] = '\0';
    }
}
