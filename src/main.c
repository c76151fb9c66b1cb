/* main.c - the command table and the global options; each command lives in cmd_NAME.c. */
#include "cli.h"
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv, struct cli *cli);
    const char *summary;
};

static const struct command commands[] = {
    {"init", cmd_init, "write a commented dwh.cfg template"},
    {"cluster", cmd_cluster,
     "create|status|delete the IAM role, network access and Redshift cluster"},
    {"create-tables", cmd_create_tables, "drop (if present) and create staging and star tables"},
    {"etl", cmd_etl, "extract sources -> staging -> star tables (incremental, atomic)"},
    {"check", cmd_check, "data-quality checks; exit 1 when one fails"},
    {"report", cmd_report, "analytics: top songs, artists, users; activity by hour, weekday, day"},
    {"query", cmd_query, "run SQL, print as table, csv or json"},
    {"generate", cmd_generate, "write a realistic synthetic dataset"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sparkify [--config FILE] [--target URL] [-q] [--progress auto|always|never]"
            " [--dry-run] COMMAND [...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\ntargets: sqlite:PATH (default sqlite:sparkify.db), "
                 "postgresql://user:pass@host:port/db,\n"
                 "         redshift://user:pass@host:5439/db (default when dwh.cfg has "
                 "[CLUSTER] HOST)\n"
                 "--dry-run prints the SQL a command would run, connecting to no warehouse\n"
                 "settings: flag > environment (SPARKIFY_*) > dwh.cfg > default\n"
                 "`sparkify COMMAND --help` describes a command.\n");
}

int main(int argc, char **argv)
{
    cli_handle_interrupts();
    struct cli cli;
    memset(&cli, 0, sizeof cli);
    config_file_init(&cli.config);
    static const struct option options[] = {
        CLI_COMMON_OPTIONS, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, options, NULL)) != -1) {
        int handled = cli_common_option(&cli, c, optarg);
        if (handled < 0)
            return cli_usage_error(NULL, "--progress takes auto, always or never");
        if (handled)
            continue;
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == 'V') {
            printf("sparkify 0.1.0\n");
            return 0;
        }
        return cli_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[optind];
    int command_argc = argc - optind;
    char **command_argv = argv + optind;
    optind = 0; /* getopt starts afresh on the command's arguments */
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, name) == 0) {
            int status = commands[i].run(command_argc, command_argv, &cli);
            config_file_release(&cli.config);
            return status;
        }
    }
    return cli_usage_error(NULL, "unknown command '%s'", name);
}
