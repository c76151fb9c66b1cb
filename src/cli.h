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
#include "warehouse.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

enum progress_mode { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER };

struct cli {
    const char *config_path; /* --config, or NULL */
    const char *target_flag; /* --target, or NULL */
    bool quiet;
    bool dry_run; /* print the SQL instead of running it; connect to no warehouse */
    enum progress_mode progress;
    struct config_file config;
};

/* Global options, accepted before or after the command name. */
#define CLI_COMMON_OPTIONS                                                                         \
    {"config", required_argument, NULL, 'C'}, {"target", required_argument, NULL, 'T'},            \
        {"quiet", no_argument, NULL, 'q'}, {"progress", required_argument, NULL, 'P'},             \
        {"dry-run", no_argument, NULL, 'D'},                                                       \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }
#define CLI_COMMON_SHORT "+qh"

/* Handles a common option; returns 1 when handled, 0 when not one, -1 on a bad value. */
int cli_common_option(struct cli *cli, int option, const char *value);

/* getopt_long for a command: handles the common options itself and returns the next
 * command-specific option, 'h' for --help, '?' for an unknown or invalid one, -1 at the end.
 * main() resets getopt before the command runs. */
int cli_getopt(struct cli *cli, int argc, char **argv, const char *short_options,
               const struct option *options);

/* Loads dwh.cfg: --config, else $SPARKIFY_CONFIG, else ./dwh.cfg when present. */
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

/* Prints a usage error about `command` and returns 2. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses a non-negative integer option; returns 0 or -1. */
int cli_parse_count(const char *text, long long max, long long *out);

/* Informational output on stderr, silenced by -q. */
void cli_info(const struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
