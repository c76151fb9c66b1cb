/* cmd_query.c - `sparkify query SQL`: run one SQL statement on the warehouse, print its rows.
 *
 * One statement per call, so that what runs is what is printed (several statements would share
 * one header); read-only unless --write, so that a query cannot change the warehouse by mistake.
 */
#include "commands.h"

#include "output.h"

#include <stdio.h>
#include <stdlib.h>

static void usage(void)
{
    printf("usage: sparkify query [--format table|csv|json] [--write] SQL\n\n"
           "Runs one SQL statement on the warehouse and prints its rows: an aligned table\n"
           "(default), CSV (RFC 4180) or a JSON array of objects. A trailing ';' and comments\n"
           "are fine (SQL that starts with \"--\" goes after a \"--\" argument); SQL holding\n"
           "more than one statement is refused (exit 2).\n\n"
           "The query is read-only: a statement that would change the warehouse is refused\n"
           "(exit 2) and nothing changes (SQLite: query_only; PostgreSQL and Redshift: a READ\n"
           "ONLY transaction, rolled back).\n"
           "  --write   allow a statement that changes the warehouse; the change is committed\n");
}

int cmd_query(int argc, char **argv, struct cli *cli)
{
    enum { WRITE = 256 };
    static const struct option options[] = {CLI_COMMON_OPTIONS,
                                            {"format", required_argument, NULL, 'f'},
                                            {"write", no_argument, NULL, WRITE},
                                            {NULL, 0, NULL, 0}};
    enum output_format format = FORMAT_TABLE;
    bool write = false;
    int c;
    while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORT "f:", options)) != -1) {
        if (c == 'h') {
            usage();
            return 0;
        }
        if (c == WRITE) {
            write = true;
            continue;
        }
        if (c == 'f' && output_parse_format(optarg, &format) == 0)
            continue;
        if (c == 'f')
            return cli_usage_error("query", "--format takes table, csv or json, not '%s'", optarg);
        return cli_usage_error("query", "unknown or invalid option '%s'", argv[optind - 1]);
    }
    if (optind != argc - 1)
        return cli_usage_error("query", "expected exactly one SQL argument");
    const char *sql = argv[optind];

    struct sp_error err;
    sp_error_clear(&err);
    struct warehouse *wh = NULL;
    struct result_set *rs = result_set_new();
    int status = cli_load_config(cli, &err);
    if (status == SP_OK)
        status = cli_open_warehouse(cli, WAREHOUSE_READ, &wh, &err); /* it must exist */
    if (status == SP_OK)
        status = wh->ops->user_query(wh, sql, write, result_set_add_row, rs, &err);
    if (status == SP_OK && write && !cli->dry_run)
        cli_interrupt_message("sparkify: interrupted after the change was committed\n");
    if (status == SP_OK)
        output_print(stdout, rs, format);
    result_set_free(rs);
    warehouse_close(wh);
    return status == SP_OK ? 0 : cli_report_error(&err);
}
