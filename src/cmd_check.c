/* cmd_check.c - `sparkify check`: data-quality checks, one line each, exit 1 when one fails. */
#include "commands.h"

#include "buffer.h"
#include "check.h"
#include "output.h"

#include <stdio.h>
#include <stdlib.h>

static void usage(void)
{
    printf("usage: sparkify check [--checks FILE]\n\n"
           "Runs the built-in data-quality checks on the star tables, and the checks in FILE,\n"
           "and prints one line per check: PASS or FAIL, its name, and the offending rows with a\n"
           "sample key (or the value against the expected one). Exits 1 when a check fails.\n\n"
           "Built in: every star table has rows; primary keys are not null and unique; every\n"
           "songplay's user_id is in users and start_time in time, and its song_id and artist_id\n"
           "(when set) in songs and artists; level is free or paid; hour is 0..23 and weekday\n"
           "0..6; songplays has as many rows as the NextSong events etl recorded in etl_runs.\n\n"
           "FILE is INI, one section per check, named by its header:\n"
           "  [no plays before November]\n"
           "  sql = SELECT COUNT(*) FROM songplays WHERE start_time < '2018-11-01'\n"
           "  expect = 0\n"
           "  [enough users]\n"
           "  sql = SELECT COUNT(*)\n"
           "        FROM users            (indented lines continue the SQL)\n"
           "  min = 50\n"
           "  max = 1000\n"
           "The SQL returns one value; expect compares it as a number, or as text when the\n"
           "expected value is not a number; min and max bound it (either or both).\n");
}

int cmd_check(int argc, char **argv, struct cli *cli)
{
    static const struct option options[] = {
        CLI_COMMON_OPTIONS, {"checks", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0}};
    const char *checks_path = NULL;
    int c;
    while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORT, options)) != -1) {
        if (c == 'h') {
            usage();
            return 0;
        }
        if (c != 'c')
            return cli_usage_error("check", "unknown or invalid option '%s'", argv[optind - 1]);
        checks_path = optarg;
    }
    if (optind < argc)
        return cli_usage_error("check", "unexpected argument '%s'", argv[optind]);

    struct sp_error err;
    sp_error_clear(&err);
    struct check_list checks;
    check_list_init(&checks);
    check_list_add_builtin(&checks);
    struct warehouse *wh = NULL;
    int status = checks_path ? check_list_load(&checks, checks_path, &err) : SP_OK;
    if (status == SP_OK)
        status = cli_load_config(cli, &err);
    if (status == SP_OK)
        status = cli_open_warehouse(cli, WAREHOUSE_READ, &wh, &err);
    struct check_result *results = xcalloc(checks.count, sizeof *results);
    size_t failed = 0;
    if (status == SP_OK)
        status = check_run(wh, &checks, results, &failed, &err);
    if (status == SP_OK && cli->dry_run) {
        cli_info(cli, "dry run: %zu checks shown, none judged\n", checks.count);
    } else if (status == SP_OK) {
        output_check_results(stdout, results, checks.count, false);
        fflush(stdout); /* the lines before the summary, also when both go to one pipe */
        cli_info(cli, "%zu checks: %zu passed, %zu failed\n", checks.count, checks.count - failed,
                 failed);
    }
    free(results);
    check_list_release(&checks);
    warehouse_close(wh);
    if (status != SP_OK)
        return cli_report_error(&err);
    return failed ? 1 : 0;
}
