/* options.h - command-line options declared once, in a table, as git's parse-options does.
 *
 * An option is one entry of a table: its names, the name of its value, its help, and where
 * the value lands: a typed field of the struct the table describes. The getopt_long parser,
 * the checks of each value with their messages ("option --top needs a value", "--format takes
 * table, csv or json, not 'x'"), the synopsis and the option list of --help, and the rows of
 * `sparkify --help-all` all come from the table, so nothing about an option is written twice.
 *
 * A table describes one struct, named by CLI_ARGS where the table is written; each OPT_*
 * macro checks at compile time that the field has the type the option stores:
 *
 *     struct report_args { int format; const char *output_path; int top; };
 *     #define CLI_ARGS struct report_args
 *     static const struct cli_option report_options[] = {
 *         OPT_ENUM('f', "format", format, "FORMAT", report_formats, "table, csv, json or html"),
 *         OPT_STRING('o', "output", output_path, "FILE", "write to FILE"),
 *         OPT_INT(0, "top", top, "N", 1, 100000, "the top N songs (default 10)"),
 *         OPT_END,
 *     };
 *     #undef CLI_ARGS
 *
 * Offsets rather than pointers keep the tables constant: a help, man page or completion
 * generator walks them without running a command (see cli.h: `sparkify --help-all`).
 */
#ifndef SPARKIFY_OPTIONS_H
#define SPARKIFY_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cli_option_type {
    CLI_OPTION_END,      /* ends a table */
    CLI_OPTION_GROUP,    /* a heading in --help for the options after it */
    CLI_OPTION_STRING,   /* const char *: the value as given */
    CLI_OPTION_BOOL,     /* bool: set to true; the option takes no value */
    CLI_OPTION_INT,      /* an integer field of any width: a number from min to max */
    CLI_OPTION_ENUM,     /* an int or enum field: the value of the word given */
    CLI_OPTION_CALLBACK, /* parse(field, text) checks and stores the value */
};

/* The type of an integer or enum field, so that a value is stored at the field's width. */
enum cli_int_type { CLI_INT, CLI_UINT, CLI_LONG, CLI_ULONG, CLI_LLONG, CLI_ULLONG };

/* A word an enum option takes and the value it stores; a list ends with {NULL, 0}. */
struct cli_word {
    const char *word;
    int value;
};

enum {
    CLI_OPTION_STOP = 1 << 0,   /* parsing ends after it (--help, --version) */
    CLI_OPTION_HIDDEN = 1 << 1, /* left out of --help and --help-all */
};

struct cli_option {
    enum cli_option_type type;
    char short_name;        /* 0: none */
    const char *long_name;  /* a group's: NULL */
    const char *value_name; /* "FILE"; NULL: a flag, or an enum's words joined by '|' */
    const char *help;       /* one paragraph, wrapped when printed; a group's heading */
    size_t offset;          /* of the field within CLI_ARGS */
    enum cli_int_type int_type;
    long long min, max;           /* CLI_OPTION_INT */
    const char *unit;             /* CLI_OPTION_INT: "a number of UNIT from MIN to MAX" */
    const char *why;              /* CLI_OPTION_INT: said in brackets after the range */
    const struct cli_word *words; /* CLI_OPTION_ENUM */
    int (*parse)(void *field, const char *text); /* CLI_OPTION_CALLBACK: 0, or -1: not valid */
    const char *takes; /* what a bad value is told the option takes; NULL: from the type */
    unsigned flags;    /* CLI_OPTION_STOP, CLI_OPTION_HIDDEN */
};

/* The fields of each kind of option. A field of the wrong type is a compile error: _Generic has
 * no association for it. */
#define CLI_FIELD_(field) .offset = offsetof(CLI_ARGS, field)
#define CLI_FIELD_POINTER_(field) &((CLI_ARGS *)0)->field
#define CLI_STRING_(s, l, field, value, h)                                                         \
    .type = _Generic(CLI_FIELD_POINTER_(field), const char **: CLI_OPTION_STRING),                \
    .short_name = (s), .long_name = (l), .value_name = (value), .help = (h), CLI_FIELD_(field)
#define CLI_BOOL_(s, l, field, h)                                                                  \
    .type = _Generic(CLI_FIELD_POINTER_(field), bool *: CLI_OPTION_BOOL), .short_name = (s),      \
    .long_name = (l), .help = (h), CLI_FIELD_(field)
#define CLI_INT_(s, l, field, value, lo, hi, h)                                                    \
    .type = CLI_OPTION_INT, .short_name = (s), .long_name = (l), .value_name = (value),           \
    .help = (h), CLI_FIELD_(field), .min = (lo), .max = (hi),                                     \
    .int_type = _Generic(CLI_FIELD_POINTER_(field), int *: CLI_INT, unsigned *: CLI_UINT,         \
                         long *: CLI_LONG, unsigned long *: CLI_ULONG, long long *: CLI_LLONG,     \
                         unsigned long long *: CLI_ULLONG)
