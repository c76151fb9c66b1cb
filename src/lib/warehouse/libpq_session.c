/* libpq_session.c - the libpq connection the PostgreSQL and Redshift warehouses share (see
 * libpq_session.h). */
#include "libpq_session.h"

#include "buffer.h"

#include <stdbool.h>
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

/* libpq prints every notice on stderr by default: Redshift's INFO line after each COPY would
 * break into the progress line and fill a scheduler's log. Only warnings are passed on. */
static void on_notice(void *arg, const PGresult *notice)
{
    const struct libpq_warehouse *w = arg;
    const char *severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (!severity)
        severity = PQresultErrorField(notice, PG_DIAG_SEVERITY);
    const char *message = PQresultErrorField(notice, PG_DIAG_MESSAGE_PRIMARY);
    if (!severity || strcmp(severity, "WARNING") != 0 || !message)
        return;
    char text[768], line[1024];
    snprintf(line, sizeof line, "%s: %s", w->base.display ? w->base.display : "server",
             one_line(message, text, sizeof text));
    if (w->base.warning.fn)
        w->base.warning.fn(w->base.warning.ctx, line);
    else
        fprintf(stderr, "sparkify: warning: %s\n", line);
}

/* ---- targets ---- */

static bool is_uri(const char *conninfo)
{
    return strncmp(conninfo, "postgresql://", 13) == 0 || strncmp(conninfo, "postgres://", 11) == 0;
}

/* libpq's parse errors quote the input ("invalid percent-encoded token: \"p%zz\""), which may be
 * a password: every quoted part but a lone mark of libpq's own grammar becomes "…". */
static void elide_quoted(const char *message, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = message; *p && o + 8 < size;) {
        const char *end = *p == '"' ? strchr(p + 1, '"') : NULL;
        if (*p == '"' && !end)
            break; /* an unbalanced quote: what follows may be input */
        if (end && end == p + 2 && strchr("=:/]", p[1])) {
            memcpy(out + o, p, 3);
            o += 3;
            p = end + 1;
        } else if (end) {
            memcpy(out + o, "\"…\"", 5);
            o += 5;
            p = end + 1;
        } else {
            out[o++] = *p == '\n' ? ' ' : *p;
            p++;
        }
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

/* The '@' libpq takes as the end of user:password must be the only one before the query: any
 * other is part of a user name or password left unencoded, which libpq would read as the host,
 * port or database (and then show in its messages). A '?' before that '@' is refused as well,
 * since libpq's look-ahead for the '@' runs past it. */
static bool uri_has_stray_at(const char *uri)
{
    const char *rest = strstr(uri, "://") + 3;
    size_t query = strcspn(rest, "?");
    size_t before_slash = strcspn(rest, "/");
    const char *userinfo_end = memchr(rest, '@', before_slash);
    if (userinfo_end && (size_t)(userinfo_end - rest) > query)
        return true;
    for (size_t i = 0; i < query; i++)
        if (rest[i] == '@' && rest + i != userinfo_end)
            return true;
    return false;
}

/* Each of a comma-separated list of ports is empty (libpq's default) or 1..65535. */
static bool ports_valid(const char *ports)
{
    for (const char *p = ports; *p;) {
        size_t len = strcspn(p, ",");
        long value = 0;
        for (size_t i = 0; i < len; i++) {
            if (p[i] < '0' || p[i] > '9' || value > 65535)
                return false;
            value = value * 10 + (p[i] - '0');
        }
        if (len && (value < 1 || value > 65535))
            return false;
        p += len + (p[len] == ',');
    }
    return true;
}

static void add_setting(struct libpq_target *t, const char *key, const char *value)
{
    if (t->count < LIBPQ_MAX_SETTINGS) {
        t->keys[t->count] = key;
        t->values[t->count++] = value;
    }
    t->keys[t->count] = t->values[t->count] = NULL;
}

const char *libpq_target_value(const struct libpq_target *t, const char *key)
{
    const char *value = NULL;
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->keys[i], key) == 0)
            value = t->values[i]; /* libpq, too, takes the last of a keyword given twice */
    return value;
}

/* What libpq marks as not to be shown (dispchar '*'): password, sslpassword. A keyword libpq
 * does not know is hidden too (libpq refuses it when connecting). */
static bool is_secret(const PQconninfoOption *known, const char *key)
{
    for (const PQconninfoOption *o = known; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0)
            return o->dispchar && o->dispchar[0] == '*';
    return true;
}

