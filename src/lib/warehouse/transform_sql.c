/* transform_sql.c - the SQL transform (see transform_sql.h for its dialect and purpose).
 *
 * Order matters: song_lookup gains this run's songs before songplays are matched against it
 * (so plays match every song the warehouse knows); users are decided against user_latest, each
 * user's latest play before this run (a user already in the warehouse keeps its row unless an
 * event is later than that play, or as late with a greater level), probed by the run's users
 * only, never by reading every songplay. start_time is computed with
 * integer arithmetic, exact to the millisecond for any ts.
 * Every text value from staging goes through RTRIM first (EVENTS, SONGS), so no comparison,
 * PARTITION BY or ORDER BY ever meets two values that only trailing spaces tell apart, where
 * Redshift and PostgreSQL would disagree; and each ranking orders by every column it keeps, so
 * rows it cannot tell apart are the same row, whichever the engine picks.
 */
#include "transform_sql.h"

#include <stdbool.h>

#define START_TIME(ts)                                                                             \
    "(TIMESTAMP 'epoch' + (" ts " / 1000) * INTERVAL '1 second' + (" ts                            \
    " % 1000) * INTERVAL '1 millisecond')"
/* The staging tables as the star tables see them: text without trailing spaces. Redshift ignores
 * them when it compares VARCHAR values, PostgreSQL does not, so neither ever sees one (see
 * model.h). RTRIM names the one character it cuts, a space, which is also both engines' default
 * ("If not specified, a space is used as the trim character",
 * https://docs.aws.amazon.com/redshift/latest/dg/r_RTRIM.html): tabs and other blanks are data. */
#define EVENTS                                                                                     \
    "(SELECT RTRIM(page, ' ') AS page, RTRIM(user_id, ' ') AS user_id, ts, "                       \
    "RTRIM(first_name, ' ') AS first_name, RTRIM(last_name, ' ') AS last_name, "                   \
    "RTRIM(gender, ' ') AS gender, RTRIM(level, ' ') AS level, RTRIM(song, ' ') AS song, "         \
    "RTRIM(artist, ' ') AS artist, length, session_id, RTRIM(location, ' ') AS location, "         \
    "RTRIM(user_agent, ' ') AS user_agent FROM staging_events)"
#define SONGS                                                                                      \
    "(SELECT RTRIM(song_id, ' ') AS song_id, RTRIM(title, ' ') AS title, "                         \
    "RTRIM(artist_id, ' ') AS artist_id, RTRIM(artist_name, ' ') AS artist_name, "                 \
    "RTRIM(artist_location, ' ') AS artist_location, artist_latitude, artist_longitude, year, "    \
    "duration FROM staging_songs)"
#define SONGPLAY_EVENTS "page = 'NextSong' AND user_id IS NOT NULL AND user_id <> ''"

const char transform_user_latest_fill[] =
    "INSERT INTO user_latest (user_id, start_time, level) "
    "SELECT user_id, start_time, level FROM (SELECT user_id, start_time, level, "
    "ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY start_time DESC, COALESCE(level, '') DESC, "
    "level NULLS LAST) AS row_rank FROM songplays) ranked WHERE row_rank = 1";

