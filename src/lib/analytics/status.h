/* status.h - what a warehouse holds and how it got there: rows per table, the objects loaded
 * by kind, the last runs and the bad records kept, as report sections (report.h) that any
 * engine answers with plain SQL. */
#ifndef SPARKIFY_STATUS_H
#define SPARKIFY_STATUS_H

#include "report.h"

#include <stddef.h>

/* The sections, in the order they are shown; `runs` of the last runs. */
const struct report_section *status_sections(size_t *count);

#endif
