/* options.c - the parser and the help that option tables generate (see options.h).
 *
 * The parser is getopt_long, given a long-option array and a short-option string built from
 * the tables; each option's getopt value is its short letter, or 256 plus its index among all
 * the tables' options. sparkify's own options end at the command name ('+': argv is not
 * reordered); a command's may also follow its operand (`query SQL --format csv`): getopt_long
 * moves the operands after the options, and "--" still ends them. An unknown option is
 * answered with the nearest known name, by edit distance, when one is near enough. Help is
 * wrapped to 80 columns here, so that the tables hold each text as one paragraph, ready for
 * other layouts (a man page).
 */
#include "options.h"

#include "buffer.h"
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define HELP_WIDTH 80
#define LABEL_WIDTH_MAX 24 /* a longer label puts its help on the next line */
#define LONG_ONLY 256      /* getopt value of the first option without a short letter */

static bool takes_value(const struct cli_option *o)
{
    return o->type == CLI_OPTION_STRING || o->type == CLI_OPTION_INT ||
           o->type == CLI_OPTION_ENUM || o->type == CLI_OPTION_CALLBACK;
}

static bool is_option(const struct cli_option *o)
{
    return o->type != CLI_OPTION_END && o->type != CLI_OPTION_GROUP;
}

/* "--name", or "-c" for an option with a short name only. */
static void option_name(const struct cli_option *o, char *out, size_t size)
{
    if (o->long_name)
        snprintf(out, size, "--%s", o->long_name);
    else
        snprintf(out, size, "-%c", o->short_name);
}

/* Joins an enum's words with `between`, and `last` before the last one. */
static void join_words(const struct cli_word *words, const char *between, const char *last,
                       char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const struct cli_word *w = words; w->word && used < size; w++) {
        const char *separator = w == words ? "" : w[1].word ? between : last;
        int n = snprintf(out + used, size - used, "%s%s", separator, w->word);
        used += n > 0 ? (size_t)n : 0;
    }
}

/* The value's name in help: "FILE", or an enum's words as "a|b|c"; "" for a flag. */
static void value_name(const struct cli_option *o, char *out, size_t size)
{
    if (o->value_name)
        snprintf(out, size, "%s", o->value_name);
    else if (o->type == CLI_OPTION_ENUM)
        join_words(o->words, "|", "|", out, size);
    else
        out[0] = '\0';
}

void options_describe_value(const struct cli_option *o, char *out, size_t size)
{
    if (o->takes)
        snprintf(out, size, "%s", o->takes);
    else if (o->type == CLI_OPTION_INT)
        snprintf(out, size, "a number%s%s from %lld to %lld%s%s%s", o->unit ? " of " : "",
                 o->unit ? o->unit : "", o->min, o->max, o->why ? " (" : "", o->why ? o->why : "",
                 o->why ? ")" : "");
    else if (o->type == CLI_OPTION_ENUM)
        join_words(o->words, ", ", " or ", out, size);
    else
        out[0] = '\0';
}

/* ---- parsing ---- */

/* Every option of the tables, in order, with the struct its value lands in. */
struct parser {
    const struct cli_option **options;
    void **args;
    size_t count;
    struct option *longs; /* for getopt_long, ending with a zeroed entry */
    char *shorts;
};

static void parser_init(struct parser *p, const struct option_table *tables, size_t count,
                        bool anywhere)
{
    size_t n = 0;
    for (size_t t = 0; t < count; t++)
        for (const struct cli_option *o = tables[t].options; o->type != CLI_OPTION_END; o++)
            n += is_option(o);
    p->options = xcalloc(n, sizeof *p->options);
    p->args = xcalloc(n, sizeof *p->args);
    p->longs = xcalloc(n + 1, sizeof *p->longs);
    p->shorts = xcalloc(2 * n + 3, 1);
    p->count = 0;
    /* '+': stop at the first operand, else '-'-less: permute; ':': a missing value is told
     * apart from an unknown option. */
    char *s = p->shorts;
    if (!anywhere)
        *s++ = '+';
    *s++ = ':';
    size_t longs = 0;
    for (size_t t = 0; t < count; t++) {
        for (const struct cli_option *o = tables[t].options; o->type != CLI_OPTION_END; o++) {
            if (!is_option(o))
                continue;
            int val = o->short_name ? o->short_name : LONG_ONLY + (int)p->count;
            if (o->short_name) {
                *s++ = o->short_name;
                if (takes_value(o))
                    *s++ = ':';
            }
            if (o->long_name)
                p->longs[longs++] = (struct option){
                    o->long_name, takes_value(o) ? required_argument : no_argument, NULL, val};
            p->options[p->count] = o;
            p->args[p->count++] = tables[t].args;
        }
    }
}

