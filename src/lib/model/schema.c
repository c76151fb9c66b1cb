/* schema.c - the tables (schema.h). */
#include "schema.h"

static const char *const songplays_columns[] = {"start_time", "user_id",   "level",
                                                "song_id",    "artist_id", "session_id",
                                                "location",   "user_agent"};
static const enum column_type songplays_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT,
                                                   COLUMN_TEXT, COLUMN_TEXT, COLUMN_INT,
                                                   COLUMN_TEXT, COLUMN_TEXT};
/* A star column is as wide as the staging column it is copied from. */
static const uint32_t songplays_text_bytes[] = {
    0, TEXT_BYTES_ID,       TEXT_BYTES_CODE,      TEXT_BYTES_ID, TEXT_BYTES_ID,
    0, TEXT_BYTES_LOCATION, TEXT_BYTES_USER_AGENT};
static const char *const users_columns[] = {"user_id", "first_name", "last_name", "gender",
                                            "level"};
static const enum column_type users_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT,
                                               COLUMN_TEXT};
static const uint32_t users_text_bytes[] = {TEXT_BYTES_ID, TEXT_BYTES_PERSON_NAME,
                                            TEXT_BYTES_PERSON_NAME, TEXT_BYTES_CODE,
                                            TEXT_BYTES_CODE};
static const char *const songs_columns[] = {"song_id", "title", "artist_id", "year", "duration"};
static const enum column_type songs_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT, COLUMN_INT,
                                               COLUMN_DOUBLE};
static const uint32_t songs_text_bytes[] = {TEXT_BYTES_ID, TEXT_BYTES_TITLE, TEXT_BYTES_ID, 0, 0};
static const char *const artists_columns[] = {"artist_id", "name", "location", "latitude",
                                              "longitude"};
static const enum column_type artists_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT,
                                                 COLUMN_DOUBLE, COLUMN_DOUBLE};
static const uint32_t artists_text_bytes[] = {TEXT_BYTES_ID, TEXT_BYTES_TITLE, TEXT_BYTES_LOCATION,
                                              0, 0};
static const char *const time_columns[] = {"start_time", "hour", "day",    "week",
                                           "month",      "year", "weekday"};
static const enum column_type time_types[] = {COLUMN_TEXT, COLUMN_INT, COLUMN_INT, COLUMN_INT,
                                              COLUMN_INT,  COLUMN_INT, COLUMN_INT};
static const uint32_t time_text_bytes[] = {0, 0, 0, 0, 0, 0, 0};
static const char *const song_lookup_columns[] = {"title", "artist_name", "duration", "song_id",
                                                  "artist_id"};
static const enum column_type song_lookup_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_DOUBLE,
                                                     COLUMN_TEXT, COLUMN_TEXT};
static const uint32_t song_lookup_text_bytes[] = {TEXT_BYTES_TITLE, TEXT_BYTES_TITLE, 0,
                                                  TEXT_BYTES_ID, TEXT_BYTES_ID};
/* Each user's latest play as the warehouse holds it (start_time, then level), so that a run
 * decides its users by probing their keys instead of reading every songplay. */
static const char *const user_latest_columns[] = {"user_id", "start_time", "level"};
static const enum column_type user_latest_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT};
static const uint32_t user_latest_text_bytes[] = {TEXT_BYTES_ID, 0, TEXT_BYTES_CODE};

/* Bookkeeping text is sparkify's own, not the sources': short codes and times, and paths, keys
 * and messages of any length. */
#define BOOKKEEPING_SHORT 256
#define BOOKKEEPING_LONG 65535

/* fingerprint comes last: warehouses created before it gained it as an added column. */
static const char *const loaded_objects_columns[] = {"kind",    "object_key", "size",
                                                     "version", "loaded_at",  "fingerprint"};
static const enum column_type loaded_objects_types[] = {COLUMN_TEXT, COLUMN_TEXT, COLUMN_BIGINT,
                                                        COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT};
