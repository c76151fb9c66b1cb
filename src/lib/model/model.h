/* model.h - the star schema's semantics: raw records in, star rows out (DESIGN.md section 3).
 *
 * Songs are held in memory (one entry per song_id and per artist_id, chosen by the rules
 * below, and a hash index on title + artist name + duration for the match). Events stream
 * through: each NextSong event with a user becomes a songplay row at once; the run's users keep
 * their latest event's values in memory (about 60-100 bytes a user: distinct users are what a
 * run's memory grows with), and are settled against the warehouse's user_latest rows of those
 * users only, after the events; time rows are de-duplicated per object (up to a
 * million instants at a time) and by the warehouse's primary key across objects, so memory does
 * not grow with the event count, nor with the size of one object.
 *
 * Trailing spaces: Redshift ignores them when it compares VARCHAR values ("Trailing spaces in
 * VARCHAR values are ignored when string values are compared",
 * https://docs.aws.amazon.com/redshift/latest/dg/c_redshift-sql-implementated-differently.html),
 * while SQLite, PostgreSQL and C compare bytes. So that every target gives the same answer, the
 * star tables and song_lookup never hold a text value ending in a space (U+0020): the model and
 * the SQL transform (RTRIM) cut them before any rule looks at a value. 'Song ' by 'Artist '
 * matches 'Song' by 'Artist'; user_ids, song_ids and artist_ids that differ only in trailing
 * spaces are one key; a location of spaces is empty; page 'NextSong ' is a play. Staging tables
 * keep values as loaded.
 *
 * Deterministic rules, identical in the SQL of every warehouse (so runs may be split):
 * - songs: per song_id the smallest (title, artist_id, year, duration), NULLs last.
 * - artists: per artist_id the most complete row: coordinates present, then a non-empty
 *   location, then the shortest name (in characters), then the smallest name, location,
 *   latitude, longitude.
 * - match ties: the smallest song_id, then artist_id.
 * - users: the event with the greatest ts, then the greatest level ('paid' > 'free'), then
 *   the smallest (first_name, last_name, gender); a user already in the warehouse keeps its
 *   row unless a newer event arrives.
 */
#ifndef SPARKIFY_MODEL_H
#define SPARKIFY_MODEL_H

#include "error.h"
#include "record.h"
#include "rowbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct model;

struct model *model_new(void);
void model_free(struct model *m);

/* Checks a song record the way model_add_song would: returns 0, or -1 with `reason`. */
int model_check_song(const struct cell *song, char *reason, size_t reason_size);

/* Checks an event: returns 1 for a songplay (NextSong with a user), 0 for any other event,
 * -1 with `reason` for a record that cannot be loaded (a songplay without a usable ts). */
int model_check_event(const struct cell *event, char *reason, size_t reason_size);

/* Adds one song record. Returns 0, or -1 with `reason` (a record the model cannot use). */
int model_add_song(struct model *m, const struct cell *song, char *reason, size_t reason_size);

/* The run's users, after the events, a chunk at a time so that a million users need no
 * million rows at once: model_user_ids sets `ids` to the user_ids (text owned by the model) of
 * up to `max` users from position `first` of user_id order and returns how many (0 past the
 * last); model_settle_user settles each against the warehouse; model_user_rows appends the
 * rows this run decides for positions [first, first + count): users rows to `users`, their
 * latest plays to `latest` (user_latest rows), both in user_id order. */
size_t model_user_count(const struct model *m);
size_t model_user_ids(struct model *m, size_t first, size_t max, struct cell *ids);
/* Settles a user of the run against the warehouse's latest play of that user (user_latest's
 * ts, level): the warehouse's row stands unless the run's latest event is later, or as late
 * with a greater level. */
void model_settle_user(struct model *m, const struct cell *user_id, int64_t ts,
                       const struct cell *level);
void model_user_rows(struct model *m, size_t first, size_t count, struct rowbuf *users,
                     struct rowbuf *latest);

struct match;

/* A songplay row whose match the writer settles (probe mode). */
struct model_pending {
    size_t row;
    struct match *entry;
};

/* Where the event stream's rows go. */
struct model_output {
    struct rowbuf songplays;
    struct rowbuf time;
    struct model_pending *pending; /* probe mode: rows whose song_id the writer fills in */
    size_t pending_count, pending_capacity;
    struct match **probes; /* the keys of model_output_probe_keys */
    struct cell *probe_keys;
    size_t probe_count, probe_capacity;
};

void model_output_init(struct model_output *out);
void model_output_release(struct model_output *out);
void model_output_clear(struct model_output *out);

/* Processes one event. A NextSong event with a user adds a songplay row (and a time row the
 * first time its ts is seen in the current object). Returns 0, or -1 with `reason`; on error
 * nothing has changed. Safe to call from one thread at a time. */
int model_add_event(struct model *m, const struct cell *event, struct model_output *out,
                    char *reason, size_t reason_size);

/* Probe mode, for a run whose warehouse's song_lookup holds rows: instead of reading every row
 * of it first, each batch's new match keys are looked up in it by the thread writing the batch:
 * model_output_probe_keys, model_output_found for each song_lookup row of a key, then
 * model_output_resolve fills in the songplays' song_id and artist_id. Call after the songs,
 * before the events. */
void model_probe_warehouse(struct model *m);
/* Probe mode: whether the entries of keys asked about have reached their bound; then, once every
 * batch that holds pending rows is written (and before the next is filled), model_probe_forget
 * drops the entries of keys that matched no song (they are asked again if seen again). */
bool model_probe_full(const struct model *m);
void model_probe_forget(struct model *m);
/* The match keys of `out` not asked for before: `*count` keys of three cells each (title, artist
 * name, duration). Call from the writing thread. */
const struct cell *model_output_probe_keys(struct model_output *out, size_t *count);
/* A song_lookup row for key `i` of the last model_output_probe_keys (the tie rule keeps one). */
void model_output_found(struct model *m, struct model_output *out, size_t i,
                        const struct cell *song_id, const struct cell *artist_id);
/* Fills in `out`'s songplays' matches, once every key was asked for. */
void model_output_resolve(struct model *m, struct model_output *out);

/* Forgets the per-object time de-duplication (call between objects). */
void model_end_object(struct model *m);

struct model_counts {
    size_t songplays;
    size_t matched;
    size_t users;
    size_t songs;
    size_t artists;
};

void model_counts(const struct model *m, struct model_counts *counts);

/* The run's songs, artists and song_lookup rows (owned by the model, sorted by key). The model
 * takes no more songs or events after this. */
void model_dimensions(struct model *m, const struct rowbuf **songs, const struct rowbuf **artists,
                      const struct rowbuf **lookup);

/* <0 when song row `a` wins over `b` (cells in songs-table order). */
int model_compare_songs(const struct cell *a, const struct cell *b);
/* <0 when artist row `a` wins over `b` (cells in artists-table order). */
int model_compare_artists(const struct cell *a, const struct cell *b);

#endif
