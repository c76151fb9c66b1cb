/* report.c - report SQL, written in the subset SQLite, PostgreSQL and Redshift share.
 *
 * The pitfalls of that subset: start_time is text in SQLite and TIMESTAMP elsewhere, so days
 * come from the time table's columns, and the period compares start_time with a quoted
 * 'YYYY-MM-DD HH:MM:SS.mmm' literal (text order in SQLite, a timestamp elsewhere) built only
 * from a validated date. SQLite's LIKE ignores ASCII case and PostgreSQL's does not, so user
 * agents are matched as LOWER(user_agent) against lower-case patterns. A percentage is rounded
 * in integers and divided once as a double, so every engine computes the very same double.
 * A songplay has a song (and an artist) only when its title, artist name and length equal a
 * catalog song's exactly, so on a partial catalog few plays match: the top songs and artists
 * then describe a sliver of the plays, and their note says so.
 */
#include "report.h"

#include "buffer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* User-agent families: the first rule with a matching pattern wins (see docs/report.md). */
struct family_rule {
    const char *family;
    const char *patterns[4];
};

static const struct family_rule browser_rules[] = {
    {"Edge", {"%edge/%", "%edg/%"}},
    {"Opera", {"%opr/%", "%opera%"}},
    {"Firefox", {"%firefox/%", "%fxios/%"}},
    {"Chrome", {"%chrome/%", "%crios/%", "%chromium/%"}},
    {"Internet Explorer", {"%msie %", "%trident/%"}},
    {"Safari", {"%safari/%"}},
};

static const struct family_rule os_rules[] = {
    {"Windows", {"%windows%"}},
    {"iOS", {"%iphone%", "%ipad%", "%ipod%"}},
    {"Android", {"%android%"}},
    {"Chrome OS", {"%cros %"}},
    {"macOS", {"%mac os x%", "%macintosh%"}},
    {"Linux", {"%linux%"}},
};

/* Placeholders: {plays} the songplays of the period, {browser} and {os} the families. `columns`
 * repeats the query's column names, which a query that returns no rows does not tell. */
static const struct {
    const char *name, *title, *columns, *sql;
    int limited;      /* takes LIMIT top */
    int matched_only; /* counts only matched plays (report_section.matched_only) */
} templates[] = {
    {"row_counts", "Rows per table", "table_name,row_count",
     "SELECT 'songplays' AS table_name, COUNT(*) AS row_count FROM songplays "
     "UNION ALL SELECT 'users', COUNT(*) FROM users "
     "UNION ALL SELECT 'songs', COUNT(*) FROM songs "
     "UNION ALL SELECT 'artists', COUNT(*) FROM artists "
     "UNION ALL SELECT 'time', COUNT(*) FROM time",
     0, 0},
    {"matched", "Songplays matched to a song", "songplays,matched",
     "SELECT COUNT(*) AS songplays, COUNT(p.song_id) AS matched FROM {plays} p", 0, 0},
    {"top_songs", "Top songs by plays", "song,artist,plays",
     "SELECT s.title AS song, a.name AS artist, COUNT(*) AS plays "
     "FROM {plays} p JOIN songs s ON s.song_id = p.song_id "
     "LEFT JOIN artists a ON a.artist_id = p.artist_id "
     "GROUP BY p.song_id, s.title, a.name ORDER BY plays DESC, song NULLS LAST, artist NULLS LAST",
     1, 1},
    {"top_artists", "Top artists by plays", "artist,plays",
     "SELECT a.name AS artist, COUNT(*) AS plays "
     "FROM {plays} p JOIN artists a ON a.artist_id = p.artist_id "
     "GROUP BY p.artist_id, a.name ORDER BY plays DESC, artist NULLS LAST",
     1, 1},
    {"top_users", "Top users by plays", "user_id,first_name,last_name,plays",
     "SELECT p.user_id AS user_id, u.first_name AS first_name, u.last_name AS last_name, "
     "COUNT(*) AS plays FROM {plays} p LEFT JOIN users u ON u.user_id = p.user_id "
     "GROUP BY p.user_id, u.first_name, u.last_name ORDER BY plays DESC, user_id",
     1, 0},
    {"plays_by_hour", "Plays by hour of day (UTC)", "hour,plays",
     "SELECT t.hour AS hour, COUNT(*) AS plays "
     "FROM {plays} p JOIN time t ON t.start_time = p.start_time "
     "GROUP BY t.hour ORDER BY t.hour",
     0, 0},
    {"plays_by_weekday", "Plays by weekday (UTC)", "weekday,day_name,plays",
     "SELECT t.weekday AS weekday, CASE t.weekday WHEN 0 THEN 'Sunday' WHEN 1 THEN 'Monday' "
     "WHEN 2 THEN 'Tuesday' WHEN 3 THEN 'Wednesday' WHEN 4 THEN 'Thursday' WHEN 5 THEN 'Friday' "
     "ELSE 'Saturday' END AS day_name, COUNT(*) AS plays "
     "FROM {plays} p JOIN time t ON t.start_time = p.start_time "
     "GROUP BY t.weekday ORDER BY t.weekday",
     0, 0},
    {"level_share", "Plays by level (paid vs free)", "level,plays,percent_of_plays",
     "SELECT p.level AS level, COUNT(*) AS plays, "
     "CAST((20000 * COUNT(*) + a.total) / (2 * a.total) AS DOUBLE PRECISION) / 100 AS "
     "percent_of_plays "
     "FROM {plays} p CROSS JOIN (SELECT COUNT(*) AS total FROM {plays} x) a "
     "GROUP BY p.level, a.total ORDER BY plays DESC, level NULLS LAST",
     0, 0},
    {"top_locations", "Top locations by plays", "location,plays,users",
     "SELECT p.location AS location, COUNT(*) AS plays, COUNT(DISTINCT p.user_id) AS users "
     "FROM {plays} p WHERE p.location IS NOT NULL "
     "GROUP BY p.location ORDER BY plays DESC, location",
     1, 0},
    {"browsers", "Plays by browser", "browser,plays,users",
     "SELECT browser, COUNT(*) AS plays, COUNT(DISTINCT user_id) AS users "
     "FROM (SELECT {browser} AS browser, p.user_id AS user_id FROM {plays} p) b "
     "GROUP BY browser ORDER BY plays DESC, browser",
     0, 0},
    {"operating_systems", "Plays by operating system", "os,plays,users",
     "SELECT os, COUNT(*) AS plays, COUNT(DISTINCT user_id) AS users "
     "FROM (SELECT {os} AS os, p.user_id AS user_id FROM {plays} p) o "
     "GROUP BY os ORDER BY plays DESC, os",
     0, 0},
    {"daily_active_users", "Daily active users (UTC)", "day,users,plays",
     "SELECT CAST(t.year AS VARCHAR) || '-' || CASE WHEN t.month < 10 THEN '0' ELSE '' END || "
     "CAST(t.month AS VARCHAR) || '-' || CASE WHEN t.day < 10 THEN '0' ELSE '' END || "
     "CAST(t.day AS VARCHAR) AS day, COUNT(DISTINCT p.user_id) AS users, COUNT(*) AS plays "
     "FROM {plays} p JOIN time t ON t.start_time = p.start_time "
     "GROUP BY t.year, t.month, t.day ORDER BY t.year, t.month, t.day",
     0, 0},
};

