/* warehouse.c - picks the warehouse implementation from a target (see warehouse.h).
 *
 * A server target is parsed once, by libpq (libpq_session.c), into keywords; its display is built
 * from them. A target that names no engine is shown only as far as it can be without a secret.
 */
#include "warehouse.h"
#include "warehouse_int.h"

#include "buffer.h"
#include "libpq_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum engine { ENGINE_SQLITE, ENGINE_POSTGRES, ENGINE_REDSHIFT };

/* What is shown of a target no engine takes: its parsed settings when libpq reads it as a URL
 * (any password masked), else no more than its scheme. */
static char *unknown_target_display(const char *url)
{
    const char *scheme_end = strstr(url, "://");
    struct buffer shown;
    buffer_init(&shown);
    if (!scheme_end) {
        size_t plain = strcspn(url, "@=");
        if (url[plain])
            buffer_printf(&shown, "%.*s…", (int)strcspn(url, ":@="), url);
        else
            buffer_append_str(&shown, url);
        return shown.data;
    }
    char *scheme = xstrndup(url, (size_t)(scheme_end - url));
    struct buffer conninfo;
    buffer_init(&conninfo);
    buffer_printf(&conninfo, "postgresql://%s", scheme_end + 3);
    struct libpq_target pq;
    if (libpq_target_parse(&pq, scheme, conninfo.data, NULL) == SP_OK)
        buffer_append_str(&shown, pq.display);
    else
        buffer_printf(&shown, "%s://…", scheme);
    libpq_target_release(&pq);
    buffer_release(&conninfo);
    free(scheme);
    return shown.data;
}

/* The engine `target` names; a SQLite path, or a server target's libpq settings in `pq`. */
static int read_target(const struct warehouse_target *target, enum engine *engine,
                       const char **path, struct libpq_target *pq, struct sp_error *err)
{
    memset(pq, 0, sizeof *pq);
    const char *url = target->url;
    if (!url) {
        *engine = ENGINE_REDSHIFT;
        return libpq_target_keywords(pq, "redshift", target->keys, target->values, err);
    }
    if (strncmp(url, "sqlite:", 7) == 0) {
        *engine = ENGINE_SQLITE;
        *path = url + 7;
        if (strncmp(*path, "//", 2) == 0)
            *path += 2; /* sqlite://PATH is accepted too */
        if (**path == '\0')
            return sp_usage(err, "target %s: no database path (try sqlite:sparkify.db)", url);
        return SP_OK;
    }
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
        *engine = ENGINE_POSTGRES;
        return libpq_target_parse(pq, url[8] == ':' ? "postgres" : "postgresql", url, err);
    }
    if (strncmp(url, "redshift://", 11) == 0) {
        /* redshift://rest -> postgresql://rest: the same URI grammar, libpq's parser. */
        *engine = ENGINE_REDSHIFT;
        struct buffer conninfo;
        buffer_init(&conninfo);
        buffer_printf(&conninfo, "postgresql://%s", url + 11);
        int status = libpq_target_parse(pq, "redshift", conninfo.data, err);
        buffer_release(&conninfo);
        return status;
    }
    if (!strstr(url, "://") && strchr(url, '=')) {
        *engine = ENGINE_POSTGRES; /* a libpq keyword string, as libpq itself tells them apart */
        return libpq_target_parse(pq, "postgresql", url, err);
    }
    char *shown = unknown_target_display(url);
    int status = sp_usage(err,
                          "target '%s' is not understood: use sqlite:PATH, "
                          "postgresql://user@host:port/db (or a libpq keyword string) or "
                          "redshift://user@host:5439/db",
                          shown);
    free(shown);
    return status;
}

int warehouse_open_target(const struct warehouse_target *target, enum warehouse_mode mode,
                          const struct warehouse_dry_run *dry_run, struct warehouse **out,
                          struct sp_error *err)
{
    *out = NULL;
    enum engine engine;
    const char *path = NULL;
    struct libpq_target pq;
    int status = read_target(target, &engine, &path, &pq, err);
    /* A server database exists or the connection fails: `mode` does not apply. */
    if (status == SP_OK && engine == ENGINE_SQLITE)
        status = warehouse_open_sqlite(path, dry_run ? WAREHOUSE_READ : mode, dry_run, out, err);
    else if (status == SP_OK && engine == ENGINE_POSTGRES)
        status = warehouse_open_postgres(&pq, dry_run, out, err);
    else if (status == SP_OK)
        status = warehouse_open_redshift(&pq, dry_run, out, err);
    libpq_target_release(&pq);
    return status;
}