static bool shown_in_place(const char *key, bool host_in_authority)
{
    return strcmp(key, "user") == 0 || strcmp(key, "password") == 0 || strcmp(key, "dbname") == 0 ||
           (host_in_authority && (strcmp(key, "host") == 0 || strcmp(key, "port") == 0));
}

/* scheme://user:***@host:port/dbname?other=settings, with every secret as ***. */
static char *target_display(const struct libpq_target *t, const char *scheme)
{
    PQconninfoOption *known = PQconninfoParse("", NULL);
    const char *user = libpq_target_value(t, "user"), *password = libpq_target_value(t, "password");
    const char *host = libpq_target_value(t, "host"), *port = libpq_target_value(t, "port");
    const char *dbname = libpq_target_value(t, "dbname");
    bool host_in_authority = host && *host && !strpbrk(host, "/@?,");
    struct buffer shown;
    buffer_init(&shown);
    buffer_printf(&shown, "%s://", scheme);
    if ((user && *user) || (password && *password))
        buffer_printf(&shown, "%s%s@", user ? user : "", password && *password ? ":***" : "");
    if (host_in_authority) {
        buffer_append_str(&shown, host);
        if (port && *port)
            buffer_printf(&shown, ":%s", port);
    }
    if (dbname && *dbname)
        buffer_printf(&shown, "/%s", dbname);
    char separator = '?';
    for (size_t i = 0; i < t->count; i++) {
        if (shown_in_place(t->keys[i], host_in_authority) || !*t->values[i])
            continue;
        buffer_printf(&shown, "%c%s=%s", separator, t->keys[i],
                      is_secret(known, t->keys[i]) ? "***" : t->values[i]);
        separator = '&';
    }
    PQconninfoFree(known);
    return shown.data;
}

/* `shown`: how errors name the target, which may not be shown yet. */
static int target_finish(struct libpq_target *t, const char *scheme, const char *shown,
                         struct sp_error *err)
{
    const char *port = libpq_target_value(t, "port");
    if (port && !ports_valid(port))
        return sp_usage(err, "%s: the port is not a number from 1 to 65535", shown);
    t->display = target_display(t, scheme);
    return SP_OK;
}

int libpq_target_parse(struct libpq_target *t, const char *scheme, const char *conninfo,
                       struct sp_error *err)
{
    memset(t, 0, sizeof *t);
    bool uri = is_uri(conninfo);
    char shown[64];
    if (uri)
        snprintf(shown, sizeof shown, "target %s://…", scheme);
    else
        snprintf(shown, sizeof shown, "target (a libpq keyword string)");
    if (uri && uri_has_stray_at(conninfo))
        return sp_usage(err,
                        "%s: an '@', '/' or '?' in a user name or password must be "
                        "percent-encoded (%%40, %%2F, %%3F)",
                        shown);
    char *message = NULL;
    t->parsed = PQconninfoParse(conninfo, &message);
    if (!t->parsed) {
        char reason[256];
        elide_quoted(message ? message : "out of memory", reason, sizeof reason);
        PQfreemem(message);
        return sp_usage(err, "%s: not a valid connection %s: %s", shown, uri ? "URL" : "string",
                        reason);
    }
    for (PQconninfoOption *o = t->parsed; o->keyword; o++)
        if (o->val)
            add_setting(t, o->keyword, o->val);
    return target_finish(t, scheme, shown, err);
}

int libpq_target_keywords(struct libpq_target *t, const char *scheme, const char *const *keys,
                          const char *const *values, struct sp_error *err)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; keys[i]; i++)
        add_setting(t, keys[i], values[i]);
    char shown[64];
    snprintf(shown, sizeof shown, "target %s://…", scheme);
    return target_finish(t, scheme, shown, err);
}

void libpq_target_release(struct libpq_target *t)
{
    if (t->parsed)
        PQconninfoFree(t->parsed);
    free(t->display);
    memset(t, 0, sizeof *t);
}

/* libpq does not put a password in its messages; should one ever carry a secret of the
 * target all the same, it is masked here. */
static void mask_secrets(char *line, const struct libpq_target *t)
{
    PQconninfoOption *known = PQconninfoParse("", NULL);
    for (size_t i = 0; i < t->count; i++) {
        size_t n = strlen(t->values[i]);
        if (n < 3 || !is_secret(known, t->keys[i]))
            continue;
        char *p;
        while ((p = strstr(line, t->values[i])) != NULL) {
            memcpy(p, "***", 3);
            memmove(p + 3, p + n, strlen(p + n) + 1);
        }
    }
    PQconninfoFree(known);
}

