/* config_write.c - updating dwh.cfg in place (see config_write.h).
 *
 * The file is read line by line with inih's rules (ini.c): a line whose first non-blank
 * character is ';' or '#' is a comment; an indented line after a setting continues it (blank
 * and comment lines between do not stop that); "[name]" starts a section; "name = value" or
 * "name: value" is a setting, its value ending at a ';' that follows a blank. Only the lines of
 * the settings updated change; every other byte of the file stays as it was, line ends included.
 */
#include "config_write.h"

#include "buffer.h"
#include "textfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct lines {
    char **items; /* each line with its line end, if it has one */
    size_t count, cap;
};

static void lines_insert(struct lines *l, size_t at, char *line)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    memmove(l->items + at + 1, l->items + at, (l->count - at) * sizeof *l->items);
    l->items[at] = line;
    l->count++;
}

static void lines_remove(struct lines *l, size_t at)
{
    free(l->items[at]);
    memmove(l->items + at, l->items + at + 1, (l->count - at - 1) * sizeof *l->items);
    l->count--;
}

static void lines_split(struct lines *l, const char *text)
{
    memset(l, 0, sizeof *l);
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) + 1 : strlen(text);
        lines_insert(l, l->count, xstrndup(text, len));
        text += len;
    }
}

static void lines_release(struct lines *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
}

