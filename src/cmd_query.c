/* cmd_query.c - `sparkify query SQL`: run one SQL statement on the warehouse, print its rows.
 *
 * One statement per call, so that what runs is what is printed (several statements would share
 * one header); read-only unless --write, so that a query cannot change the warehouse by mistake.
 */
#include "commands.h"

#include "output.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

struct query_args {
    enum output_format format;
    bool write;
    const char *sql; /* the operand */
};

#define CLI_ARGS struct query_args
static const struct cli_option query_options[] = {
    OPT_ENUM('f', "format", format, NULL, output_formats,
             "an aligned table (the default), CSV (RFC 4180) or a JSON array of objects"),
    OPT_BOOL(0, "write", write,
             "allow a statement that changes the warehouse; the change is committed"),
    OPT_END,
};
#undef CLI_ARGS

static int cmd_query(struct cli *cli, void *args)
{
    const struct query_args *a = args;
    struct sp_error err;
    sp_error_clear(&err);
    struct result_set *rs = result_set_new();
    int status = cli->wh->ops->user_query(cli->wh, a->sql, a->write, result_set_add_row, rs, &err);
    if (status == SP_OK && a->write && !cli->dry_run)
        cli_interrupt_message("sparkify: interrupted after the change was committed\n");
    if (status == SP_OK)
        output_print(stdout, rs, a->format);
    result_set_free(rs);
    return status == SP_OK ? 0 : cli_report_error(&err);
}

const struct cli_command query_command = {
    .options = query_options,
    .operand = "SQL",
    .operand_offset = offsetof(struct query_args, sql),
    .description =
        "Runs one SQL statement on the warehouse and prints its rows. A trailing ';' and "
        "comments are fine (SQL that starts with \"--\" goes after a \"--\" argument); SQL "
        "holding more than one statement is refused (exit 2).\n"
        "\n"
        "The query is read-only: a statement that would change the warehouse is refused (exit 2) "
        "and nothing changes (SQLite: query_only; PostgreSQL and Redshift: a READ ONLY "
        "transaction, rolled back).",
    .args_size = sizeof(struct query_args),
    .run = cmd_query,
};
