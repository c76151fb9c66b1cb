/* transform_sql.h - the star schema built by SQL inside the warehouse, from the staging
 * tables of one run: the path of --transform sql on PostgreSQL and of the Redshift target.
 *
 * The statements use only what both PostgreSQL and Amazon Redshift accept: no ON CONFLICT,
 * no row-value comparisons, no DISTINCT ON; de-duplication with ROW_NUMBER() and
 * DELETE + INSERT. They apply exactly the rules of model.h, so the direct load and this path give
 * the same tables; the tests run these very statements on a real PostgreSQL to prove it.
 */
#ifndef SPARKIFY_TRANSFORM_SQL_H
#define SPARKIFY_TRANSFORM_SQL_H

#include "error.h"
#include "etl.h"
#include "warehouse.h"

#include <stddef.h>
#include <stdint.h>

struct transform_statement {
    const char *name; /* what it does, for progress and error messages */
    const char *sql;
};

/* Fills user_latest from songplays: for a warehouse written before user_latest existed, whose
 * songplays hold rows and user_latest none, once, before a run writes any songplay. */
extern const char transform_user_latest_fill[];

/* The statements, in the order they must run, inside the run's transaction. */
const struct transform_statement *transform_statements(size_t *count);

/* Fills user_latest once for a warehouse written before it existed (songplays hold rows,
 * user_latest none); two one-row probes otherwise. Call before the run writes songplays. */
int transform_fill_user_latest(struct warehouse *wh, struct sp_error *err);

/* Runs the statements (transform_fill_user_latest first) in the run's transaction, reporting
 * progress through `o` as phase "transform" over `records` staged records. */
int transform_run(struct warehouse *wh, const struct etl_options *o, uint64_t records,
                  struct sp_error *err);

#endif
