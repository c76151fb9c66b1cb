/* warehouse_redshift.c - an Amazon Redshift cluster as the warehouse, through libpq.
 *
 * Redshift speaks the PostgreSQL protocol, so the connection, queries and errors are those of
 * libpq_session.c, with sslmode=require unless the URL asks otherwise. What differs is the
 * DDL and the way data arrives: Redshift COPYs the raw JSON from S3 itself (load_server.c), so
 * sparkify only ever writes a few bookkeeping rows, as multi-row INSERTs. Distribution: the
 * fact table and time (as large as the fact table) share DISTKEY start_time so their join stays
 * on each slice; the other dimensions and the small bookkeeping tables are DISTSTYLE ALL;
 * staging tables are BACKUP NO, which only DC2 clusters honour ("No-backup tables aren't
 * supported for RA3 provisioned clusters and Amazon Redshift Serverless workgroups",
 * https://docs.aws.amazon.com/redshift/latest/mgmt/snapshot-create.html).
 * Redshift commits a transaction at TRUNCATE, so tables are emptied with DELETE, and it does
 * not enforce keys: the transform de-duplicates itself. The DDL is made from table_defs: text
 * columns are VARCHAR of the one list of sizes (record.h), which the parser holds every target
 * to, and COLLATE case_sensitive, whatever the database's collation.
 */
#include "warehouse_redshift.h"

#include "libpq_session.h"
#include "warehouse_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows per INSERT: a few hundred keep statements far below Redshift's 16 MB limit. */
#define ROWS_PER_INSERT 500

struct redshift_warehouse {
    struct libpq_warehouse pq;
};

/* What table_defs does not say about a table's DDL: its NOT NULL columns, a column before those
 * of table_defs (songplay_id, which no row carries), and what follows the columns. */
struct table_ddl {
    const char *not_null; /* column names, each followed by a space */
    const char *first;
    const char *tail;
};

static const struct table_ddl table_ddl[TABLE_COUNT] = {
    [TABLE_STAGING_EVENTS] = {"", NULL, ") BACKUP NO DISTSTYLE EVEN"},
    [TABLE_STAGING_SONGS] = {"", NULL, ") BACKUP NO DISTSTYLE EVEN"},
    [TABLE_SONGPLAYS] = {"start_time user_id ", "songplay_id BIGINT IDENTITY(0, 1) NOT NULL",
                         ", PRIMARY KEY (songplay_id)) DISTKEY (start_time) SORTKEY (start_time)"},
    [TABLE_USERS] = {"user_id ", NULL, ", PRIMARY KEY (user_id)) DISTSTYLE ALL SORTKEY (user_id)"},
    [TABLE_SONGS] = {"song_id ", NULL, ", PRIMARY KEY (song_id)) DISTSTYLE ALL SORTKEY (song_id)"},
    [TABLE_ARTISTS] = {"artist_id ", NULL,
                       ", PRIMARY KEY (artist_id)) DISTSTYLE ALL SORTKEY (artist_id)"},
    [TABLE_TIME] = {"start_time hour day week month year weekday ", NULL,
                    ", PRIMARY KEY (start_time)) DISTKEY (start_time) SORTKEY (start_time)"},
    [TABLE_SONG_LOOKUP] = {"title artist_name duration song_id ", NULL,
                           ") DISTSTYLE ALL SORTKEY (title)"},
    [TABLE_USER_LATEST] = {"user_id start_time ", NULL,
                           ", PRIMARY KEY (user_id)) DISTSTYLE ALL SORTKEY (user_id)"},
    [TABLE_LOADED_OBJECTS] = {"kind object_key size version loaded_at ", NULL,
                              ", PRIMARY KEY (kind, object_key)) DISTSTYLE ALL"},
    [TABLE_LOAD_ERRORS] = {"source line reason loaded_at ", NULL, ") DISTSTYLE EVEN"},
    [TABLE_ETL_RUNS] = {"run_at log_objects song_objects events songplays bad_records ", NULL,
                        ") DISTSTYLE ALL"},
};

/* Whether `name` is one of the space-terminated names of `list`. */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && p[n] == ' ')
            return true;
    return false;
}

