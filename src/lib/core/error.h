/* error.h - how the library reports failure.
 *
 * Every fallible library call takes a `struct sp_error *` and returns 0 on success or a
 * non-zero status (SP_FAIL, SP_USAGE) with a one-line message that names what failed and
 * where (file:line, option, SQL statement). The library never prints and never exits; the
 * CLI decides what to show and which exit code to use. Messages never contain secrets: callers
 * pass already-masked strings (see warehouse_target_display).
 */
#ifndef SPARKIFY_ERROR_H
#define SPARKIFY_ERROR_H

#include <stddef.h>

enum sp_status {
    SP_OK = 0,
    SP_FAIL = 1,  /* the job failed: bad data, I/O, database */
    SP_USAGE = 2, /* usage or configuration error */
};

struct sp_error {
    int status;
    char message[1024];
};

#if defined(__GNUC__)
#define SP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SP_PRINTF(a, b)
#endif

/* Records a failure and returns `status`, so callers can write `return sp_fail(err, ...)`. */
int sp_error_set(struct sp_error *err, int status, const char *fmt, ...) SP_PRINTF(3, 4);
#define sp_fail(err, ...) sp_error_set((err), SP_FAIL, __VA_ARGS__)
#define sp_usage(err, ...) sp_error_set((err), SP_USAGE, __VA_ARGS__)

/* Prefixes the existing message with context ("while loading X: <old message>"). */
void sp_error_prefix(struct sp_error *err, const char *fmt, ...) SP_PRINTF(2, 3);

void sp_error_clear(struct sp_error *err);

#endif
