/* Unit test of a whole load through the library: etl_run on a SQLite warehouse in a temporary
 * directory, from two song files and one log file written here by hand, then the star tables
 * read back row by row. The files hold what the star schema must get right: a play that
 * matches a song, one of a song outside the catalogue, one whose length misses the song's
 * duration, pages that are no plays, a guest, and a user whose level changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buffer.h"
#include "etl.h"
#include "warehouse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char root[256];

static void path_in_root(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", root, name);
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    path_in_root(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void make_dir(const char *name)
{
    char path[512];
    path_in_root(path, sizeof path, name);
    assert_int_equal(mkdir(path, 0777), 0);
}

/* The two songs of the real sample's song_data/A/A/A, one with coordinates, one without. */
static const char *const casual =
    "{\"num_songs\": 1, \"artist_id\": \"ARD7TVE1187B99BFB1\", \"artist_latitude\": null, "
    "\"artist_longitude\": null, \"artist_location\": \"California - LA\", \"artist_name\": "
    "\"Casual\", \"song_id\": \"SOMZWCG12A8C13C480\", \"title\": \"I Didn't Mean To\", "
    "\"duration\": 218.93179, \"year\": 0}\n";
static const char *const box_tops =
    "{\"num_songs\": 1, \"artist_id\": \"ARMJAGH1187FB546F3\", \"artist_latitude\": 35.14968, "
    "\"artist_longitude\": -90.04892, \"artist_location\": \"Memphis, TN\", \"artist_name\": "
    "\"The Box Tops\", \"song_id\": \"SOCIWDW12A8C13D406\", \"title\": \"Soul Deep\", "
    "\"duration\": 148.03546, \"year\": 1969}\n";

#define RYAN                                                                                       \
    "\"auth\":\"Logged In\",\"firstName\":\"Ryan\",\"gender\":\"M\",\"lastName\":\"Smith\","       \
    "\"level\":\"free\",\"location\":\"San Jose-Sunnyvale-Santa Clara, CA\","                      \
    "\"registration\":1541016707796.0,\"sessionId\":169,\"status\":200,"                           \
    "\"userAgent\":\"Mozilla\\/5.0 (X11; Linux x86_64)\",\"userId\":\"26\""
#define LILY                                                                                       \
    "\"auth\":\"Logged In\",\"firstName\":\"Lily\",\"gender\":\"F\",\"lastName\":\"Koch\","        \
    "\"location\":\"Chicago-Naperville-Elgin, IL-IN-WI\",\"registration\":1540075054796.0,"        \
    "\"sessionId\":172,\"status\":200,\"userAgent\":\"Mozilla\\/5.0 (Windows NT 6.1)\","           \
    "\"userId\":\"15\""

/* Six events of two days: Ryan plays Soul Deep and goes Home; a guest logs in; Lily, on the free
 * plan, plays a song outside the catalogue, upgrades, then plays I Didn't Mean To once at its
 * duration and once at a length 0.03179 s short of it (no match). */
static const char *const events =
    "{\"artist\":\"The Box Tops\",\"itemInSession\":0,\"length\":148.03546,\"method\":\"PUT\","
    "\"page\":\"NextSong\",\"song\":\"Soul Deep\",\"ts\":1541105830796," RYAN "}\n"
    "{\"artist\":null,\"itemInSession\":1,\"length\":null,\"method\":\"GET\",\"page\":\"Home\","
    "\"song\":null,\"ts\":1541106000796," RYAN "}\n"
    "{\"artist\":null,\"auth\":\"Logged Out\",\"firstName\":null,\"gender\":null,"
    "\"itemInSession\":0,\"lastName\":null,\"length\":null,\"level\":\"free\",\"location\":null,"
    "\"method\":\"PUT\",\"page\":\"Login\",\"registration\":null,\"sessionId\":52,\"song\":null,"
    "\"status\":307,\"ts\":1541106100796,\"userAgent\":null,\"userId\":\"\"}\n"
    "{\"artist\":\"Nobody\",\"itemInSession\":3,\"length\":200.0,\"level\":\"free\","
    "\"method\":\"PUT\",\"page\":\"NextSong\",\"song\":\"Unknown Song\",\"ts\":1541106106796," LILY
    "}\n"
    "{\"artist\":\"Casual\",\"itemInSession\":4,\"length\":218.93179,\"level\":\"paid\","
    "\"method\":\"PUT\",\"page\":\"NextSong\",\"song\":\"I Didn't Mean To\","
    "\"ts\":1541190000796," LILY "}\n"
    "{\"artist\":\"Casual\",\"itemInSession\":5,\"length\":218.9,\"level\":\"paid\","
    "\"method\":\"PUT\",\"page\":\"NextSong\",\"song\":\"I Didn't Mean To\","
    "\"ts\":1541190218796," LILY "}\n";

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/sparkify-test-load-XXXXXX");
    if (!mkdtemp(root))
        return -1;
    make_dir("song_data");
    make_dir("song_data/A");
    make_dir("log_data");
    write_file("song_data/A/TRAAAAW128F429D538.json", casual);
    write_file("song_data/A/TRAAABD128F429CF47.json", box_tops);
    write_file("log_data/2018-11-01-events.json", events);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", root);
    return system(command);
}

