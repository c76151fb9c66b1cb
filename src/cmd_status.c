/* cmd_status.c - `sparkify status`: what the warehouse holds, what has been loaded, the last
 * runs and the bad records kept; every section is queried before anything is printed. */
#include "commands.h"

#include "buffer.h"
#include "output.h"
#include "report_text.h"
#include "status.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

struct status_args {
    enum output_format format;
};

#define CLI_ARGS struct status_args
static const struct cli_option status_options[] = {
    OPT_ENUM('f', "format", format, NULL, output_formats,
             "aligned tables (the default), titled CSV blocks, or one JSON object keyed by "
             "section (tables, loaded, runs, load_errors)"),
    OPT_END,
};
#undef CLI_ARGS

static int cmd_status(struct cli *cli, void *args)
{
    const struct status_args *a = args;
    struct warehouse *wh = cli->wh;
    size_t count;
    const struct report_section *sections = status_sections(&count);
    struct sp_error err;
    sp_error_clear(&err);
    char *summary = NULL;
    int status = warehouse_data_summary(wh, &summary, &err);
    if (status == SP_OK && !cli->dry_run && summary && !summary[0]) {
        free(summary);
        fprintf(stderr,
                "sparkify: %s holds no sparkify data yet: `sparkify etl` loads it "
                "(`sparkify create-tables` creates the tables)\n",
                wh->display);
        return 1;
    }
    free(summary);
    struct result_set **results = xcalloc(count, sizeof *results);
    for (size_t i = 0; i < count; i++) {
        results[i] = result_set_new();
        if (status == SP_OK) {
            status = wh->ops->query(wh, sections[i].sql, result_set_add_row, results[i], &err);
            if (status != SP_OK)
                sp_error_prefix(&err, "status section '%s': ", sections[i].name);
        }
    }
    if (status == SP_OK && !cli->dry_run)
        report_text_write(stdout, a->format, sections, results, count);
    for (size_t i = 0; i < count; i++)
        result_set_free(results[i]);
    free(results);
    return status == SP_OK ? 0 : cli_report_error(&err);
}

const struct cli_command status_command = {
    .options = status_options,
    .description = "Shows what the warehouse holds (rows per table), what has been loaded "
                   "(objects by kind, with the first and last time), the last 10 runs from "
                   "etl_runs with their bad records, and the bad records kept in load_errors, by "
                   "file.",
    .args_size = sizeof(struct status_args),
    .run = cmd_status,
};