int libpq_warehouse_init(struct libpq_warehouse *w, const struct warehouse_ops *ops,
                         const struct libpq_target *target, const char *const *keys,
                         const char *const *values, const struct warehouse_dry_run *dry_run,
                         struct sp_error *err)
{
    memset(w, 0, sizeof *w);
    w->base.ops = ops;
    const char *shown = target->display;
    if (dry_run) {
        w->base.dry_run = *dry_run;
        w->base.display = xstrdup(shown);
        return SP_OK;
    }
    /* The defaults first, each unless the target sets it; expand_dbname 0: a dbname is a name. */
    const char *k[LIBPQ_MAX_SETTINGS + 8], *v[LIBPQ_MAX_SETTINGS + 8];
    size_t n = 0;
    for (size_t i = 0; keys[i] && n < 6; i++) {
        if (!libpq_target_value(target, keys[i])) {
            k[n] = keys[i];
            v[n++] = values[i];
        }
    }
    for (size_t i = 0; i < target->count; i++) {
        k[n] = target->keys[i];
        v[n++] = target->values[i];
    }
    k[n] = v[n] = NULL;
    PGconn *conn = PQconnectdbParams(k, v, 0);
    if (!conn)
        return sp_fail(err, "%s: cannot connect: out of memory", shown);
    if (PQstatus(conn) != CONNECTION_OK) {
        char line[768];
        one_line(PQerrorMessage(conn), line, sizeof line);
        mask_secrets(line, target);
        PQfinish(conn);
        return sp_fail(err, "%s: cannot connect: %s", shown, line);
    }
    w->conn = conn;
    w->base.display = xstrdup(shown);
    PQsetNoticeReceiver(conn, on_notice, w);
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

/* Reads the results of the query sent, handing each row to `fn`; the first error wins. */
static int read_results(struct libpq_warehouse *w, const char *sql, warehouse_row_fn fn, void *ctx,
                        struct sp_error *err, PGresult **failed)
{
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
            if (failed) {
                *failed = r;
                continue;
            }
        }
        PQclear(r);
    }
    return status;
}

int libpq_query(struct libpq_warehouse *w, const char *sql, warehouse_row_fn fn, void *ctx,
                struct sp_error *err)
{
    if (warehouse_dry_run(&w->base, sql))
        return SP_OK;
    if (!PQsendQuery(w->conn, sql))
        return libpq_fail(w, err, "query failed", sql, NULL);
    return read_results(w, sql, fn, ctx, err, NULL);
}

/* SQLSTATE 42601 without a position is the extended protocol's refusal of a string holding
 * several statements (a syntax error points at its place); 25006 is a change attempted in a
 * read-only transaction. */
static int user_query_refusal(struct libpq_warehouse *w, const PGresult *r, const char *sql,
                              struct sp_error *err)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    char statement[208];
    one_line(sql, statement, sizeof statement);
    if (state && strcmp(state, "42601") == 0 && !PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION))
        return sp_usage(err,
                        "%s: query runs one SQL statement at a time, and this holds more than one "
                        "[%s]",
                        w->base.display, statement);
    if (state && strcmp(state, "25006") == 0)
        return sp_usage(err,
                        "%s: query is read-only, and this statement would change the warehouse "
                        "(`sparkify query --write` allows it) [%s]",
                        w->base.display, statement);
    return SP_OK;
}

int libpq_user_query(struct libpq_warehouse *w, const char *sql, bool write, warehouse_row_fn fn,
                     void *ctx, struct sp_error *err)
{
    /* A statement of its own under --write is a transaction of its own, committed. */
    const char *begin = write ? NULL : "BEGIN READ ONLY";
    if (begin && warehouse_dry_run(&w->base, begin)) {
        warehouse_dry_run(&w->base, sql);
        warehouse_dry_run(&w->base, "ROLLBACK");
        return SP_OK;
    }
    if (warehouse_dry_run(&w->base, sql))
        return SP_OK;
    int status = begin ? libpq_exec(w, begin, err) : SP_OK;
    if (status != SP_OK)
        return status;
    /* The extended query protocol (parameters, here none) takes one statement only. */
    if (!PQsendQueryParams(w->conn, sql, 0, NULL, NULL, NULL, NULL, 0)) {
        status = libpq_fail(w, err, "query failed", sql, NULL);
    } else {
        PGresult *failed = NULL;
        status = read_results(w, sql, fn, ctx, err, &failed);
        if (failed) {
            int refusal = user_query_refusal(w, failed, sql, err);
            status = refusal != SP_OK ? refusal : status;
            PQclear(failed);
        }
    }
    libpq_rollback(w);
    return status;
}
