/* cmd_create_tables.c - `sparkify create-tables`: drop and create every table, atomically.
 *
 * Dropping loaded tables loses data that may have taken hours to load, so a warehouse whose
 * tables hold rows is left alone unless --force says so (the classic create_tables.py always
 * drops). The check runs inside the transaction that drops, so nothing can be loaded between.
 */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>

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

struct create_tables_args {
    bool force;
};

#define CLI_ARGS struct create_tables_args
static const struct cli_option create_tables_options[] = {
    OPT_BOOL(0, "force", force,
             "drop and recreate every table even when they hold data (all loaded data is lost), "
             "as the classic create_tables.py does"),
    OPT_END,
};
#undef CLI_ARGS

static int cmd_create_tables(struct cli *cli, void *args)
{
    const struct create_tables_args *a = args;
    struct warehouse *wh = cli->wh;
    struct sp_error err;
    sp_error_clear(&err);
    int status = wh->ops->begin(wh, &err);
    if (status == SP_OK) {
        if (!a->force)
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
    return status == SP_OK ? 0 : cli_report_error(&err);
}

const struct cli_command create_tables_command = {
    .options = create_tables_options,
    .description =
        "Drops (if present) and creates the staging tables, the star tables (songplays, users, "
        "songs, artists, time) and the bookkeeping tables (loaded_objects, load_errors, "
        "song_lookup, user_latest, etl_runs), in one transaction. When any of them holds rows "
        "it refuses (exit 2), naming them, and drops nothing. With --dry-run, prints the "
        "statements instead.",
    .args_size = sizeof(struct create_tables_args),
    .run = cmd_create_tables,
};
