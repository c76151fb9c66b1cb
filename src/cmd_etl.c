/* cmd_etl.c - `sparkify etl`: load new source objects into the star schema.
 *
 * The options land in struct etl_args as given; etl_resolve turns them into the library's
 * etl_options and s3_config, filling what a flag leaves out from the environment and dwh.cfg.
 * A checks file (--checks) is read before the warehouse is opened, so that a bad one opens,
 * creates and writes nothing. With --format json a committed run ends with one JSON object on
 * stdout in place of the summary line, for scripts; the progress line stays on stderr.
 */
#include "commands.h"

#include "buffer.h"
#include "check.h"
#include "etl.h"
#include "output.h"
#include "progress.h"
#include "warehouse_redshift.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum etl_format { ETL_FORMAT_TEXT, ETL_FORMAT_JSON };

struct etl_args {
    enum etl_format format;
    const char *log_data, *song_data, *log_jsonpath;
    long max_errors;
    bool full_refresh, keep_staging;
    int threads;
    enum etl_transform transform;
    bool check;
    const char *checks_path;
    const char *iam_role, *staging;
    const char *s3_endpoint, *s3_region;
    bool s3_virtual_hosted, no_sign_request;
    int s3_concurrency, s3_max_attempts;
    long s3_max_keys;
    int s3_part_size_mib;
    /* Made before the set-up (etl_prepare): */
    struct etl_checks checks;
    double started;
};

static const struct cli_word etl_formats[] = {
    {"text", ETL_FORMAT_TEXT}, {"json", ETL_FORMAT_JSON}, {NULL, 0}};

static const struct cli_word transforms[] = {
    {"c", ETL_TRANSFORM_C}, {"sql", ETL_TRANSFORM_SQL}, {NULL, 0}};