/* The line end of `line` ("\r\n", "\n" or ""). */
static const char *line_end(const char *line)
{
    size_t n = strlen(line);
    if (n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n')
        return "\r\n";
    return n && line[n - 1] == '\n' ? "\n" : "";
}

enum line_kind {
    LINE_BLANK,
    LINE_COMMENT,
    LINE_SECTION,
    LINE_SETTING,
    LINE_CONTINUATION,
    LINE_OTHER
};

/* One line as inih sees it; offsets into the line. */
struct line_info {
    enum line_kind kind;
    size_t name_start, name_len;   /* a section's or a setting's name */
    size_t value_start, value_end; /* a setting's value, without blanks or trailing comment */
};

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Where a value ends: at a ';' preceded by a blank (inih's inline comment), else at the line's
 * end; trailing blanks excluded. */
static size_t value_end(const char *line, size_t from)
{
    size_t end = from;
    while (line[end] && line[end] != '\n' && !(line[end] == ';' && end > 0 && blank(line[end - 1])))
        end++;
    while (end > from && blank(line[end - 1]))
        end--;
    return end;
}

static struct line_info classify(const char *line, bool first, bool after_setting)
{
    struct line_info info = {0};
    size_t start = 0;
    if (first && strncmp(line, "\xef\xbb\xbf", 3) == 0)
        start = 3; /* a UTF-8 byte order mark */
    size_t lead = start;
    while (line[lead] && blank(line[lead]))
        lead++;
    if (!line[lead]) {
        info.kind = LINE_BLANK;
    } else if (line[lead] == ';' || line[lead] == '#') {
        info.kind = LINE_COMMENT;
    } else if (after_setting && lead > start) {
        info.kind = LINE_CONTINUATION;
    } else if (line[lead] == '[') {
        size_t end = lead + 1;
        while (line[end] && line[end] != ']' && line[end] != '\n')
            end++;
        if (line[end] != ']') {
            info.kind = LINE_OTHER;
        } else {
            info.kind = LINE_SECTION;
            info.name_start = lead + 1;
            info.name_len = end - lead - 1;
        }
    } else {
        size_t sep = lead;
        while (line[sep] && line[sep] != '=' && line[sep] != ':' && line[sep] != '\n' &&
               !(line[sep] == ';' && sep > 0 && blank(line[sep - 1])))
            sep++;
        if (line[sep] != '=' && line[sep] != ':') {
            info.kind = LINE_OTHER;
        } else {
            info.kind = LINE_SETTING;
            size_t name_end = sep;
            while (name_end > lead && blank(line[name_end - 1]))
                name_end--;
            info.name_start = lead;
            info.name_len = name_end - lead;
            size_t v = sep + 1;
            while (line[v] && line[v] != '\n' && blank(line[v]))
                v++;
            info.value_start = v;
            info.value_end = value_end(line, v);
        }
    }
    return info;
}

static bool name_is(const char *line, size_t start, size_t len, const char *name)
{
    return strlen(name) == len && strncasecmp(line + start, name, len) == 0;
}

/* Where `key` of `section` is set (the last time), and where a new one would go. */
struct placement {
    long setting;      /* the line setting the key, or -1 */
    long section_last; /* the last line of the section's last block that belongs to it: its
                          header or a setting or continuation; -1 without the section */
};

static struct placement place(const struct lines *l, const char *section, const char *key)
{
    struct placement p = {-1, -1};
    bool in_section = false, after_setting = false;
    for (size_t i = 0; i < l->count; i++) {
        const char *line = l->items[i];
        struct line_info info = classify(line, i == 0, after_setting);
        switch (info.kind) {
        case LINE_SECTION:
            in_section = name_is(line, info.name_start, info.name_len, section);
            after_setting = false;
            if (in_section)
                p.section_last = (long)i;
            break;
        case LINE_SETTING:
            after_setting = true;
            if (in_section) {
                p.section_last = (long)i;
                if (name_is(line, info.name_start, info.name_len, key))
                    p.setting = (long)i;
            }
            break;
        case LINE_CONTINUATION:
            if (in_section)
                p.section_last = (long)i;
            break;
        default:
            break;
        }
    }
    return p;
}

/* Replaces the value of the setting on line `at`, keeping the rest of the line. */
static char *replace_value(const char *line, const char *value)
{
    struct line_info info = classify(line, false, false);
    struct buffer b;
    buffer_init(&b);
    buffer_append(&b, line, info.value_start);
    size_t old_len = info.value_end - info.value_start;
    const char *old = line + info.value_start;
    char quote = 0;
    if (old_len >= 2 && (old[0] == '\'' || old[0] == '"') && old[old_len - 1] == old[0])
        quote = old[0];
    if (!old_len && *value && b.len && !blank(b.data[b.len - 1]))
        buffer_append_char(&b, ' ');
    if (!*value && !quote) /* `KEY =`, not `KEY = ` */
        while (b.len && blank(b.data[b.len - 1]))
            b.data[--b.len] = '\0';
    if (quote)
        buffer_printf(&b, "%c%s%c", quote, value, quote);
    else
        buffer_append_str(&b, value);
    buffer_append_str(&b, line + info.value_end);
    return b.data;
}

static char *setting_line(const char *key, const char *value, const char *eol)
{
    struct buffer b;
    buffer_init(&b);
    buffer_printf(&b, "%s =%s%s%s", key, *value ? " " : "", value, eol);
    return b.data;
}

static void apply(struct lines *l, const struct config_update *u)
{
    struct placement p = place(l, u->section, u->key);
    const char *eol = l->count ? line_end(l->items[0]) : "\n";
    if (!*eol)
        eol = "\n";
    if (p.setting >= 0) {
        size_t at = (size_t)p.setting;
        char *updated = replace_value(l->items[at], u->value);
        if (strcmp(updated, l->items[at]) == 0) {
            free(updated);
        } else {
            free(l->items[at]);
            l->items[at] = updated;
        }
        /* The lines the old value continued onto go with it (comments and blanks stay). */
        bool after_setting = true;
        for (size_t i = at + 1; i < l->count;) {
            struct line_info info = classify(l->items[i], false, after_setting);
            if (info.kind == LINE_CONTINUATION) {
                lines_remove(l, i);
            } else if (info.kind == LINE_BLANK || info.kind == LINE_COMMENT) {
                i++;
            } else {
                break;
            }
        }
        return;
    }
    if (p.section_last >= 0) {
        size_t at = (size_t)p.section_last;
        if (!*line_end(l->items[at])) { /* the file's last line, without an end */
            char *ended = xmalloc(strlen(l->items[at]) + strlen(eol) + 1);
            sprintf(ended, "%s%s", l->items[at], eol);
            free(l->items[at]);
            l->items[at] = ended;
        }
        lines_insert(l, at + 1, setting_line(u->key, u->value, eol));
        return;
    }
    if (l->count) {
        size_t last = l->count - 1;
        if (!*line_end(l->items[last])) {
            char *ended = xmalloc(strlen(l->items[last]) + strlen(eol) + 1);
            sprintf(ended, "%s%s", l->items[last], eol);
            free(l->items[last]);
            l->items[last] = ended;
        }
        if (classify(l->items[last], l->count == 1, false).kind != LINE_BLANK)
            lines_insert(l, l->count, xstrdup(eol));
    }
    struct buffer header;
    buffer_init(&header);
    buffer_printf(&header, "[%s]%s", u->section, eol);
    lines_insert(l, l->count, header.data);
    lines_insert(l, l->count, setting_line(u->key, u->value, eol));
}

char *config_text_update(const char *text, const struct config_update *updates, size_t count)
{
    struct lines l;
    lines_split(&l, text);
    for (size_t i = 0; i < count; i++)
        apply(&l, &updates[i]);
    struct buffer out;
    buffer_init(&out);
    buffer_append_str(&out, "");
    for (size_t i = 0; i < l.count; i++)
        buffer_append_str(&out, l.items[i]);
    lines_release(&l);
    return out.data;
}

/* ---- the file ---- */

/* The whole file (at most TEXT_FILE_MAX bytes), "" when it does not exist. */
static int read_whole(const char *path, char **out, struct sp_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) {
            *out = xstrdup("");
            return SP_OK;
        }
        return sp_fail(err, "cannot read %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return sp_usage(err, "cannot write settings into %s: not a regular file", path);
    }
    struct buffer b;
    buffer_init(&b);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buffer_append(&b, chunk, n);
        if (b.len > TEXT_FILE_MAX) {
            fclose(f);
            buffer_release(&b);
            return sp_usage(err, "%s is larger than %d bytes: not a config file", path,
                            TEXT_FILE_MAX);
        }
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed || memchr(b.data ? b.data : "", '\0', b.len)) {
        buffer_release(&b);
        return sp_fail(err, "cannot read %s: %s", path,
                       failed ? "read error" : "it holds a NUL byte");
    }
    buffer_append_str(&b, "");
    *out = b.data;
    return SP_OK;
}

