/* report_text.h - the report as aligned tables, CSV or JSON, and the notes beside its sections. */
#ifndef SPARKIFY_REPORT_TEXT_H
#define SPARKIFY_REPORT_TEXT_H

#include "output.h"
#include "report.h"

#include <stdio.h>

/* Every section not hidden: tables under their titles, titled CSV blocks (or, for one section,
 * plain CSV with one header row), or one JSON object keyed by section with a "notes" object.
 * `results[i]` holds the rows of `sections[i]`. */
void report_text_write(FILE *out, enum output_format format, const struct report_section *sections,
                       struct result_set *const *results, size_t count);

/* The note beside sections[which] (report_matched_note over the matched and row_counts
 * results), or NULL; the caller frees it. */
char *report_section_note(const struct report_section *sections, struct result_set *const *results,
                          size_t count, size_t which);

/* The note report_text_write could not write: plain CSV (one section) has no room for one, so
 * the caller shows it elsewhere (stderr). NULL when there is none; the caller frees it. */
char *report_text_untold_note(enum output_format format, const struct report_section *sections,
                              struct result_set *const *results, size_t count);

#endif