static void parser_release(struct parser *p)
{
    free(p->options);
    free(p->args);
    free(p->longs);
    free(p->shorts);
}

/* The index of the option getopt_long returned as `val`, or -1. */
static int parser_find(const struct parser *p, int val)
{
    if (val >= LONG_ONLY)
        return val - LONG_ONLY < (int)p->count ? val - LONG_ONLY : -1;
    for (size_t i = 0; i < p->count; i++)
        if (val && p->options[i]->short_name == val)
            return (int)i;
    return -1;
}

static void store_int(void *field, enum cli_int_type type, long long value)
{
    switch (type) {
    case CLI_INT:
        *(int *)field = (int)value;
        break;
    case CLI_UINT:
        *(unsigned *)field = (unsigned)value;
        break;
    case CLI_LONG:
        *(long *)field = (long)value;
        break;
    case CLI_ULONG:
        *(unsigned long *)field = (unsigned long)value;
        break;
    case CLI_LLONG:
        *(long long *)field = value;
        break;
    case CLI_ULLONG:
        *(unsigned long long *)field = (unsigned long long)value;
        break;
    }
}

/* Checks and stores one option's value; returns 0, or -1 after a usage error. */
static int store(const char *command, const struct cli_option *o, void *args, const char *text)
{
    void *field = (char *)args + o->offset;
    long long n;
    switch (o->type) {
    case CLI_OPTION_STRING:
        *(const char **)field = text;
        return 0;
    case CLI_OPTION_BOOL:
        *(bool *)field = true;
        return 0;
    case CLI_OPTION_INT:
        if (cli_parse_count(text, o->max, &n) == 0 && n >= o->min) {
            store_int(field, o->int_type, n);
            return 0;
        }
        break;
    case CLI_OPTION_ENUM:
        for (const struct cli_word *w = o->words; w->word; w++) {
            if (strcmp(w->word, text) == 0) {
                store_int(field, o->int_type, w->value);
                return 0;
            }
        }
        break;
    case CLI_OPTION_CALLBACK:
        if (o->parse(field, text) == 0)
            return 0;
        break;
    case CLI_OPTION_END:
    case CLI_OPTION_GROUP:
        return 0;
    }
    char name[64], takes[256];
    option_name(o, name, sizeof name);
    options_describe_value(o, takes, sizeof takes);
    cli_usage_error(command, "%s takes %s, not '%s'", name, takes, text);
    return -1;
}

size_t options_edit_distance(const char *a, const char *b)
{
    /* Optimal string alignment: insertions, deletions, substitutions and swaps of two adjacent
     * characters cost one each; three rows of the table are enough. */
    size_t m = strlen(a), n = strlen(b);
    size_t *rows = xcalloc(3 * (n + 1), sizeof *rows);
    size_t *before = rows, *previous = rows + n + 1, *current = rows + 2 * (n + 1);
    for (size_t j = 0; j <= n; j++)
        previous[j] = j;
    for (size_t i = 1; i <= m; i++) {
        current[0] = i;
        for (size_t j = 1; j <= n; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = previous[j - 1] + cost;
            if (previous[j] + 1 < best)
                best = previous[j] + 1;
            if (current[j - 1] + 1 < best)
                best = current[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                before[j - 2] + 1 < best)
                best = before[j - 2] + 1;
            current[j] = best;
        }
        size_t *oldest = before;
        before = previous;
        previous = current;
        current = oldest;
    }
    size_t distance = previous[n];
    free(rows);
    return distance;
}

const char *options_nearest(const char *word, size_t len, const char *const names[], size_t count)
{
    char *typed = xcalloc(len + 1, 1);
    memcpy(typed, word, len);
    /* A third of the word, at least one and at most three edits: "etll" is etl, "x" is
     * nothing. */
    size_t limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
    const char *nearest = NULL;
    size_t best = limit + 1;
    for (size_t i = 0; i < count; i++) {
        size_t d = options_edit_distance(typed, names[i]);
        if (d < best) {
            best = d;
            nearest = names[i];
        }
    }
    free(typed);
    return nearest;
}

