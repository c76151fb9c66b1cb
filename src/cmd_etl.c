/* cmd_etl.c - `sparkify etl`: load new source objects into the star schema. */
#include "commands.h"

#include "buffer.h"
#include "check.h"
#include "etl.h"
#include "output.h"
#include "progress.h"
#include "warehouse_redshift.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf(
        "usage: sparkify etl [--log-data SRC] [--song-data SRC] [--log-jsonpath FILE]\n"
        "                    [--max-errors N] [--full-refresh] [--keep-staging] [--threads N]\n"
        "                    [--check] [--checks FILE]\n\n"
        "Loads the source objects not loaded before into the star tables, in one transaction.\n"
        "SRC is a file, a directory (recursive; *.json, *.jsonl, *.ndjson, optionally .gz) or\n"
        "a glob. Defaults come from SPARKIFY_LOG_DATA, SPARKIFY_SONG_DATA and\n"
        "SPARKIFY_LOG_JSONPATH, then [S3] LOG_DATA, SONG_DATA and LOG_JSONPATH in dwh.cfg.\n\n"
        "  --log-jsonpath FILE  JSONPaths file mapping event keys to staging_events columns\n"
        "  --max-errors N       skip up to N bad records into load_errors (default 0: stop;\n"
        "                       at most 99999, the limit of Redshift's COPY)\n"
        "  --full-refresh       empty the star tables and load every object again\n"
        "  --keep-staging       also write the raw records to staging_events/staging_songs\n"
        "  --threads N          song file readers (default: one per core)\n"
        "  --transform c|sql    build the star tables in sparkify (c, the default) or stage the\n"
        "                       raw records and build them with SQL in the warehouse (sql;\n"
        "                       PostgreSQL; Redshift always does)\n"
        "  --check              run the data-quality checks of `sparkify check` inside the run's\n"
        "                       transaction; when one fails, print it and roll the run back\n"
        "  --checks FILE        also the checks in FILE (see `sparkify check --help`); implies\n"
        "                       --check\n"
        "  --dry-run            print the SQL the run would execute; connect to no warehouse\n"
        "                       (sources are still read: files, and S3 listings)\n\n"
        "Redshift target (the cluster COPYs the sources from S3 itself):\n"
        "  --iam-role ARN       role the cluster assumes to read S3 (SPARKIFY_IAM_ROLE,\n"
        "                       [IAM_ROLE] ARN)\n"
        "  --staging S3URL      prefix for COPY manifests, uploads of local sources and the\n"
        "                       JSONPaths file (SPARKIFY_STAGING, [S3] STAGING)\n\n"
        "S3 (sources at s3://bucket/prefix, and a Redshift run's staging prefix):\n"
        "  --s3-endpoint URL    an S3-compatible store (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL);\n"
        "                       path-style addressing unless --s3-virtual-hosted\n"
        "  --s3-region REGION   signing region (AWS_REGION, AWS_DEFAULT_REGION; us-west-2)\n"
        "  --no-sign-request    anonymous requests, for public buckets\n"
        "  --s3-concurrency N   requests in flight: S3 objects read, local files uploaded\n"
        "                       (default 32)\n"
        "  --s3-part-size MIB   uploads larger than this go in parts of this size, 5 to 5120\n"
        "                       (default 16)\n"
        "  --s3-max-attempts N  tries per request on 5xx, SlowDown, timeouts (default 6)\n"
        "  --s3-max-keys N      listing page size (default 1000)\n"
        "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, then\n"
        "~/.aws/credentials (AWS_PROFILE), then [AWS] KEY/SECRET in dwh.cfg.\n");
}

/* etl --check: the checks run by the before-commit hook, and what they found. */
struct etl_checks {
    struct check_list list;
    struct check_result *results;
    size_t failed;
    bool ran;
};

static void etl_checks_init(struct etl_checks *c)
{
    memset(c, 0, sizeof *c);
    check_list_init(&c->list);
}

static int etl_checks_load(struct etl_checks *c, const char *path, struct sp_error *err)
{
    check_list_add_builtin(&c->list);
    int status = path ? check_list_load(&c->list, path, err) : SP_OK;
    c->results = xcalloc(c->list.count, sizeof *c->results);
    return status;
}

static void etl_checks_release(struct etl_checks *c)
{
    check_list_release(&c->list);
    free(c->results);
}