/* Column `c` of `def` as Redshift declares it. Text is VARCHAR of the size of the one list
 * (table_defs, record.h), in bytes as Redshift counts them, and COLLATE case_sensitive: a
 * database created case-insensitive makes every comparison, ORDER BY, GROUP BY and DISTINCT on
 * its columns ignore case ("If CASE_INSENSITIVE is specified, all CHAR or VARCHAR columns use
 * case-insensitive collation",
 * https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_DATABASE.html) unless a column says
 * otherwise ("COLLATE CASE_SENSITIVE | COLLATE CASE_INSENSITIVE ... The default value is the same
 * as the current case sensitivity configuration of the database",
 * https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html), and the match, the
 * keys and the rules compare bytes on every target. start_time is a TIMESTAMP, as on PostgreSQL.
 * RAW is a reserved word (https://docs.aws.amazon.com/redshift/latest/dg/r_pg_keywords.html). */
static void column_ddl(struct buffer *sql, const struct table_def *def, size_t c)
{
    const char *name = def->columns[c];
    buffer_printf(sql, strcmp(name, "raw") == 0 ? "\"%s\" " : "%s ", name);
    switch (def->types[c]) {
    case COLUMN_INT:
        buffer_append_str(sql, "INTEGER");
        break;
    case COLUMN_BIGINT:
        buffer_append_str(sql, "BIGINT");
        break;
    case COLUMN_DOUBLE:
        buffer_append_str(sql, "DOUBLE PRECISION");
        break;
    case COLUMN_TEXT:
        if (strcmp(name, "start_time") == 0)
            buffer_append_str(sql, "TIMESTAMP");
        else
            buffer_printf(sql, "VARCHAR(%u) COLLATE case_sensitive", (unsigned)def->text_bytes[c]);
        break;
    }
}

/* The CREATE TABLE statement of table `t`, made from table_defs. */
static void create_sql(struct buffer *sql, enum table_id t)
{
    const struct table_def *def = &table_defs[t];
    const struct table_ddl *ddl = &table_ddl[t];
    buffer_clear(sql);
    buffer_printf(sql, "CREATE TABLE IF NOT EXISTS %s (", def->name);
    if (ddl->first)
        buffer_printf(sql, "%s, ", ddl->first);
    for (size_t c = 0; c < def->column_count; c++) {
        if (c)
            buffer_append_str(sql, ", ");
        column_ddl(sql, def, c);
        if (listed(ddl->not_null, def->columns[c]))
            buffer_append_str(sql, " NOT NULL");
    }
    buffer_append_str(sql, ddl->tail);
}

static struct redshift_warehouse *as_redshift(struct warehouse *wh)
{
    return (struct redshift_warehouse *)wh;
}

static int rs_exec(struct warehouse *wh, const char *sql, struct sp_error *err)
{
    return libpq_exec(&as_redshift(wh)->pq, sql, err);
}

/* Runs the CREATE TABLE statement of table `t`. */
static int rs_create_table(struct warehouse *wh, enum table_id t, struct sp_error *err)
{
    struct buffer sql;
    buffer_init(&sql);
    create_sql(&sql, t);
    int status = rs_exec(wh, sql.data, err);
    buffer_release(&sql);
    return status;
}

static int first_count(void *ctx, size_t columns, const char *const *names, const struct cell *v)
{
    (void)names;
    if (columns == 1 && v[0].type == CELL_INT)
        *(long *)ctx = (long)v[0].i;
    return SP_OK;
}

static int rs_create_tables(struct warehouse *wh, bool drop_first, struct sp_error *err)
{
    char drop[96];
    int status = SP_OK;
    for (int t = 0; status == SP_OK && t < TABLE_COUNT; t++) {
        snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS %s CASCADE", table_defs[t].name);
        if (drop_first)
            status = rs_exec(wh, drop, err);
        if (status == SP_OK)
            status = rs_create_table(wh, (enum table_id)t, err);
    }
    /* A warehouse from before content fingerprints gains the column (ADD COLUMN may run in a
     * transaction block; only external tables may not: r_ALTER_TABLE), of the database's
     * collation: "Amazon Redshift doesn't support the COLLATE key word when appending a new
     * column" (r_CREATE_TABLE_NEW). Fingerprints are compared in sparkify, not in SQL. */
    long present = 1;
    if (status == SP_OK && !drop_first && !wh->dry_run.fn)
        status = libpq_query(&as_redshift(wh)->pq, REDSHIFT_FINGERPRINT_COLUMN_SQL, first_count,
                             &present, err);
    if (status == SP_OK && !present) {
        const struct table_def *def = &table_defs[TABLE_LOADED_OBJECTS];
        char sql[96];
        snprintf(sql, sizeof sql, "ALTER TABLE loaded_objects ADD COLUMN fingerprint VARCHAR(%u)",
                 (unsigned)def->text_bytes[def->column_count - 1]);
        status = rs_exec(wh, sql, err);
    }
    return status;
}

