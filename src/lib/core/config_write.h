/* config_write.h - settings written into dwh.cfg in place, the rest of the file kept.
 *
 * `sparkify cluster create` writes the cluster's endpoint, database and role into the user's
 * dwh.cfg, which holds their comments, other tools' sections and secrets. So each key is
 * updated on its own line inside its section (its spelling, separator, quotes and trailing
 * comment kept; the lines an indented value continues onto dropped), a key the section lacks is
 * added after the section's last setting, and a missing section is added at the end. The file
 * is read as inih reads it (a later duplicate key wins, so that is the one updated). It is
 * replaced atomically: a temporary file in the same directory, mode 0600 whatever the umask (it
 * holds a password), written, fsync'd and renamed over the file (a symlink is followed), then
 * the directory fsync'd. When no value changes the file is not touched.
 */
#ifndef SPARKIFY_CONFIG_WRITE_H
#define SPARKIFY_CONFIG_WRITE_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

struct config_update {
    const char *section; /* "CLUSTER" */
    const char *key;     /* "HOST" */
    const char *value;   /* "" writes `KEY =`, which sparkify reads as unset */
};

/* Applies `updates` to the file at `path` (created, mode 0600, when missing); *changed says
 * whether it was rewritten. */
int config_file_update(const char *path, const struct config_update *updates, size_t count,
                       bool *changed, struct sp_error *err);

/* The text of a file with `updates` applied to `text` (malloc'd), for the above and its tests. */
char *config_text_update(const char *text, const struct config_update *updates, size_t count);

/* Writes all `len` bytes to `fd` (a write interrupted by a signal is resumed); -1 with errno on
 * an error. */
int config_write_all(int fd, const char *data, size_t len);

#endif
