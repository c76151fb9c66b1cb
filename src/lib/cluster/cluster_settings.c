/* cluster_settings.c - what `sparkify cluster` creates: the settings from dwh.cfg, checked
 * against AWS's rules before any request is sent, the generated password and the role's policy
 * documents.
 *
 * moto, which the tests run against, accepts values AWS refuses (a node type that does not
 * exist, a bad password), so the rules of Redshift's CreateCluster page
 * (https://docs.aws.amazon.com/redshift/latest/APIReference/API_CreateCluster.html) are
 * checked here: the identifier, the admin user, the password (never shown in a message), the
 * node types, the port ranges. A password is generated from OpenSSL's RAND_bytes.
 */
#include "cluster.h"

#include "buffer.h"
#include "s3.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CreateCluster's NodeType: "Valid Values: dc2.large | dc2.8xlarge | ra3.large | ra3.xlplus |
 * ra3.4xlarge | ra3.16xlarge". */
static const char *const node_types[] = {"dc2.large",  "dc2.8xlarge", "ra3.large",
                                         "ra3.xlplus", "ra3.4xlarge", "ra3.16xlarge"};
#define NODE_TYPES (sizeof node_types / sizeof node_types[0])

/* The value of sparkify's own key when set, else the classic [DWH] key's, else `fallback`;
 * `from` names where it came from. */
static const char *pick(const char *own, const char *own_name, const char *classic,
                        const char *classic_name, const char *fallback, const char **from)
{
    if (own && *own) {
        *from = own_name;
        return own;
    }
    if (classic && *classic) {
        *from = classic_name;
        return classic;
    }
    *from = "the default";
    return fallback;
}

/* 1 to 63 letters, digits and hyphens, a letter first, no "--", no hyphen at the end. */
static bool valid_identifier(const char *id)
{
    size_t n = strlen(id);
    if (n < 1 || n > 63 || !islower((unsigned char)id[0]) || id[n - 1] == '-' || strstr(id, "--"))
        return false;
    for (const char *p = id; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
            return false;
    return true;
}

/* MasterUsername: 1 to 128 of lowercase letters, digits, _ + . @ -, a letter first, not PUBLIC.
 * DBName: 1 to 64 lowercase letters, digits or underscores, not starting with a digit. */
static bool valid_user(const char *user)
{
    size_t n = strlen(user);
    if (n < 1 || n > 128 || !islower((unsigned char)user[0]) || strcmp(user, "public") == 0)
        return false;
    for (const char *p = user; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && !strchr("_+.@-", *p))
            return false;
    return true;
}

static bool valid_db_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 64 || isdigit((unsigned char)name[0]))
        return false;
    for (const char *p = name; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

/* IAM role names: 1 to 64 of letters, digits and + = , . @ _ -. */
static bool valid_role_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 64)
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("+=,.@_-", *p))
            return false;
    return true;
}

const char *cluster_password_problem(const char *password)
{
    size_t n = strlen(password);
    if (n < 8 || n > 64)
        return "it must be 8 to 64 characters long";
    bool upper = false, lower = false, digit = false;
    for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
        if (*p < 33 || *p > 126)
            return "it may hold only printable ASCII characters, without spaces";
        if (strchr("'\"\\/@", *p))
            return "it may not hold ' \" \\ / or @";
        upper |= isupper(*p) != 0;
        lower |= islower(*p) != 0;
        digit |= isdigit(*p) != 0;
    }
    if (!upper)
        return "it needs an uppercase letter";
    if (!lower)
        return "it needs a lowercase letter";
    if (!digit)
        return "it needs a digit";
    return NULL;
}

int cluster_generate_password(char out[33], struct sp_error *err)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    do {
        size_t n = 0;
        while (n < 32) {
            unsigned char bytes[64];
            if (RAND_bytes(bytes, sizeof bytes) != 1)
                return sp_fail(err, "cannot generate a database password: OpenSSL's random "
                                    "generator failed");
            /* 248 = 4 * 62: a byte below it maps to a letter or digit without bias. */
            for (size_t i = 0; i < sizeof bytes && n < 32; i++)
                if (bytes[i] < 248)
                    out[n++] = alphabet[bytes[i] % 62];
            memset(bytes, 0, sizeof bytes);
        }
        out[32] = '\0';
    } while (cluster_password_problem(out) != NULL);
    return SP_OK;
}