static struct warehouse *open_warehouse(void)
{
    char path[512], target[520];
    path_in_root(path, sizeof path, "w.db");
    snprintf(target, sizeof target, "sqlite:%s", path);
    struct warehouse *wh;
    struct sp_error err;
    sp_error_clear(&err);
    assert_int_equal(warehouse_open(target, WAREHOUSE_WRITE, &wh, &err), SP_OK);
    return wh;
}

/* Loads the fixture's song_data and log_data; a failed run fails the test. */
static void load(struct warehouse *wh, struct etl_result *result)
{
    char songs[512], logs[512];
    path_in_root(songs, sizeof songs, "song_data");
    path_in_root(logs, sizeof logs, "log_data");
    struct etl_options o = {0};
    o.song_data = songs;
    o.log_data = logs;
    o.threads = 2;
    struct sp_error err;
    sp_error_clear(&err);
    if (etl_run(wh, &o, result, &err) != SP_OK)
        fail_msg("etl_run: %s", err.message);
}

/* One line per row, its values joined by '|': NULL as NULL, numbers as %.15g prints them. */
static int append_row(void *ctx, size_t columns, const char *const *names,
                      const struct cell *values)
{
    (void)names;
    struct buffer *b = ctx;
    for (size_t i = 0; i < columns; i++) {
        if (i > 0)
            buffer_append_char(b, '|');
        const struct cell *c = &values[i];
        switch (c->type) {
        case CELL_NULL:
            buffer_append_str(b, "NULL");
            break;
        case CELL_INT:
            buffer_printf(b, "%lld", (long long)c->i);
            break;
        case CELL_DOUBLE:
            buffer_printf(b, "%.15g", c->d);
            break;
        case CELL_TEXT:
            buffer_append(b, c->text.ptr, c->text.len);
            break;
        }
    }
    buffer_append_char(b, '\n');
    return 0;
}

static void assert_rows(struct warehouse *wh, const char *sql, const char *expected)
{
    struct buffer rows;
    buffer_init(&rows);
    struct sp_error err;
    sp_error_clear(&err);
    if (wh->ops->query(wh, sql, append_row, &rows, &err) != SP_OK)
        fail_msg("%s: %s", sql, err.message);
    if (strcmp(rows.data ? rows.data : "", expected) != 0)
        fail_msg("%s\nexpected:\n%sactual:\n%s", sql, expected, rows.data ? rows.data : "");
    buffer_release(&rows);
}