static int rs_begin(struct warehouse *wh, struct sp_error *err)
{
    return rs_exec(wh, "BEGIN", err);
}

static int rs_commit(struct warehouse *wh, struct sp_error *err)
{
    return rs_exec(wh, "COMMIT", err);
}

static void rs_rollback(struct warehouse *wh)
{
    libpq_rollback(&as_redshift(wh)->pq);
}

/* DELETE, not TRUNCATE, which would commit the run's transaction
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_TRUNCATE.html). Deleted rows stay until a
 * VACUUM reclaims them, so the staging tables, emptied by every run, are dropped and created
 * again instead, inside the transaction: nothing is left behind. */
static int rs_truncate(struct warehouse *wh, unsigned tables, struct sp_error *err)
{
    char sql[96];
    int status = SP_OK;
    for (int t = 0; status == SP_OK && t < TABLE_COUNT; t++) {
        if (!(tables & (1u << t)))
            continue;
        if (t == TABLE_STAGING_EVENTS || t == TABLE_STAGING_SONGS) {
            snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", table_defs[t].name);
            status = rs_exec(wh, sql, err);
            if (status == SP_OK)
                status = rs_create_table(wh, (enum table_id)t, err);
        } else {
            snprintf(sql, sizeof sql, "DELETE FROM %s", table_defs[t].name);
            status = rs_exec(wh, sql, err);
        }
    }
    return status;
}

static void append_value(struct buffer *sql, const struct cell *c)
{
    switch (c->type) {
    case CELL_INT:
        buffer_printf(sql, "%lld", (long long)c->i);
        break;
    case CELL_DOUBLE:
        buffer_printf(sql, "%.17g", c->d);
        break;
    case CELL_TEXT:
        redshift_literal(sql, c->text.ptr, c->text.len);
        break;
    default:
        buffer_append_str(sql, "NULL");
    }
}

/* loaded_objects rows replace the record of objects loaded before (a changed song file). */
static void delete_loaded(struct buffer *sql, const struct rowbuf *rows, size_t first, size_t n,
                          const char *kind)
{
    size_t listed = 0;
    for (size_t r = first; r < first + n; r++) {
        const struct cell *row = rowbuf_row(rows, r);
        if (!cell_is_text(&row[0], kind, strlen(kind)))
            continue;
        if (listed++ == 0)
            buffer_printf(sql, "DELETE FROM loaded_objects WHERE kind = '%s' AND object_key IN (",
                          kind);
        else
            buffer_append_str(sql, ", ");
        append_value(sql, &row[1]);
    }
    if (listed)
        buffer_append_char(sql, ')');
}

static int rs_write(struct warehouse *wh, const struct rowbuf *rows, struct sp_error *err)
{
    const struct table_def *def = &table_defs[rows->table];
    struct buffer sql;
    buffer_init(&sql);
    int status = SP_OK;
    for (size_t first = 0; status == SP_OK && first < rows->rows; first += ROWS_PER_INSERT) {
        size_t n = rows->rows - first < ROWS_PER_INSERT ? rows->rows - first : ROWS_PER_INSERT;
        if (rows->table == TABLE_LOADED_OBJECTS) {
            const char *kinds[] = {"song", "log"};
            for (size_t k = 0; status == SP_OK && k < 2; k++) {
                buffer_clear(&sql);
                delete_loaded(&sql, rows, first, n, kinds[k]);
                if (sql.len)
                    status = rs_exec(wh, sql.data, err);
            }
        }
        buffer_clear(&sql);
        buffer_printf(&sql, "INSERT INTO %s (", def->name);
        for (size_t c = 0; c < def->column_count; c++)
            buffer_printf(&sql, "%s\"%s\"", c ? ", " : "", def->columns[c]);
        buffer_append_str(&sql, ") VALUES ");
        for (size_t r = first; r < first + n; r++) {
            const struct cell *row = rowbuf_row(rows, r);
            buffer_append_str(&sql, r > first ? ", (" : "(");
            for (size_t c = 0; c < rows->columns; c++) {
                if (c)
                    buffer_append_str(&sql, ", ");
                append_value(&sql, &row[c]);
            }
            buffer_append_char(&sql, ')');
        }
        if (status == SP_OK)
            status = rs_exec(wh, sql.data, err);
    }
    buffer_release(&sql);
    return status;
}

