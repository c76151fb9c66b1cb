/* check.c - the built-in data-quality checks, checks files, and running them (see check.h).
 *
 * Checks files are INI read by inih through a line reader of our own: inih tells a handler
 * neither the line it is on nor where a section began, and its lines are at most 200 bytes,
 * so the reader counts lines, remembers each [section] header and turns an overlong line into
 * an error naming it (SQL continues on indented lines, which inih hands over one by one).
 * Numbers are compared as long double, exact for every 64-bit integer.
 */
#include "check.h"

#include "textfile.h"

#include "buffer.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the built-in checks ---- */

struct builtin {
    const char *name, *sql, *sample_key;
    enum check_kind kind;
    bool at_least_one; /* a value check with min = 1 */
};

#define NOT_EMPTY(t)                                                                               \
    {                                                                                              \
        t " is not empty", "SELECT COUNT(*) AS row_count FROM " t, NULL, CHECK_VALUE, true         \
    }
#define KEY_NOT_NULL(t, k)                                                                         \
    {                                                                                              \
        t "." k " is not null",                                                                    \
            "SELECT COUNT(*) AS failures, NULL AS sample FROM " t " WHERE " k " IS NULL", NULL,    \
            CHECK_ROWS, false                                                                      \
    }
#define KEY_UNIQUE(t, k)                                                                           \
    {                                                                                              \
        t "." k " is unique",                                                                      \
            "SELECT COUNT(*) AS failures, MIN(" k ") AS sample FROM " t " WHERE " k                \
            " IN (SELECT " k " FROM " t " GROUP BY " k " HAVING COUNT(*) > 1)",                    \
            k, CHECK_ROWS, false                                                                   \
    }
/* Text keys are compared without trailing spaces, the rule of every target (see model.h):
 * Redshift ignores them when it compares and groups VARCHAR values, so the others are told to,
 * with RTRIM. */
#define TEXT_KEY_UNIQUE(t, k)                                                                      \
    {                                                                                              \
        t "." k " is unique",                                                                      \
            "SELECT COUNT(*) AS failures, MIN(RTRIM(" k ", ' ')) AS sample FROM " t                \
            " WHERE RTRIM(" k ", ' ') IN (SELECT RTRIM(" k ", ' ') FROM " t " GROUP BY RTRIM(" k   \
            ", ' ') HAVING COUNT(*) > 1)",                                                         \
            k, CHECK_ROWS, false                                                                   \
    }
#define REFERENCE(column, t, k)                                                                    \
    {                                                                                              \
        "songplays." column " in " t,                                                              \
            "SELECT COUNT(*) AS failures, MIN(p." column                                           \
            ") AS sample FROM songplays p WHERE NOT EXISTS (SELECT 1 FROM " t " r WHERE r." k      \
            " = p." column ")",                                                                    \
            column, CHECK_ROWS, false                                                              \
    }
/* NULLs are left out: a NULL song_id or artist_id is an unmatched play, and songplays.user_id is
 * NOT NULL. An anti-join of derived tables rather than a correlated NOT EXISTS: with RTRIM on
 * both sides no index serves, and SQLite would scan the referenced table once per play, where
 * here it indexes the distinct keys once (PostgreSQL and Redshift hash them). */
#define TEXT_REFERENCE(column, t, k)                                                               \
    {                                                                                              \
        "songplays." column " in " t,                                                              \
            "SELECT COUNT(*) AS failures, MIN(p.v) AS sample FROM (SELECT RTRIM(" column           \
            ", ' ') AS v FROM songplays WHERE " column " IS NOT NULL) p LEFT JOIN (SELECT "        \
            "DISTINCT RTRIM(" k ", ' ') AS v FROM " t ") r ON r.v = p.v WHERE r.v IS NULL",        \
            column, CHECK_ROWS, false                                                              \
    }
#define LEVEL(t, k)                                                                                \
    {                                                                                              \
        t ".level in (free, paid)",                                                                \
            "SELECT COUNT(*) AS failures, MIN(" k ") AS sample FROM " t                            \
            " WHERE level IS NULL OR RTRIM(level, ' ') NOT IN ('free', 'paid')",                   \
            k, CHECK_ROWS, false                                                                   \
    }
#define TIME_RANGE(column, low, high)                                                              \
    {                                                                                              \
        "time." column " in " #low ".." #high,                                                     \
            "SELECT COUNT(*) AS failures, MIN(start_time) AS sample FROM time WHERE " column       \
            " IS NULL OR " column " < " #low " OR " column " > " #high,                            \
            "start_time", CHECK_ROWS, false                                                        \
    }

