/* cmd_create_tables.c - `sparkify create-tables`: drop and create every table, atomically.
 *
 * Dropping loaded tables loses data that may have taken hours to load, so a warehouse whose
 * tables hold rows is left alone unless --force says so (the classic create_tables.py always
 * drops). The check runs inside the transaction that drops, so nothing can be loaded between.
 */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>

static void usage(void)
{
    printf("usage: sparkify create-tables [--force]\n\n"
           "Drops (if present) and creates the staging tables, the star tables (songplays, users,\n"
           "songs, artists, time) and the bookkeeping tables (loaded_objects, load_errors,\n"
           "song_lookup, user_latest, etl_runs), in one transaction. When any of them holds rows\n"
           "it refuses (exit 2), naming them, and drops nothing. With --dry-run, prints the\n"
           "statements instead.\n"
           "  --force   drop and recreate every table even when they hold data (all loaded data\n"
           "            is lost), as the classic create_tables.py does\n");
}

/* Refuses (SP_USAGE) when a table that would be dropped holds rows. */
static int refuse_loaded(struct warehouse *wh, struct sp_error *err)
{
    char *summary = NULL;
    int status = warehouse_data_summary(wh, &summary, err);
    if (status == SP_OK && *summary)
        status = sp_usage(err,
                          "%s holds data: %s; nothing was dropped (use --force to drop and "
                          "recreate every table)",
                          wh->display, summary);
    free(summary);
    return status;
}

int cmd_create_tables(int argc, char **argv, struct cli *cli)
{
    enum { FORCE = 256 };
    static const struct option options[] = {
        CLI_COMMON_OPTIONS, {"force", no_argument, NULL, FORCE}, {NULL, 0, NULL, 0}};
    bool force = false;
    int c;
    while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORT, options)) != -1) {
        if (c == 'h') {
            usage();
            return 0;
        }
        if (c == FORCE) {
            force = true;
            continue;
        }
        return cli_usage_error("create-tables", "unknown or invalid option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error("create-tables", "unexpected argument '%s'", argv[optind]);
    struct sp_error err;
    sp_error_clear(&err);
    struct warehouse *wh = NULL;
    int status = cli_load_config(cli, &err);
    if (status == SP_OK)
        status = cli_open_warehouse(cli, WAREHOUSE_WRITE, &wh, &err);
    if (status == SP_OK)
        status = wh->ops->begin(wh, &err);
    if (status == SP_OK) {
        if (!force)
            status = refuse_loaded(wh, &err);
        if (status == SP_OK)
            status = wh->ops->create_tables(wh, true, &err);
        if (status == SP_OK)
            status = wh->ops->commit(wh, &err);
        if (status == SP_OK && !cli->dry_run)
            cli_interrupt_message("sparkify: interrupted after the tables were created\n");
        if (status != SP_OK)
            wh->ops->rollback(wh);
    }
    if (status == SP_OK)
        cli_info(cli, "%s tables in %s\n", cli->dry_run ? "dry run: would create" : "created",
                 wh->display);
    warehouse_close(wh);
    return status == SP_OK ? 0 : cli_report_error(&err);
}
