/* cmd_create_tables.c - `sparkify create-tables`: drop and create every table, atomically. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>

static void usage(void)
{
    printf("usage: sparkify create-tables [--target URL]\n\n"
           "Drops (if present) and creates the staging tables, the star tables (songplays, users,\n"
           "songs, artists, time) and the bookkeeping tables (loaded_objects, load_errors,\n"
           "song_lookup, etl_runs), in one transaction. All loaded data is lost. With --dry-run,\n"
           "prints the statements instead.\n");
}

int cmd_create_tables(int argc, char **argv, struct cli *cli)
{
    static const struct option options[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int c;
    while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORT, options)) != -1) {
        if (c == 'h') {
            usage();
            return 0;
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
        status = wh->ops->create_tables(wh, true, &err);
        if (status == SP_OK)
            status = wh->ops->commit(wh, &err);
        if (status != SP_OK)
            wh->ops->rollback(wh);
    }
    if (status == SP_OK)
        cli_info(cli, "%s tables in %s\n", cli->dry_run ? "dry run: would create" : "created",
                 wh->display);
    warehouse_close(wh);
    return status == SP_OK ? 0 : cli_report_error(&err);
}
