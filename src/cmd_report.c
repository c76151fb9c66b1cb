/* cmd_report.c - `sparkify report`: the analytics team's questions, answered. */
#include "commands.h"

#include "output.h"
#include "report.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(void)
{
    printf("usage: sparkify report [--format table|csv|json] [--top N]\n\n"
           "Prints rows per table, songplays matched to a song, the top N songs and artists by\n"
           "plays (default 10) and plays by hour of day.\n");
}

int cmd_report(int argc, char **argv, struct cli *cli)
{
    static const struct option options[] = {CLI_COMMON_OPTIONS,
                                            {"format", required_argument, NULL, 'f'},
                                            {"top", required_argument, NULL, 'n'},
                                            {NULL, 0, NULL, 0}};
    enum output_format format = FORMAT_TABLE;
    long long top = 10;
    int c;
    while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORT "f:", options)) != -1) {
        if (c == 'h') {
            usage();
            return 0;
        }
        if (c == 'f' && output_parse_format(optarg, &format) != 0)
            return cli_usage_error("report", "--format takes table, csv or json, not '%s'", optarg);
        if (c == 'n' && (cli_parse_count(optarg, 100000, &top) != 0 || top < 1))
            return cli_usage_error("report", "--top takes a number from 1 to 100000, not '%s'",
                                   optarg);
        if (c != 'f' && c != 'n')
            return cli_usage_error("report", "unknown or invalid option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error("report", "unexpected argument '%s'", argv[optind]);

    struct sp_error err;
    sp_error_clear(&err);
    struct warehouse *wh = NULL;
    int status = cli_load_config(cli, &err);
    if (status == SP_OK)
        status = cli_open_warehouse(cli, WAREHOUSE_READ, &wh, &err);
    struct report_section *sections = NULL;
    size_t count = report_sections((int)top, &sections);
    cJSON *json = format == FORMAT_JSON ? cJSON_CreateObject() : NULL;
    for (size_t i = 0; status == SP_OK && i < count; i++) {
        struct result_set *rs = result_set_new();
        status = wh->ops->query(wh, sections[i].sql, result_set_add_row, rs, &err);
        if (status == SP_OK) {
            if (json) {
                cJSON_AddItemToObject(json, sections[i].name, result_set_json(rs));
            } else if (format == FORMAT_CSV) {
                printf("# %s\r\n", sections[i].title);
                output_print(rs, format);
                printf("\r\n");
            } else {
                printf("%s%s\n", i ? "\n" : "", sections[i].title);
                output_print(rs, format);
            }
        } else {
            sp_error_prefix(&err, "report section '%s': ", sections[i].name);
        }
        result_set_free(rs);
    }
    if (json && status == SP_OK) {
        char *text = cJSON_Print(json);
        printf("%s\n", text);
        cJSON_free(text);
    }
    cJSON_Delete(json);
    report_sections_free(sections, count);
    warehouse_close(wh);
    return status == SP_OK ? 0 : cli_report_error(&err);
}
