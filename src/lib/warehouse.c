/* warehouse.c - picks the warehouse implementation from a target URL (see warehouse.h). */
#include "warehouse.h"

#include <stdio.h>
#include <string.h>

int warehouse_open(const char *target, enum warehouse_mode mode, struct warehouse **out,
                   struct sp_error *err)
{
    *out = NULL;
    if (strncmp(target, "sqlite:", 7) == 0) {
        const char *path = target + 7;
        if (strncmp(path, "//", 2) == 0)
            path += 2; /* sqlite://PATH is accepted too */
        if (*path == '\0')
            return sp_usage(err, "target %s: no database path (try sqlite:sparkify.db)", target);
        return warehouse_open_sqlite(path, mode, out, err);
    }
    if (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0) {
        (void)mode; /* a server database exists or the connection fails */
        return warehouse_open_postgres(target, out, err);
    }
    if (strncmp(target, "redshift:", 9) == 0) {
        const char *colon = strchr(target, ':');
        return sp_usage(err, "target %.*s://...: this engine is not supported by this build yet",
                        (int)(colon - target), target);
    }
    char shown[512];
    warehouse_mask_target(target, shown, sizeof shown);
    return sp_usage(err,
                    "target '%s' is not understood: use sqlite:PATH, "
                    "postgresql://user@host:port/db or redshift://user@host:5439/db",
                    shown);
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
