/* config.c - dwh.cfg with inih, and the flag > environment > file > default rule. */
#include "config.h"

#include "buffer.h"

#include <errno.h>
#include <stddef.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
                       &c->aws_secret};
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
};

static int on_value(void *user, const char *section, const char *name, const char *value)
{
    struct config_file *c = user;
    for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++) {
        const struct known_key *k = &known_keys[i];
        if (strcasecmp(section, k->section) == 0 && strcasecmp(name, k->name) == 0) {
            char **field = (char **)((char *)c + k->offset);
            free(*field);
            *field = unquote(value);
        }
    }
    return 1;
}

int config_file_load(struct config_file *c, const char *path, bool required, struct sp_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!required && errno == ENOENT)
            return SP_OK;
        return sp_usage(err, "config %s: cannot open: %s", path, strerror(errno));
    }
    int rc = ini_parse_file(f, on_value, c);
    fclose(f);
    if (rc > 0)
        return sp_usage(err, "config %s:%d: syntax error (expected [SECTION] or KEY = VALUE)", path,
                        rc);
    if (rc < 0)
        return sp_usage(err, "config %s: cannot be read", path);
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
    FILE *f = path.len ? fopen(path.data, "r") : NULL;
    if (f) {
        int rc = ini_parse_file(f, on_credentials, &lookup);
        fclose(f);
        if (rc > 0) {
            int status = sp_usage(err, "AWS credentials file %s:%d: syntax error", path.data, rc);
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