/* An enum field is compatible with int or unsigned int, whichever holds its values. */
#define CLI_ENUM_(s, l, field, value, w, h)                                                        \
    .type = CLI_OPTION_ENUM, .short_name = (s), .long_name = (l), .value_name = (value),          \
    .help = (h), CLI_FIELD_(field), .words = (w),                                                 \
    .int_type = _Generic(CLI_FIELD_POINTER_(field), int *: CLI_INT, unsigned *: CLI_UINT)
#define CLI_CALLBACK_(s, l, field, value, fn, what, h)                                             \
    .type = CLI_OPTION_CALLBACK, .short_name = (s), .long_name = (l), .value_name = (value),       \
    .help = (h), CLI_FIELD_(field), .parse = (fn), .takes = (what)

#define CLI_OPTION_(...)                                                                           \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

/* A string: the field points into argv. */
#define OPT_STRING(s, l, field, value, h) CLI_OPTION_(CLI_STRING_(s, l, field, value, h))
/* A flag: the bool field is set to true. */
#define OPT_BOOL(s, l, field, h) CLI_OPTION_(CLI_BOOL_(s, l, field, h))
/* A whole number from lo to hi (lo >= 0), stored at the field's type. */
#define OPT_INT(s, l, field, value, lo, hi, h) CLI_OPTION_(CLI_INT_(s, l, field, value, lo, hi, h))
/* One of the words of w, a struct cli_word list; value NULL shows them as "a|b|c". */
#define OPT_ENUM(s, l, field, value, w, h) CLI_OPTION_(CLI_ENUM_(s, l, field, value, w, h))
/* Anything else: fn(&field, text) returns 0, or -1 and "--l takes WHAT, not 'text'" is said. */
#define OPT_CALLBACK(s, l, field, value, fn, what, h)                                              \
    CLI_OPTION_(CLI_CALLBACK_(s, l, field, value, fn, what, h))
#define OPT_GROUP(heading) CLI_OPTION_(.type = CLI_OPTION_GROUP, .help = (heading))
#define OPT_END CLI_OPTION_(.type = CLI_OPTION_END)
/* The same with further fields, designated: OPT_INT_F(..., .why = "Redshift's limit"). */
#define OPT_BOOL_F(s, l, field, h, ...) CLI_OPTION_(CLI_BOOL_(s, l, field, h), __VA_ARGS__)
#define OPT_INT_F(s, l, field, value, lo, hi, h, ...)                                              \
    CLI_OPTION_(CLI_INT_(s, l, field, value, lo, hi, h), __VA_ARGS__)

/* A table and the struct its values land in. */
struct option_table {
    const struct cli_option *options;
    void *args;
};

/* Asked about a long option no table knows before the parser calls it unknown, with `text` as
 * given ("--yes", "--yes=1"): a caller that knows more (it is an option of another subcommand)
 * prints a usage error of its own and returns true; false leaves the error to the parser. */
struct options_unknown {
    bool (*explain)(const char *command, const char *text, const void *ctx);
    const void *ctx;
};

/* Parses the options of argv[1..argc-1] into the tables' structs with getopt_long, up to the
 * first operand, or with `anywhere` up to the end, the operands moved after the options; in
 * both cases up to "--" or to an option flagged CLI_OPTION_STOP. Returns the index of the
 * first argument not parsed (the first operand), or -1 after printing a usage error about
 * `command` (NULL: sparkify itself): an unknown option (with the nearest known one, as "did
 * you mean --log-data?"), a missing value, or a value the option does not take. `unknown` may
 * be NULL. */
int options_parse(const char *command, int argc, char **argv, const struct option_table *tables,
                  size_t count, bool anywhere, const struct options_unknown *unknown);

/* The number of single-character insertions, deletions, substitutions and swaps of adjacent
 * characters that turn a into b. */
size_t options_edit_distance(const char *a, const char *b);

/* Of `names`, the one nearest to the first `len` characters of `word`, when it is a few edits
 * away (about a third of the word); NULL when none is. */
const char *options_nearest(const char *word, size_t len, const char *const names[], size_t count);

/* What a value of `option` must be ("a number from 1 to 16", "c or sql"); "" for a string. */
void options_describe_value(const struct cli_option *option, char *out, size_t size);

/* Prints "PREFIX[-q] [--top N] ... OPERAND", wrapped under the end of the prefix. */
void options_print_usage(FILE *out, const char *prefix, const struct cli_option *const tables[],
                         size_t count, const char *operand);

/* Prints the option list of --help: one entry per option, help wrapped beside its names, aligned
 * across the tables. */
void options_print_list(FILE *out, const struct cli_option *const tables[], size_t count);

/* Prints "  LABEL  TEXT", the text starting at `column` (on the next line when the label reaches
 * it) and wrapped there: an entry of a list in --help. */
void options_print_item(FILE *out, const char *label, size_t column, const char *text);

/* Prints text wrapped to the width of --help: each line of `text` is a paragraph, except that
 * a line starting with a space is printed as it is (an example, a table). */
void options_print_text(FILE *out, const char *text);

/* Prints one tab-separated row per option (see `sparkify --help-all` in cli.h). */
void options_print_rows(FILE *out, const char *command, const struct cli_option *options);

#endif
