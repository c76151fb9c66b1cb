/* Unit tests of what `sparkify cluster` decides before it sends anything: dwh.cfg updated in
 * place (comments, quotes, continuations, line ends, missing sections), the settings' precedence
 * and Redshift's rules, the generated password, CIDRs, the role's policy documents, and the
 * Query client's endpoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aws_query.h"
#include "cluster.h"
#include "config.h"
#include "config_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void expect_update(const char *before, const struct config_update *updates, size_t count,
                          const char *after)
{
    char *text = config_text_update(before, updates, count);
    assert_string_equal(text, after);
    free(text);
}

static void a_key_is_replaced_in_place_keeping_its_quotes_spacing_and_comment(void **state)
{
    (void)state;
    const struct config_update host = {"CLUSTER", "HOST", "new.example.com"};
    expect_update("# top\n[cluster]\nhost='old'   ; the endpoint\nDB_NAME=dev\n", &host, 1,
                  "# top\n[cluster]\nhost='new.example.com'   ; the endpoint\nDB_NAME=dev\n");
    expect_update("[CLUSTER]\nHOST: old\n", &host, 1, "[CLUSTER]\nHOST: new.example.com\n");
    expect_update("[CLUSTER]\nHOST =\n", &host, 1, "[CLUSTER]\nHOST = new.example.com\n");
    /* The last of two settings is the one inih keeps, so that one changes. */
    expect_update("[CLUSTER]\nHOST = a\n[S3]\nHOST = s3\n[CLUSTER]\nHOST = b\n", &host, 1,
                  "[CLUSTER]\nHOST = a\n[S3]\nHOST = s3\n[CLUSTER]\nHOST = new.example.com\n");
    const struct config_update clear = {"CLUSTER", "HOST", ""};
    expect_update("[CLUSTER]\nHOST = old\n", &clear, 1, "[CLUSTER]\nHOST =\n");
    expect_update("[CLUSTER]\nHOST = \"old\" ; c\n", &clear, 1, "[CLUSTER]\nHOST = \"\" ; c\n");
}

static void
a_missing_key_goes_after_the_sections_last_setting_and_a_missing_section_at_the_end(void **state)
{
    (void)state;
    const struct config_update updates[] = {{"CLUSTER", "DB_USER", "awsuser"},
                                            {"CLUSTER", "DB_PORT", "5439"},
                                            {"IAM_ROLE", "ARN", "arn:aws:iam::1:role/r"}};
    expect_update("[CLUSTER]\nHOST = h\n; a comment that stays below\n\n[S3]\nX = 1", updates, 3,
                  "[CLUSTER]\nHOST = h\nDB_USER = awsuser\nDB_PORT = 5439\n; a comment that stays "
                  "below\n\n[S3]\nX = 1\n\n[IAM_ROLE]\nARN = arn:aws:iam::1:role/r\n");
    expect_update("", updates, 3,
                  "[CLUSTER]\nDB_USER = awsuser\nDB_PORT = 5439\n\n[IAM_ROLE]\nARN = "
                  "arn:aws:iam::1:role/r\n");
    /* A header without settings, as the last line without a line end. */
    expect_update("[CLUSTER]", updates, 1, "[CLUSTER]\nDB_USER = awsuser\n");
}

static void the_lines_a_value_continues_onto_go_with_it_and_crlf_files_stay_crlf(void **state)
{
    (void)state;
    const struct config_update host = {"CLUSTER", "HOST", "h2"};
    expect_update("[CLUSTER]\nHOST = h1\n  continued\n# note\n  more\nDB_NAME = d\n", &host, 1,
                  "[CLUSTER]\nHOST = h2\n# note\nDB_NAME = d\n");
    /* An indented line after a setting continues it: it is not a setting of its own. */
    expect_update("[CLUSTER]\nDB_NAME = d\n  HOST = not a key\n", &host, 1,
                  "[CLUSTER]\nDB_NAME = d\n  HOST = not a key\nHOST = h2\n");
    expect_update("[CLUSTER]\r\nHOST = h1\r\n", &host, 1, "[CLUSTER]\r\nHOST = h2\r\n");
    const struct config_update arn = {"IAM_ROLE", "ARN", "a"};
    expect_update("[CLUSTER]\r\nHOST = h1\r\n", &arn, 1,
                  "[CLUSTER]\r\nHOST = h1\r\n\r\n[IAM_ROLE]\r\nARN = a\r\n");
}

