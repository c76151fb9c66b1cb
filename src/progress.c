/* progress.c - one self-rewriting stderr line: phase, objects, MB, records/s, ETA. Redrawn
 * at most ten times a second, so it costs nothing measurable on the hot path. */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, const struct cli *cli)
{
    p->enabled = !cli->quiet && (cli->progress == PROGRESS_ALWAYS ||
                                 (cli->progress == PROGRESS_AUTO && isatty(STDERR_FILENO)));
    p->drawn = false;
    p->started = progress_now();
    p->last_drawn = 0;
    p->phase = NULL;
}

void progress_update(void *ctx, const struct etl_progress *u)
{
    struct progress *p = ctx;
    if (!p->enabled)
        return;
    double now = progress_now();
    if (u->phase != p->phase) {
        p->phase = u->phase;
        p->started = now;
    }
    int finished = u->objects_done == u->objects_total;
    if (!finished && now - p->last_drawn < 0.1)
        return;
    p->last_drawn = now;
    double elapsed = now - p->started;
    double rate = elapsed > 0 ? (double)u->records / elapsed : 0;
    char eta[32] = "";
    if (u->bytes_done > 0 && u->bytes_done < u->bytes_total && elapsed > 0.5) {
        double left = elapsed * (double)(u->bytes_total - u->bytes_done) / (double)u->bytes_done;
        snprintf(eta, sizeof eta, ", ETA %.0fs", left);
    }
    fprintf(stderr, "\r\033[K%s: %zu/%zu objects, %.1f/%.1f MB, %.0f records/s%s", u->phase,
            u->objects_done, u->objects_total, (double)u->bytes_done / 1e6,
            (double)u->bytes_total / 1e6, rate, eta);
    fflush(stderr);
    p->drawn = true;
}

void progress_finish(struct progress *p)
{
    if (p->drawn) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
        p->drawn = false;
    }
}
