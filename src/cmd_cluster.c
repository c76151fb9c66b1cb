/* cmd_cluster.c - `sparkify cluster create|status|delete`: the classic project's step 1 (an IAM
 * role for Redshift, the port opened to one CIDR, the cluster) as one command, and its undoing.
 *
 * The work is in the library (cluster.c); this file declares the three subcommands (one args
 * struct, a table each, the options they share written once as macros), resolves the region and
 * the credentials, draws the waiting line, asks before deleting, prints the outcome and writes
 * the cluster's settings into dwh.cfg (config_write.c: in place, atomically, mode 0600). main
 * loads dwh.cfg first (RUN_CONFIG). No secret is printed: the password goes to the file only,
 * and the library masks the secret key and the password in every message.
 */
#include "commands.h"

#include "buffer.h"
#include "cluster.h"
#include "config_write.h"
#include "progress.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum subcommand { CREATE, STATUS, DELETE };
enum status_format { STATUS_TEXT, STATUS_JSON };

/* The options of all three subcommands; each subcommand's table names its own. */
struct cluster_args {
    enum subcommand sub;
    const char *allow_cidr, *final_snapshot, *region;
    bool public_access, managed_policy, yes;
    int format; /* STATUS_* */
    double timeout, poll_interval;
};

/* The waiting line, and what the library tells. */
struct report {
    const struct cli *cli;
    struct progress progress;
    bool said_waiting;
};

static void on_progress(void *ctx, const char *identifier, const char *state, double waited)
{
    struct report *r = ctx;
    if (r->progress.enabled) {
        fprintf(stderr, "\r\033[Kwaiting for the Redshift cluster %s: %s (%.0f s)", identifier,
                state, waited);
        fflush(stderr);
        r->progress.drawn = true;
    } else if (!r->said_waiting) {
        cli_info(r->cli, "waiting for the Redshift cluster %s: %s\n", identifier, state);
    }
    r->said_waiting = true;
}

static void on_notice(void *ctx, const char *text)
{
    struct report *r = ctx;
    progress_finish(&r->progress);
    cli_info(r->cli, "note: %s\n", text);
}

/* A dry run's request that would change something. */
static void show_request(void *ctx, enum aws_service service, const char *action,
                         const struct aws_params *params)
{
    (void)ctx;
    printf("%s %s\n", aws_service_name(service), action);
    for (size_t i = 0; params && i < params->count; i++) {
        printf("  %s=", params->items[i].name);
        cli_write_escaped(stdout, params->items[i].secret ? "***" : params->items[i].value);
        fputc('\n', stdout);
    }
}

/* --timeout and --poll-interval: seconds, fractions allowed, up to a week. */
static int parse_seconds(void *field, const char *text)
{
    double *seconds = field;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v > 0) || v > 7 * 86400.0)
        return -1;
    *seconds = v;
    return 0;
}

static const struct cli_word status_formats[] = {
    {"text", STATUS_TEXT}, {"json", STATUS_JSON}, {NULL, 0}};

/* The options two or three subcommands share, one declaration each. */
#define CLUSTER_WAIT_OPTIONS                                                                       \
    OPT_CALLBACK(0, "timeout", timeout, "SECONDS", parse_seconds, "a number of seconds",           \
                 "how long to wait for the cluster (default 1800)"),                               \
        OPT_CALLBACK(0, "poll-interval", poll_interval, "SECONDS", parse_seconds,                  \
                     "a number of seconds",                                                        \
                     "first wait between two checks, doubled up to 30 (default 5)")
#define CLUSTER_REGION_OPTION                                                                      \
    OPT_STRING(0, "region", region, "REGION",                                                      \
               "the AWS region (AWS_REGION, AWS_DEFAULT_REGION, the profile's region in "          \
               "~/.aws/config; us-west-2)")

