/* schema.h - the tables: the one list of tables, columns, types and text sizes that every
 * warehouse builds its SQL from, and that row buffers (rowbuf.h) are shaped by.
 */
#ifndef SPARKIFY_SCHEMA_H
#define SPARKIFY_SCHEMA_H

#include "record.h"

#include <stddef.h>
#include <stdint.h>

enum table_id {
    TABLE_STAGING_EVENTS,
    TABLE_STAGING_SONGS,
    TABLE_SONGPLAYS,
    TABLE_USERS,
    TABLE_SONGS,
    TABLE_ARTISTS,
    TABLE_TIME,
    TABLE_SONG_LOOKUP,
    TABLE_USER_LATEST,
    TABLE_LOADED_OBJECTS,
    TABLE_LOAD_ERRORS,
    TABLE_ETL_RUNS,
    TABLE_COUNT
};

#define TABLE_MAX_COLUMNS 18

struct table_def {
    const char *name;
    size_t column_count; /* the columns a rowbuf carries (songplay_id is generated) */
    const char *const *columns;
    const enum column_type *types;
    /* The most bytes of a text value per column (record.h's sizes; Redshift's VARCHAR sizes);
     * 0 for a column that is not text on the server targets (numbers, start_time). */
    const uint32_t *text_bytes;
    const char *primary_key; /* comma-separated, or NULL */
};

extern const struct table_def table_defs[TABLE_COUNT];

#endif
