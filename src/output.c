/* output.c - printing result sets (see output.h). JSON goes through cJSON, whose number
 * printing already picks the shortest round-trip form. */
#include "output.h"

#include "buffer.h"
#include "cli.h"
#include "rowbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CELL_WIDTH 60
#define MIN_CUT_WIDTH 6

struct result_set {
    size_t columns;
    char **names;
    struct rowbuf rows;
};

const struct cli_word output_formats[] = {
    {"table", FORMAT_TABLE}, {"csv", FORMAT_CSV}, {"json", FORMAT_JSON}, {NULL, 0}};

struct result_set *result_set_new(void)
{
    return xcalloc(1, sizeof(struct result_set));
}

void result_set_free(struct result_set *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->columns; i++)
        free(rs->names[i]);
    free(rs->names);
    if (rs->columns)
        rowbuf_release(&rs->rows);
    free(rs);
}

int result_set_add_row(void *ctx, size_t columns, const char *const *names,
                       const struct cell *values)
{
    struct result_set *rs = ctx;
    if (!rs->columns) {
        rs->columns = columns;
        rs->names = xcalloc(columns, sizeof *rs->names);
        for (size_t i = 0; i < columns; i++)
            rs->names[i] = xstrdup(names[i] ? names[i] : "?");
        rowbuf_init_columns(&rs->rows, columns);
    }
    struct cell *row = rowbuf_add_row(&rs->rows);
    for (size_t i = 0; i < columns && i < rs->columns; i++)
        rowbuf_set_cell(&rs->rows, &row[i], &values[i]);
    return 0;
}

size_t result_set_rows(const struct result_set *rs)
{
    return rs->columns ? rs->rows.rows : 0;
}

static size_t display_width(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Prints `s` in `width` columns: cut with an ellipsis when longer, padded when shorter. */
static void print_cell(FILE *out, const char *s, size_t len, size_t width, int right)
{
    size_t shown = 0, bytes = 0, total = display_width(s, len);
    bool cut = total > width;
    size_t limit = cut ? (width ? width - 1 : 0) : total;
    while (bytes < len && shown < limit) {
        bytes++;
        while (bytes < len && ((unsigned char)s[bytes] & 0xC0) == 0x80)
            bytes++;
        shown++;
    }
    size_t pad = width > limit + cut ? width - limit - cut : 0;
    if (right)
        fprintf(out, "%*s", (int)pad, "");
    for (size_t i = 0; i < bytes; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c < 0x20 ? ' ' : c, out); /* keep one row on one line */
    }
    if (cut)
        fputs("…", out);
    if (!right)
        fprintf(out, "%*s", (int)pad, "");
}

size_t output_terminal_width(FILE *out)
{
    const char *columns = getenv("COLUMNS");
    long long n;
    if (columns && cli_parse_count(columns, 100000, &n) == 0 && n >= 20)
        return (size_t)n;
    struct winsize ws;
    if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 0;
}

/* Narrows the widest text columns, a character at a time, until the row fits `limit`
 * (numbers are never cut; neither is a column below MIN_CUT_WIDTH). */
static void fit_columns(size_t *width, const int *numeric, size_t columns, size_t limit)
{
    size_t total = 2 * (columns - 1);
    for (size_t c = 0; c < columns; c++)
        total += width[c];
    while (limit && total > limit) {
        size_t widest = columns;
        for (size_t c = 0; c < columns; c++)
            if (!numeric[c] && width[c] > MIN_CUT_WIDTH &&
                (widest == columns || width[c] > width[widest]))
                widest = c;
        if (widest == columns)
            break;
        width[widest]--;
        total--;
    }
}

void result_set_print_table(FILE *out, const struct result_set *rs, size_t max_width)
{
    if (!rs->columns) {
        fprintf(out, "(no rows)\n");
        return;
    }
    size_t *width = xcalloc(rs->columns, sizeof *width);
    int *numeric = xcalloc(rs->columns, sizeof *numeric);
    char scratch[64];
    size_t len;
    for (size_t c = 0; c < rs->columns; c++) {
        width[c] = display_width(rs->names[c], strlen(rs->names[c]));
        numeric[c] = 1;
    }
    for (size_t r = 0; r < rs->rows.rows; r++) {
        const struct cell *row = rowbuf_row(&rs->rows, r);
        for (size_t c = 0; c < rs->columns; c++) {
            const char *s = cell_text(&row[c], scratch, sizeof scratch, &len);
            size_t w = display_width(s, len);
            if (w > MAX_CELL_WIDTH)
                w = MAX_CELL_WIDTH;
            if (w > width[c])
                width[c] = w;
            if (row[c].type == CELL_TEXT)
                numeric[c] = 0;
        }
    }
    fit_columns(width, numeric, rs->columns, max_width);
    for (size_t c = 0; c < rs->columns; c++) {
        fputs(c ? "  " : "", out);
        print_cell(out, rs->names[c], strlen(rs->names[c]), width[c], numeric[c]);
    }
    fputc('\n', out);
    for (size_t c = 0; c < rs->columns; c++) {
        fputs(c ? "  " : "", out);
        for (size_t i = 0; i < width[c]; i++)
            fputc('-', out);
    }
    fputc('\n', out);
    for (size_t r = 0; r < rs->rows.rows; r++) {
        const struct cell *row = rowbuf_row(&rs->rows, r);
        for (size_t c = 0; c < rs->columns; c++) {
            const char *s = cell_text(&row[c], scratch, sizeof scratch, &len);
            fputs(c ? "  " : "", out);
            print_cell(out, s, len, width[c], numeric[c]);
        }
        fputc('\n', out);
    }
    fprintf(out, "(%zu row%s)\n", rs->rows.rows, rs->rows.rows == 1 ? "" : "s");
    free(width);
    free(numeric);
}

