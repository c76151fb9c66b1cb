/* commands.h - main.c's command table, and the commands, each declared in its own cmd_*.c.
 *
 * A command is a struct of its option values, an options table over it (options.h), its entry
 * points, and a const struct cli_command naming them (cli.h), exported from cmd_NAME.c; main.c's
 * table gives it a name, a one-line summary and the set-up it needs (RUN_*). Its run finds
 * dwh.cfg loaded in cli->config and the warehouse open in cli->wh, as asked. A command with
 * subcommands exports one cli_command listing theirs (cli.h); the row's set-up serves them all.
 */
#ifndef SPARKIFY_COMMANDS_H
#define SPARKIFY_COMMANDS_H

#include "cli.h"

/* The set-up main() does before a command runs, declared in the command table as git's
 * RUN_SETUP is, so that no cmd_*.c repeats it. Each warehouse flag loads dwh.cfg first. */
enum {
    RUN_CONFIG = 1 << 0,         /* load dwh.cfg: --config, else $SPARKIFY_CONFIG, else ./dwh.cfg */
    RUN_WAREHOUSE_READ = 1 << 1, /* open the target into cli->wh to read; it must exist */
    RUN_WAREHOUSE_WRITE = 1 << 2, /* open the target into cli->wh to write, creating it */
};

/* A row of the command table. */
struct command {
    const char *name;
    const struct cli_command *spec; /* its options, help and entry points, in cmd_NAME.c */
    unsigned setup;                 /* RUN_* */
    const char *summary;            /* its line in `sparkify --help` */
};

/* The command table, in the order `sparkify --help` lists it, for whatever walks the option
 * tables (the global ones: cli_global_options); `sparkify --help-all` prints them all. */
const struct command *commands_list(size_t *count);

extern const struct cli_command init_command;
extern const struct cli_command cluster_command;
extern const struct cli_command create_tables_command;
extern const struct cli_command etl_command;
extern const struct cli_command check_command;
extern const struct cli_command query_command;
extern const struct cli_command report_command;
extern const struct cli_command status_command;
extern const struct cli_command generate_command;

#endif
