/* Unit tests of configuration: the classic dwh.cfg, quotes, errors with line numbers, the
 * precedence rule and password masking. */
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
