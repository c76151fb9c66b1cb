/* config.c - dwh.cfg with inih, and the flag > environment > file > default rule.
 *
 * A mistake in the file is an error naming its line, never a setting silently ignored: an
 * unknown key of a known section (with the nearest known key), a DB_PORT that is no port. Other
 * sections stay allowed, for files shared with other tools. Relative source paths are taken
 * relative to the file. What is read is bounded (1 MiB), and a directory or a device is refused,
 * so --config /dev/zero cannot hang; a FIFO (--config <(...)) reads as a file does.
 */
#include "config.h"

#include "buffer.h"
#include "textfile.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

void config_file_init(struct config_file *c)
{
    memset(c, 0, sizeof *c);
}

void config_file_release(struct config_file *c)
{
    char **fields[] = {&c->path,
                       &c->cluster_host,
                       &c->cluster_db_name,
                       &c->cluster_db_user,
                       &c->cluster_db_password,
                       &c->cluster_db_port,
                       &c->iam_role_arn,
                       &c->s3_log_data,
                       &c->s3_log_jsonpath,
                       &c->s3_song_data,
                       &c->s3_staging,
                       &c->aws_key,
                       &c->aws_secret,
                       &c->cluster_identifier,
                       &c->cluster_node_type,
                       &c->cluster_num_nodes,
                       &c->cluster_type,
                       &c->dwh_cluster_type,
                       &c->dwh_num_nodes,
                       &c->dwh_node_type,
                       &c->dwh_iam_role_name,
                       &c->dwh_cluster_identifier,
                       &c->dwh_db,
                       &c->dwh_db_user,
                       &c->dwh_db_password,
                       &c->dwh_port};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

static char *unquote(const char *value)
{
    size_t n = strlen(value);
    if (n >= 2 && (value[0] == '\'' || value[0] == '"') && value[n - 1] == value[0])
        return xstrndup(value + 1, n - 2);
    return xstrdup(value);
}

/* A key sparkify reads, into the field at `offset`. The classic notebooks' [DWH] settings
 * describe the cluster to create (`sparkify cluster create`), not the one to use. */
struct known_key {
    const char *section;
    const char *name;
    size_t offset;
};

#define KEY(section, name, field)                                                                  \
    {                                                                                              \
        section, name, offsetof(struct config_file, field)                                         \
    }

static const struct known_key known_keys[] = {
    KEY("CLUSTER", "HOST", cluster_host),
    KEY("CLUSTER", "DB_NAME", cluster_db_name),
    KEY("CLUSTER", "DB_USER", cluster_db_user),
    KEY("CLUSTER", "DB_PASSWORD", cluster_db_password),
    KEY("CLUSTER", "DB_PORT", cluster_db_port),
    KEY("IAM_ROLE", "ARN", iam_role_arn),
    KEY("S3", "LOG_DATA", s3_log_data),
    KEY("S3", "LOG_JSONPATH", s3_log_jsonpath),
    KEY("S3", "SONG_DATA", s3_song_data),
    KEY("S3", "STAGING", s3_staging),
    KEY("AWS", "KEY", aws_key),
    KEY("AWS", "SECRET", aws_secret),
    KEY("CLUSTER", "IDENTIFIER", cluster_identifier),
    KEY("CLUSTER", "NODE_TYPE", cluster_node_type),
    KEY("CLUSTER", "NUM_NODES", cluster_num_nodes),
    KEY("CLUSTER", "CLUSTER_TYPE", cluster_type),
    KEY("DWH", "DWH_CLUSTER_TYPE", dwh_cluster_type),
    KEY("DWH", "DWH_NUM_NODES", dwh_num_nodes),
    KEY("DWH", "DWH_NODE_TYPE", dwh_node_type),
    KEY("DWH", "DWH_IAM_ROLE_NAME", dwh_iam_role_name),
    KEY("DWH", "DWH_CLUSTER_IDENTIFIER", dwh_cluster_identifier),
    KEY("DWH", "DWH_DB", dwh_db),
    KEY("DWH", "DWH_DB_USER", dwh_db_user),
    KEY("DWH", "DWH_DB_PASSWORD", dwh_db_password),
    KEY("DWH", "DWH_PORT", dwh_port),
};

#define KNOWN_KEYS (sizeof known_keys / sizeof known_keys[0])

/* The file being read and the settings it fills. */
struct config_reader {
    struct text_file text;
    struct config_file *c;
};

#define reader_error(r, ...) text_file_error(&(r)->text, (r)->text.line, __VA_ARGS__)

/* Levenshtein distance, ASCII letters compared without case (key names are short). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t lb = strlen(b), row[64];
    if (lb >= sizeof row / sizeof row[0] || strlen(a) >= 64)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; a[i - 1]; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t cost = toupper((unsigned char)a[i - 1]) != toupper((unsigned char)b[j - 1]);
            size_t best = diagonal + cost;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (above + 1 < best)
                best = above + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

/* "; did you mean LOG_DATA?" for a near miss, else the keys the section takes. */
static int unknown_key(struct config_reader *r, const char *section, const char *name)
{
    const char *nearest = NULL;
    size_t best = SIZE_MAX;
    struct buffer keys;
    buffer_init(&keys);
    for (size_t i = 0; i < KNOWN_KEYS; i++) {
        if (strcasecmp(section, known_keys[i].section) != 0)
            continue;
        buffer_printf(&keys, "%s%s", keys.len ? ", " : "", known_keys[i].name);
        size_t d = edit_distance(name, known_keys[i].name);
        if (d < best) {
            best = d;
            nearest = known_keys[i].name;
        }
    }
    size_t close_enough = strlen(name) / 3 > 2 ? strlen(name) / 3 : 2;
    if (nearest && best <= close_enough)
        reader_error(r, "unknown key %s in [%s]; did you mean %s?", name, section, nearest);
    else
        reader_error(r, "unknown key %s in [%s] (it takes %s)", name, section, keys.data);
    buffer_release(&keys);
    return 0;
}

static bool valid_port(const char *text)
{
    char *end;
    errno = 0;
    long port = strtol(text, &end, 10);
    return text[0] >= '0' && text[0] <= '9' && !*end && !errno && port >= 1 && port <= 65535;
}

/* A cluster has 1 to 128 nodes (ra3.16xlarge's maximum). An empty value leaves the default. */
static bool valid_node_count(const char *text)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    return !*text || (text[0] >= '0' && text[0] <= '9' && !*end && !errno && n >= 1 && n <= 128);
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
    struct config_reader *r = user;
    if (r->text.status != SP_OK)
        return 0;
    if (!*section)
        return reader_error(r, "%s is outside any [SECTION]", name);
    const struct known_key *key = NULL;
    bool section_known = false;
    for (size_t i = 0; i < KNOWN_KEYS && !key; i++) {
        if (strcasecmp(section, known_keys[i].section) != 0)
            continue;
        section_known = true;
        if (strcasecmp(name, known_keys[i].name) == 0)
            key = &known_keys[i];
    }
    if (!section_known) /* a section of another tool that shares the file */
        return 1;
    if (!key)
        return unknown_key(r, section, name);
    char *text = unquote(value);
    bool port = key->offset == offsetof(struct config_file, cluster_db_port) ||
                key->offset == offsetof(struct config_file, dwh_port);
    bool nodes = key->offset == offsetof(struct config_file, cluster_num_nodes) ||
                 key->offset == offsetof(struct config_file, dwh_num_nodes);
    if ((port && !valid_port(text)) || (nodes && !valid_node_count(text))) {
        reader_error(r, "%s takes %s, not '%s'", key->name,
                     port ? "a port number from 1 to 65535" : "a number of nodes from 1 to 128",
                     text);
        free(text);
        return 0;
    }
    char **field = (char **)((char *)r->c + key->offset);
    free(*field);
    *field = text;
    return 1;
}

