/* progress.c - one self-rewriting stderr line: phase, objects, MB, records/s, ETA. Redrawn
 * at most ten times a second, so it costs nothing measurable on the hot path.
 *
 * The line is cut to the width of the terminal (read at each draw, so that a resized window is
 * followed; $COLUMNS first, as output_terminal_width does): a longer one would wrap, and "\r"
 * would then rewrite only its last row, leaving the others standing. An interrupt clears the
 * line before its message (cli_progress_drawn).
 */
#include "progress.h"

#include "output.h"

#include <stdio.h>
#include <string.h>
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

/* The line's text for `u`, without the escapes that rewrite it. */
static void describe(const struct progress *p, const struct etl_progress *u, double now, char *out,
                     size_t size)
{
    if (u->objects_total == 0) {
        snprintf(out, size, "%s...", u->phase);
        return;
    }
    double elapsed = now - p->started;
    double rate = elapsed > 0 ? (double)u->records / elapsed : 0;
    char eta[32] = "";
    if (u->bytes_done > 0 && u->bytes_done < u->bytes_total && elapsed > 0.5) {
        double left = elapsed * (double)(u->bytes_total - u->bytes_done) / (double)u->bytes_done;
        snprintf(eta, sizeof eta, ", ETA %.0fs", left);
    }
    snprintf(out, size, "%s: %zu/%zu objects, %.1f/%.1f MB, %.0f records/s%s", u->phase,
             u->objects_done, u->objects_total, (double)u->bytes_done / 1e6,
             (double)u->bytes_total / 1e6, rate, eta);
}

void progress_update(void *ctx, const struct etl_progress *u)
{
    struct progress *p = ctx;
    if (!p->enabled)
        return;
    double now = progress_now();
    bool new_phase = u->phase != p->phase;
    if (new_phase) {
        p->phase = u->phase;
        p->started = now;
    }
    int finished = u->objects_done == u->objects_total;
    if (!new_phase && !finished && now - p->last_drawn < 0.1)
        return;
    p->last_drawn = now;
    char line[256];
    describe(p, u, now, line, sizeof line);
    /* One column short of the width: a character in the last column makes some terminals wrap
     * before the next "\r". The text is ASCII, so a byte is a column. */
    size_t width = output_terminal_width(stderr);
    if (width > 1 && strlen(line) > width - 1)
        line[width - 1] = '\0';
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    p->drawn = true;
    cli_progress_drawn(true);
}

void progress_finish(struct progress *p)
{
    if (p->drawn) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
        p->drawn = false;
        cli_progress_drawn(false);
    }
}
