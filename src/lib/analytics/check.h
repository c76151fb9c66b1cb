/* check.h - data-quality checks on the star tables, run on any warehouse.
 *
 * Two kinds. A row check's SQL returns (failures, sample): the number of offending rows and
 * the key of one of them; it passes when failures is 0. A value check's SQL returns one value
 * that must equal `expect` or lie within [min, max] (Airflow's DataQualityOperator in spirit);
 * a built-in value check may instead take its expected value from a second column. The
 * built-in checks cover every star table; user checks come from an INI file with one section
 * per check. All SQL goes through wh->ops->query, in the subset every engine accepts.
 */
#ifndef SPARKIFY_CHECK_H
#define SPARKIFY_CHECK_H

#include "error.h"
#include "warehouse.h"

#include <stdbool.h>

enum check_kind { CHECK_ROWS, CHECK_VALUE };

struct check {
    char *name;
    char *sql;
    enum check_kind kind;
    const char *sample_key; /* CHECK_ROWS: what the sample column holds, or NULL */
    /* CHECK_VALUE: expect (text or number), min, max; none set: the SQL's second column. */
    char *expect;
    bool has_min, has_max;
    double min, max;
    int line; /* of its [section] in a checks file; 0 for a built-in check */
};

struct check_list {
    struct check *items;
    size_t count, capacity;
};

void check_list_init(struct check_list *list);
void check_list_release(struct check_list *list);
/* Appends the built-in checks. */
void check_list_add_builtin(struct check_list *list);
/* Appends the checks of an INI file; a bad file is SP_USAGE with path:line and the reason. */
int check_list_load(struct check_list *list, const char *path, struct sp_error *err);

struct check_result {
    const struct check *check;
    bool passed;
    char detail[512]; /* "3 rows (sample: user_id=999)", "value 0, expected at least 1" */
};

/* Runs every check; `results` has room for list->count. A check that fails is a result, not an
 * error: the return is SP_OK unless a check's SQL could not run (then err names the check).
 * `failed` receives the number of failed checks. In a dry run the queries are only shown and
 * every check passes. */
int check_run(struct warehouse *wh, const struct check_list *list, struct check_result *results,
              size_t *failed, struct sp_error *err);

#endif
