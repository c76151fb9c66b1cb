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
#include <time.h>

/* --format html draws a page; the other formats print result sets. */
enum { REPORT_HTML = FORMAT_JSON + 1 };

static const struct cli_word report_formats[] = {{"table", FORMAT_TABLE},
                                                 {"csv", FORMAT_CSV},
                                                 {"json", FORMAT_JSON},
                                                 {"html", REPORT_HTML},
                                                 {NULL, 0}};

struct report_args {
    int format;
    const char *output_path;
    struct report_options options;
    /* Made before the set-up: a bad period is a usage error that opens nothing. */
    struct report_section *sections;
    size_t count;
};

#define CLI_ARGS struct report_args
static const struct cli_option report_options[] = {
    OPT_ENUM('f', "format", format, "FORMAT", report_formats,
             "table (aligned, fitted to the terminal), csv, json (one object keyed by section), "
             "or html (one self-contained page with charts)"),
    OPT_STRING('o', "output", output_path, "FILE",
               "write to FILE (replaced whole, or not at all on an error)"),
    OPT_INT(0, "top", options.top, "N", 1, 100000,
            "the top N songs, artists, users and locations (default 10)"),
    OPT_STRING(0, "since", options.since, "DAY", "only plays on or after DAY (UTC, YYYY-MM-DD)"),
    OPT_STRING(0, "until", options.until, "DAY", "only plays on or before DAY (UTC, YYYY-MM-DD)"),
    OPT_STRING(0, "section", options.section, "NAME",
               "only section NAME (not with html); as csv, plain CSV with one header row. NAME is "
               "one of row_counts, matched, top_songs, top_artists, top_users, plays_by_hour, "
               "plays_by_weekday, level_share, top_locations, browsers, operating_systems, "
               "daily_active_users"),
    OPT_END,
};
#undef CLI_ARGS

static void report_init(void *args)
{
    struct report_args *a = args;
    a->options.top = 10;
}

static int report_prepare(struct cli *cli, void *args)
{
    (void)cli;
    struct report_args *a = args;
    if (a->format == REPORT_HTML && a->options.section)
        return cli_usage_error("report", "--section selects a section of the table, csv or json "
                                         "report; the html page is always whole");
    struct sp_error err;
    sp_error_clear(&err);
    if (report_sections(&a->options, &a->sections, &a->count, &err) != SP_OK)
        return cli_usage_error("report", "%s", err.message);
    return 0;
}

/* Writes the report to -o FILE or stdout, whole or not at all; then, on stderr, the note that
 * plain CSV has no room for. */
static int write_report(struct cli *cli, const struct report_args *a, const char *target,
                        struct result_set **results, struct sp_error *err)
{
    struct output_file out;
    int status = output_file_open(&out, a->output_path, err);
    if (status != SP_OK)
        return status;
    if (a->format == REPORT_HTML) {
        char generated[40];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(generated, sizeof generated, "%Y-%m-%d %H:%M UTC", &tm);
        struct report_page page = {target, a->options.since, a->options.until, generated};
        report_html_write(out.f, &page, a->sections, results, a->count);
    } else {
        report_text_write(out.f, (enum output_format)a->format, a->sections, results, a->count);
    }
    status = output_file_close(&out, true, err);
    if (status == SP_OK && a->format != REPORT_HTML) {
        char *note =
            report_text_untold_note((enum output_format)a->format, a->sections, results, a->count);
        if (note)
            cli_info(cli, "sparkify report: %s\n", note);
        free(note);
    }
    return status;
}

static int cmd_report(struct cli *cli, void *args)
{
    const struct report_args *a = args;
    struct warehouse *wh = cli->wh;
    struct sp_error err;
    sp_error_clear(&err);
    int status = SP_OK;
    struct result_set **results = xcalloc(a->count, sizeof *results);
    for (size_t i = 0; i < a->count; i++) {
        results[i] = result_set_new();
        if (status == SP_OK) {
            status = wh->ops->query(wh, a->sections[i].sql, result_set_add_row, results[i], &err);
            if (status != SP_OK)
                sp_error_prefix(&err, "report section '%s': ", a->sections[i].name);
        }
    }
    if (status == SP_OK && !cli->dry_run) /* a dry run only shows the queries */
        status = write_report(cli, a, wh->display, results, &err);
    for (size_t i = 0; i < a->count; i++)
        result_set_free(results[i]);
    free(results);
    return status == SP_OK ? 0 : cli_report_error(&err);
}

static void report_release(void *args)
{
    struct report_args *a = args;
    report_sections_free(a->sections, a->count);
}

const struct cli_command report_command = {
    .options = report_options,
    .description =
        "Prints rows per table, songplays matched to a song, the top N songs, artists, users "
        "and locations by plays, plays by hour of day and by weekday, the paid vs "
        "free share of plays, plays by browser and by operating system (families from "
        "user_agent), and daily active users.",
    .args_size = sizeof(struct report_args),
    .init = report_init,
    .prepare = report_prepare,
    .run = cmd_report,
    .release = report_release,
};