/* A relative source path in the file means relative to the file, wherever sparkify runs from.
 * The directory's own glob characters are escaped in sources, which may be globs. */
static void resolve_relative(char **value, const char *dir, bool glob)
{
    if (!*value || !**value || **value == '/' || strstr(*value, "://"))
        return;
    struct buffer path;
    buffer_init(&path);
    for (const char *p = dir; *p; p++) {
        if (glob && strchr("*?[\\", *p))
            buffer_append_char(&path, '\\');
        buffer_append_char(&path, *p);
    }
    buffer_printf(&path, "/%s", *value);
    free(*value);
    *value = path.data;
}

static void resolve_paths(struct config_file *c, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return; /* in the working directory already */
    char *dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
    if (strcmp(dir, "/") == 0)
        dir[0] = '\0'; /* "/" + "/logs" would read "//logs" */
    resolve_relative(&c->s3_log_data, dir, true);
    resolve_relative(&c->s3_song_data, dir, true);
    resolve_relative(&c->s3_log_jsonpath, dir, false);
    resolve_relative(&c->s3_staging, dir, false);
    free(dir);
}

int config_file_load(struct config_file *c, const char *path, bool required, struct sp_error *err)
{
    struct config_reader r = {.c = c};
    if (text_file_open(&r.text, path, "config", err) != SP_OK)
        return !required && errno == ENOENT ? SP_OK : SP_USAGE;
    int rc = ini_parse_stream(text_file_line, &r.text, on_value, &r);
    int status = text_file_finish(&r.text, rc, "[SECTION] or KEY = VALUE");
    bool regular = r.text.regular;
    text_file_close(&r.text);
    if (status != SP_OK)
        return status;
    if (regular)
        resolve_paths(c, path);
    free(c->path);
    c->path = xstrdup(path);
    return SP_OK;
}

