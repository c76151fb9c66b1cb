/* textfile.h - the small text files a user names: dwh.cfg, a checks file, AWS credentials.
 *
 * All three are INI files read with inih, line by line through ini_parse_stream, and all three
 * can be pointed at something that is not a small text file: a directory, /dev/zero, an endless
 * FIFO. So one reader opens them (a directory or a device is refused; a FIFO such as
 * `--config <(...)` is fine), counts their lines for messages, and stops at a NUL byte, a line
 * longer than inih takes, or more than TEXT_FILE_MAX bytes, with an error naming the file and
 * line. It never holds more than one line.
 */
#ifndef SPARKIFY_TEXTFILE_H
#define SPARKIFY_TEXTFILE_H

#include "error.h"

#include <stdbool.h>
#include <stdio.h>

/* More is not a configuration file: /dev/zero or `yes` behind --config would never end. */
#define TEXT_FILE_MAX (1 << 20)

struct text_file {
    FILE *f;
    const char *path;
    const char *what;      /* "config", "checks file": how messages name the file */
    const char *long_hint; /* appended to "line longer than N characters", or NULL */
    int line;              /* of the line last read */
    size_t bytes;
    bool regular; /* a regular file, not a FIFO */
    int status;   /* the first error, or SP_OK */
    struct sp_error *err;
};

/* Opens `path`. On failure `err` names it, and errno is that of the failed open (a missing file
 * is ENOENT) or 0 for a refused directory or device. */
int text_file_open(struct text_file *t, const char *path, const char *what, struct sp_error *err);
void text_file_close(struct text_file *t);

/* inih's reader (ini_parse_stream): the next line into `out`, or NULL at the end or on an error,
 * which text_file.status then holds. */
char *text_file_line(char *out, int size, void *text_file);

/* Records the first error as "WHAT PATH:LINE: reason" (SP_USAGE) and returns 0, which stops
 * inih when returned from a handler. */
int text_file_error(struct text_file *t, int line, const char *fmt, ...) SP_PRINTF(3, 4);

/* After ini_parse_stream returned `rc`: a read error or inih's syntax error (with `syntax`
 * describing what a line should look like), unless an error was recorded before. */
int text_file_finish(struct text_file *t, int rc, const char *syntax);

#endif
