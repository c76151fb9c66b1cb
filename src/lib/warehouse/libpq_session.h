/* libpq_session.h - what the PostgreSQL and Redshift warehouses share: one libpq connection.
 *
 * Both engines speak the PostgreSQL protocol, so connecting, running statements, reading typed
 * rows and turning libpq's multi-line messages into one-line errors (target shown with its
 * password masked, and the statement that failed) live here once. In a dry run there is no
 * connection: statements go to the warehouse's dry-run callback and queries return no rows.
 *
 * A target reaches libpq as keywords (PQconnectdbParams, never a URL built from settings): a URL
 * or keyword string is parsed by libpq's own PQconninfoParse, and what is shown of it is built
 * from the parsed settings, leaving out every one libpq marks secret (password, sslpassword).
 * libpq's parse errors quote the input, so they are shown with the quoted parts elided.
 */
#ifndef SPARKIFY_LIBPQ_SESSION_H
#define SPARKIFY_LIBPQ_SESSION_H

#include "warehouse.h"

#include <libpq-fe.h>

#define LIBPQ_MAX_SETTINGS 64

/* A server target's settings as libpq keywords, and the target as it may be shown. */
struct libpq_target {
    const char *keys[LIBPQ_MAX_SETTINGS + 1], *values[LIBPQ_MAX_SETTINGS + 1];
    size_t count;
    PQconninfoOption *parsed; /* owns the strings of a parsed target */
    char *display;            /* scheme://user:***@host:port/db?other=settings */
};

/* Parses a libpq URI (postgresql://...) or keyword string ("host=... dbname=..."), to be shown
 * with `scheme`. What libpq cannot read, a port that is not 1..65535, or an '@' that can only
 * be part of an unencoded user name or password is refused (SP_USAGE) without showing any of
 * the target but its scheme. */
int libpq_target_parse(struct libpq_target *t, const char *scheme, const char *conninfo,
                       struct sp_error *err);
/* Settings given as keywords (NULL-terminated; the strings stay the caller's). */
int libpq_target_keywords(struct libpq_target *t, const char *scheme, const char *const *keys,
                          const char *const *values, struct sp_error *err);
/* A setting's value, or NULL. */
const char *libpq_target_value(const struct libpq_target *t, const char *key);
void libpq_target_release(struct libpq_target *t);

struct libpq_warehouse {
    struct warehouse base;
    PGconn *conn; /* NULL in a dry run */
};

/* Connects to `target` (keywords in `keys`/`values` are defaults that the target's own
 * settings override), or, in a dry run, only fills in the display name. */
int libpq_warehouse_init(struct libpq_warehouse *w, const struct warehouse_ops *ops,
                         const struct libpq_target *target, const char *const *keys,
                         const char *const *values, const struct warehouse_dry_run *dry_run,
                         struct sp_error *err);
void libpq_warehouse_release(struct libpq_warehouse *w);

/* Records "<target>: <what>: <message> [<statement>]" in `err`; message NULL: the connection's. */
int libpq_fail(struct libpq_warehouse *w, struct sp_error *err, const char *what, const char *sql,
               const char *message);
/* Runs statements that return no rows of interest. */
int libpq_exec(struct libpq_warehouse *w, const char *sql, struct sp_error *err);
/* Runs a query, handing each row to `fn` as typed cells (integers, doubles, timestamps shown
 * with three fractional digits, text). */
int libpq_query(struct libpq_warehouse *w, const char *sql, warehouse_row_fn fn, void *ctx,
                struct sp_error *err);
/* warehouse_ops.user_query: without `write`, in a READ ONLY transaction that is rolled back. */
int libpq_user_query(struct libpq_warehouse *w, const char *sql, bool write, warehouse_row_fn fn,
                     void *ctx, struct sp_error *err);
/* Ends an open transaction without a word: the caller is already reporting a failure. */
void libpq_rollback(struct libpq_warehouse *w);

#endif
