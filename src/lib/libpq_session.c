/* libpq_session.c - the libpq connection the PostgreSQL and Redshift warehouses share (see
 * libpq_session.h). */
#include "libpq_session.h"

#include "buffer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs from pg_type.h (server headers are not part of libpq-dev). */
enum {
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_TIMESTAMP = 1114,
};

#define MAX_COLUMNS 256

/* libpq messages span lines ("FATAL: ...\nDETAIL: ..."); ours are one line. */
static const char *one_line(const char *message, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = message; *p && o + 3 < size; p++) {
        if (*p == '\n') {
            if (p[1] == '\0')
                break;
            out[o++] = ';';
            out[o++] = ' ';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return out;
}

int libpq_warehouse_init(struct libpq_warehouse *w, const struct warehouse_ops *ops,
                         const char *uri, const char *shown, const char *const *keys,
                         const char *const *values, const struct warehouse_dry_run *dry_run,
                         struct sp_error *err)
{
    memset(w, 0, sizeof *w);
    w->base.ops = ops;
    if (dry_run) {
        w->base.dry_run = *dry_run;
        w->base.display = xstrdup(shown);
        return SP_OK;
    }
    /* Later keywords win, so the URI's own settings (expanded from dbname) override the
     * defaults before it. */
    const char *k[8], *v[8];
    size_t n = 0;
    for (; keys[n] && n < 6; n++) {
        k[n] = keys[n];
        v[n] = values[n];
    }
    k[n] = "dbname";
    v[n++] = uri;
    k[n] = v[n] = NULL;
    PGconn *conn = PQconnectdbParams(k, v, 1);
    if (!conn)
        return sp_fail(err, "%s: cannot connect: out of memory", shown);
    if (PQstatus(conn) != CONNECTION_OK) {
        char line[768];
        one_line(PQerrorMessage(conn), line, sizeof line);
        PQfinish(conn);
        return sp_fail(err, "%s: cannot connect: %s", shown, line);
    }
    w->conn = conn;
    w->base.display = xstrdup(shown);
    return SP_OK;
}

void libpq_warehouse_release(struct libpq_warehouse *w)
{
    if (w->conn)
        PQfinish(w->conn);
    w->conn = NULL;
    free(w->base.display);
    w->base.display = NULL;
}

int libpq_fail(struct libpq_warehouse *w, struct sp_error *err, const char *what, const char *sql,
               const char *message)
{
    char line[768], statement[208];
    one_line(message ? message : PQerrorMessage(w->conn), line, sizeof line);
    if (sql)
        return sp_fail(err, "%s: %s: %s [%s]", w->base.display, what, line,
                       one_line(sql, statement, sizeof statement));
    return sp_fail(err, "%s: %s: %s", w->base.display, what, line);
}

int libpq_exec(struct libpq_warehouse *w, const char *sql, struct sp_error *err)
{
    if (warehouse_dry_run(&w->base, sql))
        return SP_OK;
    PGresult *r = PQexec(w->conn, sql);
    ExecStatusType s = PQresultStatus(r);
    int status = SP_OK;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        status = libpq_fail(w, err, "SQL failed", sql, PQresultErrorMessage(r));
    PQclear(r);
    return status;
}

void libpq_rollback(struct libpq_warehouse *w)
{
    if (w->conn && PQtransactionStatus(w->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(w->conn, "ROLLBACK");
        PQclear(r);
    }
}

/* PostgreSQL prints timestamps without trailing zeros in the fraction; sparkify shows
 * start_time with exactly three fractional digits on every target. */
static size_t normalise_timestamp(const char *text, size_t len, char *out, size_t size)
{
    if (len + 4 >= size)
        return 0;
    memcpy(out, text, len);
    const char *dot = memchr(text, '.', len);
    size_t digits = dot ? len - (size_t)(dot - text) - 1 : 0;
    if (!dot)
        out[len++] = '.';
    while (digits++ < 3)
        out[len++] = '0';
    out[len] = '\0';
    return len;
}

static void result_cell(PGresult *r, int i, struct cell *c, char *stamp, size_t stamp_size)
{
    const char *text = PQgetvalue(r, 0, i);
    size_t len = (size_t)PQgetlength(r, 0, i);
    switch (PQgetisnull(r, 0, i) ? 0 : PQftype(r, i)) {
    case 0:
        c->type = CELL_NULL;
        break;
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        c->type = CELL_INT;
        c->i = strtoll(text, NULL, 10);
        break;
    case OID_FLOAT4:
    case OID_FLOAT8:
        c->type = CELL_DOUBLE;
        c->d = strtod(text, NULL);
        break;
    case OID_TIMESTAMP:
        c->type = CELL_TEXT;
        c->text.ptr = stamp;
        c->text.len = normalise_timestamp(text, len, stamp, stamp_size);
        if (c->text.len == 0) {
            c->text.ptr = text;
            c->text.len = len;
        }
        break;
    default:
        c->type = CELL_TEXT;
        c->text.ptr = text;
        c->text.len = len;
    }
}

int libpq_query(struct libpq_warehouse *w, const char *sql, warehouse_row_fn fn, void *ctx,
                struct sp_error *err)
{
    if (warehouse_dry_run(&w->base, sql))
        return SP_OK;
    if (!PQsendQuery(w->conn, sql))
        return libpq_fail(w, err, "query failed", sql, NULL);
    PQsetSingleRowMode(w->conn);
    int status = SP_OK;
    PGresult *r;
    const char *names[MAX_COLUMNS];
    struct cell values[MAX_COLUMNS];
    char stamps[MAX_COLUMNS][40];
    while ((r = PQgetResult(w->conn)) != NULL) {
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_SINGLE_TUPLE && status == SP_OK && fn) {
            int columns = PQnfields(r);
            if (columns > MAX_COLUMNS)
                status = sp_fail(err, "%s: a query may return at most %d columns", w->base.display,
                                 MAX_COLUMNS);
            for (int i = 0; status == SP_OK && i < columns; i++) {
                names[i] = PQfname(r, i);
                result_cell(r, i, &values[i], stamps[i], sizeof stamps[i]);
            }
            if (status == SP_OK)
                status = fn(ctx, (size_t)columns, names, values);
        } else if (s != PGRES_SINGLE_TUPLE && s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK &&
                   status == SP_OK) {
            status = libpq_fail(w, err, "query failed", sql, PQresultErrorMessage(r));
        }
        PQclear(r);
    }
    return status;
}
