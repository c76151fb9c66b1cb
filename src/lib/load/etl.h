/* etl.h - one run of extract -> (staging) -> star tables, as one transaction.
 *
 * The run lists its sources, skips the objects the warehouse has already loaded (same key,
 * size and version), reads new song files on every core, then streams the new log files:
 * one thread reads, parses and models events while the calling thread writes row batches.
 * Any failure rolls the whole run back. Bad records stop the run unless --max-errors lets
 * them be skipped into load_errors.
 */
#ifndef SPARKIFY_ETL_H
#define SPARKIFY_ETL_H

#include "error.h"
#include "s3.h"
#include "warehouse.h"

#include <stdbool.h>
#include <stdint.h>

/* The last phase of every run: its record written, its checks run and its transaction
 * committed; objects_total is 0. */
#define ETL_PHASE_COMMITTING "committing"

struct etl_progress {
    const char *phase; /* "songs", "events", ...; ETL_PHASE_COMMITTING last */
    size_t objects_done, objects_total;
    uint64_t bytes_done, bytes_total;
    uint64_t records;
};

/* Called from a worker thread, a few times per second at most is up to the callee. */
typedef void (*etl_progress_fn)(void *ctx, const struct etl_progress *progress);

enum etl_transform {
    ETL_TRANSFORM_AUTO, /* in sparkify where the warehouse takes rows, else in the warehouse */
    ETL_TRANSFORM_C,    /* the star rows are built in sparkify */
    ETL_TRANSFORM_SQL,  /* raw records are staged and the warehouse builds the star tables */
};

/* Called inside a run's transaction after its work, just before the commit; a non-zero
 * return (with `err` set) rolls the whole run back. `etl --check` runs its checks here. */
typedef int (*etl_before_commit_fn)(void *ctx, struct warehouse *wh, struct sp_error *err);

struct etl_options {
    const char *log_data;     /* source spec or NULL */
    const char *song_data;    /* source spec or NULL */
    const char *log_jsonpath; /* JSONPaths file or NULL for the canonical keys */
    long max_errors;
    bool full_refresh;
    bool keep_staging;
    enum etl_transform transform;
    int threads;          /* song readers; 0 = one per core */
    struct s3_client *s3; /* for s3:// sources and the staging prefix; NULL when unused */
    /* The warehouse path (Redshift), where the warehouse COPYs the sources from S3: */
    const char *iam_role; /* ARN of the role the cluster assumes to read S3 */
    const char *staging;  /* s3://bucket/prefix for manifests, uploads, the JSONPaths file */
    const char *region;   /* the S3 data's region, for COPY */
    etl_progress_fn progress;
    void *progress_ctx;
    etl_before_commit_fn before_commit; /* or NULL */
    void *before_commit_ctx;
};

struct etl_result {
    size_t song_objects, log_objects; /* new objects read */
    size_t skipped_objects;           /* already loaded: the song and log ones below */
    size_t skipped_song_objects, skipped_log_objects;
    uint64_t bytes;
    size_t song_records, events;
    size_t songplays, matched, users, songs, artists;
    size_t bad_records;
    size_t open_lines;   /* unfinished last lines of growing log files, left for the next run */
    size_t blank_events; /* log records with neither page nor ts: not events (song data?) */
};

int etl_run(struct warehouse *wh, const struct etl_options *options, struct etl_result *result,
            struct sp_error *err);

#endif