int warehouse_target_display(const struct warehouse_target *target, char **display,
                             struct sp_error *err)
{
    *display = NULL;
    enum engine engine;
    const char *path = NULL;
    struct libpq_target pq;
    int status = read_target(target, &engine, &path, &pq, err);
    if (status == SP_OK && engine == ENGINE_SQLITE) {
        struct buffer shown;
        buffer_init(&shown);
        buffer_printf(&shown, "sqlite:%s", path);
        *display = shown.data;
    } else if (status == SP_OK) {
        *display = xstrdup(pq.display);
    }
    libpq_target_release(&pq);
    return status;
}

int warehouse_open(const char *target, enum warehouse_mode mode, struct warehouse **out,
                   struct sp_error *err)
{
    const struct warehouse_target t = {target, NULL, NULL};
    return warehouse_open_target(&t, mode, NULL, out, err);
}

int warehouse_open_dry_run(const char *target, const struct warehouse_dry_run *dry_run,
                           struct warehouse **out, struct sp_error *err)
{
    const struct warehouse_target t = {target, NULL, NULL};
    return warehouse_open_target(&t, WAREHOUSE_READ, dry_run, out, err);
}

bool warehouse_dry_run(struct warehouse *wh, const char *sql)
{
    if (!wh->dry_run.fn)
        return false;
    wh->dry_run.fn(wh->dry_run.ctx, sql);
    return true;
}

void warehouse_mask_target(const char *target, char *out, size_t size)
{
    const struct warehouse_target t = {target, NULL, NULL};
    struct sp_error err;
    char *display = NULL;
    if (warehouse_target_display(&t, &display, &err) == SP_OK)
        snprintf(out, size, "%s", display);
    else
        snprintf(out, size, "%s", err.message);
    free(display);
}

static int note_table(void *ctx, size_t columns, const char *const *names,
                      const struct cell *values)
{
    (void)names;
    bool *present = ctx;
    for (int t = 0; columns && values[0].type == CELL_TEXT && t < TABLE_COUNT; t++)
        if (strlen(table_defs[t].name) == values[0].text.len &&
            memcmp(table_defs[t].name, values[0].text.ptr, values[0].text.len) == 0)
            present[t] = true;
    return SP_OK;
}

static int note_count(void *ctx, size_t columns, const char *const *names,
                      const struct cell *values)
{
    (void)names;
    if (columns && values[0].type == CELL_INT)
        *(long long *)ctx = values[0].i;
    return SP_OK;
}

int warehouse_data_summary(struct warehouse *wh, char **summary, struct sp_error *err)
{
    *summary = NULL;
    struct buffer sql;
    buffer_init(&sql);
    if (strcmp(wh->ops->engine, "sqlite") == 0)
        buffer_append_str(&sql,
                          "SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN (");
    else
        buffer_append_str(&sql, "SELECT table_name FROM information_schema.tables WHERE "
                                "table_schema = CURRENT_SCHEMA() AND table_name IN (");
    for (int t = 0; t < TABLE_COUNT; t++)
        buffer_printf(&sql, "%s'%s'", t ? ", " : "", table_defs[t].name);
    buffer_append_char(&sql, ')');
    bool present[TABLE_COUNT] = {false};
    int status = wh->ops->query(wh, sql.data, note_table, present, err);
    struct buffer text;
    buffer_init(&text);
    buffer_append_str(&text, ""); /* "" rather than NULL when no table holds rows */
    for (int t = 0; status == SP_OK && t < TABLE_COUNT; t++) {
        if (!present[t])
            continue;
        long long rows = 0;
        buffer_clear(&sql);
        buffer_printf(&sql, "SELECT COUNT(*) FROM %s", table_defs[t].name);
        status = wh->ops->query(wh, sql.data, note_count, &rows, err);
        if (status == SP_OK && rows > 0)
            buffer_printf(&text, "%s%s %lld row%s", text.len ? ", " : "", table_defs[t].name, rows,
                          rows == 1 ? "" : "s");
    }
    buffer_release(&sql);
    if (status == SP_OK)
        *summary = text.data;
    else
        buffer_release(&text);
    return status;
}

void warehouse_close(struct warehouse *wh)
{
    if (wh)
        wh->ops->close(wh);
}
