/* cmd_init.c - `sparkify init [FILE]`: a commented dwh.cfg with every section and key sparkify
 * reads.
 *
 * The file will hold a password and perhaps AWS keys, so it is created with mode 0600, and it is
 * never written over: O_CREAT | O_EXCL refuses an existing file, a symlink included. Keys with
 * nothing to say are left empty or commented out: sparkify reads an empty value as unset, so
 * the template loads as it is and changes nothing until it is filled in.
 */
#include "commands.h"
#include "config_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char template_text[] =
    "# dwh.cfg - sparkify's settings (written by `sparkify init`; see `sparkify --help` and the\n"
    "# README). Settings resolve as: command-line flag > environment (SPARKIFY_*, AWS_*) > this\n"
    "# file > default. Values may be wrapped in quotes; an empty value means unset; a ';' after\n"
    "# a space starts a comment. Relative paths are relative to this file. It may hold a\n"
    "# password and AWS keys: keep it to yourself (mode 0600).\n"
    "\n"
    "[CLUSTER]\n"
    "# The Redshift cluster `sparkify cluster create` makes (these four are sparkify's own; the\n"
    "# classic [DWH] keys below mean the same, and [CLUSTER] wins where both are set).\n"
    "IDENTIFIER = sparkify\n"
    "# dc2.large, dc2.8xlarge, ra3.large, ra3.xlplus, ra3.4xlarge or ra3.16xlarge\n"
    "NODE_TYPE = ra3.xlplus\n"
    "NUM_NODES = 1\n"
    "# single-node, or multi-node for 2 nodes or more\n"
    "CLUSTER_TYPE = single-node\n"
    "# The cluster to load: `sparkify cluster create` writes these once the cluster is\n"
    "# available. With a HOST, the cluster is the default target of every command.\n"
    "HOST =\n"
    "DB_NAME = dev\n"
    "DB_USER = awsuser\n"
    "# Left empty, `sparkify cluster create` generates one, writes it here and never prints it.\n"
    "DB_PASSWORD =\n"
    "# 5439; an ra3 cluster takes 5431-5455 or 8191-8215\n"
    "DB_PORT = 5439\n"
    "\n"
    "[IAM_ROLE]\n"
    "# The role the cluster's COPY assumes to read S3 (written by `sparkify cluster create`;\n"
    "# etl --iam-role and SPARKIFY_IAM_ROLE override it).\n"
    "ARN =\n"
    "\n"
    "[S3]\n"
    "# The sources: s3://bucket/prefix, a local file, directory or glob (etl --log-data,\n"
    "# --song-data, --log-jsonpath; SPARKIFY_LOG_DATA ...). The cluster's role may read\n"
    "# exactly the s3:// ones and STAGING.\n"
    "LOG_DATA = s3://udacity-dend/log_data\n"
    "LOG_JSONPATH = s3://udacity-dend/log_json_path.json\n"
    "SONG_DATA = s3://udacity-dend/song_data\n"
    "# Where a Redshift run writes its COPY manifests and uploads of local sources, e.g.\n"
    "# s3://your-bucket/sparkify-staging (etl --staging, SPARKIFY_STAGING); in the cluster's\n"
    "# region.\n"
    "STAGING =\n"
    "\n"
    "[AWS]\n"
    "# Used when neither the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) nor\n"
    "# ~/.aws/credentials (AWS_PROFILE) has credentials. Prefer those to keys in this file.\n"
    "KEY =\n"
    "SECRET =\n"
    "\n"
    "# The classic notebook's section, read as it is when present: DWH_CLUSTER_IDENTIFIER,\n"
    "# DWH_NODE_TYPE, DWH_NUM_NODES, DWH_CLUSTER_TYPE, DWH_DB, DWH_DB_USER, DWH_DB_PASSWORD and\n"
    "# DWH_PORT stand for the [CLUSTER] keys above where those are not set; DWH_IAM_ROLE_NAME\n"
    "# names the role (default: IDENTIFIER-s3-read).\n"
    "# [DWH]\n"
    "# DWH_CLUSTER_TYPE = multi-node\n"
    "# DWH_NUM_NODES = 4\n"
    "# DWH_NODE_TYPE = ra3.xlplus\n"
    "# DWH_IAM_ROLE_NAME = dwhRole\n"
    "# DWH_CLUSTER_IDENTIFIER = dwhCluster\n"
    "# DWH_DB = dwh\n"
    "# DWH_DB_USER = dwhuser\n"
    "# DWH_DB_PASSWORD =\n"
    "# DWH_PORT = 5439\n";

struct init_args {
    const char *path; /* the operand, or NULL */
};

/* init takes the global options only. */
static const struct cli_option init_options[] = {OPT_END};

static int cmd_init(struct cli *cli, void *args)
{
    const struct init_args *a = args;
    const char *path = a->path ? a->path : cli_config_path(cli, NULL);
    if (cli->dry_run) {
        fputs(template_text, stdout);
        cli_info(cli, "dry run: this template would be written to %s\n", path);
        return 0;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int saved = errno;
        fputs("sparkify: ", stderr);
        cli_write_escaped(stderr, path);
        if (saved == EEXIST)
            fputs(" exists: sparkify init never writes over a file (remove it or name another "
                  "FILE)\n",
                  stderr);
        else
            fprintf(stderr, ": %s\n", strerror(saved));
        return saved == EEXIST ? 2 : 1;
    }
    cli_remove_on_interrupt(path);
    /* 0600 whatever the umask took away. */
    int failed = fchmod(fd, 0600) != 0 ||
                 config_write_all(fd, template_text, strlen(template_text)) != 0 || fsync(fd) != 0;
    int saved = errno;
    failed |= close(fd) != 0;
    cli_remove_on_interrupt(NULL);
    if (failed) {
        unlink(path);
        fputs("sparkify: cannot write ", stderr);
        cli_write_escaped(stderr, path);
        fprintf(stderr, ": %s\n", strerror(saved));
        return 1;
    }
    cli_info(cli, "wrote %s (mode 0600): fill in [S3] STAGING, then `sparkify cluster create`\n",
             path);
    return 0;
}

const struct cli_command init_command = {
    .options = init_options,
    .operand = "FILE",
    .operand_optional = true,
    .operand_offset = offsetof(struct init_args, path),
    .description = "Writes a commented dwh.cfg template with every section and key sparkify reads "
                   "to FILE (default: --config, else $SPARKIFY_CONFIG, else ./dwh.cfg), mode "
                   "0600. An existing file is never overwritten. With --dry-run, prints the "
                   "template instead.",
    .args_size = sizeof(struct init_args),
    .run = cmd_init,
};
