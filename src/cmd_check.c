/* cmd_check.c - `sparkify check`: data-quality checks, one line each, exit 1 when one fails. */
#include "commands.h"

#include "buffer.h"
#include "check.h"
#include "output.h"

#include <stdio.h>
#include <stdlib.h>

struct check_args {
    const char *checks_path;
    struct check_list checks; /* loaded before the set-up, so that a bad file opens nothing */
    struct check_result *results;
};

#define CLI_ARGS struct check_args
static const struct cli_option check_options[] = {
    OPT_STRING(0, "checks", checks_path, "FILE", "also the checks in FILE (its form below)"),
    OPT_END,
};
#undef CLI_ARGS

static int check_prepare(struct cli *cli, void *args)
{
    (void)cli;
    struct check_args *a = args;
    struct sp_error err;
    sp_error_clear(&err);
    check_list_init(&a->checks);
    check_list_add_builtin(&a->checks);
    int status = a->checks_path ? check_list_load(&a->checks, a->checks_path, &err) : SP_OK;
    a->results = xcalloc(a->checks.count, sizeof *a->results);
    return status == SP_OK ? 0 : cli_report_error(&err);
}

static int cmd_check(struct cli *cli, void *args)
{
    struct check_args *a = args;
    struct sp_error err;
    sp_error_clear(&err);
    size_t failed = 0, count = a->checks.count;
    int status = check_run(cli->wh, &a->checks, a->results, &failed, &err);
    if (status == SP_OK && cli->dry_run) {
        cli_info(cli, "dry run: %zu checks shown, none judged\n", count);
    } else if (status == SP_OK) {
        output_check_results(stdout, a->results, count, false);
        fflush(stdout); /* the lines before the summary, also when both go to one pipe */
        cli_info(cli, "%zu checks: %zu passed, %zu failed\n", count, count - failed, failed);
    }
    if (status != SP_OK)
        return cli_report_error(&err);
    return failed ? 1 : 0;
}

static void check_release(void *args)
{
    struct check_args *a = args;
    free(a->results);
    check_list_release(&a->checks);
}

const struct cli_command check_command = {
    .options = check_options,
    .description =
        "Runs the built-in data-quality checks on the star tables, and the checks in FILE, and "
        "prints one line per check: PASS or FAIL, its name, and the offending rows with a sample "
        "key (or the value against the expected one). Exits 1 when a check fails.\n"
        "\n"
        "Built in: every star table has rows; primary keys are not null and unique; every "
        "songplay's user_id is in users and start_time in time, and its song_id and artist_id "
        "(when set) in songs and artists; level is free or paid; hour is 0..23 and weekday "
        "0..6; songplays has as many rows as the NextSong events etl recorded in etl_runs.",
    .epilogue = "FILE is INI, one section per check, named by its header:\n"
                "  [no plays before November]\n"
                "  sql = SELECT COUNT(*) FROM songplays WHERE start_time < '2018-11-01'\n"
                "  expect = 0\n"
                "  [enough users]\n"
                "  sql = SELECT COUNT(*)\n"
                "        FROM users            (indented lines continue the SQL)\n"
                "  min = 50\n"
                "  max = 1000\n"
                "The SQL returns one value; expect compares it as a number, or as text when the "
                "expected value is not a number; min and max bound it (either or both).",
    .args_size = sizeof(struct check_args),
    .prepare = check_prepare,
    .run = cmd_check,
    .release = check_release,
};