static void the_file_is_replaced_with_mode_0600_and_left_alone_when_nothing_changes(void **state)
{
    (void)state;
    char dir[] = "/tmp/sparkify-test-cfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], link[256];
    snprintf(path, sizeof path, "%s/dwh.cfg", dir);
    snprintf(link, sizeof link, "%s/link.cfg", dir);
    FILE *f = fopen(path, "w");
    fputs("[CLUSTER]\nHOST = a\n", f);
    fclose(f);
    chmod(path, 0644);
    assert_int_equal(symlink("dwh.cfg", link), 0);
    const struct config_update host = {"CLUSTER", "HOST", "b"};
    bool changed = false;
    struct sp_error err;
    assert_int_equal(config_file_update(link, &host, 1, &changed, &err), SP_OK);
    assert_true(changed);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode)); /* the link stays a link */
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(config_file_update(path, &host, 1, &changed, &err), SP_OK);
    assert_false(changed);
    char text[64] = "";
    f = fopen(path, "r");
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_string_equal(text, "[CLUSTER]\nHOST = b\n");
    /* A new file. */
    char fresh[256];
    snprintf(fresh, sizeof fresh, "%s/new.cfg", dir);
    assert_int_equal(config_file_update(fresh, &host, 1, &changed, &err), SP_OK);
    assert_int_equal(stat(fresh, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    unlink(fresh);
    unlink(link);
    unlink(path);
    rmdir(dir);
}

static void passwords_follow_redshifts_rules_and_generated_ones_meet_them(void **state)
{
    (void)state;
    assert_null(cluster_password_problem("Passw0rd"));
    assert_string_equal(cluster_password_problem("Pass0"), "it must be 8 to 64 characters long");
    assert_string_equal(cluster_password_problem("passw0rdpassw0rd"),
                        "it needs an uppercase letter");
    assert_string_equal(cluster_password_problem("PASSW0RDPASS"), "it needs a lowercase letter");
    assert_string_equal(cluster_password_problem("Password"), "it needs a digit");
    assert_string_equal(cluster_password_problem("Pass w0rd"),
                        "it may hold only printable ASCII characters, without spaces");
    assert_string_equal(cluster_password_problem("Pass@w0rd"), "it may not hold ' \" \\ / or @");
    char seen[4][33];
    struct sp_error err;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(cluster_generate_password(seen[i], &err), SP_OK);
        assert_int_equal(strlen(seen[i]), 32);
        assert_null(cluster_password_problem(seen[i]));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
}

static void cidrs_are_ipv4_without_host_bits(void **state)
{
    (void)state;
    struct sp_error err;
    assert_int_equal(cluster_check_cidr("203.0.113.5/32", "--allow-cidr", &err), SP_OK);
    assert_int_equal(cluster_check_cidr("0.0.0.0/0", "--allow-cidr", &err), SP_OK);
    assert_int_equal(cluster_check_cidr("10.0.0.0/8", "--allow-cidr", &err), SP_OK);
    assert_int_equal(cluster_check_cidr("10.1.0.0/8", "--allow-cidr", &err), SP_USAGE);
    assert_string_equal(err.message, "--allow-cidr '10.1.0.0/8' has host bits set: did you mean "
                                     "10.0.0.0/8?");
    const char *bad[] = {"10.0.0.1", "10.0.0.0/33", "10.0.0.0/", "10.0.0/8",
                         "x/8",      "10.0.0.0/8x", "::/0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cluster_check_cidr(bad[i], "--allow-cidr", &err), SP_USAGE);
}

static void settings_take_cluster_keys_over_the_classic_dwh_ones_then_defaults(void **state)
{
    (void)state;
    struct config_file c;
    config_file_init(&c);
    c.dwh_cluster_identifier = strdup("dwhCluster");
    c.dwh_node_type = strdup("dc2.large");
    c.cluster_node_type = strdup("ra3.4xlarge");
    c.dwh_num_nodes = strdup("4");
    c.dwh_db = strdup("dwh");
    c.iam_role_arn = strdup("arn:aws:iam::123456789012:role/path/theRole");
    c.s3_staging = strdup("s3://bucket/staging");
    c.s3_log_data = strdup("/local/logs");
    struct cluster_settings s;
    struct sp_error err;
    assert_int_equal(cluster_settings_load(&s, &c, &err), SP_OK);
    assert_string_equal(s.identifier, "dwhcluster");
    assert_string_equal(s.node_type, "ra3.4xlarge");
    assert_int_equal(s.nodes, 4);
    assert_string_equal(s.cluster_type, "multi-node");
    assert_string_equal(s.db_name, "dwh");
    assert_string_equal(s.db_user, "awsuser");
    assert_null(s.db_password);
    assert_int_equal(s.port, 5439);
    assert_string_equal(s.role_name, "theRole");
    assert_null(s.log_data); /* local: the role needs nothing for it */
    assert_string_equal(s.staging, "s3://bucket/staging");
    cluster_settings_release(&s);
    config_file_release(&c);

    config_file_init(&c);
    assert_int_equal(cluster_settings_load(&s, &c, &err), SP_OK);
    assert_string_equal(s.identifier, "sparkify");
    assert_string_equal(s.node_type, "ra3.xlplus");
    assert_int_equal(s.nodes, 1);
    assert_string_equal(s.cluster_type, "single-node");
    assert_string_equal(s.db_name, "dev");
    assert_string_equal(s.role_name, "sparkify-s3-read");
    cluster_settings_release(&s);
    config_file_release(&c);
}

static void the_role_policy_names_exactly_the_prefixes(void **state)
{
    (void)state;
    struct cluster_settings s;
    memset(&s, 0, sizeof s);
    s.log_data = strdup("s3://logs/2018/");
    s.song_data = strdup("s3://songs");
    s.log_jsonpath = strdup("s3://logs/paths.json");
    s.staging = strdup("s3://logs/stage//");
    char *doc = NULL;
    struct sp_error err;
    assert_int_equal(cluster_role_policy(&s, "aws-cn", &doc, &err), SP_OK);
    assert_string_equal(
        doc, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ReadObjects\",\"Effect\":"
             "\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":[\"arn:aws-cn:s3:::logs/2018/*\","
             "\"arn:aws-cn:s3:::songs/*\",\"arn:aws-cn:s3:::logs/paths.json\",\"arn:aws-cn:s3:::"
             "logs/stage/*\"]},{\"Sid\":\"ListPrefixes1\",\"Effect\":\"Allow\",\"Action\":\"s3:"
             "ListBucket\",\"Resource\":\"arn:aws-cn:s3:::logs\",\"Condition\":{\"StringLike\":{"
             "\"s3:prefix\":[\"2018/*\",\"stage/*\"]}}},{\"Sid\":\"ListPrefixes2\",\"Effect\":"
             "\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws-cn:s3:::songs\"}]}");
    free(doc);
    cluster_settings_release(&s);
    memset(&s, 0, sizeof s);
    assert_int_equal(cluster_role_policy(&s, "aws", &doc, &err), SP_USAGE);
    char *trust = cluster_trust_policy();
    assert_string_equal(trust, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                               "\"Principal\":{\"Service\":\"redshift.amazonaws.com\"},"
                               "\"Action\":\"sts:AssumeRole\"}]}");
    free(trust);
}

static void endpoints_follow_the_sdks_variables_and_iam_is_global(void **state)
{
    (void)state;
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_IAM");
    unsetenv("AWS_ENDPOINT_URL_REDSHIFT");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    struct aws_config config = {"eu-west-1", "AKID", "secret", NULL, 0};
    struct aws_client *c;
    struct sp_error err;
    assert_int_equal(aws_client_new(&config, &c, &err), SP_OK);
    assert_string_equal(aws_client_endpoint(c, AWS_IAM), "https://iam.amazonaws.com/");
    assert_string_equal(aws_client_endpoint(c, AWS_REDSHIFT),
                        "https://redshift.eu-west-1.amazonaws.com/");
    aws_client_free(c);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000", 1);
    setenv("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:6000/iam", 1);
    assert_int_equal(aws_client_new(&config, &c, &err), SP_OK);
    assert_string_equal(aws_client_endpoint(c, AWS_IAM), "http://127.0.0.1:6000/iam");
    assert_string_equal(aws_client_endpoint(c, AWS_EC2), "http://127.0.0.1:5000/");
    aws_client_free(c);
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    assert_int_equal(aws_client_new(&config, &c, &err), SP_OK);
    assert_string_equal(aws_client_endpoint(c, AWS_STS), "https://sts.eu-west-1.amazonaws.com/");
    aws_client_free(c);
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    setenv("AWS_ENDPOINT_URL_IAM", "iam.local", 1);
    assert_int_equal(aws_client_new(&config, &c, &err), SP_USAGE);
    assert_string_equal(err.message,
                        "AWS_ENDPOINT_URL_IAM 'iam.local' is not a URL like https://host[:port]");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_IAM");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_key_is_replaced_in_place_keeping_its_quotes_spacing_and_comment),
        cmocka_unit_test(
            a_missing_key_goes_after_the_sections_last_setting_and_a_missing_section_at_the_end),
        cmocka_unit_test(the_lines_a_value_continues_onto_go_with_it_and_crlf_files_stay_crlf),
        cmocka_unit_test(the_file_is_replaced_with_mode_0600_and_left_alone_when_nothing_changes),
        cmocka_unit_test(passwords_follow_redshifts_rules_and_generated_ones_meet_them),
        cmocka_unit_test(cidrs_are_ipv4_without_host_bits),
        cmocka_unit_test(settings_take_cluster_keys_over_the_classic_dwh_ones_then_defaults),
        cmocka_unit_test(the_role_policy_names_exactly_the_prefixes),
        cmocka_unit_test(endpoints_follow_the_sdks_variables_and_iam_is_global),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
