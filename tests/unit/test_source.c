/* Unit tests of sources: listing order and filters, line reading (CRLF, no final newline,
 * lines longer than the buffer), gzip read transparently, and truncated gzip caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char root[256];

static void write_file(const char *name, const char *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(data, 1, len, f);
    fclose(f);
}

static void make_dir(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    mkdir(path, 0777);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/sparkify-test-source-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", root);
    return system(command);
}

static void directories_list_json_files_recursively_in_byte_order(void **state)
{
    (void)state;
    make_dir("d");
    make_dir("d/b");
    make_dir("d/a");
    make_dir("d/.hidden");
    write_file("d/b/2.json", "{}", 2);
    write_file("d/a/1.json", "{}", 2);
    write_file("d/a/z.json.gz", "{}", 2);
    write_file("d/a/notes.txt", "x", 1);
    write_file("d/.hidden/3.json", "{}", 2);
    write_file("d/B.jsonl", "{}", 2);
    struct source_list list;
    source_list_init(&list);
    struct sp_error err;
    char spec[512];
    snprintf(spec, sizeof spec, "%s/d", root);
    assert_int_equal(source_list_objects(spec, NULL, &list, &err), 0);
    assert_int_equal(list.count, 4);
    const char *expected[] = {"d/B.jsonl", "d/a/1.json", "d/a/z.json.gz", "d/b/2.json"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(strncmp(list.items[i].key, root, strlen(root)), 0);
        assert_string_equal(list.items[i].key + strlen(root) + 1, expected[i]);
        assert_int_equal(list.items[i].size, 2);
        assert_int_equal(strncmp(list.items[i].version, "mtime:", 6), 0);
    }
    source_list_release(&list);

    snprintf(spec, sizeof spec, "%s/d/*/*.json", root);
    assert_int_equal(source_list_objects(spec, NULL, &list, &err), 0);
    assert_int_equal(list.count, 2);
    source_list_release(&list);

    snprintf(spec, sizeof spec, "%s/missing", root);
    assert_int_equal(source_list_objects(spec, NULL, &list, &err), SP_FAIL);
    assert_non_null(strstr(err.message, "missing: No such file or directory"));
}

static void lines_come_out_without_line_ends(void **state)
{
    (void)state;
    size_t long_len = 3 * 1024 * 1024;
    char *content = malloc(long_len + 64);
    memcpy(content, "one\r\n\ntwo\n", 10);
    memset(content + 10, 'x', long_len);
    memcpy(content + 10 + long_len, "\nlast", 5);
    write_file("lines.json", content, 15 + long_len);
    char path[512];
    snprintf(path, sizeof path, "%s/lines.json", root);
    struct line_reader *lr;
    struct sp_error err;
    assert_int_equal(line_reader_open(&lr, path, NULL, 64, &err), 0);
    const char *line;
    size_t len;
    assert_int_equal(line_reader_next(lr, &line, &len, &err), 1);
    assert_int_equal(len, 3);
    assert_memory_equal(line, "one", 3);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), 1);
    assert_int_equal(len, 0);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), 1);
    assert_memory_equal(line, "two", 3);
    assert_int_equal(line_reader_line(lr), 3);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), 1);
    assert_int_equal(len, long_len);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), 1);
    assert_int_equal(len, 4);
    assert_memory_equal(line, "last", 4);
    assert_int_equal(line_reader_line(lr), 5);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), 0);
    line_reader_close(lr);
    free(content);
}

static void gzip_is_read_transparently_and_truncation_is_an_error(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/events.json.gz", root);
    gzFile gz = gzopen(path, "wb");
    for (int i = 0; i < 20000; i++)
        gzprintf(gz, "{\"n\": %d}\n", i);
    gzclose(gz);
    struct buffer all;
    buffer_init(&all);
    struct sp_error err;
    assert_int_equal(source_read_all(path, NULL, 64, &all, &err), 0);
    assert_int_equal(memcmp(all.data, "{\"n\": 0}\n{\"n\": 1}\n", 18), 0);
    size_t lines = 0;
    for (size_t i = 0; i < all.len; i++)
        lines += all.data[i] == '\n';
    assert_int_equal(lines, 20000);

    struct stat st;
    stat(path, &st);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    assert_int_equal(source_read_all(path, NULL, 64, &all, &err), SP_FAIL);
    assert_non_null(strstr(err.message, "truncated gzip data"));
    struct line_reader *lr;
    assert_int_equal(line_reader_open(&lr, path, NULL, 64, &err), 0);
    const char *line;
    size_t len;
    int rc;
    while ((rc = line_reader_next(lr, &line, &len, &err)) == 1)
        ;
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err.message, "truncated gzip data"));
    line_reader_close(lr);
    buffer_release(&all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(directories_list_json_files_recursively_in_byte_order),
        cmocka_unit_test(lines_come_out_without_line_ends),
        cmocka_unit_test(gzip_is_read_transparently_and_truncation_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