#define CLI_ARGS struct cluster_args
static const struct cli_option create_options[] = {
    OPT_STRING(0, "allow-cidr", allow_cidr, "CIDR",
               "let CIDR (IPv4, e.g. 203.0.113.5/32) reach the port; without it no rule is added "
               "(0.0.0.0/0 only when written so)"),
    OPT_BOOL(0, "public", public_access, "make the cluster publicly accessible (default: not)"),
    OPT_BOOL(0, "s3-read-only-access", managed_policy,
             "attach AWS's managed " CLUSTER_MANAGED_POLICY
             " (every bucket) instead of the policy on the config's prefixes"),
    CLUSTER_WAIT_OPTIONS,
    CLUSTER_REGION_OPTION,
    OPT_END,
};
static const struct cli_option status_options[] = {
    OPT_ENUM(0, "format", format, NULL, status_formats, "how status prints (default text)"),
    CLUSTER_REGION_OPTION,
    OPT_END,
};
static const struct cli_option delete_options[] = {
    OPT_BOOL(0, "yes", yes, "delete without asking"),
    OPT_STRING(0, "final-snapshot", final_snapshot, "ID",
               "keep a final snapshot of the cluster, named ID"),
    CLUSTER_WAIT_OPTIONS,
    CLUSTER_REGION_OPTION,
    OPT_END,
};
#undef CLI_ARGS

/* The region, the credentials and the client. */
struct session {
    char region[64];
    char *key, *secret, *token;
    const char *credentials_from;
    struct aws_client *aws;
};

static int session_open(struct cli *cli, const struct cluster_args *o, struct session *s,
                        struct sp_error *err)
{
    memset(s, 0, sizeof *s);
    if (o->region)
        snprintf(s->region, sizeof s->region, "%s", o->region);
    else if (aws_default_region(s->region, sizeof s->region, err) != SP_OK)
        return err->status;
    if (!s->region[0])
        snprintf(s->region, sizeof s->region, "us-west-2");
    int status = config_aws_credentials(&cli->config, &s->key, &s->secret, &s->token,
                                        &s->credentials_from, err);
    if (status != SP_OK) {
        /* config.c words its message for the S3 sources; here they are for IAM and the rest. */
        if (strncmp(err->message, "no AWS credentials", 18) == 0)
            sp_usage(err, "no AWS credentials for IAM, STS, EC2 and Redshift: set "
                          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, use ~/.aws/credentials "
                          "(AWS_PROFILE), or [AWS] KEY and SECRET in dwh.cfg");
        return status;
    }
    struct aws_config config = {s->region, s->key, s->secret, s->token, 0};
    return aws_client_new(&config, &s->aws, err);
}

static void session_close(struct session *s)
{
    aws_client_free(s->aws);
    if (s->secret)
        memset(s->secret, 0, strlen(s->secret));
    if (s->token)
        memset(s->token, 0, strlen(s->token));
    free(s->key);
    free(s->secret);
    free(s->token);
}

/* ---- status ---- */

static void print_rule(FILE *out, const struct cluster_rule *r)
{
    if (strcmp(r->protocol, "-1") == 0)
        fprintf(out, "%s: all traffic from %s", r->group_id, r->cidr);
    else if (r->from_port == r->to_port)
        fprintf(out, "%s: %s %d from %s", r->group_id, r->protocol, r->from_port, r->cidr);
    else
        fprintf(out, "%s: %s %d-%d from %s", r->group_id, r->protocol, r->from_port, r->to_port,
                r->cidr);
    if (r->description && *r->description) {
        fputs(" (", out);
        cli_write_escaped(out, r->description);
        fputc(')', out);
    }
}

