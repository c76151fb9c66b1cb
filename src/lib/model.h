/* model.h - the star schema's semantics: raw records in, star rows out (DESIGN.md section 3).
 *
 * Songs are held in memory (one entry per song_id and per artist_id, chosen by the rules
 * below, and a hash index on title + artist name + duration for the match). Events stream
 * through: each NextSong event with a user becomes a songplay row at once; users keep their
 * latest (ts, level) in memory; time rows are de-duplicated per object and by the
 * warehouse's primary key across objects, so memory does not grow with the event count.
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

/* Adds an entry to the match index only (a song loaded by an earlier run). */
void model_add_song_lookup(struct model *m, const struct cell *lookup);

/* Seeds a user's latest (ts, level) as the warehouse has it. */
void model_seed_user(struct model *m, const struct cell *user_id, int64_t ts,
                     const struct cell *level);

/* Where the event stream's rows go. */
struct model_output {
    struct rowbuf songplays;
    struct rowbuf time;
};

void model_output_init(struct model_output *out);
void model_output_release(struct model_output *out);
void model_output_clear(struct model_output *out);

/* Processes one event. A NextSong event with a user adds a songplay row (and a time row the
 * first time its ts is seen in the current object). Returns 0, or -1 with `reason`; on error
 * nothing has changed. Safe to call from one thread at a time. */
int model_add_event(struct model *m, const struct cell *event, struct model_output *out,
                    char *reason, size_t reason_size);

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

/* The run's songs, artists and song_lookup rows (owned by the model, sorted by key), and
 * appends the users whose row this run decides to `users`. The model takes no more songs or
 * events after this. */
void model_dimensions(struct model *m, const struct rowbuf **songs, const struct rowbuf **artists,
                      const struct rowbuf **lookup, struct rowbuf *users);

/* <0 when song row `a` wins over `b` (cells in songs-table order). */
int model_compare_songs(const struct cell *a, const struct cell *b);
/* <0 when artist row `a` wins over `b` (cells in artists-table order). */
int model_compare_artists(const struct cell *a, const struct cell *b);

#endif