static const struct transform_statement statements[] = {
    {"analyze staging_events", "ANALYZE staging_events"},
    {"analyze staging_songs", "ANALYZE staging_songs"},
    /* EXCEPT, not a correlated NOT EXISTS: set operations take NULLs as equal, as the rule for a
     * missing artist_id needs, without an OR inside a correlated subquery, a shape Redshift may
     * refuse ("correlated subquery pattern is not supported",
     * https://docs.aws.amazon.com/redshift/latest/dg/r_correlated_subqueries.html); and EXCEPT
     * removes duplicates, as DISTINCT did. */
    {"song_lookup: this run's match keys",
     "INSERT INTO song_lookup (title, artist_name, duration, song_id, artist_id) "
     "SELECT title, artist_name, duration, song_id, artist_id FROM " SONGS " s "
     "WHERE title IS NOT NULL AND artist_name IS NOT NULL AND duration IS NOT NULL "
     "AND song_id IS NOT NULL AND song_id <> '' "
     "EXCEPT SELECT title, artist_name, duration, song_id, artist_id FROM song_lookup"},
    {"analyze song_lookup", "ANALYZE song_lookup"},
    {"songs: rank the candidates",
     "CREATE TEMPORARY TABLE song_winners AS "
     "SELECT song_id, title, artist_id, year, duration FROM ("
     "SELECT song_id, title, artist_id, year, duration, ROW_NUMBER() OVER (PARTITION BY song_id "
     "ORDER BY title NULLS LAST, artist_id NULLS LAST, year NULLS LAST, duration NULLS LAST) "
     "AS row_rank FROM ("
     "SELECT song_id, title, artist_id, year, duration FROM songs "
     "WHERE song_id IN (SELECT song_id FROM " SONGS " s) "
     "UNION ALL SELECT song_id, title, artist_id, year, duration FROM " SONGS " s "
     "WHERE song_id IS NOT NULL AND song_id <> '') candidates) ranked WHERE row_rank = 1"},
    {"songs: replace", "DELETE FROM songs WHERE song_id IN (SELECT song_id FROM song_winners)"},
    {"songs: insert", "INSERT INTO songs (song_id, title, artist_id, year, duration) "
                      "SELECT song_id, title, artist_id, year, duration FROM song_winners"},
    {"artists: rank the candidates",
     "CREATE TEMPORARY TABLE artist_winners AS "
     "SELECT artist_id, name, location, latitude, longitude FROM ("
     "SELECT artist_id, name, location, latitude, longitude, ROW_NUMBER() OVER ("
     "PARTITION BY artist_id ORDER BY CASE WHEN latitude IS NULL THEN 1 ELSE 0 END, "
     "CASE WHEN longitude IS NULL THEN 1 ELSE 0 END, "
     "CASE WHEN COALESCE(location, '') = '' THEN 1 ELSE 0 END, "
     "CASE WHEN name IS NULL THEN 1 ELSE 0 END, LENGTH(COALESCE(name, '')), name, "
     "location NULLS LAST, latitude, longitude) AS row_rank FROM ("
     "SELECT artist_id, name, location, latitude, longitude FROM artists "
     "WHERE artist_id IN (SELECT artist_id FROM " SONGS " s) "
     "UNION ALL SELECT artist_id, artist_name, artist_location, artist_latitude, "
     "artist_longitude FROM " SONGS " s WHERE artist_id IS NOT NULL AND artist_id <> '') "
     "candidates) ranked WHERE row_rank = 1"},
    {"artists: replace",
     "DELETE FROM artists WHERE artist_id IN (SELECT artist_id FROM artist_winners)"},
    {"artists: insert", "INSERT INTO artists (artist_id, name, location, latitude, longitude) "
                        "SELECT artist_id, name, location, latitude, longitude "
                        "FROM artist_winners"},
    {"users: this run's latest event per user",
     "CREATE TEMPORARY TABLE user_winners AS "
     "SELECT user_id, first_name, last_name, gender, level, start_time FROM ("
     "SELECT user_id, first_name, last_name, gender, level, " START_TIME(
         "ts") " AS start_time, "
               "ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts DESC, level DESC NULLS LAST, "
               "first_name NULLS LAST, last_name NULLS LAST, gender NULLS LAST) AS row_rank "
               "FROM " EVENTS " e WHERE " SONGPLAY_EVENTS ") ranked WHERE row_rank = 1"},
    /* A user keeps the warehouse's row when its latest play before this run (user_latest) is
     * later than this run's latest event, or as late with a level as great: a join on the run's
     * users, not a correlated EXISTS with an OR (see the song_lookup step). */
    {"users: keep rows that earlier plays still decide",
     "DELETE FROM user_winners WHERE user_id IN (SELECT w.user_id FROM user_winners w "
     "JOIN user_latest latest ON latest.user_id = w.user_id "
     "WHERE latest.start_time > w.start_time OR (latest.start_time = w.start_time "
     "AND COALESCE(latest.level, '') >= COALESCE(w.level, '')))"},
    {"user_latest: replace",
     "DELETE FROM user_latest WHERE user_id IN (SELECT user_id FROM user_winners)"},
    {"user_latest: insert", "INSERT INTO user_latest (user_id, start_time, level) "
                            "SELECT user_id, start_time, level FROM user_winners"},
    {"users: replace", "DELETE FROM users WHERE user_id IN (SELECT user_id FROM user_winners)"},
    {"users: insert", "INSERT INTO users (user_id, first_name, last_name, gender, level) "
                      "SELECT user_id, first_name, last_name, gender, level FROM user_winners"},
    {"songplays: insert with the song match",
     "INSERT INTO songplays (start_time, user_id, level, song_id, artist_id, session_id, "
     "location, user_agent) "
     "SELECT " START_TIME(
         "e.ts") ", e.user_id, e.level, m.song_id, m.artist_id, e.session_id, "
                 "e.location, e.user_agent FROM " EVENTS " e LEFT JOIN ("
                 "SELECT title, artist_name, duration, song_id, artist_id FROM ("
                 "SELECT title, artist_name, duration, song_id, artist_id, ROW_NUMBER() OVER ("
                 "PARTITION BY title, artist_name, duration ORDER BY song_id, artist_id NULLS "
                 "LAST) AS row_rank "
                 "FROM song_lookup) ranked WHERE row_rank = 1) m "
                 "ON m.title = e.song AND m.artist_name = e.artist AND m.duration = e.length "
                 "WHERE e.page = 'NextSong' AND e.user_id IS NOT NULL AND e.user_id <> ''"},
    {"time: new instants",
     "INSERT INTO time (start_time, hour, day, week, month, year, weekday) "
     "SELECT start_time, CAST(DATE_PART('hour', start_time) AS INTEGER), "
     "CAST(DATE_PART('day', start_time) AS INTEGER), "
     "CAST(DATE_PART('week', start_time) AS INTEGER), "
     "CAST(DATE_PART('month', start_time) AS INTEGER), "
     "CAST(DATE_PART('year', start_time) AS INTEGER), "
     "CAST(DATE_PART('dow', start_time) AS INTEGER) "
     "FROM (SELECT DISTINCT " START_TIME(
         "ts") " AS start_time FROM " EVENTS " e "
               "WHERE " SONGPLAY_EVENTS ") instants "
               "WHERE NOT EXISTS (SELECT 1 FROM time t WHERE t.start_time = instants.start_time)"},
    {"drop work tables", "DROP TABLE song_winners, artist_winners, user_winners"},
};

