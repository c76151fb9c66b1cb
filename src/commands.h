/* commands.h - one entry point per command, each in its own cmd_*.c file. */
#ifndef SPARKIFY_COMMANDS_H
#define SPARKIFY_COMMANDS_H

#include "cli.h"

int cmd_create_tables(int argc, char **argv, struct cli *cli);
int cmd_etl(int argc, char **argv, struct cli *cli);
int cmd_check(int argc, char **argv, struct cli *cli);
int cmd_query(int argc, char **argv, struct cli *cli);
int cmd_report(int argc, char **argv, struct cli *cli);
int cmd_generate(int argc, char **argv, struct cli *cli);
int cmd_init(int argc, char **argv, struct cli *cli);
int cmd_cluster(int argc, char **argv, struct cli *cli);

#endif
