/* libpq_session.h - what the PostgreSQL and Redshift warehouses share: one libpq connection.
 *
 * Both engines speak the PostgreSQL protocol, so connecting, running statements, reading typed
 * rows and turning libpq's multi-line messages into one-line errors (target shown with its
 * password masked, and the statement that failed) live here once. In a dry run there is no
 * connection: statements go to the warehouse's dry-run callback and queries return no rows.
 */
#ifndef SPARKIFY_LIBPQ_SESSION_H
#define SPARKIFY_LIBPQ_SESSION_H

#include "warehouse.h"

#include <libpq-fe.h>

struct libpq_warehouse {
    struct warehouse base;
    PGconn *conn; /* NULL in a dry run */
};

/* Connects to the libpq URI `uri` (keywords in `keys`/`values` are defaults that the URI's own
 * parameters override), or, in a dry run, only fills in the display name. */
int libpq_warehouse_init(struct libpq_warehouse *w, const struct warehouse_ops *ops,
                         const char *uri, const char *shown, const char *const *keys,
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
/* Ends an open transaction without a word: the caller is already reporting a failure. */
void libpq_rollback(struct libpq_warehouse *w);

#endif