static void print_status_text(const struct cluster_info *i, const char *region)
{
    printf("cluster     %s: %s\n", i->identifier, i->status);
    if (i->address && *i->address)
        printf("endpoint    %s:%d\n", i->address, i->port);
    else
        printf("endpoint    none yet\n");
    printf("nodes       %d x %s (%s)\n", i->nodes, i->node_type ? i->node_type : "?",
           i->nodes > 1 ? "multi-node" : "single-node");
    printf("database    %s, admin user %s\n", i->db_name ? i->db_name : "?",
           i->master_user ? i->master_user : "?");
    printf("encrypted   %s\n", i->encrypted ? "yes" : "no");
    printf("public      %s\n", i->publicly_accessible ? "yes" : "no");
    if (!i->role_count)
        printf("role        none\n");
    for (size_t r = 0; r < i->role_count; r++)
        printf("role        %s (%s)\n", i->roles[r].arn,
               i->roles[r].status ? i->roles[r].status : "?");
    if (!i->rule_count)
        printf("ingress     none: port %d is reachable only from inside the VPC\n", i->port);
    for (size_t r = 0; r < i->rule_count; r++) {
        printf("ingress     ");
        print_rule(stdout, &i->rules[r]);
        putchar('\n');
    }
    printf("region      %s\n", region);
}

static void print_status_json(const struct cluster_info *i, const char *region)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "identifier", i->identifier);
    cJSON_AddStringToObject(o, "status", i->status);
    if (i->address && *i->address) {
        cJSON *endpoint = cJSON_AddObjectToObject(o, "endpoint");
        cJSON_AddStringToObject(endpoint, "address", i->address);
        cJSON_AddNumberToObject(endpoint, "port", i->port);
    } else {
        cJSON_AddNullToObject(o, "endpoint");
    }
    cJSON_AddStringToObject(o, "node_type", i->node_type ? i->node_type : "");
    cJSON_AddNumberToObject(o, "nodes", i->nodes);
    cJSON_AddStringToObject(o, "cluster_type", i->nodes > 1 ? "multi-node" : "single-node");
    cJSON_AddStringToObject(o, "database", i->db_name ? i->db_name : "");
    cJSON_AddStringToObject(o, "admin_user", i->master_user ? i->master_user : "");
    cJSON_AddBoolToObject(o, "encrypted", i->encrypted);
    cJSON_AddBoolToObject(o, "publicly_accessible", i->publicly_accessible);
    cJSON *roles = cJSON_AddArrayToObject(o, "iam_roles");
    for (size_t r = 0; r < i->role_count; r++) {
        cJSON *role = cJSON_CreateObject();
        cJSON_AddStringToObject(role, "arn", i->roles[r].arn);
        cJSON_AddStringToObject(role, "status", i->roles[r].status ? i->roles[r].status : "");
        cJSON_AddItemToArray(roles, role);
    }
    cJSON *groups = cJSON_AddArrayToObject(o, "security_groups");
    for (size_t g = 0; g < i->group_count; g++)
        cJSON_AddItemToArray(groups, cJSON_CreateString(i->groups[g]));
    cJSON *rules = cJSON_AddArrayToObject(o, "ingress");
    for (size_t r = 0; r < i->rule_count; r++) {
        cJSON *rule = cJSON_CreateObject();
        cJSON_AddStringToObject(rule, "group_id", i->rules[r].group_id);
        cJSON_AddStringToObject(rule, "protocol", i->rules[r].protocol);
        cJSON_AddNumberToObject(rule, "from_port", i->rules[r].from_port);
        cJSON_AddNumberToObject(rule, "to_port", i->rules[r].to_port);
        cJSON_AddStringToObject(rule, "cidr", i->rules[r].cidr);
        if (i->rules[r].description)
            cJSON_AddStringToObject(rule, "description", i->rules[r].description);
        else
            cJSON_AddNullToObject(rule, "description");
        cJSON_AddItemToArray(rules, rule);
    }
    cJSON_AddStringToObject(o, "region", region);
    char *text = cJSON_Print(o);
    puts(text);
    free(text);
    cJSON_Delete(o);
}