static void family_case(struct buffer *sql, const struct family_rule *rules, size_t count)
{
    buffer_append_str(sql, "CASE WHEN p.user_agent IS NULL OR p.user_agent = '' THEN 'Unknown'");
    for (size_t i = 0; i < count; i++) {
        buffer_append_str(sql, " WHEN ");
        for (size_t j = 0; j < 4 && rules[i].patterns[j]; j++)
            buffer_printf(sql, "%sLOWER(p.user_agent) LIKE '%s'", j ? " OR " : "",
                          rules[i].patterns[j]);
        buffer_printf(sql, " THEN '%s'", rules[i].family);
    }
    buffer_append_str(sql, " ELSE 'Other' END");
}

/* "YYYY-MM-DD" plus `days` as the start of that day, "YYYY-MM-DD 00:00:00.000" ("" past
 * 9999). Returns -1 for anything but a real day from 1970 to 9999. */
static int day_start(const char *text, int days, char *out, size_t size)
{
    static const char shape[] = "dddd-dd-dd";
    if (strlen(text) != sizeof shape - 1)
        return -1;
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? text[i] < '0' || text[i] > '9' : text[i] != shape[i])
            return -1;
    struct tm tm = {0};
    tm.tm_year = atoi(text) - 1900;
    tm.tm_mon = atoi(text + 5) - 1;
    tm.tm_mday = atoi(text + 8);
    int year = tm.tm_year, month = tm.tm_mon, day = tm.tm_mday;
    time_t t = timegm(&tm);
    /* timegm normalises 2018-02-30 to March: a real date comes back unchanged. */
    if (tm.tm_year != year || tm.tm_mon != month || tm.tm_mday != day || year < 70 || year > 8099)
        return -1;
    t += (time_t)days * 86400;
    gmtime_r(&t, &tm);
    if (tm.tm_year > 8099)
        out[0] = '\0'; /* past 9999-12-31: no bound (and no five-digit year to compare as text) */
    else
        strftime(out, size, "%Y-%m-%d 00:00:00.000", &tm);
    return 0;
}

static void expand(struct buffer *sql, const char *template, const char *plays)
{
    const char *p = template, *open;
    while ((open = strchr(p, '{')) != NULL) {
        buffer_append(sql, p, (size_t)(open - p));
        const char *close = strchr(open, '}');
        size_t len = (size_t)(close - open + 1);
        if (strncmp(open, "{plays}", len) == 0)
            buffer_append_str(sql, plays);
        else if (strncmp(open, "{browser}", len) == 0)
            family_case(sql, browser_rules, sizeof browser_rules / sizeof browser_rules[0]);
        else
            family_case(sql, os_rules, sizeof os_rules / sizeof os_rules[0]);
        p = close + 1;
    }
    buffer_append_str(sql, p);
}

