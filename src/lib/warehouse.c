/* warehouse.c - picks the warehouse implementation from a target URL (see warehouse.h). */
#include "warehouse.h"

#include <stdio.h>
#include <string.h>

static int open_target(const char *target, enum warehouse_mode mode,
                       const struct warehouse_dry_run *dry_run, struct warehouse **out,
                       struct sp_error *err)
{
    *out = NULL;
    if (strncmp(target, "sqlite:", 7) == 0) {
        const char *path = target + 7;
        if (strncmp(path, "//", 2) == 0)
            path += 2; /* sqlite://PATH is accepted too */
        if (*path == '\0')
            return sp_usage(err, "target %s: no database path (try sqlite:sparkify.db)", target);
        return warehouse_open_sqlite(path, mode, dry_run, out, err);
    }
    /* A server database exists or the connection fails: `mode` does not apply. */
    if (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0)
        return warehouse_open_postgres(target, dry_run, out, err);
    if (strncmp(target, "redshift://", 11) == 0)
        return warehouse_open_redshift(target, dry_run, out, err);
    char shown[512];
    warehouse_mask_target(target, shown, sizeof shown);
    return sp_usage(err,
                    "target '%s' is not understood: use sqlite:PATH, "
                    "postgresql://user@host:port/db or redshift://user@host:5439/db",
                    shown);
}

int warehouse_open(const char *target, enum warehouse_mode mode, struct warehouse **out,
                   struct sp_error *err)
{
    return open_target(target, mode, NULL, out, err);
}

int warehouse_open_dry_run(const char *target, const struct warehouse_dry_run *dry_run,
                           struct warehouse **out, struct sp_error *err)
{
    return open_target(target, WAREHOUSE_READ, dry_run, out, err);
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
    /* scheme://user:password@host... -> scheme://user:***@host... */
    const char *scheme_end = strstr(target, "://");
    const char *at = scheme_end ? strchr(scheme_end + 3, '@') : NULL;
    const char *colon = at ? memchr(scheme_end + 3, ':', (size_t)(at - scheme_end - 3)) : NULL;
    if (!colon) {
        snprintf(out, size, "%s", target);
        return;
    }
    snprintf(out, size, "%.*s:***%s", (int)(colon - target), target, at);
}

void warehouse_close(struct warehouse *wh)
{
    if (wh)
        wh->ops->close(wh);
}
