/* etl_internal.h - what the two ways of loading share: the C path of etl.c, where sparkify
 * reads the sources, and the warehouse path of etl_copy.c, where Redshift COPYs them.
 *
 * Both list the sources the same way, skip objects the warehouse has already loaded by the
 * same record, write that record in the same shape, and run the same SQL transform.
 */
#ifndef SPARKIFY_ETL_INTERNAL_H
#define SPARKIFY_ETL_INTERNAL_H

#include "etl.h"
#include "hashmap.h"
#include "loaded_objects.h"
#include "rowbuf.h"
#include "source.h"

/* A JSONPaths file names 18 keys: a megabyte is far more than one needs. */
#define JSONPATHS_MAX ((size_t)1 << 20)

/* Reads loaded_objects into `loaded` (unless `wh` is NULL: a full refresh has emptied it) and
 * plans both lists against it (loaded_objects.h). */
int etl_plan(struct warehouse *wh, struct loaded_record *loaded, struct source_list *songs,
             struct source_list *logs, size_t *skipped, struct sp_error *err);
/* Writes the loaded_objects rows of a run: the objects it loaded and those it found loaded at
 * a path of their own. */
int etl_write_loaded(struct warehouse *wh, struct loaded_record *loaded,
                     const struct source_list *songs, const struct source_list *logs,
                     const char *loaded_at, struct sp_error *err);

/* Lists --song-data and --log-data; a usage error when neither is given. */
int etl_list_sources(const struct etl_options *o, struct source_list *songs,
                     struct source_list *logs, struct sp_error *err);
/* "YYYY-MM-DD HH:MM:SS", UTC. */
void etl_utc_now(char *out, size_t size);
/* Copies at most `max` bytes of `s`, replacing bytes that are not valid UTF-8, and control
 * characters other than tab, with '?'. */
size_t etl_utf8_excerpt(const char *s, size_t len, char *out, size_t max);
/* Fills user_latest once for a warehouse written before it existed (songplays hold rows,
 * user_latest none); two one-row probes otherwise. Call before the run writes songplays. */
int etl_fill_user_latest(struct warehouse *wh, struct sp_error *err);
/* Runs the statements of transform_sql.h (etl_fill_user_latest first), reporting progress. */
int etl_transform(struct warehouse *wh, const struct etl_options *o, uint64_t records,
                  struct sp_error *err);

/* The last step of every load flow, inside its transaction: records the run in etl_runs
 * (run_at is UTC "YYYY-MM-DD HH:MM:SS"), then calls options->before_commit. */
int etl_finish_run(struct warehouse *wh, const struct etl_options *options,
                   const struct etl_result *result, const char *run_at, struct sp_error *err);

/* The warehouse path (etl_copy.c), for engines with ops->server_load. */
int etl_copy_run(struct warehouse *wh, const struct etl_options *options, struct etl_result *result,
                 struct sp_error *err);

#endif