static int rs_query(struct warehouse *wh, const char *sql, warehouse_row_fn fn, void *ctx,
                    struct sp_error *err)
{
    return libpq_query(&as_redshift(wh)->pq, sql, fn, ctx, err);
}

static int rs_user_query(struct warehouse *wh, const char *sql, bool write, warehouse_row_fn fn,
                         void *ctx, struct sp_error *err)
{
    return libpq_user_query(&as_redshift(wh)->pq, sql, write, fn, ctx, err);
}

static void rs_close(struct warehouse *wh)
{
    struct redshift_warehouse *w = as_redshift(wh);
    libpq_warehouse_release(&w->pq);
    free(w);
}

static const struct warehouse_ops redshift_ops = {
    .engine = "redshift",
    .sql_transform = true,
    .server_load = true,
    .create_tables = rs_create_tables,
    .begin = rs_begin,
    .commit = rs_commit,
    .rollback = rs_rollback,
    .truncate = rs_truncate,
    .write = rs_write,
    .query = rs_query,
    .user_query = rs_user_query,
    .close = rs_close,
};

int warehouse_open_redshift(const struct libpq_target *target,
                            const struct warehouse_dry_run *dry_run, struct warehouse **out,
                            struct sp_error *err)
{
    static const char *const keys[] = {"connect_timeout", "application_name", "sslmode", NULL};
    static const char *const values[] = {"10", "sparkify", "require", NULL};
    struct redshift_warehouse *w = xcalloc(1, sizeof *w);
    int status = libpq_warehouse_init(&w->pq, &redshift_ops, target, keys, values, dry_run, err);
    if (status != SP_OK) {
        free(w);
        return status;
    }
    /* UTC like the other targets; doubles with every digit, read back as the same double. */
    status = rs_exec(&w->pq.base, "SET timezone TO 'UTC'; SET extra_float_digits TO 2", err);
    if (status != SP_OK) {
        rs_close(&w->pq.base);
        return status;
    }
    *out = &w->pq.base;
    return SP_OK;
}

/* ---- literals and COPY ---- */

void redshift_literal(struct buffer *sql, const char *s, size_t len)
{
    buffer_append_char(sql, '\'');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            buffer_append_char(sql, s[i]);
        buffer_append_char(sql, s[i]);
    }
    buffer_append_char(sql, '\'');
}

int redshift_check_value(const char *what, const char *value, struct sp_error *err)
{
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return sp_usage(err, "%s holds a control character (byte 0x%02x at offset %zu)", what,
                            *p, (size_t)(p - (const unsigned char *)value));
    return SP_OK;
}

/* One role ARN, arn:PARTITION:iam::ACCOUNT:role/PATH/NAME, name characters as IAM allows them;
 * `end` is where it stops (the end of the string, or the comma before the next ARN). */
static bool role_arn(const char *arn, const char *end)
{
    const char *p = arn;
    if (end - p < 4 || strncmp(p, "arn:", 4) != 0)
        return false;
    p += 4;
    while (p < end && (islower((unsigned char)*p) || *p == '-'))
        p++;
    if (p == arn + 4 || end - p < 6 || strncmp(p, ":iam::", 6) != 0)
        return false;
    p += 6;
    const char *digits = p;
    while (p < end && isdigit((unsigned char)*p))
        p++;
    if (p - digits != 12 || end - p < 7 || strncmp(p, ":role/", 6) != 0)
        return false;
    for (p += 6; p < end; p++)
        if (!isalnum((unsigned char)*p) && !strchr("+=,.@_-/", *p))
            return false;
    return true;
}

