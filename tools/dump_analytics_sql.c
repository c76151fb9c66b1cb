/* Prints the report's queries (with a period) and the built-in checks' queries, ';'-terminated,
 * for tests that check them with other tools (sqlfluff's Redshift dialect). */
#include "check.h"
#include "report.h"

#include <stdio.h>

int main(void)
{
    struct report_options options = {.top = 10, .since = "2018-11-05", .until = "2018-11-11"};
    struct report_section *sections;
    size_t count;
    struct sp_error err;
    if (report_sections(&options, &sections, &count, &err) != SP_OK)
        return 1;
    for (size_t i = 0; i < count; i++)
        printf("-- report: %s\n%s;\n\n", sections[i].name, sections[i].sql);
    report_sections_free(sections, count);
    struct check_list checks;
    check_list_init(&checks);
    check_list_add_builtin(&checks);
    for (size_t i = 0; i < checks.count; i++)
        printf("-- check: %s\n%s;\n\n", checks.items[i].name, checks.items[i].sql);
    check_list_release(&checks);
    return 0;
}