static void print_csv_field(FILE *out, const char *s, size_t len)
{
    if (len && !memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
        !memchr(s, '\r', len)) {
        fwrite(s, 1, len, out);
        return;
    }
    if (!len)
        return;
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', out);
        fputc(s[i], out);
    }
    fputc('"', out);
}

void result_set_print_csv(FILE *out, const struct result_set *rs)
{
    if (!rs->columns)
        return;
    for (size_t c = 0; c < rs->columns; c++) {
        fputs(c ? "," : "", out);
        print_csv_field(out, rs->names[c], strlen(rs->names[c]));
    }
    fputs("\r\n", out);
    char scratch[64];
    size_t len;
    for (size_t r = 0; r < rs->rows.rows; r++) {
        const struct cell *row = rowbuf_row(&rs->rows, r);
        for (size_t c = 0; c < rs->columns; c++) {
            fputs(c ? "," : "", out);
            const char *s = cell_text(&row[c], scratch, sizeof scratch, &len);
            print_csv_field(out, s, len);
        }
        fputs("\r\n", out);
    }
}

cJSON *result_set_json(const struct result_set *rs)
{
    cJSON *array = cJSON_CreateArray();
    if (!rs->columns)
        return array;
    for (size_t r = 0; r < rs->rows.rows; r++) {
        const struct cell *row = rowbuf_row(&rs->rows, r);
        cJSON *object = cJSON_CreateObject();
        for (size_t c = 0; c < rs->columns; c++) {
            cJSON *value;
            switch (row[c].type) {
            case CELL_INT: {
                /* Raw text: a double would round integers beyond 2^53. */
                char digits[32];
                snprintf(digits, sizeof digits, "%lld", (long long)row[c].i);
                value = cJSON_CreateRaw(digits);
                break;
            }
            case CELL_DOUBLE:
                value = cJSON_CreateNumber(row[c].d);
                break;
            case CELL_TEXT: {
                char *text = xstrndup(row[c].text.ptr, row[c].text.len);
                value = cJSON_CreateString(text);
                free(text);
                break;
            }
            default:
                value = cJSON_CreateNull();
            }
            cJSON_AddItemToObject(object, rs->names[c], value);
        }
        cJSON_AddItemToArray(array, object);
    }
    return array;
}

void output_print(FILE *out, const struct result_set *rs, enum output_format format)
{
    if (format == FORMAT_TABLE) {
        result_set_print_table(out, rs, output_terminal_width(out));
    } else if (format == FORMAT_CSV) {
        result_set_print_csv(out, rs);
    } else {
        cJSON *json = result_set_json(rs);
        char *text = cJSON_PrintUnformatted(json);
        fprintf(out, "%s\n", text);
        cJSON_free(text);
        cJSON_Delete(json);
    }
}

size_t result_set_columns(const struct result_set *rs)
{
    return rs->columns;
}

const char *result_set_name(const struct result_set *rs, size_t column)
{
    return rs->names[column];
}

const struct cell *result_set_cell(const struct result_set *rs, size_t row, size_t column)
{
    return &rowbuf_row(&rs->rows, row)[column];
}

int result_set_column(const struct result_set *rs, const char *name)
{
    for (size_t c = 0; c < rs->columns; c++)
        if (strcmp(rs->names[c], name) == 0)
            return (int)c;
    return -1;
}

double result_set_number(const struct result_set *rs, size_t row, const char *name)
{
    int c = result_set_column(rs, name);
    if (c < 0 || row >= result_set_rows(rs))
        return 0;
    const struct cell *v = result_set_cell(rs, row, (size_t)c);
    if (v->type == CELL_INT)
        return (double)v->i;
    if (v->type == CELL_DOUBLE)
        return v->d;
    if (v->type == CELL_TEXT) {
        char text[64];
        snprintf(text, sizeof text, "%.*s", (int)(v->text.len < 63 ? v->text.len : 63),
                 v->text.ptr);
        return strtod(text, NULL);
    }
    return 0;
}

/* The file `path` names when it does not exist: the end of its chain of symlinks (the file a
 * dangling link names is created), else `path` itself. */
static char *symlink_end(const char *path)
{
    char *p = xstrdup(path);
    for (int hops = 0; hops < 40; hops++) {
        struct stat st;
        char link[PATH_MAX];
        ssize_t n;
        if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode) ||
            (n = readlink(p, link, sizeof link - 1)) < 0)
            break;
        link[n] = '\0';
        const char *slash = strrchr(p, '/');
        struct buffer next;
        buffer_init(&next);
        if (link[0] == '/' || !slash)
            buffer_append_str(&next, link);
        else
            buffer_printf(&next, "%.*s/%s", (int)(slash - p), p, link);
        free(p);
        p = next.data;
    }
    return p;
}

