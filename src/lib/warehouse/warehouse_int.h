/* warehouse_int.h - the engines behind warehouse.h, for warehouse.c's factory and the engines
 * themselves only: everything else opens a warehouse by its target (warehouse_open). */
#ifndef SPARKIFY_WAREHOUSE_INT_H
#define SPARKIFY_WAREHOUSE_INT_H

#include "warehouse.h"

/* The engines; `dry_run` NULL for a real connection. */
int warehouse_open_sqlite(const char *path, enum warehouse_mode mode,
                          const struct warehouse_dry_run *dry_run, struct warehouse **out,
                          struct sp_error *err);
struct libpq_target;
/* PG* environment variables fill in what the target leaves out. */
int warehouse_open_postgres(const struct libpq_target *target,
                            const struct warehouse_dry_run *dry_run, struct warehouse **out,
                            struct sp_error *err);
/* sslmode=require unless the target says otherwise. */
int warehouse_open_redshift(const struct libpq_target *target,
                            const struct warehouse_dry_run *dry_run, struct warehouse **out,
                            struct sp_error *err);

#endif
