/* report.h - the analytics questions, as named SQL sections run on any warehouse.
 *
 * Every section is one query in the subset SQLite, PostgreSQL and Redshift share, so every
 * engine gives the same rows. The sections about plays read the songplays of the period
 * [since, until] (whole UTC days); row_counts is about the whole warehouse.
 */
#ifndef SPARKIFY_REPORT_H
#define SPARKIFY_REPORT_H

#include "error.h"

#include <stddef.h>

struct report_section {
    const char *name;  /* key in JSON output */
    const char *title; /* heading in text output */
    const char *sql;
};

struct report_options {
    int top;           /* length of the top lists */
    const char *since; /* "YYYY-MM-DD": plays on or after that day (UTC), or NULL */
    const char *until; /* "YYYY-MM-DD": plays on or before that day (UTC), or NULL */
};

/* The sections of `sparkify report` for `options`. A malformed date or a period that ends
 * before it starts is SP_USAGE. The caller frees the sections with report_sections_free. */
int report_sections(const struct report_options *options, struct report_section **sections,
                    size_t *count, struct sp_error *err);
void report_sections_free(struct report_section *sections, size_t count);

#endif
