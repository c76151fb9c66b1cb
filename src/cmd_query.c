/* cmd_query.c - `sparkify query SQL`: run SQL on the warehouse, print the rows. */
#include "commands.h"

#include "output.h"

#include <stdio.h>
#include <stdlib.h>

static void usage(void)
{
    printf("usage: sparkify query [--format table|csv|json] SQL\n\n"
           "Runs SQL on the warehouse and prints its rows: an aligned table (default), CSV\n"
           "(RFC 4180) or a JSON array of objects.\n");
}

int cmd_query(int argc, char **argv, struct cli *cli)
{
    static const struct option options[] = {
        CLI_COMMON_OPTIONS, {"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
    enum output_format format = FORMAT_TABLE;
    int c;
    while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORT "f:", options)) != -1) {
        if (c == 'h') {
            usage();
            return 0;
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
        status = cli_open_warehouse(cli, WAREHOUSE_READ, &wh, &err);
    if (status == SP_OK)
        status = wh->ops->query(wh, sql, result_set_add_row, rs, &err);
    if (status == SP_OK)
        output_print(stdout, rs, format);
    result_set_free(rs);
    warehouse_close(wh);
    return status == SP_OK ? 0 : cli_report_error(&err);
}
