/* Unit tests of the data-quality checks and the report's period, through the library: checks
 * files as parsed, checks run on a real SQLite warehouse with rows written through its ops,
 * and the dates that become SQL literals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include "report.h"
#include "warehouse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/sparkify-test-check-XXXXXX";
static char path[256];

static int make_dir(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/checks.ini", dir);
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    char db[300];
    snprintf(db, sizeof db, "%s/w.db", dir);
    unlink(path);
    unlink(db);
    return rmdir(dir);
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void a_checks_file_gives_one_check_per_section(void **state)
{
    (void)state;
    write_file(
        "; comment\n[plays]\nsql = SELECT COUNT(*)\n  FROM songplays\nmin = 1\nmax = 2.5e3\n\n"
        "[level]\nsql = SELECT MIN(level) FROM users\nexpect = free\n");
    struct check_list list;
    check_list_init(&list);
    struct sp_error err;
    assert_int_equal(check_list_load(&list, path, &err), SP_OK);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].name, "plays");
    assert_string_equal(list.items[0].sql, "SELECT COUNT(*)\nFROM songplays");
    assert_int_equal(list.items[0].line, 2);
    assert_true(list.items[0].has_min && list.items[0].has_max);
    assert_true(list.items[0].min == 1 && list.items[0].max == 2500);
    assert_null(list.items[0].expect);
    assert_string_equal(list.items[1].expect, "free");
    assert_int_equal(list.items[1].line, 8);
    check_list_release(&list);
}

static void a_bad_checks_file_names_its_line(void **state)
{
    (void)state;
    write_file("[a]\nsql = SELECT 1\nexpect = 1\n[b]\nsql = SELECT 2\nmax = lots\n");
    struct check_list list;
    check_list_init(&list);
    struct sp_error err;
    sp_error_clear(&err);
    assert_int_equal(check_list_load(&list, path, &err), SP_USAGE);
    char expected[512];
    snprintf(expected, sizeof expected, "checks file %s:6: max takes a number, not 'lots'", path);
    assert_string_equal(err.message, expected);
    check_list_release(&list);
}

/* A warehouse with two users, three plays (one by a user not in users, one at level
 * 'premium'), the time rows of two of them, and an etl_runs record of three songplays. */
static struct warehouse *small_warehouse(void)
{
    char file[300], target[310];
    snprintf(file, sizeof file, "%s/w.db", dir);
    unlink(file);
    snprintf(target, sizeof target, "sqlite:%s", file);
    struct warehouse *wh;
    struct sp_error err;
    assert_int_equal(warehouse_open(target, WAREHOUSE_WRITE, &wh, &err), SP_OK);
    assert_int_equal(wh->ops->create_tables(wh, true, &err), SP_OK);
    assert_int_equal(wh->ops->query(wh,
                                    "INSERT INTO users VALUES ('1', 'A', 'B', 'F', 'free'), "
                                    "('2', 'C', 'D', 'M', 'paid');"
                                    "INSERT INTO songplays (start_time, user_id, level) VALUES "
                                    "('2018-11-01 00:00:00.000', '1', 'free'), "
                                    "('2018-11-01 00:00:01.000', '7', 'paid'), "
                                    "('2018-11-02 00:00:00.000', '2', 'premium');"
                                    "INSERT INTO time VALUES ('2018-11-01 00:00:00.000', 0, 1, 44, "
                                    "11, 2018, 4), ('2018-11-01 00:00:01.000', 0, 1, 44, 11, 2018, "
                                    "4);"
                                    "INSERT INTO songs VALUES ('S', 't', 'A', 2000, 1.5);"
                                    "INSERT INTO artists VALUES ('A', 'n', NULL, NULL, NULL);"
                                    "INSERT INTO user_latest VALUES "
                                    "('1', '2018-11-01 00:00:00.000', 'free'), "
                                    "('7', '2018-11-01 00:00:01.000', 'paid'), "
                                    "('2', '2018-11-02 00:00:00.000', 'premium');"
                                    "INSERT INTO etl_runs VALUES ('now', 1, 1, 3, 3, 0)",
                                    NULL, NULL, &err),
                     SP_OK);
    return wh;
}