static const struct builtin builtins[] = {
    NOT_EMPTY("songplays"),
    NOT_EMPTY("users"),
    NOT_EMPTY("songs"),
    NOT_EMPTY("artists"),
    NOT_EMPTY("time"),
    KEY_NOT_NULL("songplays", "songplay_id"),
    KEY_UNIQUE("songplays", "songplay_id"),
    KEY_NOT_NULL("users", "user_id"),
    TEXT_KEY_UNIQUE("users", "user_id"),
    KEY_NOT_NULL("songs", "song_id"),
    TEXT_KEY_UNIQUE("songs", "song_id"),
    KEY_NOT_NULL("artists", "artist_id"),
    TEXT_KEY_UNIQUE("artists", "artist_id"),
    KEY_NOT_NULL("time", "start_time"),
    KEY_UNIQUE("time", "start_time"),
    TEXT_REFERENCE("user_id", "users", "user_id"),
    REFERENCE("start_time", "time", "start_time"),
    TEXT_REFERENCE("song_id", "songs", "song_id"),
    TEXT_REFERENCE("artist_id", "artists", "artist_id"),
    LEVEL("songplays", "songplay_id"),
    LEVEL("users", "user_id"),
    TIME_RANGE("hour", 0, 23),
    TIME_RANGE("weekday", 0, 6),
    /* A play is one event of one user's session at one instant: the same play twice is the
     * same event loaded twice. */
    {"songplays (start_time, user_id, session_id) is unique",
     "SELECT COUNT(*) AS failures, MIN(start_time) AS sample FROM (SELECT start_time FROM "
     "songplays GROUP BY start_time, RTRIM(user_id, ' '), session_id HAVING COUNT(*) > 1) d",
     "start_time", CHECK_ROWS, false},
    /* user_latest is what an incremental run decides its users by: each user's latest play. */
    {"user_latest = each user's latest play",
     "SELECT COUNT(*) AS failures, MIN(COALESCE(p.user_id, l.user_id)) AS sample FROM (SELECT "
     "user_id, MAX(start_time) AS start_time FROM songplays GROUP BY user_id) p FULL JOIN "
     "user_latest l ON l.user_id = p.user_id "
     "WHERE p.user_id IS NULL OR l.user_id IS NULL OR l.start_time <> p.start_time",
     "user_id", CHECK_ROWS, false},
    /* Every etl run records the songplay events it loaded; none may be missing or extra, and
     * an event loaded twice counts once among the plays but twice among the runs. */
    {"songplays count = NextSong events loaded, each once",
     "SELECT (SELECT COUNT(*) FROM (SELECT DISTINCT start_time, RTRIM(user_id, ' ') AS user_id, "
     "session_id FROM songplays) d) AS distinct_plays, "
     "(SELECT CAST(COALESCE(SUM(songplays), 0) AS BIGINT) FROM etl_runs) AS loaded_by_etl_runs",
     NULL, CHECK_VALUE, false},
};

void check_list_init(struct check_list *list)
{
    memset(list, 0, sizeof *list);
}

void check_list_release(struct check_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].name);
        free(list->items[i].sql);
        free(list->items[i].expect);
    }
    free(list->items);
    check_list_init(list);
}

static struct check *add_check(struct check_list *list, const char *name)
{
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 32;
        list->items = xrealloc(list->items, list->capacity * sizeof *list->items);
    }
    struct check *c = &list->items[list->count++];
    memset(c, 0, sizeof *c);
    c->name = xstrdup(name);
    return c;
}

void check_list_add_builtin(struct check_list *list)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        struct check *c = add_check(list, builtins[i].name);
        c->sql = xstrdup(builtins[i].sql);
        c->kind = builtins[i].kind;
        c->sample_key = builtins[i].sample_key;
        c->has_min = builtins[i].at_least_one;
        c->min = 1;
    }
}

/* ---- checks files ---- */

struct checks_file {
    struct text_file text;
    const char *path;
    struct check_list *list;
    size_t first; /* the first check this file adds */
    int line;
    int header_line; /* of the latest [section] */
    bool header_has_keys;
    bool key_seen[4]; /* sql, expect, min, max in the current section */
    struct sp_error *err;
};

static const char *const check_keys[] = {"sql", "expect", "min", "max"};

#define file_error(f, ...) text_file_error(&(f)->text, __VA_ARGS__)

/* A section is complete when the next one starts or the file ends. */
static void finish_section(struct checks_file *f)
{
    if (f->header_line == 0 || f->text.status != SP_OK)
        return;
    if (!f->header_has_keys) {
        file_error(f, f->header_line, "a check needs sql, and expect or min/max");
        return;
    }
    struct check *c = &f->list->items[f->list->count - 1];
    if (!c->sql)
        file_error(f, c->line, "check '%s' has no sql", c->name);
    else if (!c->expect && !c->has_min && !c->has_max)
        file_error(f, c->line, "check '%s' needs expect = VALUE, or min and/or max", c->name);
    else if (c->expect && (c->has_min || c->has_max))
        file_error(f, c->line, "check '%s' takes expect or min/max, not both", c->name);
    else if (c->has_min && c->has_max && c->min > c->max)
        file_error(f, c->line, "check '%s': min is greater than max", c->name);
}

