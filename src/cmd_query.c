/* cmd_query.c - `sparkify query SQL`: run one SQL statement on the warehouse, print its rows.
 *
 * One statement per call, so that what runs is what is printed (several statements would share
 * one header); read-only unless --write, so that a query cannot change the warehouse by mistake.
 * SQL "-" is read from stdin before the warehouse is opened, so that a failed read opens
 * nothing; -o FILE appears whole or not at all (output_file), as report's does.
 */
#include "commands.h"

#include "buffer.h"
#include "output.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct query_args {
    enum output_format format;
    bool write;
    const char *output_path;
    const char *sql;        /* the operand, or the text read from stdin for "-" */
    struct buffer sql_read; /* stdin's text, for "-" */
};

#define CLI_ARGS struct query_args
static const struct cli_option query_options[] = {
    OPT_ENUM('f', "format", format, NULL, output_formats,
             "an aligned table (the default), CSV (RFC 4180) or a JSON array of objects"),
    OPT_STRING('o', "output", output_path, "FILE",
               "write the rows to FILE, replaced whole once complete (default: stdout)"),
    OPT_BOOL(0, "write", write,
             "allow a statement that changes the warehouse; the change is committed"),
    OPT_END,
};
#undef CLI_ARGS

static void query_init(void *args)
{
    struct query_args *a = args;
    buffer_init(&a->sql_read);
}

/* SQL "-": the statement is stdin's text. */
static int query_prepare(struct cli *cli, void *args)
{
    (void)cli;
    struct query_args *a = args;
    if (strcmp(a->sql, "-") != 0)
        return 0;
    buffer_append(&a->sql_read, "", 0); /* a NUL to end even an empty text */
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        buffer_append(&a->sql_read, chunk, n);
    if (ferror(stdin)) {
        struct sp_error err;
        sp_error_clear(&err);
        sp_fail(&err, "cannot read the SQL from stdin: %s", strerror(errno));
        return cli_report_error(&err);
    }
    if (strlen(a->sql_read.data) != a->sql_read.len)
        return cli_usage_error("query", "the SQL read from stdin holds a NUL byte");
    a->sql = a->sql_read.data;
    return 0;
}

/* The rows in `format`, to -o FILE or stdout; a table for a file is not cut to a terminal. */
static int query_write(const struct query_args *a, const struct result_set *rs,
                       struct sp_error *err)
{
    struct output_file out;
    int status = output_file_open(&out, a->output_path, err);
    if (status != SP_OK)
        return status;
    if (a->output_path && a->format == FORMAT_TABLE)
        result_set_print_table(out.f, rs, 0);
    else
        output_print(out.f, rs, a->format);
    return output_file_close(&out, true, err);
}

static int cmd_query(struct cli *cli, void *args)
{
    const struct query_args *a = args;
    struct sp_error err;
    sp_error_clear(&err);
    struct result_set *rs = result_set_new();
    int status = cli->wh->ops->user_query(cli->wh, a->sql, a->write, result_set_add_row, rs, &err);
    if (status == SP_OK && a->write && !cli->dry_run)
        cli_interrupt_message("sparkify: interrupted after the change was committed\n");
    if (status == SP_OK)
        status = query_write(a, rs, &err);
    result_set_free(rs);
    return status == SP_OK ? 0 : cli_report_error(&err);
}

static void query_release(void *args)
{
    struct query_args *a = args;
    buffer_release(&a->sql_read);
}

const struct cli_command query_command = {
    .options = query_options,
    .operand = "SQL",
    .operand_offset = offsetof(struct query_args, sql),
    .description =
        "Runs one SQL statement on the warehouse and prints its rows; SQL \"-\" reads the "
        "statement from stdin. A trailing ';' and comments are fine (SQL that starts with \"--\" "
        "goes after a \"--\" argument); SQL holding more than one statement is refused (exit 2). "
        "Options may also follow the SQL.\n"
        "\n"
        "The query is read-only: a statement that would change the warehouse is refused (exit 2) "
        "and nothing changes (SQLite: query_only; PostgreSQL and Redshift: a READ ONLY "
        "transaction, rolled back).",
    .args_size = sizeof(struct query_args),
    .init = query_init,
    .prepare = query_prepare,
    .run = cmd_query,
    .release = query_release,
};