static int run_status(struct session *s, const struct cluster_settings *settings,
                      const struct cluster_hooks *h, bool json, struct sp_error *err)
{
    struct cluster_caller who;
    int status = cluster_caller_identity(s->aws, h, &who, err);
    cluster_caller_release(&who);
    struct cluster_info info;
    memset(&info, 0, sizeof info);
    if (status == SP_OK)
        status = cluster_describe(s->aws, settings->identifier, &info, err);
    if (status == SP_OK && !info.exists)
        status = sp_fail(err,
                         "the Redshift cluster %s does not exist in %s (`sparkify cluster "
                         "create` makes it)",
                         settings->identifier, s->region);
    if (status == SP_OK && json)
        print_status_json(&info, s->region);
    else if (status == SP_OK)
        print_status_text(&info, s->region);
    cluster_info_release(&info);
    return status;
}

/* ---- create ---- */

static int write_settings(const struct cli *cli, const struct cluster_created *c,
                          const char *password, const char *path, struct sp_error *err)
{
    char port[16];
    snprintf(port, sizeof port, "%d", c->info.port);
    struct config_update updates[6];
    size_t n = 0;
    updates[n++] = (struct config_update){"CLUSTER", "HOST", c->info.address};
    updates[n++] = (struct config_update){"CLUSTER", "DB_NAME", c->info.db_name};
    updates[n++] = (struct config_update){"CLUSTER", "DB_USER", c->info.master_user};
    if (password)
        updates[n++] = (struct config_update){"CLUSTER", "DB_PASSWORD", password};
    updates[n++] = (struct config_update){"CLUSTER", "DB_PORT", port};
    updates[n++] = (struct config_update){"IAM_ROLE", "ARN", c->role_arn};
    bool changed = false;
    int status = config_file_update(path, updates, n, &changed, err);
    if (status == SP_OK && changed)
        cli_info(cli,
                 "wrote [CLUSTER] HOST, DB_NAME, DB_USER, %sDB_PORT and [IAM_ROLE] ARN into %s "
                 "(mode 0600)\n",
                 password ? (c->generated_password ? "DB_PASSWORD (generated, not shown), "
                                                   : "DB_PASSWORD, ")
                          : "",
                 path);
    else if (status == SP_OK)
        cli_info(cli, "%s already holds the cluster's settings\n", path);
    return status;
}

static int run_create(struct cli *cli, struct session *s, const struct cluster_settings *settings,
                      const struct cluster_hooks *h, struct report *r, struct sp_error *err)
{
    cli_interrupt_message("sparkify: interrupted; what was made so far stays: `sparkify cluster "
                          "create` again finishes it, `sparkify cluster delete` removes it\n");
    struct cluster_created c;
    int status = cluster_create(s->aws, settings, h, &c, err);
    progress_finish(&r->progress);
    const char *path = cli_config_path(cli, NULL); /* the file read, or where it would be */
    if (status == SP_OK && cli->dry_run) {
        printf("-- then: wait until the cluster is available and write [CLUSTER] HOST, DB_NAME, "
               "DB_USER, DB_PASSWORD, DB_PORT and [IAM_ROLE] ARN into ");
        cli_write_escaped(stdout, path);
        putchar('\n');
        cli_info(cli, "dry run: only requests that read were sent; nothing was changed\n");
    } else if (status == SP_OK) {
        const char *password = settings->db_password ? settings->db_password : c.generated_password;
        /* DescribeClusters names the database and user; the settings are what was asked. */
        if (!c.info.db_name)
            c.info.db_name = xstrdup(settings->db_name);
        if (!c.info.master_user)
            c.info.master_user = xstrdup(settings->db_user);
        cli_info(cli, "IAM role %s: %s (%s); its policy %s\n", settings->role_name,
                 c.role_created ? "created" : "exists", c.role_arn,
                 c.policy_written ? "written" : "unchanged");
        if (settings->allow_cidr)
            cli_info(cli, "port %d: %s to %s\n", c.info.port,
                     c.rule_added ? "opened" : "already open", settings->allow_cidr);
        else
            cli_info(cli,
                     "port %d: no ingress rule added; the cluster is reachable from inside its "
                     "VPC only (--allow-cidr CIDR opens the port to CIDR)\n",
                     c.info.port);
        cli_info(cli, "Redshift cluster %s: %s; available at %s:%d (%d x %s)\n",
                 settings->identifier, c.cluster_created ? "created" : "exists", c.info.address,
                 c.info.port, c.info.nodes, c.info.node_type ? c.info.node_type : "?");
        cli_interrupt_message("sparkify: interrupted; the cluster is available but its "
                              "settings may not be written: run `sparkify cluster create` "
                              "again\n");
        status = write_settings(cli, &c, password, path, err);
        if (status == SP_OK && c.password_unknown)
            cli_info(cli, "note: the cluster existed and the config holds no database password: "
                          "set [CLUSTER] DB_PASSWORD (AWS never tells it; reset it in the Redshift "
                          "console if it is lost)\n");
    }
    cluster_created_release(&c);
    return status;
}

