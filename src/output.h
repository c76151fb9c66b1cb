/* output.h - query results printed as aligned tables, CSV or JSON. */
#ifndef SPARKIFY_OUTPUT_H
#define SPARKIFY_OUTPUT_H

#include "check.h"
#include "record.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

enum output_format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

int output_parse_format(const char *text, enum output_format *format);

/* Collects a query's rows (copies them), as a warehouse_row_fn. */
struct result_set;
struct result_set *result_set_new(void);
void result_set_free(struct result_set *rs);
int result_set_add_row(void *rs, size_t columns, const char *const *names,
                       const struct cell *values);
size_t result_set_rows(const struct result_set *rs);

void result_set_print_table(FILE *out, const struct result_set *rs);
void result_set_print_csv(FILE *out, const struct result_set *rs);
/* An array with one object per row; numbers stay numbers, NULL is null. */
cJSON *result_set_json(const struct result_set *rs);

/* Prints to stdout in `format`. */
void output_print(const struct result_set *rs, enum output_format format);

/* One line per check: PASS or FAIL, its name, the detail (offending rows and a sample key, or
 * the value against what was expected); only the failed ones with `failed_only`. */
void output_check_results(FILE *out, const struct check_result *results, size_t count,
                          bool failed_only);

#endif