const char *report_section_names(void)
{
    /* The templates' names in order; test_report checks the two agree. */
    return "row_counts, matched, top_songs, top_artists, top_users, plays_by_hour, "
           "plays_by_weekday, level_share, top_locations, browsers, operating_systems, "
           "daily_active_users";
}

static int template_index(const char *name)
{
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        if (strcmp(templates[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Which templates a report of `section` (NULL: all) queries: 1 shown, 2 hidden, 0 not at all.
 * A matched_only section's note needs the matched plays and the catalog's size. */
static void choose_templates(const char *section, int *chosen, size_t n)
{
    int only = section ? template_index(section) : -1;
    for (size_t i = 0; i < n; i++)
        chosen[i] = only < 0 || (size_t)only == i ? 1 : 0;
    if (only >= 0 && templates[only].matched_only) {
        chosen[template_index("row_counts")] = 2;
        chosen[template_index("matched")] = 2;
    }
}

int report_sections(const struct report_options *options, struct report_section **sections,
                    size_t *count, struct sp_error *err)
{
    char since[32] = "", until[32] = "";
    if (options->since && day_start(options->since, 0, since, sizeof since) != 0)
        return sp_usage(err, "--since takes a day as YYYY-MM-DD, not '%s'", options->since);
    if (options->until && day_start(options->until, 1, until, sizeof until) != 0)
        return sp_usage(err, "--until takes a day as YYYY-MM-DD, not '%s'", options->until);
    if (since[0] && until[0] && strcmp(since, until) >= 0)
        return sp_usage(err, "--until %s is before --since %s", options->until, options->since);
    if (options->section && template_index(options->section) < 0)
        return sp_usage(err, "--section takes a section name, not '%s'; the sections are %s",
                        options->section, report_section_names());
    struct buffer plays;
    buffer_init(&plays);
    if (since[0] || until[0]) {
        buffer_append_str(&plays, "(SELECT * FROM songplays WHERE ");
        if (since[0])
            buffer_printf(&plays, "start_time >= '%s'%s", since, until[0] ? " AND " : "");
        if (until[0])
            buffer_printf(&plays, "start_time < '%s'", until);
        buffer_append_char(&plays, ')');
    } else {
        buffer_append_str(&plays, "songplays");
    }
    size_t n = sizeof templates / sizeof templates[0], used = 0;
    int chosen[sizeof templates / sizeof templates[0]];
    choose_templates(options->section, chosen, n);
    struct report_section *out = xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        if (!chosen[i])
            continue;
        struct buffer sql;
        buffer_init(&sql);
        expand(&sql, templates[i].sql, plays.data);
        if (templates[i].limited)
            buffer_printf(&sql, " LIMIT %d", options->top);
        out[used].name = templates[i].name;
        out[used].title = templates[i].title;
        out[used].columns = templates[i].columns;
        out[used].sql = sql.data;
        out[used].matched_only = templates[i].matched_only;
        out[used].hidden = chosen[i] == 2;
        used++;
    }
    buffer_release(&plays);
    *sections = out;
    *count = used;
    return SP_OK;
}

void report_sections_free(struct report_section *sections, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free((char *)sections[i].sql);
    free(sections);
}

/* `n` with a comma between groups of three digits: 6,820. */
static void append_count(struct buffer *b, long long n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", n < 0 ? 0 : n);
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buffer_append_char(b, ',');
        buffer_append_char(b, digits[i]);
    }
}

void report_matched_share(long long songplays, long long matched, char *out, size_t size)
{
    /* Rounded down, so that a share short of all never reads 100%, and never 0% for some. */
    long long hundredths = songplays > 0 ? matched * 10000 / songplays : 0;
    if (matched > 0 && hundredths == 0)
        snprintf(out, size, "under 0.01%%");
    else if (hundredths % 100 == 0)
        snprintf(out, size, "%lld%%", hundredths / 100);
    else
        snprintf(out, size, "%lld.%02lld%%", hundredths / 100, hundredths % 100);
}

char *report_matched_note(long long songplays, long long matched, long long catalog_songs)
{
    if (songplays <= 0 || matched >= songplays)
        return NULL;
    struct buffer note;
    buffer_init(&note);
    append_count(&note, matched);
    buffer_append_str(&note, " of ");
    append_count(&note, songplays);
    if (catalog_songs <= 0) {
        buffer_append_str(&note, " plays matched a song: the catalog holds no songs (etl "
                                 "--song-data loads them), so top songs and artists are empty.");
        return note.data;
    }
    char share[32];
    report_matched_share(songplays, matched, share, sizeof share);
    buffer_printf(&note,
                  " plays (%s) matched a song in the catalog; top songs and artists count only "
                  "those. A play matches when its song title, artist name and length equal a "
                  "catalog song's exactly; the catalog holds ",
                  share);
    append_count(&note, catalog_songs);
    buffer_append_str(&note, catalog_songs == 1 ? " song." : " songs.");
    return note.data;
}
