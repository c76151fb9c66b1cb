/* cmd_report.c - `sparkify report`: the analytics team's questions, answered.
 *
 * Every section is queried before anything is written, so a failing query leaves no partial
 * report; with -o the file appears whole or not at all (output_file).
 */
#include "commands.h"

#include "buffer.h"
#include "output.h"
#include "report.h"
#include "report_html.h"
#include "report_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(void)
{
    printf("usage: sparkify report [--format table|csv|json|html] [-o FILE] [--top N]\n"
           "                       [--since YYYY-MM-DD] [--until YYYY-MM-DD]\n"
           "                       [--section NAME]\n\n"
           "Prints rows per table, songplays matched to a song, the top N songs, artists, users\n"
           "and locations by plays (default 10), plays by hour of day and by weekday, the paid\n"
           "vs free share of plays, plays by browser and by operating system (families from\n"
           "user_agent), and daily active users.\n\n"
           "  --format FORMAT  table (aligned, fitted to the terminal), csv, json (one object\n"
           "                   keyed by section), or html (one self-contained page with charts)\n"
           "  -o, --output FILE  write to FILE (replaced whole, or not at all on an error)\n"
           "  --since DAY      only plays on or after DAY (UTC)\n"
           "  --until DAY      only plays on or before DAY (UTC)\n"
           "  --section NAME   only section NAME (not with html); as csv, plain CSV with one\n"
           "                   header row. NAME is one of row_counts, matched, top_songs,\n"
           "                   top_artists, top_users, plays_by_hour, plays_by_weekday,\n"
           "                   level_share, top_locations, browsers, operating_systems,\n"
           "                   daily_active_users\n");
}

int cmd_report(int argc, char **argv, struct cli *cli)
{
    enum { SINCE = 256, UNTIL, SECTION };
    static const struct option options[] = {CLI_COMMON_OPTIONS,
                                            {"format", required_argument, NULL, 'f'},
                                            {"top", required_argument, NULL, 'n'},
                                            {"output", required_argument, NULL, 'o'},
                                            {"since", required_argument, NULL, SINCE},
                                            {"until", required_argument, NULL, UNTIL},
                                            {"section", required_argument, NULL, SECTION},
                                            {NULL, 0, NULL, 0}};
    enum output_format format = FORMAT_TABLE;
    bool html = false;
    long long top = 10;
    const char *output_path = NULL;
    struct report_options ro = {0};
    int c;
    while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORT "f:o:", options)) != -1) {
        if (c == 'h') {
            usage();
            return 0;
        } else if (c == 'f') {
            html = strcmp(optarg, "html") == 0;
            if (!html && output_parse_format(optarg, &format) != 0)
                return cli_usage_error("report",
                                       "--format takes table, csv, json or html, not '%s'", optarg);
        } else if (c == 'n') {
            if (cli_parse_count(optarg, 100000, &top) != 0 || top < 1)
                return cli_usage_error("report", "--top takes a number from 1 to 100000, not '%s'",
                                       optarg);
        } else if (c == 'o') {
            output_path = optarg;
        } else if (c == SINCE) {
            ro.since = optarg;
        } else if (c == UNTIL) {
            ro.until = optarg;
        } else if (c == SECTION) {
            ro.section = optarg;
        } else {
            return cli_usage_error("report", "unknown or invalid option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("report", "unexpected argument '%s'", argv[optind]);
    if (html && ro.section)
        return cli_usage_error("report", "--section selects a section of the table, csv or json "
                                         "report; the html page is always whole");
    ro.top = (int)top;

    struct sp_error err;
    sp_error_clear(&err);
    struct report_section *sections = NULL;
    size_t count = 0;
    int status = report_sections(&ro, &sections, &count, &err);
    if (status != SP_OK)
        return cli_usage_error("report", "%s", err.message);
    struct warehouse *wh = NULL;
    status = cli_load_config(cli, &err);
    if (status == SP_OK)
        status = cli_open_warehouse(cli, WAREHOUSE_READ, &wh, &err);
    struct result_set **results = xcalloc(count, sizeof *results);
    for (size_t i = 0; i < count; i++) {
        results[i] = result_set_new();
        if (status == SP_OK) {
            status = wh->ops->query(wh, sections[i].sql, result_set_add_row, results[i], &err);
            if (status != SP_OK)
                sp_error_prefix(&err, "report section '%s': ", sections[i].name);
        }
    }
    struct output_file out;
    bool write = status == SP_OK && !cli->dry_run; /* a dry run only shows the queries */
    if (write)
        status = output_file_open(&out, output_path, &err);
    if (write && status == SP_OK) {
        if (html) {
            char generated[40];
            time_t now = time(NULL);
            struct tm tm;
            gmtime_r(&now, &tm);
            strftime(generated, sizeof generated, "%Y-%m-%d %H:%M UTC", &tm);
            struct report_page page = {wh->display, ro.since, ro.until, generated};
            report_html_write(out.f, &page, sections, results, count);
        } else {
            report_text_write(out.f, format, sections, results, count);
        }
        status = output_file_close(&out, true, &err);
        char *note = report_text_untold_note(format, sections, results, count);
        if (status == SP_OK && note)
            cli_info(cli, "sparkify report: %s\n", note);
        free(note);
    }
    for (size_t i = 0; i < count; i++)
        result_set_free(results[i]);
    free(results);
    report_sections_free(sections, count);
    warehouse_close(wh);
    return status == SP_OK ? 0 : cli_report_error(&err);
}
