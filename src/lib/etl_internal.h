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
#include "rowbuf.h"
#include "source.h"

struct loaded_entry {
    uint64_t size;
    char *version;
};

/* The rows of loaded_objects, indexed by "kind\0key". */
struct loaded_record {
    struct strmap index; /* "kind\0key" -> entries[] */
    struct loaded_entry *entries;
    size_t count, capacity;
    struct arena strings;
    struct buffer key;
};

void etl_loaded_init(struct loaded_record *r);
void etl_loaded_release(struct loaded_record *r);
int etl_loaded_read(struct warehouse *wh, struct loaded_record *r, struct sp_error *err);
/* Removes from `list` the objects already loaded unchanged, counting them in `skipped`.
 * Changed log objects are an error: their events are already in songplays and cannot be
 * replaced one object at a time. */
int etl_skip_loaded(struct loaded_record *r, const char *kind, struct source_list *list,
                    size_t *skipped, struct sp_error *err);
/* Appends loaded_objects rows for `list`. */
void etl_record_loaded(struct rowbuf *rows, const char *kind, const struct source_list *list,
                       const char *loaded_at);

/* Lists --song-data and --log-data; a usage error when neither is given. */
int etl_list_sources(const struct etl_options *o, struct source_list *songs,
                     struct source_list *logs, struct sp_error *err);
/* "YYYY-MM-DD HH:MM:SS", UTC. */
void etl_utc_now(char *out, size_t size);
/* Copies at most `max` bytes of `s`, replacing bytes that are not valid UTF-8, and control
 * characters other than tab, with '?'. */
size_t etl_utf8_excerpt(const char *s, size_t len, char *out, size_t max);
/* Runs the statements of transform_sql.h, reporting progress. */
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