const struct transform_statement *transform_statements(size_t *count)
{
    *count = sizeof statements / sizeof statements[0];
    return statements;
}

static int on_any_row(void *ctx, size_t columns, const char *const *names,
                      const struct cell *values)
{
    (void)columns, (void)names, (void)values;
    *(bool *)ctx = true;
    return SP_OK;
}

int transform_fill_user_latest(struct warehouse *wh, struct sp_error *err)
{
    bool latest = false, plays = false;
    int status = wh->ops->query(wh, "SELECT 1 FROM user_latest LIMIT 1", on_any_row, &latest, err);
    if (status == SP_OK && !latest)
        status = wh->ops->query(wh, "SELECT 1 FROM songplays LIMIT 1", on_any_row, &plays, err);
    if (status == SP_OK && plays)
        status = wh->ops->query(wh, transform_user_latest_fill, NULL, NULL, err);
    if (status != SP_OK)
        sp_error_prefix(err, "filling user_latest from songplays: ");
    return status;
}

int transform_run(struct warehouse *wh, const struct etl_options *o, uint64_t records,
                  struct sp_error *err)
{
    if (transform_fill_user_latest(wh, err) != SP_OK)
        return SP_FAIL;
    size_t count;
    const struct transform_statement *steps = transform_statements(&count);
    for (size_t i = 0; i <= count; i++) {
        if (o->progress) {
            struct etl_progress p = {"transform", i, count, 0, 0, records};
            o->progress(o->progress_ctx, &p);
        }
        if (i < count && wh->ops->query(wh, steps[i].sql, NULL, NULL, err) != SP_OK) {
            sp_error_prefix(err, "transform step '%s': ", steps[i].name);
            return SP_FAIL;
        }
    }
    return SP_OK;
}
