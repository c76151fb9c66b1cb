/* Prints every kind of statement the Redshift target can issue, ';'-terminated, for tests that
 * check them with other tools (sqlfluff's Redshift dialect): the DDL, every COPY variant, the
 * load-error query, the bookkeeping INSERTs and
 * DELETEs (with values that need quoting) and the SQL transform. The statements come from a
 * dry-run Redshift warehouse, so they are the very text a run sends. Last, as comments, the
 * size of each text column as the parser applies it. */
#include "warehouse_redshift.h"
#include "transform_sql.h"
#include "warehouse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_statement(void *ctx, const char *sql)
{
    (void)ctx;
    printf("%s;\n\n", sql);
}

static void must(int status, const struct sp_error *err)
{
    if (status != SP_OK) {
        fprintf(stderr, "dump_redshift_sql: %s\n", err->message);
        exit(1);
    }
}

int main(void)
{
    struct sp_error err;
    sp_error_clear(&err);
    const struct warehouse_dry_run dry_run = {print_statement, NULL};
    struct warehouse *wh;
    must(warehouse_open_dry_run("redshift://etl:secret@cluster.example.com:5439/dev", &dry_run, &wh,
                                &err),
         &err);
    must(wh->ops->create_tables(wh, true, &err), &err);
    must(wh->ops->truncate(wh, (1u << TABLE_COUNT) - 1, &err), &err);

    const char *role = "arn:aws:iam::123456789012:role/dwhRole";
    const char *chain = "arn:aws:iam::123456789012:role/dwhRole,arn:aws:iam::210987654321:role/"
                        "a,b";
    struct redshift_copy copies[] = {
        {"staging_events", "s3://bucket/staging/run/log.manifest", true,
         "s3://bucket/log_json_path.json", role, "us-west-2", false, 0},
        {"staging_events", "s3://bucket/staging/run/log-gz.manifest", true,
         "s3://bucket/staging/run/log_json_path.json", role, "eu-central-1", true, 10},
        {"staging_songs", "s3://bucket/staging/run/song.manifest", true, NULL, "default",
         "us-west-2", false, 0},
        {"staging_songs", "s3://bucket/it's; DROP TABLE users; --", true, NULL, chain, "us-west-2",
         true, 5},
    };
    for (size_t i = 0; i < sizeof copies / sizeof copies[0]; i++) {
        struct buffer sql;
        buffer_init(&sql);
        must(redshift_copy_sql(&sql, &copies[i], &err), &err);
        print_statement(NULL, sql.data);
        buffer_release(&sql);
    }
    print_statement(NULL, redshift_load_errors_sql);

    struct rowbuf rows;
    rowbuf_init(&rows, TABLE_LOADED_OBJECTS);
    const char *keys[] = {"s3://bucket/log_data/2018/11/it's.json", "/data/back\\slash.json"};
    for (size_t i = 0; i < 2; i++) {
        struct cell *row = rowbuf_add_row(&rows);
        rowbuf_set_text(&rows, &row[0], i ? "song" : "log", i ? 4 : 3);
        rowbuf_set_text(&rows, &row[1], keys[i], strlen(keys[i]));
        row[2].type = CELL_INT;
        row[2].i = 1234;
        rowbuf_set_text(&rows, &row[3], "etag:abc", 8);
        rowbuf_set_text(&rows, &row[4], "2026-11-25 00:00:00", 19);
    }
    must(wh->ops->write(wh, &rows, &err), &err);
    rowbuf_release(&rows);
    rowbuf_init(&rows, TABLE_LOAD_ERRORS);
    struct cell *row = rowbuf_add_row(&rows);
    rowbuf_set_text(&rows, &row[0], keys[0], strlen(keys[0]));
    row[1].type = CELL_INT;
    row[1].i = 12;
    rowbuf_set_text(&rows, &row[2], "ts: Invalid digit", 17);
    const char *raw = "{\"ts\": \"x\\\"y\"}";
    rowbuf_set_text(&rows, &row[3], raw, strlen(raw));
    rowbuf_set_text(&rows, &row[4], "2026-11-25 00:00:00", 19);
    must(wh->ops->write(wh, &rows, &err), &err);
    rowbuf_release(&rows);

    size_t count;
    const struct transform_statement *statements = transform_statements(&count);
    print_statement(NULL, transform_user_latest_fill);
    for (size_t i = 0; i < count; i++)
        print_statement(NULL, statements[i].sql);
    must(wh->ops->commit(wh, &err), &err);
    warehouse_close(wh);

    /* The sizes the parser holds every target to, by staging column, as comments: the DDL above
     * must declare the same. */
    struct field_spec spec;
    field_spec_events(&spec);
    for (size_t i = 0; i < spec.count; i++)
        if (spec.text_bytes[i])
            printf("-- parser limit staging_events.%s %u\n", event_columns[i],
                   (unsigned)spec.text_bytes[i]);
    field_spec_songs(&spec);
    for (size_t i = 0; i < spec.count; i++)
        if (spec.text_bytes[i])
            printf("-- parser limit staging_songs.%s %u\n", song_columns[i],
                   (unsigned)spec.text_bytes[i]);
    return 0;
}