int cluster_check_cidr(const char *cidr, const char *what, struct sp_error *err)
{
    const char *slash = strchr(cidr, '/');
    char address[INET_ADDRSTRLEN] = "";
    struct in_addr in;
    char *end;
    long bits = -1;
    if (slash && (size_t)(slash - cidr) < sizeof address) {
        memcpy(address, cidr, (size_t)(slash - cidr));
        address[slash - cidr] = '\0';
        errno = 0;
        bits = isdigit((unsigned char)slash[1]) ? strtol(slash + 1, &end, 10) : -1;
        if (errno || (bits >= 0 && *end))
            bits = -1;
    }
    if (bits < 0 || bits > 32 || inet_pton(AF_INET, address, &in) != 1)
        return sp_usage(err, "%s takes an IPv4 CIDR such as 203.0.113.5/32, not '%s'", what, cidr);
    uint32_t host = ntohl(in.s_addr);
    uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    if (host & ~mask) {
        struct in_addr net = {htonl(host & mask)};
        char canonical[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &net, canonical, sizeof canonical);
        return sp_usage(err, "%s '%s' has host bits set: did you mean %s/%ld?", what, cidr,
                        canonical, bits);
    }
    return SP_OK;
}

static char *lowercase(const char *s)
{
    char *copy = xstrdup(s);
    for (char *p = copy; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return copy;
}

/* The name in a role ARN (arn:aws:iam::123456789012:role/path/NAME), or NULL. */
static char *role_name_of(const char *arn)
{
    const char *role = arn ? strstr(arn, ":role/") : NULL;
    if (!role)
        return NULL;
    const char *name = strrchr(role, '/') + 1;
    return *name ? xstrdup(name) : NULL;
}

static int parse_count(const char *text, const char *from, const char *what, int *out,
                       struct sp_error *err)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < 1 || v > 128)
        return sp_usage(err, "%s takes %s from 1 to 128, not '%s'", from, what, text);
    *out = (int)v;
    return SP_OK;
}

static bool ra3(const char *node_type)
{
    return strncmp(node_type, "ra3.", 4) == 0;
}

/* An s3:// URL among the sources, or NULL (a local source needs no permission of the role). */
static char *s3_only(const char *value)
{
    return value && strncmp(value, "s3://", 5) == 0 ? xstrdup(value) : NULL;
}

static int check_nodes(struct cluster_settings *s, const char *type_from, const char *nodes_from,
                       bool nodes_set, struct sp_error *err)
{
    if (strcmp(s->cluster_type, "single-node") != 0 && strcmp(s->cluster_type, "multi-node") != 0)
        return sp_usage(err, "%s takes single-node or multi-node, not '%s'", type_from,
                        s->cluster_type);
    if (strcmp(s->cluster_type, "single-node") == 0 && nodes_set && s->nodes != 1)
        return sp_usage(err, "%s is single-node but %s asks for %d nodes", type_from, nodes_from,
                        s->nodes);
    if (strcmp(s->cluster_type, "multi-node") == 0 && s->nodes < 2)
        return sp_usage(err, "%s is multi-node: it needs 2 nodes or more (%s)", type_from,
                        nodes_from);
    return SP_OK;
}

static int check_port(const struct cluster_settings *s, const char *from, struct sp_error *err)
{
    /* CreateCluster's Port: "For clusters with ra3 nodes - Select a port within the ranges
     * 5431-5455 or 8191-8215 ... For clusters with dc2 nodes - ... 1150-65535". */
    if (ra3(s->node_type) &&
        !((s->port >= 5431 && s->port <= 5455) || (s->port >= 8191 && s->port <= 8215)))
        return sp_usage(err, "%s %d is not a port of an ra3 cluster (5431-5455 or 8191-8215)", from,
                        s->port);
    if (!ra3(s->node_type) && (s->port < 1150 || s->port > 65535))
        return sp_usage(err, "%s %d is not a port of a %s cluster (1150-65535)", from, s->port,
                        s->node_type);
    return SP_OK;
}

