/* report.h - the analytics questions, as named SQL sections run on any warehouse.
 *
 * Every section is one query in the subset SQLite, PostgreSQL and Redshift share, so every
 * engine gives the same rows. The sections about plays read the songplays of the period
 * [since, until] (whole UTC days); row_counts is about the whole warehouse. top_songs and
 * top_artists count only the plays matched to a song, so they carry a note saying how many
 * matched and why the others did not (report_matched_note).
 */
#ifndef SPARKIFY_REPORT_H
#define SPARKIFY_REPORT_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

struct report_section {
    const char *name;    /* key in JSON output */
    const char *title;   /* heading in text output */
    const char *columns; /* the names of its columns, comma-separated: a header when no rows */
    const char *sql;
    bool matched_only; /* counts only the plays matched to a song: shown with the matched note */
    bool hidden; /* queried only for another section's note (row_counts, matched): not shown */
};

struct report_options {
    int top;             /* length of the top lists */
    const char *since;   /* "YYYY-MM-DD": plays on or after that day (UTC), or NULL */
    const char *until;   /* "YYYY-MM-DD": plays on or before that day (UTC), or NULL */
    const char *section; /* only this section (and, hidden, what its note needs), or NULL */
};

/* The section names in report order, comma-separated: "row_counts, matched, ...". */
const char *report_section_names(void);

/* The sections of `sparkify report` for `options`. A malformed date, a period that ends before
 * it starts or an unknown section name (the message lists the names) is SP_USAGE. The caller
 * frees the sections with report_sections_free. */
int report_sections(const struct report_options *options, struct report_section **sections,
                    size_t *count, struct sp_error *err);
void report_sections_free(struct report_section *sections, size_t count);

/* The note beside a matched_only section, from the `matched` section's songplays and matched
 * and the songs in the catalog (row_counts): how many plays matched and why a play may not.
 * NULL, no note, when the period has no plays or every play matched. The caller frees it. */
char *report_matched_note(long long songplays, long long matched, long long catalog_songs);

/* The share of matched plays as the note writes it: "0.57%", "under 0.01%", "100%"; rounded
 * down, so that only all is 100%. */
void report_matched_share(long long songplays, long long matched, char *out, size_t size);

#endif