int config_write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

int config_file_update(const char *path, const struct config_update *updates, size_t count,
                       bool *changed, struct sp_error *err)
{
    *changed = false;
    /* A symlink is followed, so that the link stays and the file it names is updated. */
    char resolved[PATH_MAX];
    const char *target = path;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        if (!realpath(path, resolved))
            return sp_fail(err, "cannot follow the link %s: %s", path, strerror(errno));
        target = resolved;
    }
    char *old = NULL;
    int status = read_whole(target, &old, err);
    if (status != SP_OK)
        return status;
    char *text = config_text_update(old, updates, count);
    bool same = strcmp(text, old) == 0;
    bool existed = lstat(target, &st) == 0;
    memset(old, 0, strlen(old)); /* it may hold secrets */
    free(old);
    if (same && existed && (st.st_mode & 0777) == 0600) {
        memset(text, 0, strlen(text));
        free(text);
        return SP_OK;
    }

    /* POSIX dirname and basename may write into their argument: each gets a copy. */
    char *dir_of = xstrdup(target), *name_of = xstrdup(target);
    struct buffer temp;
    buffer_init(&temp);
    buffer_printf(&temp, "%s/.%s.XXXXXX", dirname(dir_of), basename(name_of));
    free(dir_of);
    free(name_of);
    int fd = mkstemp(temp.data);
    if (fd < 0) {
        status =
            sp_fail(err, "cannot create a temporary file beside %s: %s", target, strerror(errno));
    } else {
        if (fchmod(fd, 0600) != 0 || config_write_all(fd, text, strlen(text)) != 0 ||
            fsync(fd) != 0)
            status = sp_fail(err, "cannot write %s: %s", temp.data, strerror(errno));
        if (close(fd) != 0 && status == SP_OK)
            status = sp_fail(err, "cannot write %s: %s", temp.data, strerror(errno));
        if (status == SP_OK && rename(temp.data, target) != 0)
            status = sp_fail(err, "cannot replace %s: %s", target, strerror(errno));
        if (status != SP_OK)
            unlink(temp.data);
    }
    if (status == SP_OK) {
        /* The rename is durable once the directory is. */
        char *dir_copy = xstrdup(target);
        int dir = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY);
        if (dir >= 0) {
            fsync(dir);
            close(dir);
        }
        free(dir_copy);
        *changed = true;
    }
    buffer_release(&temp);
    memset(text, 0, strlen(text));
    free(text);
    return status;
}
