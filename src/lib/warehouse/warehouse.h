/* warehouse.h - where the star schema lives: one interface, one implementation per engine.
 *
 * A warehouse creates the tables, runs one transaction per job, writes row batches, reads
 * back what incremental runs need (the loaded-objects record, the song match index, each
 * user's latest play) and runs queries with typed results. Targets are URLs: sqlite:PATH,
 * postgresql://user:pass@host:port/db (or a libpq keyword string) and
 * redshift://user:pass@host:5439/db, or a Redshift cluster's settings as libpq keywords.
 *
 * A warehouse opened for a dry run connects to nothing: every statement it would run is handed
 * to a callback instead, and queries return no rows.
 */
#ifndef SPARKIFY_WAREHOUSE_H
#define SPARKIFY_WAREHOUSE_H

#include "error.h"
#include "rowbuf.h"

#include <stdbool.h>

struct warehouse;

/* Receives one result row; column names are given once per query through `names`.
 * A non-zero return stops the query and is returned. */
typedef int (*warehouse_row_fn)(void *ctx, size_t columns, const char *const *names,
                                const struct cell *values);

/* Receives each statement of a dry run (text without the final ';'), or a note that starts
 * with "--". */
typedef void (*warehouse_statement_fn)(void *ctx, const char *sql);

struct warehouse_dry_run {
    warehouse_statement_fn fn;
    void *ctx;
};

struct warehouse_ops {
    const char *engine;
    bool sql_transform; /* runs the statements of transform_sql.h */
    bool server_load;   /* loads sources itself, from S3 (load_server.h), never through sparkify */
    int (*create_tables)(struct warehouse *wh, bool drop_first, struct sp_error *err);
    int (*begin)(struct warehouse *wh, struct sp_error *err);
    int (*commit)(struct warehouse *wh, struct sp_error *err);
    void (*rollback)(struct warehouse *wh);
    /* Empties the tables named in `tables` (a bit set of 1 << table_id). */
    int (*truncate)(struct warehouse *wh, unsigned tables, struct sp_error *err);
    int (*write)(struct warehouse *wh, const struct rowbuf *rows, struct sp_error *err);
    /* Runs SQL (one or more statements); rows of each go to `fn` (NULL: discarded). A query
     * sees every row written before it in the same transaction. */
    int (*query)(struct warehouse *wh, const char *sql, warehouse_row_fn fn, void *ctx,
                 struct sp_error *err);
    /* Runs one statement of the user's (`sparkify query`): SQL holding more than one is refused
     * (SP_USAGE) before any runs. Without `write`, nothing can change: a statement that would
     * is refused (SP_USAGE); with it, the change is committed. */
    int (*user_query)(struct warehouse *wh, const char *sql, bool write, warehouse_row_fn fn,
                      void *ctx, struct sp_error *err);
    /* The user_latest rows (user_id, start_time, level) of those of the `count` user_ids (text
     * cells) it holds: each user's latest play, found by key, never by reading songplays. */
    int (*user_latest)(struct warehouse *wh, const struct cell *user_ids, size_t count,
                       warehouse_row_fn fn, void *ctx, struct sp_error *err);
    /* The song_lookup rows (i, song_id, artist_id) matching key i of the `count` keys (three
     * cells each: title, artist_name, duration), found through its index, never by reading
     * every row. */
    int (*song_lookup_probe)(struct warehouse *wh, const struct cell *keys, size_t count,
                             warehouse_row_fn fn, void *ctx, struct sp_error *err);
    void (*close)(struct warehouse *wh);
};

/* Where a server's warnings go, one line each ("<target>: <message>"); fn NULL: stderr. Its
 * notices below WARNING (Redshift's INFO after every COPY, NOTICE of IF EXISTS) are dropped. */
struct warehouse_warning {
    void (*fn)(void *ctx, const char *line);
    void *ctx;
};

struct warehouse {
    const struct warehouse_ops *ops;
    char *display;                    /* the target as it may be shown: no password */
    struct warehouse_dry_run dry_run; /* fn NULL: statements really run */
    struct warehouse_warning warning;
};

enum warehouse_mode {
    WAREHOUSE_READ,  /* the warehouse must exist */
    WAREHOUSE_WRITE, /* created when absent */
};

/* Where the warehouse is: `url` (sqlite:PATH, postgresql://..., a libpq keyword string such as
 * "host=db dbname=x", redshift://...), or, with `url` NULL, a Redshift cluster given as libpq
 * keywords (dwh.cfg [CLUSTER]: host, port, dbname, user, password). Keywords never pass through
 * a URL, so no character of a setting needs escaping or can change the host. */
struct warehouse_target {
    const char *url;
    const char *const *keys; /* NULL-terminated; values[i] is the value of keys[i] */
    const char *const *values;
};

/* Opens `target`; with `dry_run`, nothing is connected, opened or created. */
int warehouse_open_target(const struct warehouse_target *target, enum warehouse_mode mode,
                          const struct warehouse_dry_run *dry_run, struct warehouse **out,
                          struct sp_error *err);
/* Checks `target` as warehouse_open_target would, without opening it, and sets `display` to how
 * it may be shown (malloc'd): passwords and other secrets, in any form, as ***. */
int warehouse_target_display(const struct warehouse_target *target, char **display,
                             struct sp_error *err);
/* The same for a target URL. */
int warehouse_open(const char *target, enum warehouse_mode mode, struct warehouse **out,
                   struct sp_error *err);
int warehouse_open_dry_run(const char *target, const struct warehouse_dry_run *dry_run,
                           struct warehouse **out, struct sp_error *err);
void warehouse_close(struct warehouse *wh);
/* The rows of each of sparkify's tables that exist and hold any, in the order of table_defs, as
 * "songplays 6820 rows, users 96 rows" (malloc'd; "" when none does): what dropping the tables
 * would lose. In a dry run the catalog query is shown and no table is found. */
int warehouse_data_summary(struct warehouse *wh, char **summary, struct sp_error *err);
/* In a dry run, hands `sql` to the callback and returns true; otherwise returns false. */
bool warehouse_dry_run(struct warehouse *wh, const char *sql);
/* Copies the display of the target URL `target` (or the error, when it is not one) to `out`. */
void warehouse_mask_target(const char *target, char *out, size_t size);

#endif
