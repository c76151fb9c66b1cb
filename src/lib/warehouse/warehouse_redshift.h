/* warehouse_redshift.h - Amazon Redshift specifics that the server load (load_server.c) needs:
 * values pasted into SQL, the COPY statement and where COPY records its load errors.
 *
 * COPY cannot take bind parameters, so S3 paths, the IAM role and the region are pasted into
 * the statement as string literals. Redshift reads a backslash in a literal as an escape (its
 * QUOTE_LITERAL doubles both quotes and backslashes), so both are doubled here; values that
 * have no business holding control characters are refused instead, naming the setting.
 */
#ifndef SPARKIFY_WAREHOUSE_REDSHIFT_H
#define SPARKIFY_WAREHOUSE_REDSHIFT_H

#include "buffer.h"
#include "error.h"
#include "warehouse.h"

#include <stdbool.h>

/* Appends 's' quoted as a Redshift string literal. */
void redshift_literal(struct buffer *sql, const char *s, size_t len);

/* Checks a configuration value before it becomes a literal: no control characters, and for
 * the IAM role `default` (the cluster's default role) or up to 10 comma-separated role ARNs
 * arn:PARTITION:iam::ACCOUNT:role/NAME (a chain, each assuming the next). `what` names the
 * setting. */
int redshift_check_value(const char *what, const char *value, struct sp_error *err);
int redshift_check_iam_role(const char *arn, struct sp_error *err);
int redshift_check_region(const char *region, struct sp_error *err);

struct redshift_copy {
    const char *table;    /* staging_events or staging_songs */
    const char *from;     /* s3://bucket/prefix, or the manifest's URL */
    bool manifest;        /* `from` is a manifest */
    const char *jsonpath; /* s3:// URL of a JSONPaths file, or NULL for 'auto' */
    const char *iam_role;
    const char *region;
    bool gzip;
    long max_errors; /* bad records COPY may skip (MAXERROR is one more); 0 leaves it out */
};

/* COPY fails when it meets MAXERROR errors, and MAXERROR is at most 100000
 * (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-load.html#copy-maxerror):
 * a run may skip at most one bad record fewer. */
#define REDSHIFT_MAX_ERRORS 99999

/* Counts loaded_objects.fingerprint (0 or 1): a warehouse created before it lacks it. */
#define REDSHIFT_FINGERPRINT_COLUMN_SQL                                                            \
    "SELECT COUNT(*) AS present FROM information_schema.columns WHERE table_schema = "             \
    "CURRENT_SCHEMA() AND table_name = 'loaded_objects' AND column_name = 'fingerprint'"

/* The COPY statement, without the final ';'. */
int redshift_copy_sql(struct buffer *sql, const struct redshift_copy *copy, struct sp_error *err);

/* The load errors of the session's last COPY: (file, line, column, reason, raw line). */
extern const char redshift_load_errors_sql[];

#endif