int cluster_settings_load(struct cluster_settings *s, const struct config_file *c,
                          struct sp_error *err)
{
    memset(s, 0, sizeof *s);
    const char *from, *v;

    v = pick(c->cluster_identifier, "[CLUSTER] IDENTIFIER", c->dwh_cluster_identifier,
             "[DWH] DWH_CLUSTER_IDENTIFIER", "sparkify", &from);
    s->identifier = lowercase(v);
    if (!valid_identifier(s->identifier))
        return sp_usage(err,
                        "%s '%s' is not a Redshift cluster identifier: 1 to 63 letters, digits "
                        "and hyphens, a letter first, no two hyphens in a row, none at the end",
                        from, v);

    v = pick(c->cluster_node_type, "[CLUSTER] NODE_TYPE", c->dwh_node_type, "[DWH] DWH_NODE_TYPE",
             "ra3.xlplus", &from);
    s->node_type = xstrdup(v);
    bool known = false;
    for (size_t i = 0; i < NODE_TYPES; i++)
        known |= strcmp(v, node_types[i]) == 0;
    if (!known) {
        struct buffer all;
        buffer_init(&all);
        for (size_t i = 0; i < NODE_TYPES; i++)
            buffer_printf(&all, "%s%s", i ? ", " : "", node_types[i]);
        sp_usage(err, "%s '%s' is not a Redshift node type (%s)", from, v, all.data);
        buffer_release(&all);
        return SP_USAGE;
    }

    const char *nodes_from;
    v = pick(c->cluster_num_nodes, "[CLUSTER] NUM_NODES", c->dwh_num_nodes, "[DWH] DWH_NUM_NODES",
             "1", &nodes_from);
    bool nodes_set = strcmp(nodes_from, "the default") != 0;
    if (parse_count(v, nodes_from, "a number of nodes", &s->nodes, err) != SP_OK)
        return SP_USAGE;
    const char *type_from;
    v = pick(c->cluster_type, "[CLUSTER] CLUSTER_TYPE", c->dwh_cluster_type,
             "[DWH] DWH_CLUSTER_TYPE", s->nodes > 1 ? "multi-node" : "single-node", &type_from);
    s->cluster_type = xstrdup(v);
    if (check_nodes(s, type_from, nodes_from, nodes_set, err) != SP_OK)
        return SP_USAGE;

    v = pick(c->cluster_db_name, "[CLUSTER] DB_NAME", c->dwh_db, "[DWH] DWH_DB", "dev", &from);
    s->db_name = xstrdup(v);
    if (!valid_db_name(v))
        return sp_usage(err,
                        "%s '%s' is not a Redshift database name: 1 to 64 lowercase letters, "
                        "digits and underscores, not starting with a digit",
                        from, v);
    v = pick(c->cluster_db_user, "[CLUSTER] DB_USER", c->dwh_db_user, "[DWH] DWH_DB_USER",
             "awsuser", &from);
    s->db_user = xstrdup(v);
    if (!valid_user(v))
        return sp_usage(err,
                        "%s '%s' is not a Redshift admin user name: 1 to 128 lowercase letters, "
                        "digits and _ + . @ -, a letter first, not public",
                        from, v);

    v = pick(c->cluster_db_password, "[CLUSTER] DB_PASSWORD", c->dwh_db_password,
             "[DWH] DWH_DB_PASSWORD", NULL, &s->password_from);
    if (v) {
        s->db_password = xstrdup(v);
        const char *problem = cluster_password_problem(v);
        if (problem)
            return sp_usage(err,
                            "the database password in %s does not meet Redshift's rules: %s (8 "
                            "to 64 printable ASCII characters with an uppercase letter, a "
                            "lowercase letter and a digit, without spaces, ' \" \\ / or @); "
                            "leave it empty and `sparkify cluster create` generates one",
                            s->password_from, problem);
    }