/* The known long option nearest to "--text" or "--text=value", or NULL. */
static const char *nearest_long_name(const struct parser *p, const char *text)
{
    if (strncmp(text, "--", 2) != 0)
        return NULL;
    const char **names = xcalloc(p->count + 1, sizeof *names);
    size_t count = 0;
    for (size_t i = 0; i < p->count; i++)
        if (p->options[i]->long_name && !(p->options[i]->flags & CLI_OPTION_HIDDEN))
            names[count++] = p->options[i]->long_name;
    const char *nearest = options_nearest(text + 2, strcspn(text + 2, "="), names, count);
    free(names);
    return nearest;
}

/* The usage error for what getopt_long refused (returned '?' or ':' for). */
static int refuse(const char *command, const struct parser *p, int c, char **argv,
                  const struct options_unknown *unknown)
{
    int found = parser_find(p, optopt);
    char name[64];
    if (c == ':' && found >= 0) {
        option_name(p->options[found], name, sizeof name);
        cli_usage_error(command, "option %s needs a value", name);
        return -1;
    }
    /* An unknown letter in a group (-qz) leaves optind on the group: name the letter. */
    if (optopt > 0 && optopt < LONG_ONLY && found < 0)
        snprintf(name, sizeof name, "-%c", optopt);
    else
        snprintf(name, sizeof name, "%s", argv[optind - 1]);
    if (unknown && found < 0 && strncmp(name, "--", 2) == 0 &&
        unknown->explain(command, name, unknown->ctx))
        return -1;
    const char *nearest = found < 0 ? nearest_long_name(p, name) : NULL;
    if (nearest) {
        cli_usage_error(command, "unknown option '%s'; did you mean --%s?", name, nearest);
        return -1;
    }
    cli_usage_error(command, command ? "unknown or invalid option '%s'" : "unknown option '%s'",
                    name);
    return -1;
}

int options_parse(const char *command, int argc, char **argv, const struct option_table *tables,
                  size_t count, bool anywhere, const struct options_unknown *unknown)
{
    struct parser p;
    parser_init(&p, tables, count, anywhere);
    optind = 0; /* glibc starts afresh, also on a second argv */
    opterr = 0;
    int c, status = 0;
    while (status == 0 && (c = getopt_long(argc, argv, p.shorts, p.longs, NULL)) != -1) {
        int found = c == '?' || c == ':' ? -1 : parser_find(&p, c);
        if (found < 0) {
            status = refuse(command, &p, c, argv, unknown);
        } else {
            status = store(command, p.options[found], p.args[found], optarg);
            if (p.options[found]->flags & CLI_OPTION_STOP)
                break;
        }
    }
    parser_release(&p);
    return status < 0 ? -1 : optind;
}

/* ---- help ---- */

/* Words written across lines no wider than HELP_WIDTH; new lines start at `indent`. */
struct wrap {
    FILE *out;
    size_t column, indent;
    bool line_empty; /* nothing written on this line since the indent */
};

static void wrap_word(struct wrap *w, const char *word, size_t len)
{
    if (!w->line_empty && w->column + 1 + len > HELP_WIDTH) {
        fprintf(w->out, "\n%*s", (int)w->indent, "");
        w->column = w->indent;
        w->line_empty = true;
    }
    if (!w->line_empty) {
        fputc(' ', w->out);
        w->column++;
    }
    fwrite(word, 1, len, w->out);
    w->column += len;
    w->line_empty = false;
}

static void wrap_text(struct wrap *w, const char *text, size_t len)
{
    const char *end = text + len;
    while (text < end) {
        while (text < end && *text == ' ')
            text++;
        const char *word = text;
        while (text < end && *text != ' ')
            text++;
        if (text > word)
            wrap_word(w, word, (size_t)(text - word));
    }
}

void options_print_text(FILE *out, const char *text)
{
    while (*text) {
        size_t len = strcspn(text, "\n");
        if (text[0] == ' ' || len == 0) {
            fwrite(text, 1, len, out);
        } else {
            struct wrap w = {out, 0, 0, true};
            wrap_text(&w, text, len);
        }
        fputc('\n', out);
        text += len + (text[len] == '\n');
    }
}

void options_print_usage(FILE *out, const char *prefix, const struct cli_option *const tables[],
                         size_t count, const char *operand)
{
    fputs(prefix, out);
    struct wrap w = {out, strlen(prefix), strlen(prefix), true};
    for (size_t t = 0; t < count; t++) {
        for (const struct cli_option *o = tables[t]; o->type != CLI_OPTION_END; o++) {
            if (!is_option(o) || (o->flags & (CLI_OPTION_STOP | CLI_OPTION_HIDDEN)))
                continue;
            char token[160], value[96];
            value_name(o, value, sizeof value);
            if (o->short_name)
                snprintf(token, sizeof token, "[-%c%s%s]", o->short_name, *value ? " " : "", value);
            else
                snprintf(token, sizeof token, "[--%s%s%s]", o->long_name, *value ? " " : "", value);
            wrap_word(&w, token, strlen(token));
        }
    }
    if (operand)
        wrap_word(&w, operand, strlen(operand));
    fputc('\n', out);
}

