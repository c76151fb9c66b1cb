/* main.c - the command table, the global options, and the set-up each command asks for.
 *
 * Each command lives in cmd_NAME.c as an options table and its entry points; this file parses
 * the options into them, answers --help, and loads dwh.cfg and opens the warehouse before the
 * command runs when its row in the table says so (RUN_*), closing it after. The two commands
 * about sparkify itself, help and version, live here beside the table they read. A misspelt
 * command is answered with the nearest name in the table. A command with
 * subcommands (cluster) has its subcommand picked from the first argument before any option is
 * parsed; an option of a sibling subcommand is named as such rather than called unknown.
 */
#include "buffer.h"
#include "cli.h"
#include "commands.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPARKIFY_VERSION "0.1.0"

extern const struct cli_command help_command;
extern const struct cli_command version_command;

static const struct command commands[] = {
    {"init", &init_command, 0, "write a commented dwh.cfg template"},
    {"cluster", &cluster_command, RUN_CONFIG, "the IAM role, network access and Redshift cluster"},
    {"create-tables", &create_tables_command, RUN_WAREHOUSE_WRITE,
     "create staging and star tables (drop loaded ones only with --force)"},
    {"etl", &etl_command, RUN_WAREHOUSE_WRITE,
     "extract sources -> (staging) -> star tables (incremental, atomic)"},
    {"check", &check_command, RUN_WAREHOUSE_READ, "data-quality checks; exit 1 when one fails"},
    {"report", &report_command, RUN_WAREHOUSE_READ,
     "top songs, artists, users, locations; plays by hour, weekday, level, browser, OS; daily "
     "active users (table|csv|json|html)"},
    {"status", &status_command, RUN_WAREHOUSE_READ,
     "what the warehouse holds, what was loaded, the last runs and the bad records kept"},
    {"query", &query_command, RUN_WAREHOUSE_READ,
     "run one read-only SQL statement (--write to change), print as --format table|csv|json"},
    {"generate", &generate_command, 0, "write a realistic synthetic dataset"},
    {"help", &help_command, 0, "describe sparkify, or COMMAND (as `sparkify COMMAND --help`)"},
    {"version", &version_command, 0, "print the version (as --version and -V)"},
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
    OPT_BOOL_F('V', "version", version, "print the version", .flags = CLI_OPTION_STOP),
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
        char label[96];
        cli_command_label(c->name, c->spec, label, sizeof label);
        options_print_item(out, label, 18, c->summary);
    }
    fputs("\noptions (all but --version may also follow the command name):\n", out);
    const struct cli_option *all[] = {cli_global_options, main_options};
    options_print_list(out, all, 2);
    fputs("\n", out);
    options_print_text(out, "targets: sqlite:PATH, postgresql://user:pass@host:port/db (or a libpq "
                            "keyword string), redshift://user:pass@host:5439/db\n"
                            "settings: flag > environment (SPARKIFY_*) > dwh.cfg > default\n"
                            "`sparkify help COMMAND` or `sparkify COMMAND --help` describes a "
                            "command.");
}

/* The command called `name`, or NULL. */
static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* "unknown command 'etll'; did you mean etl?" about `command` (NULL: sparkify itself). */
static int unknown_command(const char *command, const char *name)
{
    const char *names[sizeof commands / sizeof commands[0]];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        names[i] = commands[i].name;
    const char *nearest = options_nearest(name, strlen(name), names, sizeof names / sizeof *names);
    if (nearest)
        return cli_usage_error(command, "unknown command '%s'; did you mean %s?", name, nearest);
    return cli_usage_error(command, "unknown command '%s'", name);
}

struct help_args {
    const char *command; /* the operand, or NULL */
};

static const struct cli_option no_options[] = {OPT_END};

static int cmd_help(struct cli *cli, void *args)
{
    (void)cli;
    const struct help_args *a = args;
    if (!a->command) {
        usage(stdout);
        return 0;
    }
    const struct command *c = find_command(a->command);
    if (!c)
        return unknown_command("help", a->command);
    cli_print_command_help(stdout, c->name, c->spec);
    return 0;
}

const struct cli_command help_command = {
    .options = no_options,
    .operand = "COMMAND",
    .operand_optional = true,
    .operand_offset = offsetof(struct help_args, command),
    .description = "Describes sparkify (as `sparkify --help`), or COMMAND (as `sparkify COMMAND "
                   "--help`).",
    .args_size = sizeof(struct help_args),
    .run = cmd_help,
};

static int cmd_version(struct cli *cli, void *args)
{
    (void)cli;
    (void)args;
    printf("sparkify " SPARKIFY_VERSION "\n");
    return 0;
}

const struct cli_command version_command = {
    .options = no_options,
    .description = "Prints the version of sparkify (as `sparkify --version` and `sparkify -V`).",
    .run = cmd_version,
};

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
 * (0 after --help). `name` is the command's, or the command's and its subcommand's. */
