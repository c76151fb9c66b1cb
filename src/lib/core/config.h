/* config.h - settings from dwh.cfg, the environment and flags, in that rising precedence.
 *
 * dwh.cfg is the classic file ([CLUSTER] HOST DB_NAME DB_USER DB_PASSWORD DB_PORT, [IAM_ROLE]
 * ARN, [S3] LOG_DATA LOG_JSONPATH SONG_DATA, [AWS] KEY SECRET), plus [S3] STAGING for the
 * Redshift target's manifests and the cluster to create (`sparkify cluster`): [CLUSTER]
 * IDENTIFIER NODE_TYPE NUM_NODES CLUSTER_TYPE, or the classic notebooks' [DWH] keys, read as
 * they are ([CLUSTER] wins where both say). Read with inih. Section and
 * key names are case-insensitive, as Python's configparser treats keys; values may be
 * wrapped in single or double quotes, which are removed. Unknown sections are left alone, so a
 * file shared with other tools still loads; an unknown key in a known section is an error naming
 * its line, as is a DB_PORT or DWH_PORT that is no port and a NUM_NODES or DWH_NUM_NODES that
 * is no number of nodes. Relative source paths in the file are relative to its directory.
 */
#ifndef SPARKIFY_CONFIG_H
#define SPARKIFY_CONFIG_H

#include "error.h"

#include <stdbool.h>

struct config_file {
    char *path; /* NULL when no file was read */
    char *cluster_host, *cluster_db_name, *cluster_db_user, *cluster_db_password, *cluster_db_port;
    char *iam_role_arn;
    char *s3_log_data, *s3_log_jsonpath, *s3_song_data, *s3_staging;
    char *aws_key, *aws_secret;
    /* The cluster `sparkify cluster create` makes: sparkify's own keys ... */
    char *cluster_identifier, *cluster_node_type, *cluster_num_nodes, *cluster_type;
    /* ... and the classic notebooks' [DWH] section. */
    char *dwh_cluster_type, *dwh_num_nodes, *dwh_node_type, *dwh_iam_role_name,
        *dwh_cluster_identifier, *dwh_db, *dwh_db_user, *dwh_db_password, *dwh_port;
};

void config_file_init(struct config_file *c);
void config_file_release(struct config_file *c);

/* Reads `path` (at most 1 MiB; a directory or a device is refused). A missing file is an error
 * only when `required`. */
int config_file_load(struct config_file *c, const char *path, bool required, struct sp_error *err);

/* The first of: flag, $env_name (when set and non-empty), file_value, fallback. */
const char *config_pick(const char *flag, const char *env_name, const char *file_value,
                        const char *fallback);

/* [CLUSTER] as libpq keywords for the Redshift warehouse (host, port, dbname, user, password,
 * NULL-terminated; the values point into `c`; DB_PORT defaults to 5439): the default target when
 * HOST is set. Returns false when it is not. */
#define CONFIG_CLUSTER_KEYWORDS 6
bool config_cluster_keywords(const struct config_file *c, const char *keys[CONFIG_CLUSTER_KEYWORDS],
                             const char *values[CONFIG_CLUSTER_KEYWORDS]);

/* AWS credentials in the usual order: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, then the shared credentials file ($AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials, profile $AWS_PROFILE or "default"), then dwh.cfg [AWS] KEY / SECRET.
 * Sets malloc'd strings (token may stay NULL) and `source` to where they came from; returns
 * SP_USAGE when none is found. */
int config_aws_credentials(const struct config_file *c, char **key, char **secret, char **token,
                           const char **source, struct sp_error *err);

#endif