/* inih's reader: one line into `out` (at most `size` bytes with its newline and NUL), read
 * with the bounds of every settings file; a section header starts a new check. */
static char *read_line(char *out, int size, void *stream)
{
    struct checks_file *f = stream;
    if (!text_file_line(out, size, &f->text))
        return NULL;
    const char *p = out;
    if (f->text.line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* a UTF-8 byte order mark, which inih skips too */
    while (*p == ' ' || *p == '\t')
        p++;
    /* As inih reads it: an indented line after a key continues that key's value. */
    if (*p == '[' && (p == out || !f->header_has_keys)) {
        finish_section(f);
        f->header_line = f->text.line;
        f->header_has_keys = false;
        memset(f->key_seen, 0, sizeof f->key_seen);
    }
    return out;
}

static int parse_number(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int on_check_key(void *user, const char *section, const char *name, const char *value)
{
    struct checks_file *f = user;
    if (f->text.status != SP_OK)
        return 0;
    if (f->header_line == 0 || section[0] == '\0')
        return file_error(f, f->text.line, "'%s' outside a [check name] section", name);
    if (!f->header_has_keys) {
        for (size_t i = f->first; i < f->list->count; i++)
            if (strcmp(f->list->items[i].name, section) == 0) {
                return file_error(f, f->header_line, "check '%s' is named twice (first at line %d)",
                                  section, f->list->items[i].line);
            }
        struct check *c = add_check(f->list, section);
        c->kind = CHECK_VALUE;
        c->line = f->header_line;
        f->header_has_keys = true;
    }
    struct check *c = &f->list->items[f->list->count - 1];
    size_t key = 0;
    while (key < 4 && strcmp(name, check_keys[key]) != 0)
        key++;
    if (key == 4)
        return file_error(f, f->text.line, "unknown key '%s' (a check takes sql, expect, min, max)",
                          name);
    bool again = f->key_seen[key];
    f->key_seen[key] = true;
    if (key == 0) {
        /* Indented continuation lines come back as more values of the same key. */
        struct buffer sql;
        buffer_init(&sql);
        if (c->sql)
            buffer_printf(&sql, "%s\n", c->sql);
        buffer_append_str(&sql, value);
        free(c->sql);
        c->sql = sql.data;
        return 1;
    }
    if (again)
        return file_error(f, f->text.line, "%s is given twice in check '%s'", name, section);
    if (key == 1) {
        c->expect = xstrdup(value);
        return 1;
    }
    double *bound = key == 2 ? &c->min : &c->max;
    if (parse_number(value, bound) != 0)
        return file_error(f, f->text.line, "%s takes a number, not '%s'", name, value);
    if (key == 2)
        c->has_min = true;
    else
        c->has_max = true;
    return 1;
}

int check_list_load(struct check_list *list, const char *path, struct sp_error *err)
{
    struct checks_file f;
    memset(&f, 0, sizeof f);
    f.path = path;
    f.list = list;
    f.first = list->count;
    f.err = err;
    if (text_file_open(&f.text, path, "checks file", err) != SP_OK)
        return SP_USAGE;
    f.text.long_hint = "continue long SQL on indented lines";
    int rc = ini_parse_stream(read_line, &f, on_check_key, &f);
    text_file_finish(&f.text, rc, "[check name], key = value, or an indented continuation line");
    finish_section(&f);
    if (f.text.status == SP_OK && f.header_line == 0)
        f.text.status =
            sp_usage(err, "checks file %s: no checks in it (one [section] per check)", path);
    text_file_close(&f.text);
    return f.text.status;
}

/* ---- running ---- */

struct first_row {
    size_t rows;
    struct rowbuf row; /* the first row, copied */
    char names[2][64];
};

static int keep_first_row(void *ctx, size_t columns, const char *const *names,
                          const struct cell *values)
{
    struct first_row *r = ctx;
    if (r->rows++ == 0) {
        size_t kept = columns < 2 ? columns : 2;
        rowbuf_init_columns(&r->row, 2);
        struct cell *row = rowbuf_add_row(&r->row);
        for (size_t i = 0; i < kept; i++) {
            rowbuf_set_cell(&r->row, &row[i], &values[i]);
            snprintf(r->names[i], sizeof r->names[i], "%s", names[i] ? names[i] : "?");
        }
    }
    return SP_OK;
}

/* A cell as text for a message: NULL as NULL, long text cut. */
static void cell_for_message(const struct cell *c, char *out, size_t size)
{
    char scratch[64];
    size_t len;
    const char *text = cell_text(c, scratch, sizeof scratch, &len);
    if (c->type == CELL_NULL)
        snprintf(out, size, "NULL");
    else
        snprintf(out, size, "%.*s%s", (int)(len > 60 ? 60 : len), text, len > 60 ? "..." : "");
}

static bool as_number(const struct cell *c, long double *out)
{
    if (c->type == CELL_INT)
        *out = (long double)c->i;
    else if (c->type == CELL_DOUBLE)
        *out = c->d;
    else if (c->type == CELL_TEXT && c->text.len < 64) {
        /* PostgreSQL's NUMERIC comes back as text. */
        char text[64], *end;
        memcpy(text, c->text.ptr, c->text.len);
        text[c->text.len] = '\0';
        *out = strtold(text, &end);
        return end != text && *end == '\0' && isfinite(*out);
    } else
        return false;
    return true;
}

static void judge_rows(const struct check *c, const struct cell *row, struct check_result *r)
{
    long double failures = 0;
    if (!as_number(&row[0], &failures)) {
        snprintf(r->detail, sizeof r->detail, "the check's SQL gave no count of failures");
        return;
    }
    long long n = (long long)failures;
    r->passed = n == 0;
    int len = snprintf(r->detail, sizeof r->detail, "%lld row%s", n, n == 1 ? "" : "s");
    if (n > 0 && c->sample_key) {
        char sample[80];
        cell_for_message(&row[1], sample, sizeof sample);
        snprintf(r->detail + len, sizeof r->detail - (size_t)len, " (sample: %s=%s)", c->sample_key,
                 sample);
    }
}

static void judge_value(const struct check *c, const struct first_row *got, struct check_result *r)
{
    const struct cell *row = rowbuf_row(&got->row, 0);
    char value[80], bound[160] = "";
    cell_for_message(&row[0], value, sizeof value);
    long double v = 0;
    bool numeric = as_number(&row[0], &v);
    if (!c->expect && !c->has_min && !c->has_max) {
        long double expected;
        char other[80];
        cell_for_message(&row[1], other, sizeof other);
        r->passed = numeric && as_number(&row[1], &expected) && v == expected;
        snprintf(r->detail, sizeof r->detail, "%s %s, %s %s", got->names[0], value, got->names[1],
                 other);
        return;
    }
    if (c->expect) {
        double expected;
        if (parse_number(c->expect, &expected) == 0)
            r->passed = numeric && v == (long double)expected;
        else
            r->passed =
                row[0].type == CELL_TEXT && cell_is_text(&row[0], c->expect, strlen(c->expect));
        snprintf(bound, sizeof bound, "%.100s", c->expect);
    } else {
        char low[32], high[32];
        format_double(c->min, low, sizeof low);
        format_double(c->max, high, sizeof high);
        r->passed = numeric && (!c->has_min || v >= c->min) && (!c->has_max || v <= c->max);
        if (c->has_min && c->has_max)
            snprintf(bound, sizeof bound, "%s to %s", low, high);
        else
            snprintf(bound, sizeof bound, "at %s %s", c->has_min ? "least" : "most",
                     c->has_min ? low : high);
    }
    snprintf(r->detail, sizeof r->detail, "value %s, expected %s", value, bound);
}

int check_run(struct warehouse *wh, const struct check_list *list, struct check_result *results,
              size_t *failed, struct sp_error *err)
{
    *failed = 0;
    for (size_t i = 0; i < list->count; i++) {
        const struct check *c = &list->items[i];
        struct check_result *r = &results[i];
        memset(r, 0, sizeof *r);
        r->check = c;
        struct first_row got;
        memset(&got, 0, sizeof got);
        int status = wh->ops->query(wh, c->sql, keep_first_row, &got, err);
        if (status != SP_OK) {
            if (got.rows)
                rowbuf_release(&got.row);
            if (c->line)
                sp_error_prefix(err, "check '%s' (line %d): ", c->name, c->line);
            else
                sp_error_prefix(err, "check '%s': ", c->name);
            return status;
        }
        if (wh->dry_run.fn) {
            /* The query was shown, not run: there is nothing to judge. */
            r->passed = true;
            snprintf(r->detail, sizeof r->detail, "dry run");
            continue;
        }
        if (got.rows != 1)
            snprintf(r->detail, sizeof r->detail, "the SQL returned %zu rows, expected one",
                     got.rows);
        else if (c->kind == CHECK_ROWS)
            judge_rows(c, rowbuf_row(&got.row, 0), r);
        else
            judge_value(c, &got, r);
        if (got.rows)
            rowbuf_release(&got.row);
        *failed += !r->passed;
    }
    return SP_OK;
}