int redshift_check_iam_role(const char *arn, struct sp_error *err)
{
    /* `default` is the cluster's default role; a chain is a comma-separated list of at most 10
     * ARNs without spaces, each assuming the next (role names may hold commas themselves, so
     * an ARN ends only where ",arn:" begins the next)
     * (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-authorization.html,
     * https://docs.aws.amazon.com/redshift/latest/mgmt/authorizing-redshift-service.html). */
    if (strcmp(arn, "default") == 0)
        return SP_OK;
    bool ok = *arn != '\0';
    int roles = 0;
    for (const char *p = arn; ok && *p; roles++) {
        const char *next = strstr(p, ",arn:");
        const char *end = next ? next : p + strlen(p);
        ok = role_arn(p, end) && roles < 10;
        p = next ? next + 1 : end;
    }
    if (!ok)
        return sp_usage(err,
                        "IAM role '%.200s' is not `default` or a role ARN like "
                        "arn:aws:iam::123456789012:role/NAME (or up to 10 of them, "
                        "comma-separated, for a chain)",
                        arn);
    return SP_OK;
}

int redshift_check_region(const char *region, struct sp_error *err)
{
    bool ok = *region != '\0';
    for (const char *p = region; ok && *p; p++)
        ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-';
    if (!ok)
        return sp_usage(err, "region '%.100s' is not a region name like us-west-2", region);
    return SP_OK;
}

int redshift_copy_sql(struct buffer *sql, const struct redshift_copy *copy, struct sp_error *err)
{
    if (redshift_check_value("the COPY source", copy->from, err) != SP_OK ||
        (copy->jsonpath && redshift_check_value("the JSONPaths file", copy->jsonpath, err)) ||
        redshift_check_iam_role(copy->iam_role, err) != SP_OK ||
        redshift_check_region(copy->region, err) != SP_OK)
        return err->status;
    buffer_printf(sql, "COPY %s FROM ", copy->table);
    redshift_literal(sql, copy->from, strlen(copy->from));
    buffer_append_str(sql, " IAM_ROLE ");
    if (strcmp(copy->iam_role, "default") == 0)
        buffer_append_str(sql, "default"); /* a keyword, not a literal */
    else
        redshift_literal(sql, copy->iam_role, strlen(copy->iam_role));
    if (copy->manifest)
        buffer_append_str(sql, " MANIFEST");
    buffer_append_str(sql, " FORMAT AS JSON ");
    if (copy->jsonpath)
        redshift_literal(sql, copy->jsonpath, strlen(copy->jsonpath));
    else
        buffer_append_str(sql, "'auto'");
    buffer_append_str(sql, " REGION ");
    redshift_literal(sql, copy->region, strlen(copy->region));
    if (copy->gzip)
        buffer_append_str(sql, " GZIP");
    /* "If the load returns the error_count number of errors or greater, the load fails"
     * (copy-parameters-data-load.html#copy-maxerror): to skip N bad records, MAXERROR N + 1. */
    if (copy->max_errors > 0)
        buffer_printf(sql, " MAXERROR %ld", copy->max_errors + 1);
    /* Staging tables are emptied every run: sampling them for compression or statistics
     * would only slow the load down. */
    buffer_append_str(sql, " COMPUPDATE OFF STATUPDATE OFF");
    return SP_OK;
}

/* SYS_LOAD_ERROR_DETAIL exists on provisioned clusters and on Serverless, and AWS recommends it
 * over STL_LOAD_ERRORS (https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html).
 * This session's latest COPY, failed or not, is the newest row of SYS_LOAD_HISTORY whose
 * session_id, "the process identifier of the process running the copy", is the session's
 * PG_BACKEND_PID() (https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_HISTORY.html). Not
 * PG_LAST_COPY_ID(): it is documented for STL_LOAD_ERRORS, whose query ids are not SYS's
 * query_id (https://docs.aws.amazon.com/redshift/latest/dg/r_STL_QUERY.html), and a rollback
 * leaves it as it was. SYS_LOAD_ERROR_DETAIL keeps no raw line. */
const char redshift_load_errors_sql[] =
    "SELECT TRIM(file_name) AS file_name, line_number, TRIM(column_name) AS column_name, "
    "TRIM(error_message) AS reason, NULL AS raw_line FROM sys_load_error_detail "
    "WHERE query_id = (SELECT MAX(query_id) FROM sys_load_history "
    "WHERE session_id = PG_BACKEND_PID()) ORDER BY file_name, line_number";