/* A temporary file beside `o->target` that will take the place of what `existing` describes
 * (NULL: nothing there yet). */
static int open_temporary(struct output_file *o, const struct stat *existing, struct sp_error *err)
{
    struct buffer temp;
    buffer_init(&temp);
    buffer_printf(&temp, "%s.XXXXXX", o->target);
    int fd = mkstemp(temp.data);
    if (fd < 0) {
        int status =
            sp_fail(err, "%s: cannot create the output file: %s", o->path, strerror(errno));
        buffer_release(&temp);
        output_file_close(o, false, NULL);
        return status;
    }
    o->temp = temp.data;
    cli_remove_on_interrupt(o->temp);
    /* mkstemp makes the file private: give it the mode of the file it replaces, or the one a
     * plain creat() would. The owner first: a chown clears set-user-ID bits. */
    int status = SP_OK;
    if (existing && geteuid() == 0 && fchown(fd, existing->st_uid, existing->st_gid) != 0)
        status = sp_fail(err, "%s: cannot keep the file's owner: %s", o->path, strerror(errno));
    mode_t mask = umask(0);
    umask(mask);
    mode_t mode = existing ? existing->st_mode & 07777 : 0666 & ~mask;
    if (status == SP_OK && fchmod(fd, mode) != 0)
        status = sp_fail(err, "%s: cannot set the file's mode: %s", o->path, strerror(errno));
    if (status == SP_OK && !(o->f = fdopen(fd, "w")))
        status = sp_fail(err, "%s: cannot write: %s", o->path, strerror(errno));
    if (status != SP_OK) {
        close(fd);
        output_file_close(o, false, NULL);
    }
    return status;
}

int output_file_open(struct output_file *o, const char *path, struct sp_error *err)
{
    memset(o, 0, sizeof *o);
    if (!path) {
        o->f = stdout;
        return SP_OK;
    }
    o->path = path;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT)
            return sp_fail(err, "%s: %s", path, strerror(errno));
        o->target = symlink_end(path);
        return open_temporary(o, NULL, err);
    }
    if (S_ISREG(st.st_mode)) {
        o->target = realpath(path, NULL);
        if (!o->target)
            return sp_fail(err, "%s: %s", path, strerror(errno));
        return open_temporary(o, &st, err);
    }
    if (S_ISDIR(st.st_mode))
        return sp_fail(err, "%s: a directory, not a file to write the report to", path);
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
        return sp_fail(err, "%s: not a regular file, a character device or a FIFO", path);
    /* A device or a FIFO is written as a shell's `>` would: straight into. */
    int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return sp_fail(err, "%s: cannot open: %s", path, strerror(errno));
    o->f = fdopen(fd, "w");
    if (!o->f) {
        close(fd);
        return sp_fail(err, "%s: cannot write: %s", path, strerror(errno));
    }
    return SP_OK;
}

int output_file_close(struct output_file *o, bool keep, struct sp_error *err)
{
    int status = SP_OK;
    if (!o->path) {
        if (o->f && fflush(o->f) != 0)
            status = sp_fail(err, "cannot write the output: %s", strerror(errno));
        return status;
    }
    /* The error of a failed write, which fclose reports when it flushes what is left. */
    errno = 0;
    bool written = o->f && fflush(o->f) == 0 && !ferror(o->f);
    int write_error = errno;
    if (o->f && fclose(o->f) != 0 && written) {
        written = false;
        write_error = errno;
    }
    if (keep && !written)
        status = sp_fail(err, "%s: cannot write: %s", o->path,
                         write_error ? strerror(write_error) : "an I/O error");
    if (o->temp && keep && written && rename(o->temp, o->target) != 0)
        status = sp_fail(err, "%s: cannot replace the file: %s", o->path, strerror(errno));
    if (o->temp && (!keep || status != SP_OK))
        unlink(o->temp);
    if (o->temp)
        cli_remove_on_interrupt(NULL);
    free(o->temp);
    free(o->target);
    memset(o, 0, sizeof *o);
    return status;
}

void output_check_results(FILE *out, const struct check_result *results, size_t count,
                          bool failed_only)
{
    int width = 0;
    for (size_t i = 0; i < count; i++) {
        int len = (int)display_width(results[i].check->name, strlen(results[i].check->name));
        if ((!failed_only || !results[i].passed) && len > width)
            width = len;
    }
    for (size_t i = 0; i < count; i++) {
        const struct check_result *r = &results[i];
        if (failed_only && r->passed)
            continue;
        const char *name = r->check->name;
        int pad = width - (int)display_width(name, strlen(name));
        fprintf(out, "%s  ", r->passed ? "PASS" : "FAIL");
        cli_write_escaped(out, name); /* names and sample keys come from files and data */
        fprintf(out, "%*s  ", pad, "");
        cli_write_escaped(out, r->detail);
        fputc('\n', out);
    }
}
