/* main.c - the command table, the global options, and the set-up each command asks for.
 *
 * Each command lives in cmd_NAME.c as an options table and its entry points; this file parses
 * the options into them, answers --help, and loads dwh.cfg and opens the warehouse before the
 * command runs when its row in the table says so (RUN_*), closing it after.
 */
#include "buffer.h"
#include "cli.h"
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct command commands[] = {
    {"create-tables", &create_tables_command, RUN_WAREHOUSE_WRITE,
     "create staging and star tables (drop loaded ones only with --force)"},
    {"etl", &etl_command, RUN_WAREHOUSE_WRITE,
     "extract sources -> (staging) -> star tables (incremental, atomic)"},
    {"check", &check_command, RUN_WAREHOUSE_READ, "data-quality checks; exit 1 when one fails"},
    {"report", &report_command, RUN_WAREHOUSE_READ,
     "top songs, artists, users, locations; plays by hour, weekday, level, browser, OS; daily "
     "active users (table|csv|json|html)"},
    {"query", &query_command, RUN_WAREHOUSE_READ,
     "run one read-only SQL statement (--write to change), print as --format table|csv|json"},
    {"generate", &generate_command, 0, "write a realistic synthetic dataset"},
};

const struct command *commands_list(size_t *count)
{
    *count = sizeof commands / sizeof commands[0];
    return commands;
}

/* The options of sparkify itself, before the command name only. */
struct main_args {
    bool version;
    bool help_all;
};

#define CLI_ARGS struct main_args
static const struct cli_option main_options[] = {
    OPT_BOOL_F(0, "version", version, "print the version", .flags = CLI_OPTION_STOP),
    OPT_BOOL_F(0, "help-all", help_all, "print every option table as tab-separated rows (cli.h)",
               .flags = CLI_OPTION_STOP | CLI_OPTION_HIDDEN),
    OPT_END,
};
#undef CLI_ARGS

static void usage(FILE *out)
{
    const struct cli_option *global[] = {cli_global_options};
    options_print_usage(out, "usage: sparkify ", global, 1, "COMMAND [...]");
    fputs("\ncommands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const struct command *c = &commands[i];
        char label[64];
        snprintf(label, sizeof label, "%s%s%s", c->name, c->spec->operand ? " " : "",
                 c->spec->operand ? c->spec->operand : "");
        options_print_item(out, label, 18, c->summary);
    }
    fputs("\noptions (all but --version may also follow the command name):\n", out);
    const struct cli_option *all[] = {cli_global_options, main_options};
    options_print_list(out, all, 2);
    fputs("\n", out);
    options_print_text(out, "targets: sqlite:PATH, postgresql://user:pass@host:port/db (or a libpq "
                            "keyword string), redshift://user:pass@host:5439/db\n"
                            "settings: flag > environment (SPARKIFY_*) > dwh.cfg > default\n"
                            "`sparkify COMMAND --help` describes a command.");
}

static void print_option_rows(FILE *out)
{
    options_print_rows(out, "*", cli_global_options);
    options_print_rows(out, "sparkify", main_options);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(out, "command\t%s\t%s\n", commands[i].name, commands[i].summary);
        cli_print_option_rows(out, commands[i].name, commands[i].spec);
    }
}

/* Parses a command's arguments into `cli` and `args`; returns -1 to go on, or the exit status
 * (0 after --help). */
static int command_arguments(const struct command *c, struct cli *cli, void *args, int argc,
                             char **argv)
{
    const struct cli_command *spec = c->spec;
    const struct option_table tables[] = {{cli_global_options, cli}, {spec->options, args}};
    int first = options_parse(c->name, argc, argv, tables, 2);
    if (first < 0)
        return SP_USAGE;
    if (cli->help) {
        cli_print_command_help(stdout, c->name, spec);
        return 0;
    }
    if (spec->operand) {
        if (first != argc - 1)
            return cli_usage_error(c->name, "expected exactly one %s argument", spec->operand);
        *(const char **)((char *)args + spec->operand_offset) = argv[first];
    } else if (first < argc) {
        return cli_usage_error(c->name, "unexpected argument '%s'", argv[first]);
    }
    return -1;
}

/* Loads dwh.cfg and opens the warehouse as the command's row asks; returns the exit status. */
static int command_setup(const struct command *c, struct cli *cli)
{
    struct sp_error err;
    sp_error_clear(&err);
    bool warehouse = c->setup & (RUN_WAREHOUSE_READ | RUN_WAREHOUSE_WRITE);
    int status = SP_OK;
    if (warehouse || (c->setup & RUN_CONFIG))
        status = cli_load_config(cli, &err);
    if (status == SP_OK && warehouse)
        status = cli_open_warehouse(
            cli, c->setup & RUN_WAREHOUSE_WRITE ? WAREHOUSE_WRITE : WAREHOUSE_READ, &cli->wh, &err);
    return status == SP_OK ? 0 : cli_report_error(&err);
}

static int command_main(const struct command *c, struct cli *cli, int argc, char **argv)
{
    const struct cli_command *spec = c->spec;
    void *args = xcalloc(1, spec->args_size);
    if (spec->init)
        spec->init(args);
    int status = command_arguments(c, cli, args, argc, argv);
    if (status < 0) {
        status = spec->prepare ? spec->prepare(cli, args) : 0;
        if (status == 0)
            status = command_setup(c, cli);
        if (status == 0)
            status = spec->run(cli, args);
        warehouse_close(cli->wh);
        cli->wh = NULL;
        if (spec->release)
            spec->release(args);
    }
    free(args);
    return status;
}

int main(int argc, char **argv)
{
    cli_handle_interrupts();
    struct cli cli;
    memset(&cli, 0, sizeof cli);
    config_file_init(&cli.config);
    struct main_args m = {0};
    const struct option_table tables[] = {{cli_global_options, &cli}, {main_options, &m}};
    int first = options_parse(NULL, argc, argv, tables, 2);
    if (first < 0)
        return SP_USAGE;
    if (cli.help) {
        usage(stdout);
        return 0;
    }
    if (m.version) {
        printf("sparkify 0.1.0\n");
        return 0;
    }
    if (m.help_all) {
        print_option_rows(stdout);
        return 0;
    }
    if (first >= argc) {
        usage(stderr);
        return SP_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, argv[first]) == 0) {
            int status = command_main(&commands[i], &cli, argc - first, argv + first);
            config_file_release(&cli.config);
            return status;
        }
    }
    return cli_usage_error(NULL, "unknown command '%s'", argv[first]);
}
