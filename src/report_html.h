/* report_html.h - the report as one self-contained HTML page with SVG charts. */
#ifndef SPARKIFY_REPORT_HTML_H
#define SPARKIFY_REPORT_HTML_H

#include "output.h"
#include "report.h"

#include <stdio.h>

struct report_page {
    const char *target;        /* as it may be shown: no password */
    const char *since, *until; /* the period, or NULL */
    const char *generated_at;  /* "YYYY-MM-DD HH:MM UTC" */
};

/* Writes the page: inline CSS and SVG, no scripts, no external resources; every value from the
 * warehouse escaped as HTML text. `results[i]` holds the rows of `sections[i]`. */
void report_html_write(FILE *out, const struct report_page *page,
                       const struct report_section *sections, struct result_set *const *results,
                       size_t count);

#endif