    v = pick(c->cluster_db_port, "[CLUSTER] DB_PORT", c->dwh_port, "[DWH] DWH_PORT", "5439", &from);
    s->port = atoi(v);
    if (check_port(s, from, err) != SP_OK)
        return SP_USAGE;

    char *from_arn = role_name_of(c->iam_role_arn);
    if (c->dwh_iam_role_name && *c->dwh_iam_role_name) {
        s->role_name = xstrdup(c->dwh_iam_role_name);
        from = "[DWH] DWH_IAM_ROLE_NAME";
    } else if (from_arn) {
        s->role_name = xstrdup(from_arn);
        from = "[IAM_ROLE] ARN";
    } else {
        struct buffer name;
        buffer_init(&name);
        buffer_printf(&name, "%.56s-s3-read", s->identifier);
        s->role_name = name.data;
        from = "the default";
    }
    free(from_arn);
    if (!valid_role_name(s->role_name))
        return sp_usage(err,
                        "%s '%s' is not an IAM role name: 1 to 64 letters, digits and + = , . @ "
                        "_ -",
                        from, s->role_name);

    s->log_data = s3_only(config_pick(NULL, "SPARKIFY_LOG_DATA", c->s3_log_data, NULL));
    s->song_data = s3_only(config_pick(NULL, "SPARKIFY_SONG_DATA", c->s3_song_data, NULL));
    s->log_jsonpath = s3_only(config_pick(NULL, "SPARKIFY_LOG_JSONPATH", c->s3_log_jsonpath, NULL));
    s->staging = s3_only(config_pick(NULL, "SPARKIFY_STAGING", c->s3_staging, NULL));
    return SP_OK;
}

void cluster_settings_release(struct cluster_settings *s)
{
    char **fields[] = {&s->identifier,   &s->node_type, &s->cluster_type, &s->db_name,
                       &s->db_user,      &s->role_name, &s->log_data,     &s->song_data,
                       &s->log_jsonpath, &s->staging};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
    if (s->db_password) {
        memset(s->db_password, 0, strlen(s->db_password));
        free(s->db_password);
        s->db_password = NULL;
    }
}

/* ---- the role's policy documents ---- */

char *cluster_trust_policy(void)
{
    /* The trust policy of a role for Redshift ("Authorizing Amazon Redshift to access other AWS
     * services on your behalf", https://docs.aws.amazon.com/redshift/latest/mgmt/
     * authorizing-redshift-service.html). */
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "Version", "2012-10-17");
    cJSON *statement = cJSON_AddArrayToObject(doc, "Statement");
    cJSON *allow = cJSON_CreateObject();
    cJSON_AddStringToObject(allow, "Effect", "Allow");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(allow, "Principal"), "Service",
                            "redshift.amazonaws.com");
    cJSON_AddStringToObject(allow, "Action", "sts:AssumeRole");
    cJSON_AddItemToArray(statement, allow);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}

/* What COPY reads under one setting: objects matching `pattern` in `bucket`, found by listing
 * keys that match `list` (NULL: no listing; "": the whole bucket). */
struct grant {
    char *bucket, *pattern, *list;
};

static void add_grant(struct grant *grants, size_t *count, const char *url, const char *kind)
{
    char *bucket = NULL, *key = NULL;
    if (!url || s3_parse_url(url, &bucket, &key) != 0)
        return;
    struct grant g = {bucket, NULL, NULL};
    size_t len = strlen(key);
    if (strcmp(kind, "object") == 0 && len) {
        g.pattern = xstrdup(key); /* the JSONPaths file: read, never listed */
    } else if (strcmp(kind, "staging") == 0) {
        /* sparkify writes under PREFIX/ (run directories), never beside it. */
        while (len && key[len - 1] == '/')
            key[--len] = '\0';
        struct buffer b;
        buffer_init(&b);
        buffer_printf(&b, "%s%s*", key, len ? "/" : "");
        g.pattern = b.data;
        g.list = len ? xstrdup(b.data) : xstrdup("");
    } else {
        /* COPY FROM 's3://bucket/prefix' loads every key that starts with the prefix. */
        struct buffer b;
        buffer_init(&b);
        buffer_printf(&b, "%s*", key);
        g.pattern = b.data;
        g.list = len ? xstrdup(b.data) : xstrdup("");
    }
    free(key);
    grants[(*count)++] = g;
}