/* ---- delete ---- */

/* On a terminal, the user types the identifier; elsewhere --yes is required. */
static int confirm_delete(const struct cluster_args *o, const struct cluster_settings *s,
                          const char *region)
{
    if (o->yes)
        return 0;
    if (!isatty(STDIN_FILENO))
        return cli_usage_error("cluster delete",
                               "stdin is not a terminal: pass --yes to delete the cluster %s "
                               "without a question",
                               s->identifier);
    fprintf(stderr,
            "This deletes the Redshift cluster %s in %s with all its data (%s%s), sparkify's "
            "ingress rule for it and the IAM role %s.\nType the cluster identifier to confirm: ",
            s->identifier, region, o->final_snapshot ? "final snapshot " : "no final snapshot",
            o->final_snapshot ? o->final_snapshot : "", s->role_name);
    fflush(stderr);
    char line[128];
    if (!fgets(line, sizeof line, stdin))
        line[0] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strcmp(line, s->identifier) != 0) {
        fprintf(stderr, "sparkify: not deleted: '%s' is not %s\n", line, s->identifier);
        return 1;
    }
    return 0;
}

/* HOST and ARN point at what was deleted: cleared, so that no command goes looking for it. */
static int clear_settings(const struct cli *cli, const struct cluster_settings *s,
                          const struct cluster_deleted *d, struct sp_error *err)
{
    const struct config_file *c = &cli->config;
    if (!c->path)
        return SP_OK;
    struct config_update updates[2];
    size_t n = 0;
    size_t len = strlen(s->identifier);
    if (c->cluster_host && strncmp(c->cluster_host, s->identifier, len) == 0 &&
        c->cluster_host[len] == '.')
        updates[n++] = (struct config_update){"CLUSTER", "HOST", ""};
    const char *role = c->iam_role_arn ? strrchr(c->iam_role_arn, '/') : NULL;
    if ((d->role_deleted || !d->role_not_ours) && role && strcmp(role + 1, s->role_name) == 0)
        updates[n++] = (struct config_update){"IAM_ROLE", "ARN", ""};
    if (!n)
        return SP_OK;
    bool changed = false;
    int status = config_file_update(c->path, updates, n, &changed, err);
    if (status == SP_OK && changed)
        cli_info(cli, "cleared %s in %s\n",
                 n == 2
                     ? "[CLUSTER] HOST and [IAM_ROLE] ARN"
                     : (strcmp(updates[0].key, "HOST") == 0 ? "[CLUSTER] HOST" : "[IAM_ROLE] ARN"),
                 c->path);
    return status;
}

