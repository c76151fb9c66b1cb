/* report.c - report SQL, written in the subset SQLite, PostgreSQL and Redshift share. */
#include "report.h"

#include "buffer.h"

#include <stdlib.h>

static const struct {
    const char *name, *title, *sql;
    int limited; /* takes LIMIT top */
} templates[] = {
    {"row_counts", "Rows per table",
     "SELECT 'songplays' AS table_name, COUNT(*) AS row_count FROM songplays "
     "UNION ALL SELECT 'users', COUNT(*) FROM users "
     "UNION ALL SELECT 'songs', COUNT(*) FROM songs "
     "UNION ALL SELECT 'artists', COUNT(*) FROM artists "
     "UNION ALL SELECT 'time', COUNT(*) FROM time",
     0},
    {"matched", "Songplays matched to a song",
     "SELECT COUNT(*) AS songplays, COUNT(song_id) AS matched FROM songplays", 0},
    {"top_songs", "Top songs by plays",
     "SELECT s.title AS song, a.name AS artist, COUNT(*) AS plays "
     "FROM songplays p JOIN songs s ON s.song_id = p.song_id "
     "LEFT JOIN artists a ON a.artist_id = p.artist_id "
     "GROUP BY p.song_id, s.title, a.name ORDER BY plays DESC, song NULLS LAST, artist NULLS LAST",
     1},
    {"top_artists", "Top artists by plays",
     "SELECT a.name AS artist, COUNT(*) AS plays "
     "FROM songplays p JOIN artists a ON a.artist_id = p.artist_id "
     "GROUP BY p.artist_id, a.name ORDER BY plays DESC, artist NULLS LAST",
     1},
    {"plays_by_hour", "Plays by hour of day (UTC)",
     "SELECT t.hour AS hour, COUNT(*) AS plays "
     "FROM songplays p JOIN time t ON t.start_time = p.start_time "
     "GROUP BY t.hour ORDER BY t.hour",
     0},
};

size_t report_sections(int top, struct report_section **sections)
{
    size_t count = sizeof templates / sizeof templates[0];
    struct report_section *out = xcalloc(count, sizeof *out);
    for (size_t i = 0; i < count; i++) {
        struct buffer sql;
        buffer_init(&sql);
        buffer_append_str(&sql, templates[i].sql);
        if (templates[i].limited)
            buffer_printf(&sql, " LIMIT %d", top);
        out[i].name = templates[i].name;
        out[i].title = templates[i].title;
        out[i].sql = sql.data;
    }
    *sections = out;
    return count;
}

void report_sections_free(struct report_section *sections, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free((char *)sections[i].sql);
    free(sections);
}