static bool array_has(const cJSON *array, const char *text)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, array)
    {
        if (cJSON_IsString(item) && strcmp(item->valuestring, text) == 0)
            return true;
    }
    return false;
}

int cluster_role_policy(const struct cluster_settings *s, const char *partition, char **out,
                        struct sp_error *err)
{
    *out = NULL;
    struct grant grants[4];
    size_t count = 0;
    add_grant(grants, &count, s->log_data, "prefix");
    add_grant(grants, &count, s->song_data, "prefix");
    add_grant(grants, &count, s->log_jsonpath, "object");
    add_grant(grants, &count, s->staging, "staging");
    if (!count)
        return sp_usage(err,
                        "the role's policy allows reading the config's S3 prefixes ([S3] "
                        "LOG_DATA, SONG_DATA, LOG_JSONPATH, STAGING) and none is an s3:// URL: "
                        "set them (`sparkify init` writes a template), or pass "
                        "--s3-read-only-access for AWS's managed " CLUSTER_MANAGED_POLICY);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "Version", "2012-10-17");
    cJSON *statements = cJSON_AddArrayToObject(doc, "Statement");
    cJSON *read = cJSON_CreateObject();
    cJSON_AddStringToObject(read, "Sid", "ReadObjects");
    cJSON_AddStringToObject(read, "Effect", "Allow");
    cJSON_AddStringToObject(read, "Action", "s3:GetObject");
    cJSON *objects = cJSON_AddArrayToObject(read, "Resource");
    struct buffer arn;
    buffer_init(&arn);
    for (size_t i = 0; i < count; i++) {
        buffer_clear(&arn);
        buffer_printf(&arn, "arn:%s:s3:::%s/%s", partition, grants[i].bucket, grants[i].pattern);
        if (!array_has(objects, arn.data))
            cJSON_AddItemToArray(objects, cJSON_CreateString(arn.data));
    }
    cJSON_AddItemToArray(statements, read);
    /* One ListBucket statement per bucket, limited to its prefixes (the s3:prefix condition
     * key), in the order the buckets first appear. */
    int lists = 0;
    for (size_t i = 0; i < count; i++) {
        if (!grants[i].list)
            continue;
        bool seen = false, whole = false;
        for (size_t j = 0; j < i; j++)
            seen |= grants[j].list && strcmp(grants[j].bucket, grants[i].bucket) == 0;
        if (seen)
            continue;
        cJSON *prefixes = cJSON_CreateArray();
        for (size_t j = i; j < count; j++) {
            if (!grants[j].list || strcmp(grants[j].bucket, grants[i].bucket) != 0)
                continue;
            whole |= !*grants[j].list;
            if (*grants[j].list && !array_has(prefixes, grants[j].list))
                cJSON_AddItemToArray(prefixes, cJSON_CreateString(grants[j].list));
        }
        cJSON *list = cJSON_CreateObject();
        char sid[32];
        snprintf(sid, sizeof sid, "ListPrefixes%d", ++lists);
        cJSON_AddStringToObject(list, "Sid", sid);
        cJSON_AddStringToObject(list, "Effect", "Allow");
        cJSON_AddStringToObject(list, "Action", "s3:ListBucket");
        buffer_clear(&arn);
        buffer_printf(&arn, "arn:%s:s3:::%s", partition, grants[i].bucket);
        cJSON_AddStringToObject(list, "Resource", arn.data);
        if (whole)
            cJSON_Delete(prefixes);
        else
            cJSON_AddItemToObject(
                cJSON_AddObjectToObject(cJSON_AddObjectToObject(list, "Condition"), "StringLike"),
                "s3:prefix", prefixes);
        cJSON_AddItemToArray(statements, list);
    }
    buffer_release(&arn);
    for (size_t i = 0; i < count; i++) {
        free(grants[i].bucket);
        free(grants[i].pattern);
        free(grants[i].list);
    }
    *out = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return SP_OK;
}