static const struct check_result *result_named(const struct check_result *results, size_t n,
                                               const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(results[i].check->name, name) == 0)
            return &results[i];
    fail_msg("no check named %s", name);
    return NULL;
}

static void built_in_checks_count_offending_rows_and_name_a_sample(void **state)
{
    (void)state;
    struct warehouse *wh = small_warehouse();
    struct check_list list;
    check_list_init(&list);
    check_list_add_builtin(&list);
    struct check_result *results = calloc(list.count, sizeof *results);
    size_t failed;
    struct sp_error err;
    assert_int_equal(check_run(wh, &list, results, &failed, &err), SP_OK);
    const struct check_result *r = result_named(results, list.count, "songplays.user_id in users");
    assert_false(r->passed);
    assert_string_equal(r->detail, "1 row (sample: user_id=7)");
    r = result_named(results, list.count, "songplays.start_time in time");
    assert_string_equal(r->detail, "1 row (sample: start_time=2018-11-02 00:00:00.000)");
    r = result_named(results, list.count, "songplays.level in (free, paid)");
    assert_string_equal(r->detail, "1 row (sample: songplay_id=3)");
    r = result_named(results, list.count, "songplays count = NextSong events loaded, each once");
    assert_true(r->passed);
    assert_string_equal(r->detail, "distinct_plays 3, loaded_by_etl_runs 3");
    r = result_named(results, list.count, "user_latest = each user's latest play");
    assert_true(r->passed);
    assert_string_equal(r->detail, "0 rows");
    r = result_named(results, list.count, "users is not empty");
    assert_true(r->passed);
    assert_string_equal(r->detail, "value 2, expected at least 1");
    assert_int_equal(failed, 3);
    free(results);
    check_list_release(&list);
    warehouse_close(wh);
}

static void user_checks_compare_numbers_text_and_ranges(void **state)
{
    (void)state;
    write_file("[n]\nsql = SELECT COUNT(*) FROM songplays\nexpect = 3.0\n"
               "[t]\nsql = SELECT MAX(level) FROM users\nexpect = free\n"
               "[r]\nsql = SELECT 0.5\nmin = 0.25\n"
               "[none]\nsql = SELECT level FROM users WHERE user_id = 'x'\nmax = 1\n");
    struct warehouse *wh = small_warehouse();
    struct check_list list;
    check_list_init(&list);
    struct sp_error err;
    assert_int_equal(check_list_load(&list, path, &err), SP_OK);
    struct check_result results[4];
    size_t failed;
    assert_int_equal(check_run(wh, &list, results, &failed, &err), SP_OK);
    assert_true(results[0].passed);
    assert_string_equal(results[0].detail, "value 3, expected 3.0");
    assert_false(results[1].passed);
    assert_string_equal(results[1].detail, "value paid, expected free");
    assert_true(results[2].passed);
    assert_string_equal(results[2].detail, "value 0.5, expected at least 0.25");
    assert_false(results[3].passed);
    assert_string_equal(results[3].detail, "the SQL returned 0 rows, expected one");
    assert_int_equal(failed, 2);
    check_list_release(&list);
    warehouse_close(wh);
}

static void report_periods_become_whole_day_literals(void **state)
{
    (void)state;
    struct report_section *sections;
    size_t count;
    struct sp_error err;
    struct report_options o = {.top = 10, .since = "2016-02-28", .until = "2016-02-29"};
    assert_int_equal(report_sections(&o, &sections, &count, &err), SP_OK);
    assert_string_equal(sections[1].name, "matched");
    assert_string_equal(sections[1].sql,
                        "SELECT COUNT(*) AS songplays, COUNT(p.song_id) AS matched FROM (SELECT * "
                        "FROM songplays WHERE start_time >= '2016-02-28 00:00:00.000' AND "
                        "start_time < '2016-03-01 00:00:00.000') p");
    report_sections_free(sections, count);
    /* The last day there is: no upper bound at all (a five-digit year would sort first). */
    struct report_options last = {.top = 10, .until = "9999-12-31"};
    assert_int_equal(report_sections(&last, &sections, &count, &err), SP_OK);
    assert_string_equal(
        sections[1].sql,
        "SELECT COUNT(*) AS songplays, COUNT(p.song_id) AS matched FROM songplays p");
    report_sections_free(sections, count);
    const char *bad[] = {"2017-02-29", "2018-13-01", "2018-00-10",  "2018-1-05",
                         "20181105",   "1969-12-31", "2018-11-05x", "２018-11-05"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct report_options b = {.top = 10, .since = bad[i]};
        assert_int_equal(report_sections(&b, &sections, &count, &err), SP_USAGE);
    }
}

