/* output.h - query results printed as aligned tables, CSV or JSON. */
#ifndef SPARKIFY_OUTPUT_H
#define SPARKIFY_OUTPUT_H

#include "check.h"
#include "options.h"
#include "record.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

enum output_format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

/* The words --format takes, for an option table (options.h). */
extern const struct cli_word output_formats[];

/* Collects a query's rows (copies them), as a warehouse_row_fn. */
struct result_set;
struct result_set *result_set_new(void);
void result_set_free(struct result_set *rs);
int result_set_add_row(void *rs, size_t columns, const char *const *names,
                       const struct cell *values);
size_t result_set_rows(const struct result_set *rs);

size_t result_set_columns(const struct result_set *rs);
const char *result_set_name(const struct result_set *rs, size_t column);
const struct cell *result_set_cell(const struct result_set *rs, size_t row, size_t column);
/* The column called `name`, or -1. */
int result_set_column(const struct result_set *rs, const char *name);
/* The number in column `name` of `row`: an integer, a double or numeric text (as a driver may
 * return a bigint); 0 when there is no such column, or the cell is NULL or not a number. */
double result_set_number(const struct result_set *rs, size_t row, const char *name);

/* An aligned table; with max_width > 0 the widest text columns are cut (with an ellipsis)
 * until a row fits. Cells are cut at 60 characters in any case. */
void result_set_print_table(FILE *out, const struct result_set *rs, size_t max_width);
void result_set_print_csv(FILE *out, const struct result_set *rs);
/* An array with one object per row; numbers stay numbers, NULL is null. */
cJSON *result_set_json(const struct result_set *rs);

/* The width tables must fit: $COLUMNS when set (20 or more), else the terminal's when `out` is
 * one, else 0 (no limit: a pipe or a file gets whole rows). */
size_t output_terminal_width(FILE *out);

/* Prints in `format`; a table fits output_terminal_width(out). */
void output_print(FILE *out, const struct result_set *rs, enum output_format format);

/* Where output goes: stdout (path NULL), or `path`. A regular file (also one a symlink names, or
 * a new one) is written atomically: a temporary file in its directory, with its mode and, as
 * root, its owner (a new one: 0666 less the umask), renamed over it by output_file_close(keep =
 * true) once complete and removed by output_file_close(keep = false), so a failed run leaves the
 * file as it was. A character device or a FIFO is written straight into. */
struct output_file {
    FILE *f;
    const char *path;
    char *temp;   /* the temporary file, NULL when written straight into */
    char *target; /* the file the temporary one replaces (a symlink followed) */
};
int output_file_open(struct output_file *o, const char *path, struct sp_error *err);
int output_file_close(struct output_file *o, bool keep, struct sp_error *err);

/* One line per check: PASS or FAIL, its name, the detail (offending rows and a sample key, or
 * the value against what was expected); only the failed ones with `failed_only`. */
void output_check_results(FILE *out, const struct check_result *results, size_t count,
                          bool failed_only);

#endif