static int command_arguments(const char *name, const struct cli_command *spec, struct cli *cli,
                             void *args, int argc, char **argv,
                             const struct options_unknown *unknown)
{
    const struct option_table tables[] = {{cli_global_options, cli}, {spec->options, args}};
    int first = options_parse(name, argc, argv, tables, 2, true, unknown);
    if (first < 0)
        return SP_USAGE;
    if (cli->help) {
        cli_print_command_help(stdout, name, spec);
        return 0;
    }
    int operands = argc - first;
    if (spec->operand && spec->operand_optional && operands > 1)
        return cli_usage_error(name, "unexpected argument '%s'", argv[first + 1]);
    if (spec->operand && !spec->operand_optional && operands != 1)
        return cli_usage_error(name, "expected exactly one %s argument", spec->operand);
    if (!spec->operand && operands > 0)
        return cli_usage_error(name, "unexpected argument '%s'", argv[first]);
    if (spec->operand && operands == 1)
        *(const char **)((char *)args + spec->operand_offset) = argv[first];
    return -1;
}

/* Joins the subcommands' names as "create, status or delete". */
static void join_subcommands(const struct cli_subcommand *subs, const char *prefix,
                             const char *quote, const char *last, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const struct cli_subcommand *sub = subs; sub->name && used < size; sub++) {
        const char *separator = sub == subs ? "" : sub[1].name ? ", " : last;
        int n = snprintf(out + used, size - used, "%s%s%s%s%s", separator, quote, prefix, sub->name,
                         quote);
        used += n > 0 ? (size_t)n : 0;
    }
}

/* The subcommand that argv[1] names: it comes before any option. NULL with *status set after
 * --help or a usage error. */
static const struct cli_subcommand *pick_subcommand(const char *name,
                                                    const struct cli_command *spec, int argc,
                                                    char **argv, int *status)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        cli_print_command_help(stdout, name, spec);
        *status = 0;
        return NULL;
    }
    char names[256];
    join_subcommands(spec->subcommands, "", "", " or ", names, sizeof names);
    if (argc < 2 || argv[1][0] == '-') {
        *status = cli_usage_error(name,
                                  "which one: %s? (the subcommand comes first: sparkify %s %s "
                                  "[options])",
                                  names, name, spec->subcommands[0].name);
        return NULL;
    }
    for (const struct cli_subcommand *sub = spec->subcommands; sub->name; sub++)
        if (strcmp(sub->name, argv[1]) == 0)
            return sub;
    const char *subs[16];
    size_t count = 0;
    for (const struct cli_subcommand *sub = spec->subcommands; sub->name && count < 16; sub++)
        subs[count++] = sub->name;
    const char *nearest = options_nearest(argv[1], strlen(argv[1]), subs, count);
    if (nearest)
        *status =
            cli_usage_error(name, "unknown subcommand '%s'; did you mean %s?", argv[1], nearest);
    else
        *status = cli_usage_error(name, "unknown subcommand '%s' (%s)", argv[1], names);
    return NULL;
}

/* A subcommand's siblings, for an option that is one of theirs. */
struct siblings {
    const char *command; /* "cluster" */
    const struct cli_subcommand *subcommands, *current;
};

static bool has_long_option(const struct cli_command *spec, const char *name, size_t len)
{
    for (const struct cli_option *o = spec->options; o->type != CLI_OPTION_END; o++)
        if (o->long_name && strlen(o->long_name) == len && strncmp(o->long_name, name, len) == 0)
            return true;
    return false;
}

/* "--yes is an option of `cluster delete`, not of `cluster status`": better than calling it
 * unknown. */
static bool explain_sibling_option(const char *command, const char *text, const void *ctx)
{
    const struct siblings *s = ctx;
    const char *name = text + 2;
    size_t len = strcspn(name, "=");
    struct cli_subcommand owners[8];
    size_t count = 0;
    for (const struct cli_subcommand *sub = s->subcommands; sub->name; sub++)
        if (sub != s->current && count + 1 < sizeof owners / sizeof owners[0] &&
            has_long_option(sub->spec, name, len))
            owners[count++] = *sub;
    if (!count)
        return false;
    owners[count] = (struct cli_subcommand){0};
    char prefix[64], list[256];
    snprintf(prefix, sizeof prefix, "%s ", s->command);
    join_subcommands(owners, prefix, "`", " and ", list, sizeof list);
    cli_usage_error(command, "--%.*s is an option of %s, not of `%s`", (int)len, name, list,
                    command);
    return true;
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
    char name[96];
    snprintf(name, sizeof name, "%s", c->name);
    struct siblings siblings = {0};
    const struct options_unknown unknown = {explain_sibling_option, &siblings};
    if (spec->subcommands) {
        int status;
        const struct cli_subcommand *sub = pick_subcommand(c->name, spec, argc, argv, &status);
        if (!sub)
            return status;
        siblings = (struct siblings){c->name, spec->subcommands, sub};
        snprintf(name, sizeof name, "%s %s", c->name, sub->name);
        spec = sub->spec;
        argc--;
        argv++;
    }
    void *args = xcalloc(1, spec->args_size);
    if (spec->init)
        spec->init(args);
    int status = command_arguments(name, spec, cli, args, argc, argv,
                                   siblings.subcommands ? &unknown : NULL);
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
    int first = options_parse(NULL, argc, argv, tables, 2, false, NULL);
    if (first < 0)
        return SP_USAGE;
    if (cli.help) {
        usage(stdout);
        return 0;
    }
    if (m.version) {
        printf("sparkify " SPARKIFY_VERSION "\n");
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
    const struct command *c = find_command(argv[first]);
    if (!c)
        return unknown_command(NULL, argv[first]);
    int status = command_main(c, &cli, argc - first, argv + first);
    config_file_release(&cli.config);
    return status;
}