#define CLI_ARGS struct etl_args
static const struct cli_option etl_option_table[] = {
    OPT_STRING(0, "log-data", log_data, "SRC", "the event logs (JSON Lines, one file per day)"),
    OPT_STRING(0, "song-data", song_data, "SRC", "the song metadata (JSON, one song per file)"),
    OPT_STRING(0, "log-jsonpath", log_jsonpath, "FILE",
               "JSONPaths file mapping event keys to staging_events columns"),
    /* One limit for every target, so that a run that may skip N bad records on one may on
     * all: Redshift's COPY takes at most MAXERROR 100000. */
    OPT_INT_F(0, "max-errors", max_errors, "N", 0, REDSHIFT_MAX_ERRORS,
              "skip up to N bad records into load_errors (default 0: stop; at most 99999, the "
              "limit of Redshift's COPY)",
              .why = "Redshift's COPY fails at MAXERROR 100000, its limit"),
    OPT_BOOL(0, "full-refresh", full_refresh, "empty the star tables and load every object again"),
    OPT_BOOL(0, "keep-staging", keep_staging,
             "also write the raw records to staging_events/staging_songs"),
    OPT_INT(0, "threads", threads, "N", 1, 16, "song file readers (default: one per core)"),
    OPT_ENUM(0, "transform", transform, NULL, transforms,
             "build the star tables in sparkify (c, the default) or stage the raw records and "
             "build them with SQL in the warehouse (sql; PostgreSQL; Redshift always does)"),
    OPT_BOOL(0, "check", check,
             "run the data-quality checks of `sparkify check` inside the run's transaction; when "
             "one fails, print it and roll the run back"),
    OPT_STRING(0, "checks", checks_path, "FILE",
               "also the checks in FILE (see `sparkify check --help`); implies --check"),
    OPT_ENUM('f', "format", format, NULL, etl_formats,
             "how a committed run is summed up: a line on stderr (text, the default), or one JSON "
             "object on stdout (json; its keys are in the README)"),
    OPT_GROUP("Redshift target (the cluster COPYs the sources from S3 itself):"),
    OPT_STRING(0, "iam-role", iam_role, "ARN",
               "role the cluster assumes to read S3 (SPARKIFY_IAM_ROLE, [IAM_ROLE] ARN)"),
    OPT_STRING(0, "staging", staging, "S3URL",
               "prefix for COPY manifests, uploads of local sources and the JSONPaths file "
               "(SPARKIFY_STAGING, [S3] STAGING)"),
    OPT_GROUP("S3 (sources at s3://bucket/prefix, and a Redshift run's staging prefix):"),
    OPT_STRING(0, "s3-endpoint", s3_endpoint, "URL",
               "an S3-compatible store (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL); path-style "
               "addressing unless --s3-virtual-hosted"),
    OPT_BOOL(0, "s3-virtual-hosted", s3_virtual_hosted,
             "address a bucket as BUCKET.HOST rather than HOST/BUCKET at --s3-endpoint"),
    OPT_STRING(0, "s3-region", s3_region, "REGION",
               "signing region (AWS_REGION, AWS_DEFAULT_REGION; us-west-2)"),
    OPT_BOOL(0, "no-sign-request", no_sign_request, "anonymous requests, for public buckets"),
    OPT_INT(0, "s3-concurrency", s3_concurrency, "N", 1, 1000,
            "requests in flight: S3 objects read, local files uploaded (default 32)"),
    /* S3 takes parts of 5 MiB to 5 GiB
     * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
    OPT_INT_F(0, "s3-part-size", s3_part_size_mib, "MIB", (long long)(S3_PART_SIZE_MIN >> 20),
              (long long)(S3_PART_SIZE_MAX >> 20),
              "uploads larger than this go in parts of this size, 5 to 5120 (default 16)",
              .unit = "MiB", .why = "S3's limits for a part"),
    OPT_INT(0, "s3-max-attempts", s3_max_attempts, "N", 1, 1000,
            "tries per request on 5xx, SlowDown, timeouts (default 6)"),
    OPT_INT(0, "s3-max-keys", s3_max_keys, "N", 1, 1000, "listing page size (default 1000)"),
    OPT_END,
};
#undef CLI_ARGS

static int etl_prepare(struct cli *cli, void *args)
{
    struct etl_args *a = args;
    etl_checks_init(&a->checks);
    if (a->format == ETL_FORMAT_JSON && cli->dry_run)
        return cli_usage_error("etl", "--format json and --dry-run both write to stdout: give "
                                      "one of them");
    a->check |= a->checks_path != NULL;
    struct sp_error err;
    sp_error_clear(&err);
    if (a->check && etl_checks_load(&a->checks, a->checks_path, &err) != SP_OK)
        return cli_report_error(&err);
    a->started = progress_now();
    return 0;
}

/* The run's options and S3 settings: flag > environment > dwh.cfg > default. */
static void etl_resolve(const struct cli *cli, struct etl_args *a, struct etl_options *o,
                        struct s3_config *s3)
{
    const struct config_file *config = &cli->config;
    *o = (struct etl_options){
        .log_data = config_pick(a->log_data, "SPARKIFY_LOG_DATA", config->s3_log_data, NULL),
        .song_data = config_pick(a->song_data, "SPARKIFY_SONG_DATA", config->s3_song_data, NULL),
        .log_jsonpath =
            config_pick(a->log_jsonpath, "SPARKIFY_LOG_JSONPATH", config->s3_log_jsonpath, NULL),
        .max_errors = a->max_errors,
        .full_refresh = a->full_refresh,
        .keep_staging = a->keep_staging,
        .transform = a->transform,
        .threads = a->threads,
        .iam_role = config_pick(a->iam_role, "SPARKIFY_IAM_ROLE", config->iam_role_arn, NULL),
        .staging = config_pick(a->staging, "SPARKIFY_STAGING", config->s3_staging, NULL),
    };
    if (a->check) {
        o->before_commit = run_checks_before_commit;
        o->before_commit_ctx = &a->checks;
    }
    *s3 = (struct s3_config){
        .endpoint =
            config_pick(a->s3_endpoint, "AWS_ENDPOINT_URL_S3", getenv("AWS_ENDPOINT_URL"), NULL),
        .region = config_pick(a->s3_region, "AWS_REGION", getenv("AWS_DEFAULT_REGION"), NULL),
        .path_style = a->s3_virtual_hosted ? 0 : -1,
        .sign = !a->no_sign_request,
        .concurrency = a->s3_concurrency,
        .max_attempts = a->s3_max_attempts,
        .max_keys = a->s3_max_keys,
        .part_size = (uint64_t)a->s3_part_size_mib << 20,
    };
    o->region = s3->region ? s3->region : "us-west-2";
}

/* AWS credentials for the S3 client; etl_credentials_free wipes the secret. */
struct etl_credentials {
    char *key, *secret, *token;
};

static void etl_credentials_free(struct etl_credentials *c)
{
    if (c->secret)
        memset(c->secret, 0, strlen(c->secret));
    free(c->key);
    free(c->secret);
    free(c->token);
}

/* An S3 client when a source is in S3, or for Redshift's staging prefix: credentials are then
 * required, except in a dry run, which may have nothing to sign. */
static int etl_open_s3(const struct cli *cli, struct etl_options *o, struct s3_config *s3,
                       struct etl_credentials *c, struct sp_error *err)
{
    bool wants_s3 = cli->wh->ops->server_load;
    const char *specs[] = {o->log_data, o->song_data, o->log_jsonpath};
    for (int i = 0; i < 3; i++)
        wants_s3 |= specs[i] && strncmp(specs[i], "s3://", 5) == 0;
    if (!wants_s3)
        return SP_OK;
    const char *source = NULL;
    if (s3->sign && config_aws_credentials(&cli->config, &c->key, &c->secret, &c->token, &source,
                                           err) != SP_OK) {
        if (!cli->dry_run)
            return err->status;
        s3->sign = false;
        sp_error_clear(err);
    }
    s3->access_key = c->key;
    s3->secret_key = c->secret;
    s3->session_token = c->token;
    return s3_client_new(s3, &o->s3, err);
}

/* The line a committed run ends with, on stderr. */
static void etl_print_summary(const struct cli *cli, const struct etl_args *a,
                              const struct etl_options *o, const struct etl_result *r)
{
    char detail[320];
    if (cli->wh->ops->server_load || o->transform == ETL_TRANSFORM_SQL)
        snprintf(detail, sizeof detail,
                 "%zu events and %zu song records staged, star tables built by SQL "
                 "(%zu songplay events)",
                 r->events, r->song_records, r->songplays);
    else
        snprintf(detail, sizeof detail,
                 "%zu events, %zu songplays (%zu matched to a song), %zu users, %zu songs, "
                 "%zu artists",
                 r->events, r->songplays, r->matched, r->users, r->songs, r->artists);
    char open_lines[96] = "";
    if (r->open_lines)
        snprintf(open_lines, sizeof open_lines,
                 "; %zu unfinished last line%s left for the next run", r->open_lines,
                 r->open_lines == 1 ? "" : "s");
    cli_info(cli,
             "loaded %zu log and %zu song objects (%.1f MB) into %s in %.2f s: %s; "
             "%zu objects already loaded, %zu bad records skipped%s\n",
             r->log_objects, r->song_objects, (double)r->bytes / 1e6, cli->wh->display,
             progress_now() - a->started, detail, r->skipped_objects, r->bad_records, open_lines);
    if (a->check)
        cli_info(cli, "%zu data-quality checks passed\n", a->checks.list.count);
}

/* etl --format json: what a committed run did, as one object on stdout (the README's etl
 * section lists the keys). */
static void etl_print_json(const struct cli *cli, const struct etl_args *a,
                           const struct etl_result *r)
{
    cJSON *json = cJSON_CreateObject();
    cJSON_AddStringToObject(json, "target", cli->wh->display);
    cJSON *objects = cJSON_AddObjectToObject(json, "objects");
    cJSON *song = cJSON_AddObjectToObject(objects, "song");
    cJSON_AddNumberToObject(song, "loaded", (double)r->song_objects);
    cJSON_AddNumberToObject(song, "skipped", (double)r->skipped_song_objects);
    cJSON *log = cJSON_AddObjectToObject(objects, "log");
    cJSON_AddNumberToObject(log, "loaded", (double)r->log_objects);
    cJSON_AddNumberToObject(log, "skipped", (double)r->skipped_log_objects);
    cJSON_AddNumberToObject(json, "bytes", (double)r->bytes);
    cJSON_AddNumberToObject(json, "song_records", (double)r->song_records);
    cJSON_AddNumberToObject(json, "events", (double)r->events);
    cJSON_AddNumberToObject(json, "songplays", (double)r->songplays);
    cJSON_AddNumberToObject(json, "matched", (double)r->matched);
    cJSON_AddNumberToObject(json, "users", (double)r->users);
    cJSON_AddNumberToObject(json, "songs", (double)r->songs);
    cJSON_AddNumberToObject(json, "artists", (double)r->artists);
    cJSON_AddNumberToObject(json, "bad_records", (double)r->bad_records);
    cJSON_AddNumberToObject(json, "open_lines", (double)r->open_lines);
    if (a->check)
        cJSON_AddNumberToObject(json, "checks_passed", (double)a->checks.list.count);
    /* Milliseconds are enough, and keep the number short. */
    cJSON_AddNumberToObject(json, "seconds", round((progress_now() - a->started) * 1000) / 1000);
    char *text = cJSON_PrintUnformatted(json);
    printf("%s\n", text);
    fflush(stdout);
    cJSON_free(text);
    cJSON_Delete(json);
}

/* What a dry run read: the sources were listed and checked, nothing was written. */
static void etl_print_dry_run(const struct cli *cli, const struct etl_result *r)
{
    cli_info(cli,
             "dry run: no warehouse was connected and nothing was written; a run would load "
             "%zu log and %zu song objects (%.1f MB)\n",
             r->log_objects, r->song_objects, (double)r->bytes / 1e6);
}

static int cmd_etl(struct cli *cli, void *args)
{
    struct etl_args *a = args;
    struct etl_options o;
    struct s3_config s3;
    etl_resolve(cli, a, &o, &s3);
    struct progress progress;
    progress_init(&progress, cli);
    o.progress = progress_update;
    o.progress_ctx = &progress;

    struct sp_error err;
    sp_error_clear(&err);
    struct etl_credentials credentials = {NULL, NULL, NULL};
    struct etl_result r;
    int status = etl_open_s3(cli, &o, &s3, &credentials, &err);
    if (status == SP_OK)
        status = etl_run(cli->wh, &o, &r, &err);
    if (status == SP_OK && !cli->dry_run)
        cli_interrupt_message("sparkify: interrupted after the run was committed\n");
    progress_finish(&progress);
    /* Loaded as COPY loads them, on every target alike, but worth a word: records with neither
     * page nor ts are no events, and a run of nothing else is most likely song data given as
     * --log-data. */
    if (status == SP_OK && !cli->dry_run && r.events && r.blank_events == r.events)
        cli_info(cli,
                 "sparkify: warning: none of the %zu log records has a page or a ts: this looks "
                 "like song data given as --log-data (are --song-data and --log-data swapped?)\n",
                 r.events);
    if (status == SP_OK && cli->dry_run)
        etl_print_dry_run(cli, &r);
    else if (status == SP_OK && a->format == ETL_FORMAT_JSON)
        etl_print_json(cli, a, &r);
    else if (status == SP_OK)
        etl_print_summary(cli, a, &o, &r);
    else if (a->checks.ran && a->checks.failed)
        output_check_results(stderr, a->checks.results, a->checks.list.count, true);
    s3_client_free(o.s3);
    etl_credentials_free(&credentials);
    return status == SP_OK ? 0 : cli_report_error(&err);
}

static void etl_release(void *args)
{
    struct etl_args *a = args;
    etl_checks_release(&a->checks);
}

const struct cli_command etl_command = {
    .options = etl_option_table,
    .description =
        "Loads the source objects not loaded before into the star tables, in one transaction. "
        "SRC is a file, a directory (recursive; *.json, *.jsonl, *.ndjson, optionally .gz) or a "
        "glob. Defaults come from SPARKIFY_LOG_DATA, SPARKIFY_SONG_DATA and "
        "SPARKIFY_LOG_JSONPATH, then [S3] LOG_DATA, SONG_DATA and LOG_JSONPATH in dwh.cfg.",
    .epilogue = "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, then "
                "~/.aws/credentials (AWS_PROFILE), then [AWS] KEY/SECRET in dwh.cfg.\n"
                "\n"
                "With --dry-run, etl prints the SQL the run would execute and connects to no "
                "warehouse; the sources are still read (files, and S3 listings).",
    .args_size = sizeof(struct etl_args),
    .prepare = etl_prepare,
    .run = cmd_etl,
    .release = etl_release,
};
