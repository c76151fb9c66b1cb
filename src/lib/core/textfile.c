/* textfile.c - bounded reading of the small INI files a user names (see textfile.h). */
#include "textfile.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

int text_file_open(struct text_file *t, const char *path, const char *what, struct sp_error *err)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    t->what = what;
    t->err = err;
    t->f = fopen(path, "r");
    if (!t->f) {
        int saved = errno;
        sp_usage(err, "%s %s: cannot open: %s", what, path, strerror(saved));
        errno = saved;
        return SP_USAGE;
    }
    struct stat st;
    if (fstat(fileno(t->f), &st) != 0 || S_ISDIR(st.st_mode) || S_ISCHR(st.st_mode) ||
        S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode)) {
        bool dir = S_ISDIR(st.st_mode);
        fclose(t->f);
        t->f = NULL;
        errno = 0;
        return sp_usage(err, "%s %s: %s, not a configuration file", what, path,
                        dir ? "a directory" : "a device");
    }
    t->regular = S_ISREG(st.st_mode);
    return SP_OK;
}

void text_file_close(struct text_file *t)
{
    if (t->f)
        fclose(t->f);
    t->f = NULL;
}

int text_file_error(struct text_file *t, int line, const char *fmt, ...)
{
    if (t->status != SP_OK)
        return 0;
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    t->status = sp_usage(t->err, "%s %s:%d: %s", t->what, t->path, line, reason);
    return 0;
}

char *text_file_line(char *out, int size, void *text_file)
{
    struct text_file *t = text_file;
    if (t->status != SP_OK)
        return NULL;
    int n = 0, ch;
    while ((ch = getc(t->f)) != EOF) {
        if (++t->bytes > TEXT_FILE_MAX) {
            t->status = sp_usage(t->err, "%s %s: larger than %d MiB; not a configuration file",
                                 t->what, t->path, TEXT_FILE_MAX >> 20);
            return NULL;
        }
        if (n == 0)
            t->line++;
        if (ch == '\0') {
            text_file_error(t, t->line, "a NUL byte; not a configuration file");
            return NULL;
        }
        if (ch != '\n' && n + 2 >= size) {
            text_file_error(t, t->line, "line longer than %d characters%s%s", size - 2,
                            t->long_hint ? "; " : "", t->long_hint ? t->long_hint : "");
            return NULL;
        }
        out[n++] = (char)ch;
        if (ch == '\n')
            break;
    }
    if (n == 0)
        return NULL;
    out[n] = '\0';
    return out;
}

int text_file_finish(struct text_file *t, int rc, const char *syntax)
{
    if (t->status == SP_OK && ferror(t->f))
        t->status =
            sp_usage(t->err, "%s %s: cannot be read: %s", t->what, t->path, strerror(errno));
    else if (t->status == SP_OK && rc > 0)
        text_file_error(t, rc, "syntax error (expected %s)", syntax);
    return t->status;
}
