/* progress.h - the live progress line on stderr during long work. */
#ifndef SPARKIFY_PROGRESS_H
#define SPARKIFY_PROGRESS_H

#include "cli.h"
#include "etl.h"

#include <stdbool.h>

struct progress {
    bool enabled;
    bool drawn;
    double started, last_drawn;
    const char *phase; /* the rate is measured from the start of a phase */
};

/* Enabled on a terminal (auto), always, or never; -q silences it. */
void progress_init(struct progress *p, const struct cli *cli);
/* An etl_progress_fn. */
void progress_update(void *ctx, const struct etl_progress *update);
/* Clears the line. */
void progress_finish(struct progress *p);

double progress_now(void);

#endif
