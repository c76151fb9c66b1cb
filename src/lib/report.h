/* report.h - the analytics questions, as named SQL sections run on any warehouse. */
#ifndef SPARKIFY_REPORT_H
#define SPARKIFY_REPORT_H

#include <stddef.h>

struct report_section {
    const char *name;  /* key in JSON output */
    const char *title; /* heading in text output */
    const char *sql;
};

/* The sections of `sparkify report`, with `top` substituted for the list lengths. Returns
 * the number of sections; `sql` strings are written into `storage` (freed by the caller with
 * report_sections_free). */
size_t report_sections(int top, struct report_section **sections);
void report_sections_free(struct report_section *sections, size_t count);

#endif
