/* cli.h - what every command shares: global options, configuration, the target, errors.
 *
 * The library returns codes and messages; this layer turns them into output and exit
 * codes (0 ok, 1 the job failed, 2 usage or configuration). Settings resolve as flag >
 * environment (SPARKIFY_*) > dwh.cfg > built-in default.
 */
#ifndef SPARKIFY_CLI_H
#define SPARKIFY_CLI_H

#include "config.h"
#include "error.h"
#include "options.h"
#include "warehouse.h"

#include <stdbool.h>
#include <stdio.h>

enum progress_mode { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER };

struct cli {
    const char *config_path; /* --config, or NULL */
    const char *target_flag; /* --target, or NULL */
    bool quiet;
    bool dry_run; /* print the SQL instead of running it; connect to no warehouse */
    enum progress_mode progress;
    bool help; /* --help: print the help of sparkify, or of the command */
    struct config_file config;
    struct warehouse *wh; /* opened before a command runs when its set-up asks (commands.h) */
};

/* The global options, accepted before or after the command name; they land in struct cli. */
extern const struct cli_option cli_global_options[];

struct cli_subcommand;

/* What a command declares in its cmd_NAME.c, beside its options table. main() parses the
 * options (global ones into struct cli, the command's into a zeroed struct of args_size bytes
 * that init may fill with defaults), answers --help, takes the operand, then calls prepare,
 * does the set-up the command table asks for (loading dwh.cfg, opening the warehouse), calls
 * run, closes the warehouse and calls release. prepare and run return an exit status; a
 * non-zero one from prepare ends the command before the set-up. release is called whenever
 * prepare was, whatever came after.
 *
 * A command with subcommands (`cluster create|status|delete`) declares only its help and the
 * list; main() takes the subcommand from the first argument, before any option, and goes on
 * with the subcommand's own cli_command as above. The parser stops at the first operand, so
 * the subcommand could not come after options. */
struct cli_command {
    const struct cli_option *options;
    const char *operand;   /* the one operand it takes ("SQL"), or NULL: none */
    bool operand_optional; /* the operand may be left out (`init [FILE]`): its field stays NULL */
    size_t operand_offset; /* where the operand lands in the args (a const char *) */
    const struct cli_subcommand *subcommands; /* or NULL; the list ends with a NULL name */
    const char *description; /* --help between the usage and the options (options_print_text) */
    const char *epilogue;    /* --help after the options, or NULL */
    size_t args_size;
    void (*init)(void *args);                    /* or NULL */
    int (*prepare)(struct cli *cli, void *args); /* work before the set-up, or NULL */
    int (*run)(struct cli *cli, void *args);
    void (*release)(void *args); /* or NULL */
};

/* A subcommand: its name, its options, help and entry points, and its line in the command's
 * help. */
struct cli_subcommand {
    const char *name;
    const struct cli_command *spec;
    const char *summary;
};

/* "query SQL", "init [FILE]", "cluster create|status|delete": a command and what follows it. */
void cli_command_label(const char *name, const struct cli_command *command, char *out, size_t size);

/* The help of `sparkify NAME --help`: usage, description, options, epilogue, and a line naming
 * the global options. A command with subcommands shows the usage of each and their summaries,
 * and the options of all of them once. */
void cli_print_command_help(FILE *out, const char *name, const struct cli_command *command);

/* `sparkify --help-all` (hidden) prints every option table as tab-separated rows, the source for
 * a generated man page or shell completion; each row starts with its kind:
 *     command  NAME  SUMMARY
 *     operand  NAME  OPERAND                      ("[FILE]" when it may be left out)
 *     group    NAME  HEADING                      (the options after it, in --help)
 *     option   NAME  -S  --LONG  VALUE  WORDS  TAKES  HELP
 * NAME is the command, the command and its subcommand ("cluster create", after the command's
 * own row), "*" for a global option (before or after any command) or "sparkify" for an option
 * taken before the command only. -S is empty without a short name, VALUE without a value;
 * WORDS are an enum's words, separated by spaces; TAKES is what a value must be ("a number from
 * 1 to 16"). Programs walk the same tables with commands_list() (commands.h). */
void cli_print_option_rows(FILE *out, const char *name, const struct cli_command *command);

/* The config file: --config, else $SPARKIFY_CONFIG, else "dwh.cfg"; *named (may be NULL) says
 * whether it was named (then it must exist to be read) or is the default. */
const char *cli_config_path(const struct cli *cli, bool *named);

/* Loads dwh.cfg (cli_config_path): a named file must exist, ./dwh.cfg is read when present. */
int cli_load_config(struct cli *cli, struct sp_error *err);

/* The target: --target, else $SPARKIFY_TARGET, else dwh.cfg [CLUSTER] (as libpq keywords,
 * pointing into cli->config), else sqlite:sparkify.db. */
struct cli_target {
    struct warehouse_target target;
    const char *keys[CONFIG_CLUSTER_KEYWORDS], *values[CONFIG_CLUSTER_KEYWORDS];
};
void cli_target(const struct cli *cli, struct cli_target *out);

/* Opens the target; with --dry-run, opens it for a dry run whose statements are printed on
 * stdout, each ending in ';', after a comment naming the target (its password masked). */
int cli_open_warehouse(const struct cli *cli, enum warehouse_mode mode, struct warehouse **out,
                       struct sp_error *err);

/* Prints "sparkify: <message>" on stderr and returns the exit status for `err`. */
int cli_report_error(const struct sp_error *err);

/* Writes `text` with control characters escaped (\n, \t, \r, \x1b, ...; C1 controls too), so
 * that a file name or a server's message cannot split a line or drive the terminal. */
void cli_write_escaped(FILE *out, const char *text);

/* SIGINT and SIGTERM end the process at once with one line on stderr, by default "sparkify:
 * interrupted; nothing was written", and exit 130 / 143. The warehouse needs no more: SQLite's
 * rollback journal and a dropped server connection undo an open transaction. A signal ignored
 * on entry (SIGINT in a background job) stays ignored. */
void cli_handle_interrupts(void);
/* The line printed on an interrupt from now on (static storage, ending in '\n'). */
void cli_interrupt_message(const char *line);
/* A file removed on an interrupt (a temporary file; NULL: none). */
void cli_remove_on_interrupt(const char *path);
/* Whether a progress line stands on stderr: an interrupt clears it before its line, on a
 * terminal or not (--progress always), so that the message is a line of its own. */
void cli_progress_drawn(bool drawn);

/* Prints a usage error about `command` and returns 2. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses a non-negative integer option; returns 0 or -1. */
int cli_parse_count(const char *text, long long max, long long *out);

/* Informational output on stderr, silenced by -q. */
void cli_info(const struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
