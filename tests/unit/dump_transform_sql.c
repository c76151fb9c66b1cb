/* Prints the SQL transform's statements, ';'-terminated, for tests that check them with other
 * tools (sqlfluff's Redshift dialect). */
#include "transform_sql.h"

#include <stdio.h>

int main(void)
{
    size_t count;
    const struct transform_statement *statements = transform_statements(&count);
    for (size_t i = 0; i < count; i++)
        printf("-- %s\n%s;\n\n", statements[i].name, statements[i].sql);
    return 0;
}
