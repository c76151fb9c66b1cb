/* cli.c - shared command-line plumbing (see cli.h). */
#include "cli.h"

#include "buffer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_common_option(struct cli *cli, int option, const char *value)
{
    switch (option) {
    case 'C':
        cli->config_path = value;
        return 1;
    case 'T':
        cli->target_flag = value;
        return 1;
    case 'q':
        cli->quiet = true;
        return 1;
    case 'D':
        cli->dry_run = true;
        return 1;
    case 'P':
        if (strcmp(value, "auto") == 0)
            cli->progress = PROGRESS_AUTO;
        else if (strcmp(value, "always") == 0)
            cli->progress = PROGRESS_ALWAYS;
        else if (strcmp(value, "never") == 0)
            cli->progress = PROGRESS_NEVER;
        else
            return -1;
        return 1;
    default:
        return 0;
    }
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *short_options,
               const struct option *options)
{
    int c;
    while ((c = getopt_long(argc, argv, short_options, options, NULL)) != -1) {
        int handled = cli_common_option(cli, c, optarg);
        if (handled < 0)
            return '?';
        if (handled == 0)
            return c;
    }
    return -1;
}

int cli_load_config(struct cli *cli, struct sp_error *err)
{
    if (cli->config_path)
        return config_file_load(&cli->config, cli->config_path, true, err);
    const char *env = getenv("SPARKIFY_CONFIG");
    if (env && *env)
        return config_file_load(&cli->config, env, true, err);
    return config_file_load(&cli->config, "dwh.cfg", false, err);
}

void cli_target(const struct cli *cli, struct cli_target *out)
{
    memset(out, 0, sizeof *out);
    out->target.url = config_pick(cli->target_flag, "SPARKIFY_TARGET", NULL, NULL);
    if (!out->target.url && !config_cluster_keywords(&cli->config, out->keys, out->values))
        out->target.url = "sqlite:sparkify.db";
    out->target.keys = out->keys;
    out->target.values = out->values;
}

static void print_statement(void *ctx, const char *sql)
{
    (void)ctx;
    size_t len = strlen(sql);
    while (len && (sql[len - 1] == ' ' || sql[len - 1] == '\n' || sql[len - 1] == ';'))
        len--;
    printf("%.*s%s\n", (int)len, sql, strncmp(sql, "--", 2) == 0 ? "" : ";");
}

int cli_open_warehouse(const struct cli *cli, enum warehouse_mode mode, struct warehouse **out,
                       struct sp_error *err)
{
    *out = NULL;
    struct cli_target t;
    cli_target(cli, &t);
    static const struct warehouse_dry_run dry_run = {print_statement, NULL};
    if (cli->dry_run) {
        char *shown = NULL;
        int status = warehouse_target_display(&t.target, &shown, err);
        if (status != SP_OK)
            return status;
        printf("-- dry run on %s: the statements sparkify would run; nothing is connected or "
               "written\n",
               shown);
        free(shown);
    }
    return warehouse_open_target(&t.target, mode, cli->dry_run ? &dry_run : NULL, out, err);
}

int cli_report_error(const struct sp_error *err)
{
    fprintf(stderr, "sparkify: %s\n", err->message[0] ? err->message : "unknown error");
    return err->status ? err->status : 1;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sparkify%s%s: ", command ? " " : "", command ? command : "");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see `sparkify%s%s --help`)\n", command ? " " : "", command ? command : "");
    return SP_USAGE;
}

int cli_parse_count(const char *text, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

void cli_info(const struct cli *cli, const char *fmt, ...)
{
    if (cli->quiet)
        return;
    fflush(stdout); /* what went to stdout comes first, also when both share one pipe */
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}
