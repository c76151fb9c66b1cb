/* Unit tests of configuration: the classic dwh.cfg, quotes, errors with line numbers (unknown
 * keys, bad ports, overlong lines), relative paths, bounded reads, the precedence rule and
 * password masking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "warehouse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/sparkify-test-config-XXXXXX";

static void write_config(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void the_classic_file_loads_with_quotes_removed(void **state)
{
    (void)state;
    write_config("[CLUSTER]\nHOST='dwh.example.com'\nDB_NAME='dwh'\nDB_USER='awsuser'\n"
                 "DB_PASSWORD='Passw0rd'\nDB_PORT='5439'\n\n[IAM_ROLE]\n"
                 "ARN='arn:aws:iam::123:role/dwhRole'\n\n[S3]\n"
                 "LOG_DATA='s3://udacity-dend/log_data'\n"
                 "LOG_JSONPATH='s3://udacity-dend/log_json_path.json'\n"
                 "SONG_DATA='s3://udacity-dend/song_data'\n[aws]\nkey = \"AKIA\"\nSECRET=s\n"
                 "[OTHER]\nIGNORED=1\n");
    struct config_file c;
    config_file_init(&c);
    struct sp_error err;
    assert_int_equal(config_file_load(&c, path, true, &err), 0);
    assert_string_equal(c.cluster_host, "dwh.example.com");
    assert_string_equal(c.cluster_db_port, "5439");
    assert_string_equal(c.iam_role_arn, "arn:aws:iam::123:role/dwhRole");
    assert_string_equal(c.s3_log_data, "s3://udacity-dend/log_data");
    assert_string_equal(c.s3_song_data, "s3://udacity-dend/song_data");
    assert_string_equal(c.aws_key, "AKIA");
    assert_string_equal(c.aws_secret, "s");
    const char *keys[CONFIG_CLUSTER_KEYWORDS], *values[CONFIG_CLUSTER_KEYWORDS];
    assert_true(config_cluster_keywords(&c, keys, values));
    const char *expected[][2] = {{"host", "dwh.example.com"}, {"port", "5439"},
                                 {"dbname", "dwh"},           {"user", "awsuser"},
                                 {"password", "Passw0rd"},    {NULL, NULL}};
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(keys[i] ? keys[i] : "(end)", expected[i][0] ? expected[i][0] : "(end)");
        assert_string_equal(values[i] ? values[i] : "(end)",
                            expected[i][1] ? expected[i][1] : "(end)");
    }
    struct warehouse_target target = {NULL, keys, values};
    char *shown = NULL;
    assert_int_equal(warehouse_target_display(&target, &shown, &err), SP_OK);
    assert_string_equal(shown, "redshift://awsuser:***@dwh.example.com:5439/dwh");
    free(shown);
    config_file_release(&c);
}

static void syntax_errors_name_the_line_and_missing_files_depend_on_required(void **state)
{
    (void)state;
    write_config("[S3]\nLOG_DATA=x\n[broken\n");
    struct config_file c;
    config_file_init(&c);
    struct sp_error err;
    assert_int_equal(config_file_load(&c, path, true, &err), SP_USAGE);
    char expected[256];
    snprintf(expected, sizeof expected,
             "config %s:3: syntax error (expected [SECTION] or KEY = VALUE)", path);
    assert_string_equal(err.message, expected);
    assert_int_equal(config_file_load(&c, "/nonexistent/dwh.cfg", false, &err), SP_OK);
    assert_null(c.path);
    assert_int_equal(config_file_load(&c, "/nonexistent/dwh.cfg", true, &err), SP_USAGE);
    config_file_release(&c);
}

/* Loads `text` as a config file; returns the status, the message in `err`. */
static int load(struct config_file *c, const char *text, struct sp_error *err)
{
    write_config(text);
    config_file_init(c);
    sp_error_clear(err);
    return config_file_load(c, path, true, err);
}

static void assert_message(const struct sp_error *err, const char *after_path)
{
    char expected[512];
    snprintf(expected, sizeof expected, "config %s%s", path, after_path);
    assert_string_equal(err->message, expected);
}