static void report_section_selects_one_and_hides_what_its_note_needs(void **state)
{
    (void)state;
    struct report_section *sections;
    size_t count;
    struct sp_error err;
    /* report_section_names lists every section, in order. */
    struct report_options all = {.top = 10};
    assert_int_equal(report_sections(&all, &sections, &count, &err), SP_OK);
    char names[512] = "";
    for (size_t i = 0; i < count; i++) {
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 sections[i].name);
        assert_false(sections[i].hidden);
        assert_int_equal(sections[i].matched_only,
                         strcmp(sections[i].name, "top_songs") == 0 ||
                             strcmp(sections[i].name, "top_artists") == 0);
    }
    assert_string_equal(names, report_section_names());
    report_sections_free(sections, count);

    struct report_options one = {.top = 3, .section = "browsers"};
    assert_int_equal(report_sections(&one, &sections, &count, &err), SP_OK);
    assert_int_equal(count, 1);
    assert_string_equal(sections[0].name, "browsers");
    assert_string_equal(sections[0].columns, "browser,plays,users");
    report_sections_free(sections, count);

    struct report_options noted = {.top = 3, .section = "top_artists"};
    assert_int_equal(report_sections(&noted, &sections, &count, &err), SP_OK);
    assert_int_equal(count, 3);
    assert_string_equal(sections[0].name, "row_counts");
    assert_true(sections[0].hidden);
    assert_string_equal(sections[1].name, "matched");
    assert_true(sections[1].hidden);
    assert_string_equal(sections[2].name, "top_artists");
    assert_false(sections[2].hidden);
    report_sections_free(sections, count);

    struct report_options unknown = {.top = 3, .section = "songs"};
    assert_int_equal(report_sections(&unknown, &sections, &count, &err), SP_USAGE);
    assert_non_null(strstr(err.message, "not 'songs'; the sections are row_counts, matched, "));
}

static void the_matched_note_says_how_many_matched_and_why(void **state)
{
    (void)state;
    assert_null(report_matched_note(0, 0, 71));       /* no plays */
    assert_null(report_matched_note(6820, 6820, 71)); /* every play matched */
    char *note = report_matched_note(6820, 1, 71);
    assert_string_equal(note, "1 of 6,820 plays (0.01%) matched a song in the catalog; top songs "
                              "and artists count only those. A play matches when its song title, "
                              "artist name and length equal a catalog song's exactly; the catalog "
                              "holds 71 songs.");
    free(note);
    /* Rounded down: some matched is never 0%, and short of all is never 100%. */
    note = report_matched_note(1234567, 1, 1);
    assert_non_null(strstr(note, "1 of 1,234,567 plays (under 0.01%) matched"));
    assert_non_null(strstr(note, "the catalog holds 1 song."));
    free(note);
    note = report_matched_note(100000, 99999, 1000);
    assert_non_null(strstr(note, "99,999 of 100,000 plays (99.99%) matched"));
    free(note);
    note = report_matched_note(10, 5, 1000);
    assert_non_null(strstr(note, "5 of 10 plays (50%) matched"));
    free(note);
    note = report_matched_note(330, 0, 0);
    assert_string_equal(note, "0 of 330 plays matched a song: the catalog holds no songs (etl "
                              "--song-data loads them), so top songs and artists are empty.");
    free(note);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_checks_file_gives_one_check_per_section),
        cmocka_unit_test(a_bad_checks_file_names_its_line),
        cmocka_unit_test(built_in_checks_count_offending_rows_and_name_a_sample),
        cmocka_unit_test(user_checks_compare_numbers_text_and_ranges),
        cmocka_unit_test(report_periods_become_whole_day_literals),
        cmocka_unit_test(report_section_selects_one_and_hides_what_its_note_needs),
        cmocka_unit_test(the_matched_note_says_how_many_matched_and_why),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