static int run_checks_before_commit(void *ctx, struct warehouse *wh, struct sp_error *err)
{
    struct etl_checks *c = ctx;
    int status = check_run(wh, &c->list, c->results, &c->failed, err);
    c->ran = status == SP_OK;
    if (status == SP_OK && c->failed)
        return sp_fail(err,
                       "%zu of %zu data-quality checks failed (listed above); the run was rolled "
                       "back and nothing was written",
                       c->failed, c->list.count);
    return status;
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
        TRANSFORM,
        S3_ENDPOINT,
        S3_REGION,
        NO_SIGN,
        S3_CONCURRENCY,
        S3_VIRTUAL_HOSTED,
        S3_MAX_KEYS,
        S3_MAX_ATTEMPTS,
        S3_PART_SIZE,
        IAM_ROLE,
        STAGING,
        CHECK,
        CHECKS
    };
    static const struct option options[] = {
        CLI_COMMON_OPTIONS,
        {"log-data", required_argument, NULL, LOG_DATA},
        {"song-data", required_argument, NULL, SONG_DATA},
        {"log-jsonpath", required_argument, NULL, JSONPATH},
        {"max-errors", required_argument, NULL, MAX_ERRORS},
        {"full-refresh", no_argument, NULL, FULL_REFRESH},
        {"keep-staging", no_argument, NULL, KEEP_STAGING},
        {"threads", required_argument, NULL, THREADS},
        {"transform", required_argument, NULL, TRANSFORM},
        {"s3-endpoint", required_argument, NULL, S3_ENDPOINT},
        {"s3-region", required_argument, NULL, S3_REGION},
        {"no-sign-request", no_argument, NULL, NO_SIGN},
        {"s3-concurrency", required_argument, NULL, S3_CONCURRENCY},
        {"s3-virtual-hosted", no_argument, NULL, S3_VIRTUAL_HOSTED},
        {"s3-max-keys", required_argument, NULL, S3_MAX_KEYS},
        {"s3-max-attempts", required_argument, NULL, S3_MAX_ATTEMPTS},
        {"s3-part-size", required_argument, NULL, S3_PART_SIZE},
        {"iam-role", required_argument, NULL, IAM_ROLE},
        {"staging", required_argument, NULL, STAGING},
        {"check", no_argument, NULL, CHECK},
        {"checks", required_argument, NULL, CHECKS},
        {NULL, 0, NULL, 0}};
    const char *log_data = NULL, *song_data = NULL, *jsonpath = NULL;
    const char *s3_endpoint = NULL, *s3_region = NULL, *iam_role = NULL, *staging = NULL;
    const char *checks_path = NULL;
    bool check = false;
    struct s3_config s3 = {.path_style = -1, .sign = true};
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
            /* One limit for every target, so that a run that may skip N bad records on one
             * may on all: Redshift's COPY takes at most MAXERROR 100000. */
            if (cli_parse_count(optarg, REDSHIFT_MAX_ERRORS, &n) != 0)
                return cli_usage_error("etl",
                                       "--max-errors takes a number from 0 to %d (Redshift's "
                                       "COPY fails at MAXERROR 100000, its limit), not '%s'",
                                       REDSHIFT_MAX_ERRORS, optarg);
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
        case S3_ENDPOINT:
            s3_endpoint = optarg;
            break;
        case S3_REGION:
            s3_region = optarg;
            break;
        case NO_SIGN:
            s3.sign = false;
            break;
        case S3_VIRTUAL_HOSTED:
            s3.path_style = 0;
            break;
        case S3_CONCURRENCY:
        case S3_MAX_KEYS:
        case S3_MAX_ATTEMPTS:
            if (cli_parse_count(optarg, 1000, &n) != 0 || n < 1)
                return cli_usage_error("etl", "%s takes a number from 1 to 1000, not '%s'",
                                       argv[optind - 2], optarg);
            if (c == S3_CONCURRENCY)
                s3.concurrency = (int)n;
            else if (c == S3_MAX_KEYS)
                s3.max_keys = (long)n;
            else
                s3.max_attempts = (int)n;
            break;
        case S3_PART_SIZE:
            /* S3 takes parts of 5 MiB to 5 GiB
             * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
            if (cli_parse_count(optarg, (long long)(S3_PART_SIZE_MAX >> 20), &n) != 0 ||
                (uint64_t)n < S3_PART_SIZE_MIN >> 20)
                return cli_usage_error("etl",
                                       "--s3-part-size takes a number of MiB from %llu to %llu "
                                       "(S3's limits for a part), not '%s'",
                                       (unsigned long long)(S3_PART_SIZE_MIN >> 20),
                                       (unsigned long long)(S3_PART_SIZE_MAX >> 20), optarg);
            s3.part_size = (uint64_t)n << 20;
            break;
        case TRANSFORM:
            if (strcmp(optarg, "sql") != 0 && strcmp(optarg, "c") != 0)
                return cli_usage_error("etl", "--transform takes c or sql, not '%s'", optarg);
            o.transform = strcmp(optarg, "sql") == 0 ? ETL_TRANSFORM_SQL : ETL_TRANSFORM_C;
            break;
        case IAM_ROLE:
            iam_role = optarg;
            break;
        case STAGING:
            staging = optarg;
            break;
        case CHECK:
            check = true;
            break;
        case CHECKS:
            check = true;
            checks_path = optarg;
            break;
        default:
            return cli_usage_error("etl", "unknown or invalid option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("etl", "unexpected argument '%s'", argv[optind]);

    struct sp_error err;
    sp_error_clear(&err);
    struct etl_checks checks;
    etl_checks_init(&checks);
    int status = check ? etl_checks_load(&checks, checks_path, &err) : SP_OK;
    if (status == SP_OK)
        status = cli_load_config(cli, &err);
    if (status != SP_OK) {
        etl_checks_release(&checks);
        return cli_report_error(&err);
    }
    if (check) {
        o.before_commit = run_checks_before_commit;
        o.before_commit_ctx = &checks;
    }
    o.log_data = config_pick(log_data, "SPARKIFY_LOG_DATA", cli->config.s3_log_data, NULL);
    o.song_data = config_pick(song_data, "SPARKIFY_SONG_DATA", cli->config.s3_song_data, NULL);
    o.log_jsonpath =
        config_pick(jsonpath, "SPARKIFY_LOG_JSONPATH", cli->config.s3_log_jsonpath, NULL);

    o.iam_role = config_pick(iam_role, "SPARKIFY_IAM_ROLE", cli->config.iam_role_arn, NULL);
    o.staging = config_pick(staging, "SPARKIFY_STAGING", cli->config.s3_staging, NULL);
    s3.endpoint = config_pick(s3_endpoint, "AWS_ENDPOINT_URL_S3", getenv("AWS_ENDPOINT_URL"), NULL);
    s3.region = config_pick(s3_region, "AWS_REGION", getenv("AWS_DEFAULT_REGION"), NULL);
    o.region = s3.region ? s3.region : "us-west-2";

    struct progress progress;
    progress_init(&progress, cli);
    o.progress = progress_update;
    o.progress_ctx = &progress;

    struct warehouse *wh = NULL;
    struct etl_result r;
    double started = progress_now();
    char *key = NULL, *secret = NULL, *token = NULL;
    status = cli_open_warehouse(cli, WAREHOUSE_WRITE, &wh, &err);
    /* An S3 client when a source is in S3, or for Redshift's staging prefix: credentials are
     * then required, except in a dry run, which may have nothing to sign. */
    bool wants_s3 = status == SP_OK && wh->ops->server_load;
    const char *specs[] = {o.log_data, o.song_data, o.log_jsonpath};
    for (int i = 0; i < 3; i++)
        wants_s3 |= specs[i] && strncmp(specs[i], "s3://", 5) == 0;
    if (status == SP_OK && wants_s3) {
        const char *source = NULL;
        if (s3.sign &&
            config_aws_credentials(&cli->config, &key, &secret, &token, &source, &err) != SP_OK) {
            if (cli->dry_run)
                s3.sign = false;
            else
                status = err.status;
        }
        s3.access_key = key;
        s3.secret_key = secret;
        s3.session_token = token;
        if (status == SP_OK)
            status = s3_client_new(&s3, &o.s3, &err);
    }
    if (status == SP_OK)
        status = etl_run(wh, &o, &r, &err);
    if (status == SP_OK && !cli->dry_run)
        cli_interrupt_message("sparkify: interrupted after the run was committed\n");
    progress_finish(&progress);
    if (status == SP_OK && cli->dry_run) {
        cli_info(cli,
                 "dry run: no warehouse was connected and nothing was written; a run would load "
                 "%zu log and %zu song objects (%.1f MB)\n",
                 r.log_objects, r.song_objects, (double)r.bytes / 1e6);
    } else if (status == SP_OK) {
        char detail[320];
        if (wh->ops->server_load || o.transform == ETL_TRANSFORM_SQL)
            snprintf(detail, sizeof detail,
                     "%zu events and %zu song records staged, star tables built by SQL "
                     "(%zu songplay events)",
                     r.events, r.song_records, r.songplays);
        else
            snprintf(detail, sizeof detail,
                     "%zu events, %zu songplays (%zu matched to a song), %zu users, %zu songs, "
                     "%zu artists",
                     r.events, r.songplays, r.matched, r.users, r.songs, r.artists);
        char open_lines[96] = "";
        if (r.open_lines)
            snprintf(open_lines, sizeof open_lines,
                     "; %zu unfinished last line%s left for the next run", r.open_lines,
                     r.open_lines == 1 ? "" : "s");
        cli_info(cli,
                 "loaded %zu log and %zu song objects (%.1f MB) into %s in %.2f s: %s; "
                 "%zu objects already loaded, %zu bad records skipped%s\n",
                 r.log_objects, r.song_objects, (double)r.bytes / 1e6, wh->display,
                 progress_now() - started, detail, r.skipped_objects, r.bad_records, open_lines);
        if (check)
            cli_info(cli, "%zu data-quality checks passed\n", checks.list.count);
    } else if (checks.ran && checks.failed) {
        output_check_results(stderr, checks.results, checks.list.count, true);
    }
    etl_checks_release(&checks);
    warehouse_close(wh);
    s3_client_free(o.s3);
    if (secret)
        memset(secret, 0, strlen(secret));
    free(key);
    free(secret);
    free(token);
    return status == SP_OK ? 0 : cli_report_error(&err);
}