static int run_delete(struct cli *cli, const struct cluster_args *o, struct session *s,
                      const struct cluster_settings *settings, const struct cluster_hooks *h,
                      struct report *r, struct sp_error *err)
{
    cli_interrupt_message("sparkify: interrupted; what is not deleted yet stays: run `sparkify "
                          "cluster delete` again\n");
    struct cluster_deleted d;
    int status = cluster_delete(s->aws, settings, h, &d, err);
    progress_finish(&r->progress);
    if (status == SP_OK && cli->dry_run) {
        cli_info(cli, "dry run: only requests that read were sent; nothing was deleted\n");
        return SP_OK;
    }
    if (status != SP_OK)
        return status;
    cli_info(cli, "Redshift cluster %s: %s\n", settings->identifier,
             d.cluster_deleted ? (o->final_snapshot ? "deleted, with a final snapshot"
                                                    : "deleted (no final snapshot)")
                               : "not there (nothing to delete)");
    cli_info(cli, "ingress rules removed: %zu\n", d.rules_revoked);
    cli_info(cli, "IAM role %s: %s\n", settings->role_name,
             d.role_deleted ? "deleted"
                            : (d.role_not_ours ? "left as it is (not sparkify's)" : "not there"));
    return clear_settings(cli, settings, &d, err);
}

static int cmd_cluster(struct cli *cli, void *args)
{
    const struct cluster_args *o = args;
    struct sp_error err;
    sp_error_clear(&err);
    struct cluster_settings settings;
    memset(&settings, 0, sizeof settings);
    int status = cluster_settings_load(&settings, &cli->config, &err);
    if (status == SP_OK && o->allow_cidr)
        status = cluster_check_cidr(o->allow_cidr, "--allow-cidr", &err);
    if (status == SP_OK && o->sub == CREATE && !o->managed_policy) {
        /* The role's policy is checked before any request, so that a config without S3
         * prefixes leaves no role behind. */
        char *policy = NULL;
        status = cluster_role_policy(&settings, "aws", &policy, &err);
        free(policy);
    }
    if (status == SP_OK && o->final_snapshot && !*o->final_snapshot)
        status = sp_usage(&err, "--final-snapshot takes a snapshot identifier");
    if (status != SP_OK) {
        cluster_settings_release(&settings);
        return cli_report_error(&err);
    }
    settings.allow_cidr = o->allow_cidr;
    settings.publicly_accessible = o->public_access;
    settings.managed_s3_policy = o->managed_policy;
    settings.final_snapshot = o->final_snapshot;
    struct session s;
    status = session_open(cli, o, &s, &err);
    if (status == SP_OK && o->sub == DELETE && !cli->dry_run) {
        int refused = confirm_delete(o, &settings, s.region);
        if (refused) {
            session_close(&s);
            cluster_settings_release(&settings);
            return refused;
        }
    }
    struct report r = {.cli = cli};
    progress_init(&r.progress, cli);
    struct cluster_hooks hooks = {.timeout = o->timeout,
                                  .poll_interval = o->poll_interval,
                                  .credentials_from = s.credentials_from,
                                  .progress = on_progress,
                                  .notice = on_notice,
                                  .ctx = &r};
    if (status == SP_OK && cli->dry_run && o->sub != STATUS) {
        printf("-- dry run in %s: the requests sparkify would send to change something (the "
               "ones that read were sent)\n",
               s.region);
        aws_client_dry_run(s.aws, show_request, NULL);
    }
    if (status == SP_OK && settings.db_password)
        aws_client_add_secret(s.aws, settings.db_password);
    if (status == SP_OK) {
        switch (o->sub) {
        case CREATE:
            status = run_create(cli, &s, &settings, &hooks, &r, &err);
            break;
        case STATUS:
            status = run_status(&s, &settings, &hooks, o->format == STATUS_JSON, &err);
            break;
        case DELETE:
            status = run_delete(cli, o, &s, &settings, &hooks, &r, &err);
            break;
        }
    }
    progress_finish(&r.progress);
    session_close(&s);
    cluster_settings_release(&settings);
    return status == SP_OK ? 0 : cli_report_error(&err);
}

static void cluster_init(struct cluster_args *a, enum subcommand sub)
{
    a->sub = sub;
    a->timeout = 1800;
    a->poll_interval = 5;
}

static void create_init(void *args)
{
    cluster_init(args, CREATE);
}

static void status_init(void *args)
{
    cluster_init(args, STATUS);
}

static void delete_init(void *args)
{
    cluster_init(args, DELETE);
}