/* "-f, --format FORMAT"; long-only options line up with the long names of the others. */
static void option_label(const struct cli_option *o, bool shorts, char *out, size_t size)
{
    char value[96];
    value_name(o, value, sizeof value);
    char letter[8] = "";
    if (o->short_name)
        snprintf(letter, sizeof letter, "-%c%s", o->short_name, o->long_name ? ", " : "");
    else if (shorts)
        snprintf(letter, sizeof letter, "    ");
    snprintf(out, size, "%s%s%s%s%s", letter, o->long_name ? "--" : "",
             o->long_name ? o->long_name : "", *value ? " " : "", value);
}

void options_print_item(FILE *out, const char *label, size_t column, const char *text)
{
    size_t used = 2 + strlen(label);
    if (used + 2 > column)
        fprintf(out, "  %s\n%*s", label, (int)column, "");
    else
        fprintf(out, "  %s%*s", label, (int)(column - used), "");
    struct wrap w = {out, column, column, true};
    wrap_text(&w, text, strlen(text));
    fputc('\n', out);
}

/* Whether any option shown has a short name; and the label column: the widest label up to
 * LABEL_WIDTH_MAX. */
static size_t list_layout(const struct cli_option *const tables[], size_t count, bool *shorts)
{
    *shorts = false;
    for (size_t t = 0; t < count; t++)
        for (const struct cli_option *o = tables[t]; o->type != CLI_OPTION_END; o++)
            *shorts |= is_option(o) && o->short_name && !(o->flags & CLI_OPTION_HIDDEN);
    size_t width = 0;
    char label[160];
    for (size_t t = 0; t < count; t++) {
        for (const struct cli_option *o = tables[t]; o->type != CLI_OPTION_END; o++) {
            if (!is_option(o) || (o->flags & CLI_OPTION_HIDDEN))
                continue;
            option_label(o, *shorts, label, sizeof label);
            size_t len = strlen(label);
            if (len <= LABEL_WIDTH_MAX && len > width)
                width = len;
        }
    }
    return 2 + width + 2;
}

void options_print_list(FILE *out, const struct cli_option *const tables[], size_t count)
{
    bool shorts;
    size_t column = list_layout(tables, count, &shorts);
    bool first = true;
    for (size_t t = 0; t < count; t++) {
        for (const struct cli_option *o = tables[t]; o->type != CLI_OPTION_END; o++) {
            if (o->type == CLI_OPTION_GROUP) {
                if (!first)
                    fputc('\n', out);
                options_print_text(out, o->help);
                continue;
            }
            if (o->flags & CLI_OPTION_HIDDEN)
                continue;
            char label[160];
            option_label(o, shorts, label, sizeof label);
            options_print_item(out, label, column, o->help);
            first = false;
        }
    }
}

/* Writes text with tabs and newlines as spaces, for one field of a tab-separated row. */
static void print_field(FILE *out, const char *text)
{
    for (; *text; text++)
        fputc(*text == '\t' || *text == '\n' ? ' ' : *text, out);
}

void options_print_rows(FILE *out, const char *command, const struct cli_option *options)
{
    for (const struct cli_option *o = options; o->type != CLI_OPTION_END; o++) {
        if (o->type == CLI_OPTION_GROUP) {
            fprintf(out, "group\t%s\t", command);
            print_field(out, o->help);
            fputc('\n', out);
            continue;
        }
        if (o->flags & CLI_OPTION_HIDDEN)
            continue;
        char value[96], words[160] = "", takes[256];
        value_name(o, value, sizeof value);
        if (o->type == CLI_OPTION_ENUM)
            join_words(o->words, " ", " ", words, sizeof words);
        options_describe_value(o, takes, sizeof takes);
        char letter[4] = "";
        if (o->short_name)
            snprintf(letter, sizeof letter, "-%c", o->short_name);
        fprintf(out, "option\t%s\t%s\t%s%s\t%s\t%s\t%s\t", command, letter,
                o->long_name ? "--" : "", o->long_name ? o->long_name : "", value, words, takes);
        print_field(out, o->help);
        fputc('\n', out);
    }
}
