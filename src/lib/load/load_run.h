/* load_run.h - what the two load flows share: the direct load (etl.c, load_songs.c,
 * load_events.c), where sparkify reads the sources and writes star rows, and the server load
 * (load_server.c), where Redshift COPYs the sources itself.
 *
 * A run lists its sources, leaves out the objects the warehouse has loaded already (by the
 * loaded_objects record), loads the rest inside one transaction, and ends by writing the record
 * of what it loaded, its load_errors rows and its etl_runs row. Both flows go through
 * load_run_transaction, so both begin, commit and roll back the same way.
 */
#ifndef SPARKIFY_LOAD_RUN_H
#define SPARKIFY_LOAD_RUN_H

#include "etl.h"
#include "loaded_objects.h"
#include "rowbuf.h"
#include "source.h"

/* A JSONPaths file names 18 keys: a megabyte is far more than one needs. */
#define JSONPATHS_MAX ((size_t)1 << 20)

struct load_run {
    struct warehouse *wh;
    const struct etl_options *options;
    struct etl_result *result;
    struct source_list songs, logs; /* what --song-data and --log-data list, then what is new */
    struct loaded_record loaded;
    struct rowbuf errors; /* load_errors rows: the bad records kept under --max-errors */
    char run_at[32];      /* "YYYY-MM-DD HH:MM:SS" UTC: loaded_at and etl_runs.run_at */
};

/* Clears `result` and starts a run at the current time. */
void load_run_init(struct load_run *run, struct warehouse *wh, const struct etl_options *options,
                   struct etl_result *result);
void load_run_release(struct load_run *run);

/* Lists --song-data and --log-data into run->songs and run->logs; a usage error when neither is
 * given. */
int load_run_list(struct load_run *run, struct sp_error *err);

/* Reads the loaded_objects rows of the kinds listed (unless `read_record` is false: a full
 * refresh has emptied the table, a dry run cannot read it) and plans both lists against them
 * (loaded_objects.h), counting the objects left out in result->skipped_objects. */
int load_run_plan(struct load_run *run, bool read_record, struct sp_error *err);

/* Drops the objects marked skip from both lists once read, counting them as skipped. */
void load_run_drop_skipped(struct load_run *run);

/* Appends a load_errors row: where (file and line), why, and an excerpt of the raw record. */
void load_run_error_row(struct load_run *run, const char *source, size_t line, const char *reason,
                        const char *raw, size_t raw_len);

/* A bad record the direct load found: a load_errors row while --max-errors allows, else the
 * run's error (nothing is written). */
int load_run_bad_record(struct load_run *run, const char *source, size_t line, const char *reason,
                        const char *raw, size_t raw_len, struct sp_error *err);

/* The one transaction of a run: BEGIN, `body`, then load_run_finish and COMMIT, or ROLLBACK
 * when any step fails, leaving the warehouse as it was. */
int load_run_transaction(struct load_run *run,
                         int (*body)(struct load_run *run, void *ctx, struct sp_error *err),
                         void *ctx, struct sp_error *err);

/* Copies at most `max` bytes of `s`, replacing bytes that are not valid UTF-8, and control
 * characters other than tab, with '?'. */
size_t load_utf8_excerpt(const char *s, size_t len, char *out, size_t max);

#endif
