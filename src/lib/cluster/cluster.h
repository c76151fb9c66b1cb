/* cluster.h - the classic project's step 1: an IAM role that Redshift can assume to read the
 * config's S3 prefixes, the cluster's port opened to one CIDR, and a Redshift cluster carrying
 * the role; and their removal.
 *
 * Every step finds what exists before it changes anything, so creating twice changes nothing
 * and deleting twice is fine; "already exists" and "not found" answers (a retried request that
 * had succeeded, or another run at the same time) count as done. sparkify marks what it makes:
 * the role carries the tag sparkify-cluster = IDENTIFIER, the ingress rule the description
 * "sparkify: cluster IDENTIFIER"; delete removes a role or a rule only with that mark, so that
 * a role or a rule someone else made is never removed. The library prints nothing: waiting
 * reports through a callback, and what a user should know (a setting an existing cluster does
 * not follow) through another.
 */
#ifndef SPARKIFY_CLUSTER_H
#define SPARKIFY_CLUSTER_H

#include "aws_query.h"
#include "config.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>

/* The tag of the role and the prefix of the rule's description that mark them as sparkify's. */
#define CLUSTER_TAG_KEY "sparkify-cluster"
#define CLUSTER_RULE_PREFIX "sparkify: cluster "
/* The role's inline policy, and the managed policy used instead with --s3-read-only-access. */
#define CLUSTER_POLICY_NAME "sparkify-s3-read"
#define CLUSTER_MANAGED_POLICY "AmazonS3ReadOnlyAccess"

/* What to create. Strings are owned (cluster_settings_release). */
struct cluster_settings {
    char *identifier; /* lowercased, as Redshift keeps it */
    char *node_type;
    int nodes;
    char *cluster_type; /* "single-node" or "multi-node" */
    char *db_name, *db_user;
    char *db_password;         /* NULL: one is generated when the cluster is created */
    const char *password_from; /* "[CLUSTER] DB_PASSWORD", for messages */
    int port;
    char *role_name;
    /* What the role may read: the sources and the staging prefix that are s3:// URLs. */
    char *log_data, *song_data, *log_jsonpath, *staging;
    /* From the command line. */
    const char *allow_cidr; /* NULL: no ingress rule */
    bool publicly_accessible;
    bool managed_s3_policy;     /* AmazonS3ReadOnlyAccess instead of the prefixes' policy */
    const char *final_snapshot; /* delete: the final snapshot's identifier, or NULL */
};

/* The settings of `c`: each from [CLUSTER] where it is set there, else from the classic [DWH]
 * key, else the default (IDENTIFIER sparkify, NODE_TYPE ra3.xlplus, NUM_NODES 1, CLUSTER_TYPE
 * single-node for one node else multi-node, DB_NAME dev, DB_USER awsuser, DB_PORT 5439, the role
 * IDENTIFIER-s3-read or the one [IAM_ROLE] ARN names). The S3 prefixes follow etl's precedence
 * (SPARKIFY_LOG_DATA ... over [S3]). Each is checked against Redshift's rules; a message names
 * the setting and never shows a password. */
int cluster_settings_load(struct cluster_settings *s, const struct config_file *c,
                          struct sp_error *err);
void cluster_settings_release(struct cluster_settings *s);

/* Redshift's password rules (CreateCluster, MasterUserPassword): NULL when `password` meets
 * them, else the rule it breaks. */
const char *cluster_password_problem(const char *password);
/* A random password of 32 letters and digits that meets them (OpenSSL's RAND_bytes). */
int cluster_generate_password(char out[33], struct sp_error *err);
/* An IPv4 CIDR such as 203.0.113.5/32 with no host bits set; `what` names it in messages. */
int cluster_check_cidr(const char *cidr, const char *what, struct sp_error *err);

/* The role's trust policy (redshift.amazonaws.com may assume it), and its inline policy:
 * s3:GetObject on exactly the prefixes and s3:ListBucket on their buckets limited to them
 * (malloc'd JSON). `partition` is "aws" unless the account lives in another one. */
char *cluster_trust_policy(void);
int cluster_role_policy(const struct cluster_settings *s, const char *partition, char **out,
                        struct sp_error *err);

/* A cluster as DescribeClusters and DescribeSecurityGroups tell it. */
struct cluster_rule {
    char *group_id, *protocol, *cidr, *description;
    int from_port, to_port;
};
struct cluster_role {
    char *arn, *status;
};
struct cluster_info {
    bool exists;
    char *identifier, *status, *address, *node_type, *db_name, *master_user, *vpc_id;
    int port, nodes;
    bool encrypted, publicly_accessible;
    struct cluster_role *roles;
    size_t role_count;
    char **groups; /* its VPC security groups */
    size_t group_count;
    struct cluster_rule *rules; /* their ingress rules that cover the port */
    size_t rule_count;
};
void cluster_info_release(struct cluster_info *i);

/* How to wait and whom to tell. */
struct cluster_hooks {
    double timeout;       /* seconds to wait for the cluster to be available, or gone */
    double poll_interval; /* the first wait between two DescribeClusters; doubled up to 30 s */
    const char *credentials_from; /* "the environment", for messages */
    /* Before each wait: the state DescribeClusters said, the seconds waited so far. */
    void (*progress)(void *ctx, const char *identifier, const char *state, double waited);
    void (*notice)(void *ctx, const char *text);
    void *ctx;
};

/* Who the credentials are (STS GetCallerIdentity): one clear message when they are refused. */
struct cluster_caller {
    char *account, *arn, *partition;
};
int cluster_caller_identity(struct aws_client *aws, const struct cluster_hooks *h,
                            struct cluster_caller *out, struct sp_error *err);
void cluster_caller_release(struct cluster_caller *c);

/* The cluster `identifier` (exists = false when there is none), with its ingress rules. */
int cluster_describe(struct aws_client *aws, const char *identifier, struct cluster_info *out,
                     struct sp_error *err);

/* What cluster_create did. */
struct cluster_created {
    struct cluster_info info; /* as it is once available */
    char *role_arn;
    bool role_created, policy_written, rule_added, cluster_created;
    char *generated_password; /* when it made one; wipe it before freeing */
    bool password_unknown;    /* the cluster existed and the settings hold no password */
};
void cluster_created_release(struct cluster_created *c);

/* STS identity, the role and its policy, the ingress rule (with allow_cidr), the cluster; then
 * waits until it is available and its roles are in sync. */
int cluster_create(struct aws_client *aws, const struct cluster_settings *s,
                   const struct cluster_hooks *h, struct cluster_created *out,
                   struct sp_error *err);

/* What cluster_delete did. */
struct cluster_deleted {
    bool cluster_deleted, role_deleted, role_not_ours;
    size_t rules_revoked, policies_removed;
};

/* DeleteCluster (a final snapshot only when asked), waits until it is gone, revokes sparkify's
 * ingress rules for it, removes the role's policies and the role (only when it carries the
 * cluster's tag). */
int cluster_delete(struct aws_client *aws, const struct cluster_settings *s,
                   const struct cluster_hooks *h, struct cluster_deleted *out,
                   struct sp_error *err);

#endif