const char *config_pick(const char *flag, const char *env_name, const char *file_value,
                        const char *fallback)
{
    if (flag)
        return flag;
    const char *env = env_name ? getenv(env_name) : NULL;
    if (env && *env)
        return env;
    if (file_value && *file_value)
        return file_value;
    return fallback;
}

bool config_cluster_keywords(const struct config_file *c, const char *keys[CONFIG_CLUSTER_KEYWORDS],
                             const char *values[CONFIG_CLUSTER_KEYWORDS])
{
    if (!c->cluster_host || !*c->cluster_host)
        return false;
    const char *settings[][2] = {
        {"host", c->cluster_host},
        {"port", c->cluster_db_port && *c->cluster_db_port ? c->cluster_db_port : "5439"},
        {"dbname", c->cluster_db_name},
        {"user", c->cluster_db_user},
        {"password", c->cluster_db_password},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (settings[i][1] && *settings[i][1]) {
            keys[n] = settings[i][0];
            values[n++] = settings[i][1];
        }
    }
    keys[n] = values[n] = NULL;
    return true;
}

struct profile_lookup {
    const char *profile;
    char *key, *secret, *token;
};

static int on_credentials(void *user, const char *section, const char *name, const char *value)
{
    struct profile_lookup *p = user;
    if (strcmp(section, p->profile) != 0)
        return 1;
    char **field = strcasecmp(name, "aws_access_key_id") == 0       ? &p->key
                   : strcasecmp(name, "aws_secret_access_key") == 0 ? &p->secret
                   : strcasecmp(name, "aws_session_token") == 0     ? &p->token
                                                                    : NULL;
    if (field) {
        free(*field);
        *field = unquote(value);
    }
    return 1;
}

int config_aws_credentials(const struct config_file *c, char **key, char **secret, char **token,
                           const char **source, struct sp_error *err)
{
    *key = *secret = *token = NULL;
    const char *env_key = getenv("AWS_ACCESS_KEY_ID"),
               *env_secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (env_key && *env_key && env_secret && *env_secret) {
        *key = xstrdup(env_key);
        *secret = xstrdup(env_secret);
        const char *env_token = getenv("AWS_SESSION_TOKEN");
        if (env_token && *env_token)
            *token = xstrdup(env_token);
        *source = "the environment";
        return SP_OK;
    }
    struct buffer path;
    buffer_init(&path);
    const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
    if (file && *file)
        buffer_append_str(&path, file);
    else if (getenv("HOME"))
        buffer_printf(&path, "%s/.aws/credentials", getenv("HOME"));
    const char *profile = getenv("AWS_PROFILE");
    struct profile_lookup lookup = {profile && *profile ? profile : "default", NULL, NULL, NULL};
    struct text_file text;
    int opened = path.len ? text_file_open(&text, path.data, "AWS credentials file", err) : SP_FAIL;
    if (path.len && opened != SP_OK && errno != ENOENT) {
        buffer_release(&path);
        return opened; /* there, but not a file of credentials sparkify can read */
    }
    if (opened == SP_OK) {
        int rc = ini_parse_stream(text_file_line, &text, on_credentials, &lookup);
        int status = text_file_finish(&text, rc, "[profile] or key = value");
        text_file_close(&text);
        if (status != SP_OK) {
            free(lookup.key);
            free(lookup.secret);
            free(lookup.token);
            buffer_release(&path);
            return status;
        }
    }
    buffer_release(&path);
    if (lookup.key && lookup.secret) {
        *key = lookup.key;
        *secret = lookup.secret;
        *token = lookup.token;
        *source = "the shared credentials file";
        return SP_OK;
    }
    free(lookup.key);
    free(lookup.secret);
    free(lookup.token);
    if (c->aws_key && *c->aws_key && c->aws_secret && *c->aws_secret) {
        *key = xstrdup(c->aws_key);
        *secret = xstrdup(c->aws_secret);
        *source = "dwh.cfg [AWS]";
        return SP_OK;
    }
    return sp_usage(err, "no AWS credentials for the S3 sources: set AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY, use ~/.aws/credentials (AWS_PROFILE), or [AWS] "
                         "KEY and SECRET in dwh.cfg; --no-sign-request reads public buckets");
}
