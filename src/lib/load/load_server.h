/* load_server.h - the server load, for warehouses whose ops->server_load is set (Redshift): the
 * warehouse COPYs the sources from S3 itself (local sources are uploaded to the staging prefix
 * first) and builds the star tables with SQL (transform_sql.h). */
#ifndef SPARKIFY_LOAD_SERVER_H
#define SPARKIFY_LOAD_SERVER_H

#include "etl.h"

int load_server_run(struct warehouse *wh, const struct etl_options *options,
                    struct etl_result *result, struct sp_error *err);

#endif
