/* cmd_etl.c - `sparkify etl`: load new source objects into the star schema. */
#include "commands.h"

#include "etl.h"
#include "progress.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf(
        "usage: sparkify etl [--log-data SRC] [--song-data SRC] [--log-jsonpath FILE]\n"
        "                    [--max-errors N] [--full-refresh] [--keep-staging] [--threads N]\n\n"
        "Loads the source objects not loaded before into the star tables, in one transaction.\n"
        "SRC is a file, a directory (recursive; *.json, *.jsonl, *.ndjson, optionally .gz) or\n"
        "a glob. Defaults come from SPARKIFY_LOG_DATA, SPARKIFY_SONG_DATA and\n"
        "SPARKIFY_LOG_JSONPATH, then [S3] LOG_DATA, SONG_DATA and LOG_JSONPATH in dwh.cfg.\n\n"
        "  --log-jsonpath FILE  JSONPaths file mapping event keys to staging_events columns\n"
        "  --max-errors N       skip up to N bad records into load_errors (default 0: stop)\n"
        "  --full-refresh       empty the star tables and load every object again\n"
        "  --keep-staging       also write the raw records to staging_events/staging_songs\n"
        "  --threads N          song file readers (default: one per core)\n"
        "  --transform c|sql    build the star tables in sparkify (c, the default) or stage the\n"
        "                       raw records and build them with SQL in the warehouse (sql;\n"
        "                       PostgreSQL and Redshift)\n");
}

int cmd_etl(int argc, char **argv, struct cli *cli)
{
    enum {
        LOG_DATA = 256,
        SONG_DATA,
        JSONPATH,
        MAX_ERRORS,
        FULL_REFRESH,
        KEEP_STAGING,
        THREADS,
        TRANSFORM
    };
    static const struct option options[] = {CLI_COMMON_OPTIONS,
                                            {"log-data", required_argument, NULL, LOG_DATA},
                                            {"song-data", required_argument, NULL, SONG_DATA},
                                            {"log-jsonpath", required_argument, NULL, JSONPATH},
                                            {"max-errors", required_argument, NULL, MAX_ERRORS},
                                            {"full-refresh", no_argument, NULL, FULL_REFRESH},
                                            {"keep-staging", no_argument, NULL, KEEP_STAGING},
                                            {"threads", required_argument, NULL, THREADS},
                                            {"transform", required_argument, NULL, TRANSFORM},
                                            {NULL, 0, NULL, 0}};
    const char *log_data = NULL, *song_data = NULL, *jsonpath = NULL;
    struct etl_options o = {0};
    long long n;
    int c;
    while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORT, options)) != -1) {
        switch (c) {
        case 'h':
            usage();
            return 0;
        case LOG_DATA:
            log_data = optarg;
            break;
        case SONG_DATA:
            song_data = optarg;
            break;
        case JSONPATH:
            jsonpath = optarg;
            break;
        case MAX_ERRORS:
            if (cli_parse_count(optarg, LONG_MAX, &n) != 0)
                return cli_usage_error("etl", "--max-errors takes a number >= 0, not '%s'", optarg);
            o.max_errors = (long)n;
            break;
        case FULL_REFRESH:
            o.full_refresh = true;
            break;
        case KEEP_STAGING:
            o.keep_staging = true;
            break;
        case THREADS:
            if (cli_parse_count(optarg, 16, &n) != 0 || n < 1)
                return cli_usage_error("etl", "--threads takes a number from 1 to 16, not '%s'",
                                       optarg);
            o.threads = (int)n;
            break;
        case TRANSFORM:
            if (strcmp(optarg, "sql") != 0 && strcmp(optarg, "c") != 0)
                return cli_usage_error("etl", "--transform takes c or sql, not '%s'", optarg);
            o.transform_sql = strcmp(optarg, "sql") == 0;
            break;
        default:
            return cli_usage_error("etl", "unknown or invalid option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("etl", "unexpected argument '%s'", argv[optind]);

    struct sp_error err;
    sp_error_clear(&err);
    int status = cli_load_config(cli, &err);
    if (status != SP_OK)
        return cli_report_error(&err);
    o.log_data = config_pick(log_data, "SPARKIFY_LOG_DATA", cli->config.s3_log_data, NULL);
    o.song_data = config_pick(song_data, "SPARKIFY_SONG_DATA", cli->config.s3_song_data, NULL);
    o.log_jsonpath =
        config_pick(jsonpath, "SPARKIFY_LOG_JSONPATH", cli->config.s3_log_jsonpath, NULL);

    struct progress progress;
    progress_init(&progress, cli);
    o.progress = progress_update;
    o.progress_ctx = &progress;

    struct warehouse *wh = NULL;
    struct etl_result r;
    double started = progress_now();
    status = cli_open_warehouse(cli, WAREHOUSE_WRITE, &wh, &err);
    if (status == SP_OK)
        status = etl_run(wh, &o, &r, &err);
    progress_finish(&progress);
    if (status == SP_OK) {
        char detail[320];
        if (o.transform_sql)
            snprintf(detail, sizeof detail,
                     "%zu events and %zu song records staged, star tables built by SQL "
                     "(%zu songplay events)",
                     r.events, r.song_records, r.songplays);
        else
            snprintf(detail, sizeof detail,
                     "%zu events, %zu songplays (%zu matched to a song), %zu users, %zu songs, "
                     "%zu artists",
                     r.events, r.songplays, r.matched, r.users, r.songs, r.artists);
        cli_info(cli,
                 "loaded %zu log and %zu song objects (%.1f MB) into %s in %.2f s: %s; "
                 "%zu objects already loaded, %zu bad records skipped\n",
                 r.log_objects, r.song_objects, (double)r.bytes / 1e6, wh->display,
                 progress_now() - started, detail, r.skipped_objects, r.bad_records);
    }
    warehouse_close(wh);
    return status == SP_OK ? 0 : cli_report_error(&err);
}
