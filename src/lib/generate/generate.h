/* generate.h - a realistic synthetic Sparkify dataset, for demos, tests and benchmarks.
 *
 * The output has the layout and the quirks of the real sample: log_data/YYYY/MM/
 * YYYY-MM-DD-events.json (JSON Lines, no newline after the last line) and
 * song_data/A/B/C/TR....json (one object per file), a page mix led by NextSong, logged-out
 * events with userId "", users who upgrade and downgrade, sessions with consecutive
 * itemInSession, escaped userAgent strings, non-ASCII names, year 0 and null coordinates.
 * A chosen share of NextSong events names a song of the catalogue exactly.
 *
 * Every value derives from (seed, index) through a counter-based generator, so the same
 * options give the same bytes, and memory does not depend on the number of events or songs:
 * a song is recomputed from its index whenever an event plays it.
 */
#ifndef SPARKIFY_GENERATE_H
#define SPARKIFY_GENERATE_H

#include "error.h"

#include <stdbool.h>
#include <stdint.h>

struct generate_options {
    const char *out_dir;
    uint64_t events;
    uint64_t songs;
    uint64_t seed;
    uint32_t days;          /* log files, one per day */
    uint32_t users;         /* 0 = derived from events */
    double match_share;     /* share of NextSong events that match a catalogue song */
    bool songs_in_one_file; /* song_data/songs.json holding every song, one per line */
    bool force;             /* write into a non-empty out_dir, removing its song_data and
                               log_data first */
    int start_year, start_month, start_day;
};

struct generate_result {
    uint64_t events, nextsong_events, matching_events, songs, files, bytes;
};

void generate_options_default(struct generate_options *o);
/* Writes the dataset under o->out_dir, made if absent. A directory holding anything is refused
 * (SP_USAGE), as what is written would mix with it (fewer songs than before would leave the
 * others): unless o->force, which removes out_dir/song_data and out_dir/log_data first and
 * leaves anything else there as it is. */
int generate_dataset(const struct generate_options *o, struct generate_result *result,
                     struct sp_error *err);

#endif