static void a_load_writes_exactly_these_star_rows(void **state)
{
    (void)state;
    struct warehouse *wh = open_warehouse();
    struct etl_result r;
    load(wh, &r);
    assert_int_equal(r.song_objects, 2);
    assert_int_equal(r.log_objects, 1);
    assert_int_equal(r.skipped_objects, 0);
    assert_int_equal(r.song_records, 2);
    assert_int_equal(r.events, 6);
    assert_int_equal(r.songplays, 4);
    assert_int_equal(r.matched, 2);
    assert_int_equal(r.users, 2);
    assert_int_equal(r.songs, 2);
    assert_int_equal(r.artists, 2);
    assert_int_equal(r.bad_records, 0);

    assert_rows(wh,
                "SELECT songplay_id, start_time, user_id, level, song_id, artist_id, session_id, "
                "location, user_agent FROM songplays ORDER BY songplay_id",
                "1|2018-11-01 20:57:10.796|26|free|SOCIWDW12A8C13D406|ARMJAGH1187FB546F3|169|"
                "San Jose-Sunnyvale-Santa Clara, CA|Mozilla/5.0 (X11; Linux x86_64)\n"
                "2|2018-11-01 21:01:46.796|15|free|NULL|NULL|172|"
                "Chicago-Naperville-Elgin, IL-IN-WI|Mozilla/5.0 (Windows NT 6.1)\n"
                "3|2018-11-02 20:20:00.796|15|paid|SOMZWCG12A8C13C480|ARD7TVE1187B99BFB1|172|"
                "Chicago-Naperville-Elgin, IL-IN-WI|Mozilla/5.0 (Windows NT 6.1)\n"
                "4|2018-11-02 20:23:38.796|15|paid|NULL|NULL|172|"
                "Chicago-Naperville-Elgin, IL-IN-WI|Mozilla/5.0 (Windows NT 6.1)\n");
    /* A user's level is that of the latest event; the guest is no user. */
    assert_rows(wh,
                "SELECT user_id, first_name, last_name, gender, level FROM users ORDER BY user_id",
                "15|Lily|Koch|F|paid\n"
                "26|Ryan|Smith|M|free\n");
    assert_rows(wh, "SELECT song_id, title, artist_id, year, duration FROM songs ORDER BY song_id",
                "SOCIWDW12A8C13D406|Soul Deep|ARMJAGH1187FB546F3|1969|148.03546\n"
                "SOMZWCG12A8C13C480|I Didn't Mean To|ARD7TVE1187B99BFB1|0|218.93179\n");
    assert_rows(wh,
                "SELECT artist_id, name, location, latitude, longitude FROM artists "
                "ORDER BY artist_id",
                "ARD7TVE1187B99BFB1|Casual|California - LA|NULL|NULL\n"
                "ARMJAGH1187FB546F3|The Box Tops|Memphis, TN|35.14968|-90.04892\n");
    /* 2018-11-01 is a Thursday (day 4 of the week from Sunday) of ISO week 44. */
    assert_rows(wh,
                "SELECT start_time, hour, day, week, month, year, weekday FROM time "
                "ORDER BY start_time",
                "2018-11-01 20:57:10.796|20|1|44|11|2018|4\n"
                "2018-11-01 21:01:46.796|21|1|44|11|2018|4\n"
                "2018-11-02 20:20:00.796|20|2|44|11|2018|5\n"
                "2018-11-02 20:23:38.796|20|2|44|11|2018|5\n");
    assert_rows(wh, "SELECT user_id, start_time, level FROM user_latest ORDER BY user_id",
                "15|2018-11-02 20:23:38.796|paid\n"
                "26|2018-11-01 20:57:10.796|free\n");
    warehouse_close(wh);
}

static void a_second_load_of_the_same_files_adds_nothing(void **state)
{
    (void)state;
    struct warehouse *wh = open_warehouse();
    struct etl_result r;
    load(wh, &r);
    assert_int_equal(r.skipped_objects, 3);
    assert_int_equal(r.skipped_song_objects, 2);
    assert_int_equal(r.skipped_log_objects, 1);
    assert_int_equal(r.song_objects + r.log_objects, 0);
    assert_int_equal(r.events, 0);
    assert_int_equal(r.songplays, 0);
    assert_rows(wh,
                "SELECT (SELECT COUNT(*) FROM songplays), (SELECT COUNT(*) FROM users), "
                "(SELECT COUNT(*) FROM songs), (SELECT COUNT(*) FROM artists), "
                "(SELECT COUNT(*) FROM time), (SELECT COUNT(*) FROM etl_runs)",
                "4|2|2|2|4|2\n");
    warehouse_close(wh);
}

int main(void)
{
    /* In this order: the second load finds the first's warehouse. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_load_writes_exactly_these_star_rows),
        cmocka_unit_test(a_second_load_of_the_same_files_adds_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