static const uint32_t loaded_objects_text_bytes[] = {
    BOOKKEEPING_SHORT, BOOKKEEPING_LONG,  0,
    BOOKKEEPING_SHORT, BOOKKEEPING_SHORT, BOOKKEEPING_SHORT};
static const char *const load_errors_columns[] = {"source", "line", "reason", "raw", "loaded_at"};
static const enum column_type load_errors_types[] = {COLUMN_TEXT, COLUMN_BIGINT, COLUMN_TEXT,
                                                     COLUMN_TEXT, COLUMN_TEXT};
static const uint32_t load_errors_text_bytes[] = {BOOKKEEPING_LONG, 0, BOOKKEEPING_LONG,
                                                  BOOKKEEPING_LONG, BOOKKEEPING_SHORT};

static const char *const etl_runs_columns[] = {"run_at", "log_objects", "song_objects",
                                               "events", "songplays",   "bad_records"};
static const enum column_type etl_runs_types[] = {COLUMN_TEXT,   COLUMN_BIGINT, COLUMN_BIGINT,
                                                  COLUMN_BIGINT, COLUMN_BIGINT, COLUMN_BIGINT};
static const uint32_t etl_runs_text_bytes[] = {BOOKKEEPING_SHORT, 0, 0, 0, 0, 0};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define TABLE(name, prefix, key)                                                                   \
    {                                                                                              \
        name, COUNT(prefix##_columns), prefix##_columns, prefix##_types, prefix##_text_bytes, key  \
    }

const struct table_def table_defs[TABLE_COUNT] = {
    [TABLE_STAGING_EVENTS] = {"staging_events", EVENT_FIELD_COUNT, event_columns, event_types,
                              event_text_bytes, NULL},
    [TABLE_STAGING_SONGS] = {"staging_songs", SONG_FIELD_COUNT, song_columns, song_types,
                             song_text_bytes, NULL},
    [TABLE_SONGPLAYS] = TABLE("songplays", songplays, "songplay_id"),
    [TABLE_USERS] = TABLE("users", users, "user_id"),
    [TABLE_SONGS] = TABLE("songs", songs, "song_id"),
    [TABLE_ARTISTS] = TABLE("artists", artists, "artist_id"),
    [TABLE_TIME] = TABLE("time", time, "start_time"),
    [TABLE_SONG_LOOKUP] = TABLE("song_lookup", song_lookup, NULL),
    [TABLE_USER_LATEST] = TABLE("user_latest", user_latest, "user_id"),
    [TABLE_LOADED_OBJECTS] = TABLE("loaded_objects", loaded_objects, "kind, object_key"),
    [TABLE_LOAD_ERRORS] = TABLE("load_errors", load_errors, NULL),
    [TABLE_ETL_RUNS] = TABLE("etl_runs", etl_runs, NULL),
};

/* Each table's lists have as many entries as it has columns. */
_Static_assert(COUNT(songplays_text_bytes) == COUNT(songplays_columns), "songplays sizes");
_Static_assert(COUNT(users_text_bytes) == COUNT(users_columns), "users sizes");
_Static_assert(COUNT(songs_text_bytes) == COUNT(songs_columns), "songs sizes");
_Static_assert(COUNT(artists_text_bytes) == COUNT(artists_columns), "artists sizes");
_Static_assert(COUNT(time_text_bytes) == COUNT(time_columns), "time sizes");
_Static_assert(COUNT(song_lookup_text_bytes) == COUNT(song_lookup_columns), "song_lookup sizes");
_Static_assert(COUNT(user_latest_text_bytes) == COUNT(user_latest_columns), "user_latest sizes");
_Static_assert(COUNT(loaded_objects_text_bytes) == COUNT(loaded_objects_columns),
               "loaded_objects sizes");
_Static_assert(COUNT(load_errors_text_bytes) == COUNT(load_errors_columns), "load_errors sizes");
_Static_assert(COUNT(etl_runs_text_bytes) == COUNT(etl_runs_columns), "etl_runs sizes");