static const char cluster_epilogue[] =
    "Settings (dwh.cfg): [CLUSTER] IDENTIFIER (sparkify), NODE_TYPE (ra3.xlplus), NUM_NODES (1), "
    "CLUSTER_TYPE (single-node for 1 node), DB_NAME (dev), DB_USER (awsuser), DB_PASSWORD "
    "(generated), DB_PORT (5439); each falls back to the classic [DWH] key "
    "(DWH_CLUSTER_IDENTIFIER, DWH_NODE_TYPE, ...), [CLUSTER] winning where both are set. The role "
    "is [DWH] DWH_IAM_ROLE_NAME, else the one [IAM_ROLE] ARN names, else IDENTIFIER-s3-read.\n"
    "\n"
    "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, then "
    "~/.aws/credentials (AWS_PROFILE), then [AWS] KEY/SECRET in dwh.cfg. Endpoints: "
    "AWS_ENDPOINT_URL_IAM, _STS, _EC2, _REDSHIFT, then AWS_ENDPOINT_URL.\n"
    "\n"
    "With --dry-run, only the requests that read are sent; the others are printed.";

static const struct cli_command cluster_create_command = {
    .options = create_options,
    .description =
        "Makes an IAM role that Redshift may assume (tagged " CLUSTER_TAG_KEY
        "=IDENTIFIER), its policy (s3:GetObject and s3:ListBucket on exactly [S3] LOG_DATA, "
        "SONG_DATA, LOG_JSONPATH and STAGING), an ingress rule for the port from --allow-cidr "
        "only, and an encrypted Redshift cluster carrying the role in the default VPC; waits "
        "until it is available, then writes [CLUSTER] HOST DB_NAME DB_USER DB_PASSWORD DB_PORT "
        "and [IAM_ROLE] ARN into the config file (in place, comments kept, mode 0600). Run "
        "again, it finds what exists and changes nothing. A missing DB_PASSWORD is generated, "
        "written to the file and never printed.",
    .epilogue = cluster_epilogue,
    .args_size = sizeof(struct cluster_args),
    .init = create_init,
    .run = cmd_cluster,
};

static const struct cli_command cluster_status_command = {
    .options = status_options,
    .description = "Shows the cluster's state, endpoint, nodes, role and ingress rules; exits 1 "
                   "when it does not exist.",
    .epilogue = cluster_epilogue,
    .args_size = sizeof(struct cluster_args),
    .init = status_init,
    .run = cmd_cluster,
};

static const struct cli_command cluster_delete_command = {
    .options = delete_options,
    .description =
        "Deletes the cluster (no final snapshot unless --final-snapshot), waits until it is "
        "gone, removes sparkify's ingress rule and the role (only when it carries the tag), and "
        "clears HOST and ARN in the config file. Asks for the cluster identifier on a terminal; "
        "--yes instead (required when stdin is not a terminal).",
    .epilogue = cluster_epilogue,
    .args_size = sizeof(struct cluster_args),
    .init = delete_init,
    .run = cmd_cluster,
};

static const struct cli_subcommand cluster_subcommands[] = {
    {"create", &cluster_create_command,
     "make the IAM role, its policy, the ingress rule and the cluster; write dwh.cfg"},
    {"status", &cluster_status_command,
     "show the cluster's state, endpoint, nodes, role and ingress"},
    {"delete", &cluster_delete_command,
     "delete the cluster, sparkify's ingress rule and role; clear dwh.cfg"},
    {NULL, NULL, NULL},
};

const struct cli_command cluster_command = {
    .subcommands = cluster_subcommands,
    .description = "The classic project's step 1 as one command, and its undoing: an IAM role "
                   "that Redshift may assume, the cluster's port opened to one CIDR, and an "
                   "encrypted Redshift cluster in the default VPC. The subcommand comes first; "
                   "`sparkify cluster SUBCOMMAND --help` describes one.",
    .epilogue = cluster_epilogue,
};