static void unknown_keys_of_known_sections_name_their_line_and_the_nearest_key(void **state)
{
    (void)state;
    struct config_file c;
    struct sp_error err;
    assert_int_equal(load(&c, "# comment\n[S3]\n\n  ; another\nLOG_DATA=a\nLOGDATA=b\n", &err),
                     SP_USAGE);
    assert_message(&err, ":6: unknown key LOGDATA in [S3]; did you mean LOG_DATA?");
    config_file_release(&c);
    assert_int_equal(load(&c, "[aws]\nsecret_key=x\n", &err), SP_USAGE);
    assert_message(&err, ":2: unknown key secret_key in [aws] (it takes KEY, SECRET)");
    config_file_release(&c);
    assert_int_equal(load(&c, "DB_NAME=x\n[CLUSTER]\n", &err), SP_USAGE);
    assert_message(&err, ":1: DB_NAME is outside any [SECTION]");
    config_file_release(&c);
    /* The classic notebooks' [DWH] keys are read (they describe the cluster `sparkify cluster
     * create` makes, not the one to use); other sections are allowed. */
    assert_int_equal(load(&c,
                          "[DWH]\nDWH_CLUSTER_TYPE=multi-node\nDWH_NUM_NODES=4\n"
                          "DWH_NODE_TYPE=dc2.large\nDWH_IAM_ROLE_NAME=r\nDWH_CLUSTER_IDENTIFIER=c\n"
                          "DWH_DB=d\nDWH_DB_USER=u\nDWH_DB_PASSWORD=p\nDWH_PORT=5439\n"
                          "[Another Tool]\nanything=1\n",
                          &err),
                     SP_OK);
    assert_null(c.cluster_db_password);
    assert_string_equal(c.dwh_db_password, "p");
    assert_string_equal(c.dwh_num_nodes, "4");
    config_file_release(&c);
    assert_int_equal(load(&c, "[DWH]\nDWH_NUM_NODES=many\n", &err), SP_USAGE);
    assert_message(&err, ":2: DWH_NUM_NODES takes a number of nodes from 1 to 128, not 'many'");
    config_file_release(&c);
}

static void a_db_port_must_be_a_port_number(void **state)
{
    (void)state;
    struct config_file c;
    struct sp_error err;
    const char *bad[] = {"abc", "0", "65536", "-1", "+80", " 80", "80x", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128], expected[128];
        snprintf(text, sizeof text, "[CLUSTER]\nHOST=h\nDB_PORT='%s'\n", bad[i]);
        assert_int_equal(load(&c, text, &err), SP_USAGE);
        snprintf(expected, sizeof expected,
                 ":3: DB_PORT takes a port number from 1 to 65535, not '%s'", bad[i]);
        assert_message(&err, expected);
        config_file_release(&c);
    }
    assert_int_equal(load(&c, "[CLUSTER]\nDB_PORT=65535\n", &err), SP_OK);
    assert_string_equal(c.cluster_db_port, "65535");
    config_file_release(&c);
}

static void relative_source_paths_resolve_against_the_directory_of_the_file(void **state)
{
    (void)state;
    struct config_file c;
    struct sp_error err;
    assert_int_equal(load(&c,
                          "[S3]\nLOG_DATA=logs/*.json\nSONG_DATA='./songs'\n"
                          "LOG_JSONPATH=s3://b/paths.json\nSTAGING=/abs/staging\n",
                          &err),
                     SP_OK);
    assert_string_equal(c.s3_log_data, "/tmp/logs/*.json");
    assert_string_equal(c.s3_song_data, "/tmp/./songs");
    assert_string_equal(c.s3_log_jsonpath, "s3://b/paths.json");
    assert_string_equal(c.s3_staging, "/abs/staging");
    config_file_release(&c);
}

static void what_is_read_is_bounded_and_a_directory_is_refused(void **state)
{
    (void)state;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 110000; i++)
        fputs("# padding\n", f);
    fclose(f);
    struct config_file c;
    config_file_init(&c);
    struct sp_error err;
    assert_int_equal(config_file_load(&c, path, true, &err), SP_USAGE);
    assert_message(&err, ": larger than 1 MiB; not a configuration file");
    assert_int_equal(config_file_load(&c, "/tmp", true, &err), SP_USAGE);
    assert_string_equal(err.message, "config /tmp: a directory, not a configuration file");
    assert_int_equal(config_file_load(&c, "/dev/null", true, &err), SP_USAGE);
    assert_string_equal(err.message, "config /dev/null: a device, not a configuration file");
    char line[300];
    memset(line, 'x', sizeof line);
    snprintf(line, sizeof line, "[S3]\nLOG_DATA=%0250d\n", 1);
    assert_int_equal(load(&c, line, &err), SP_USAGE);
    assert_message(&err, ":2: line longer than 198 characters");
    config_file_release(&c);
}

