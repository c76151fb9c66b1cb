/* status.c - the status sections (see status.h). Every ordering names enough columns to be
 * total, so that every engine prints the same rows in the same order. */
#include "status.h"

static const struct report_section sections[] = {
    {"tables", "Rows per table", "table_name,row_count",
     "SELECT 'songplays' AS table_name, COUNT(*) AS row_count FROM songplays "
     "UNION ALL SELECT 'users', COUNT(*) FROM users "
     "UNION ALL SELECT 'songs', COUNT(*) FROM songs "
     "UNION ALL SELECT 'artists', COUNT(*) FROM artists "
     "UNION ALL SELECT 'time', COUNT(*) FROM time "
     "UNION ALL SELECT 'song_lookup', COUNT(*) FROM song_lookup "
     "UNION ALL SELECT 'user_latest', COUNT(*) FROM user_latest "
     "UNION ALL SELECT 'loaded_objects', COUNT(*) FROM loaded_objects "
     "UNION ALL SELECT 'load_errors', COUNT(*) FROM load_errors "
     "UNION ALL SELECT 'etl_runs', COUNT(*) FROM etl_runs",
     false, false},
    {"loaded", "Objects loaded, by kind", "kind,objects,bytes,first_loaded,last_loaded",
     "SELECT kind, COUNT(*) AS objects, SUM(size) AS bytes, MIN(loaded_at) AS first_loaded, "
     "MAX(loaded_at) AS last_loaded FROM loaded_objects GROUP BY kind ORDER BY kind",
     false, false},
    {"runs", "The last 10 runs", "run_at,log_objects,song_objects,events,songplays,bad_records",
     "SELECT run_at, log_objects, song_objects, events, songplays, bad_records FROM etl_runs "
     "ORDER BY run_at DESC, log_objects DESC, song_objects DESC, events DESC, songplays DESC, "
     "bad_records DESC LIMIT 10",
     false, false},
    {"load_errors", "Bad records kept (load_errors), by file",
     "source,records,first_line,last_loaded",
     "SELECT source, COUNT(*) AS records, MIN(line) AS first_line, MAX(loaded_at) AS last_loaded "
     "FROM load_errors GROUP BY source ORDER BY records DESC, source LIMIT 20",
     false, false},
};

const struct report_section *status_sections(size_t *count)
{
    *count = sizeof sections / sizeof sections[0];
    return sections;
}
