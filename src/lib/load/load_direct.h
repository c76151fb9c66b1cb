/* load_direct.h - the direct load's parts (etl.c runs them): sparkify reads the sources, the
 * model turns records into star rows, and the run writes them to the warehouse.
 *
 * load_songs.c: song files are small and many, so reader threads fetch their bytes while the
 * calling thread parses and merges them in object order, which keeps the model and error reports
 * deterministic. load_events.c: events stream through a producer thread (read, parse, model)
 * into a short queue of row batches that the calling thread writes; then the run's songs,
 * artists and users. Only the calling thread touches the warehouse, inside the run's one
 * transaction (load_run.h).
 */
#ifndef SPARKIFY_LOAD_DIRECT_H
#define SPARKIFY_LOAD_DIRECT_H

#include "json.h"
#include "load_run.h"
#include "model.h"

#define BATCH_ROWS 8192 /* songplay or staging rows per batch handed to the writer */

struct direct_run {
    struct load_run core;
    struct model *model; /* NULL with --transform sql: the warehouse builds the star rows */
    struct field_spec event_spec, song_spec;
    struct rowbuf staging_songs;
    bool stage; /* raw records go to the staging tables (--keep-staging, --transform sql) */
};

/* Reads, checks and models the song objects of run->core.songs (staging them when run->stage),
 * marking those found loaded already by content as skip. */
int load_songs(struct direct_run *run, struct sp_error *err);

/* Streams the log objects of run->core.logs through the model into songplays and time rows (and
 * staging rows when run->stage). */
int load_events(struct direct_run *run, struct sp_error *err);

/* Writes the run's songs, artists, song_lookup rows and, settled against user_latest, users;
 * sets the result's counts. */
int load_dimensions(struct direct_run *run, struct sp_error *err);

static inline void load_report_progress(const struct direct_run *run, const char *phase,
                                        size_t done, size_t total, uint64_t bytes_done,
                                        uint64_t bytes_total, uint64_t records)
{
    const struct etl_options *o = run->core.options;
    if (!o->progress)
        return;
    struct etl_progress p = {phase, done, total, bytes_done, bytes_total, records};
    o->progress(o->progress_ctx, &p);
}

#endif