/* warehouse_target_display(url): its status and what it shows (or the error). */
static void assert_display(const char *url, int status, const char *expected)
{
    struct warehouse_target target = {url, NULL, NULL};
    char *shown = NULL;
    struct sp_error err;
    sp_error_clear(&err);
    assert_int_equal(warehouse_target_display(&target, &shown, &err), status);
    assert_string_equal(status == SP_OK ? shown : err.message, expected);
    free(shown);
}

static void targets_are_shown_without_any_form_of_password(void **state)
{
    (void)state;
    assert_display("postgresql://etl:S3cret@db:5432/x", SP_OK, "postgresql://etl:***@db:5432/x");
    assert_display("postgres://etl@db/x?password=S3cret&sslmode=require", SP_OK,
                   "postgres://etl:***@db/x?sslmode=require");
    assert_display("postgresql://etl:%40S3%2Fcret@db/x?sslpassword=K3y", SP_OK,
                   "postgresql://etl:***@db/x?sslpassword=***");
    assert_display("host=db port=5433 user=etl password='S3 cret' dbname=x", SP_OK,
                   "postgresql://etl:***@db:5433/x");
    assert_display("redshift://etl:S3cret@c.example.com:5439/dev", SP_OK,
                   "redshift://etl:***@c.example.com:5439/dev");
    assert_display("sqlite:w.db", SP_OK, "sqlite:w.db");
    assert_display("postgresql://etl:S3@cret@db/x", SP_USAGE,
                   "target postgresql://…: an '@', '/' or '?' in a user name or password must be "
                   "percent-encoded (%40, %2F, %3F)");
    assert_display("postgresql://etl:S3/cret@db/x", SP_USAGE,
                   "target postgresql://…: an '@', '/' or '?' in a user name or password must be "
                   "percent-encoded (%40, %2F, %3F)");
    assert_display("postgresql://etl:S3%zzcret@db/x", SP_USAGE,
                   "target postgresql://…: not a valid connection URL: invalid percent-encoded "
                   "token: \"…\"");
    assert_display("host=db password=S3 cret", SP_USAGE,
                   "target (a libpq keyword string): not a valid connection string: missing \"=\" "
                   "after \"…\" in connection info string");
    assert_display("postgresql://etl:S3cret@db:99999/x", SP_USAGE,
                   "target postgresql://…: the port is not a number from 1 to 65535");
    assert_display("mysql://admin:S3cret@db:3306/x", SP_USAGE,
                   "target 'mysql://admin:***@db:3306/x' is not understood: use sqlite:PATH, "
                   "postgresql://user@host:port/db (or a libpq keyword string) or "
                   "redshift://user@host:5439/db");
    assert_display("admin:S3cret@db", SP_USAGE,
                   "target 'admin…' is not understood: use sqlite:PATH, "
                   "postgresql://user@host:port/db (or a libpq keyword string) or "
                   "redshift://user@host:5439/db");
}

static void precedence_is_flag_then_environment_then_file_then_default(void **state)
{
    (void)state;
    unsetenv("SPARKIFY_TEST_VALUE");
    assert_string_equal(config_pick(NULL, "SPARKIFY_TEST_VALUE", NULL, "default"), "default");
    assert_string_equal(config_pick(NULL, "SPARKIFY_TEST_VALUE", "file", "default"), "file");
    setenv("SPARKIFY_TEST_VALUE", "", 1);
    assert_string_equal(config_pick(NULL, "SPARKIFY_TEST_VALUE", "file", "default"), "file");
    setenv("SPARKIFY_TEST_VALUE", "env", 1);
    assert_string_equal(config_pick(NULL, "SPARKIFY_TEST_VALUE", "file", "default"), "env");
    assert_string_equal(config_pick("flag", "SPARKIFY_TEST_VALUE", "file", "default"), "flag");
    unsetenv("SPARKIFY_TEST_VALUE");
}

static int setup(void **state)
{
    (void)state;
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_classic_file_loads_with_quotes_removed),
        cmocka_unit_test(syntax_errors_name_the_line_and_missing_files_depend_on_required),
        cmocka_unit_test(precedence_is_flag_then_environment_then_file_then_default),
        cmocka_unit_test(unknown_keys_of_known_sections_name_their_line_and_the_nearest_key),
        cmocka_unit_test(a_db_port_must_be_a_port_number),
        cmocka_unit_test(relative_source_paths_resolve_against_the_directory_of_the_file),
        cmocka_unit_test(what_is_read_is_bounded_and_a_directory_is_refused),
        cmocka_unit_test(targets_are_shown_without_any_form_of_password),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
