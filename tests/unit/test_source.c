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
#include <dirent.h>
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

/* A named directory's subdirectories are walked by two threads: every file is listed once, in
 * byte order, with the total size; a link to a directory is followed; and of two subdirectories
 * that fail, the one first in the directory's own order is reported, as a walk in order would. */
static void a_tree_walked_by_two_threads_lists_each_file_once_and_fails_in_order(void **state)
{
    (void)state;
    make_dir("t");
    make_dir("other");
    write_file("other/linked.json", "{}", 2);
    char name[64], path[600], link[600];
    size_t files = 0;
    for (int d = 0; d < 40; d++) {
        snprintf(name, sizeof name, "t/d%02d", d);
        make_dir(name);
        snprintf(name, sizeof name, "t/d%02d/inner", d);
        make_dir(name);
        for (int f = 0; f < 3; f++) {
            snprintf(name, sizeof name, d % 2 ? "t/d%02d/inner/%d.json" : "t/d%02d/%d.json", d, f);
            write_file(name, "{}\n", 3);
            files++;
        }
    }
    write_file("t/top.json", "{}", 2);
    snprintf(path, sizeof path, "%s/other", root);
    snprintf(link, sizeof link, "%s/t/link", root);
    assert_int_equal(symlink(path, link), 0);
    struct source_list list;
    source_list_init(&list);
    struct sp_error err;
    char spec[512];
    snprintf(spec, sizeof spec, "%s/t", root);
    assert_int_equal(source_list_objects(spec, NULL, &list, &err), 0);
    assert_int_equal(list.count, files + 2);
    assert_int_equal(list.total_size, files * 3 + 4);
    for (size_t i = 1; i < list.count; i++)
        assert_true(strcmp(list.items[i - 1].key, list.items[i].key) < 0);
    assert_string_equal(list.items[0].key + strlen(root) + 1, "t/d00/0.json");
    assert_string_equal(list.items[3].key + strlen(root) + 1, "t/d01/inner/0.json");
    assert_string_equal(list.items[list.count - 2].key + strlen(root) + 1, "t/link/linked.json");
    assert_string_equal(list.items[list.count - 1].key + strlen(root) + 1, "t/top.json");
    source_list_release(&list);

    /* Dangling links named like JSON in two subdirectories. */
    const char *broken[] = {"d07", "d31"};
    for (int i = 0; i < 2; i++) {
        snprintf(link, sizeof link, "%s/t/%s/gone.json", root, broken[i]);
        assert_int_equal(symlink("/nonexistent/x", link), 0);
    }
    DIR *d = opendir(spec);
    assert_non_null(d);
    const char *first = NULL;
    struct dirent *e;
    while (!first && (e = readdir(d)) != NULL)
        for (int i = 0; i < 2; i++)
            if (strcmp(e->d_name, broken[i]) == 0)
                first = broken[i];
    closedir(d);
    assert_non_null(first);
    for (int run = 0; run < 20; run++) {
        assert_int_equal(source_list_objects(spec, NULL, &list, &err), SP_FAIL);
        snprintf(path, sizeof path, "%s/t/%s/gone.json: No such file or directory", root, first);
        assert_string_equal(err.message, path);
        source_list_release(&list);
    }
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
    assert_int_equal(source_read_all(path, NULL, 64, SIZE_MAX, &all, &err), 0);
    assert_int_equal(memcmp(all.data, "{\"n\": 0}\n{\"n\": 1}\n", 18), 0);
    size_t lines = 0;
    for (size_t i = 0; i < all.len; i++)
        lines += all.data[i] == '\n';
    assert_int_equal(lines, 20000);

    struct stat st;
    stat(path, &st);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    assert_int_equal(source_read_all(path, NULL, 64, SIZE_MAX, &all, &err), SP_FAIL);
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

/* Two gzip members, as `cat a.gz b.gz` or a logger that reopens its output makes. */
static size_t two_members(const char *path)
{
    gzFile gz = gzopen(path, "wb");
    gzputs(gz, "{\"n\": 1}\n");
    gzclose(gz);
    char first[4096];
    FILE *f = fopen(path, "rb");
    size_t n = fread(first, 1, sizeof first, f);
    fclose(f);
    gz = gzopen(path, "wb");
    gzputs(gz, "{\"n\": 2}\n");
    gzclose(gz);
    char second[4096];
    f = fopen(path, "rb");
    size_t m = fread(second, 1, sizeof second, f);
    fclose(f);
    f = fopen(path, "wb");
    fwrite(first, 1, n, f);
    fwrite(second, 1, m, f);
    fclose(f);
    return n + m;
}

static void every_gzip_member_is_read_and_trailing_bytes_are_an_error(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/two.json.gz", root);
    size_t raw_len = two_members(path);
    struct buffer all;
    buffer_init(&all);
    struct sp_error err;
    assert_int_equal(source_read_all(path, NULL, 64, SIZE_MAX, &all, &err), 0);
    assert_int_equal(all.len, 18);
    assert_memory_equal(all.data, "{\"n\": 1}\n{\"n\": 2}\n", 18);
    /* The same bytes from memory (how S3 bodies arrive) give the same content. */
    FILE *f = fopen(path, "rb");
    char raw[4096];
    assert_int_equal(fread(raw, 1, sizeof raw, f), raw_len);
    fclose(f);
    struct buffer inflated;
    buffer_init(&inflated);
    assert_int_equal(source_inflate(raw, raw_len, 64, SIZE_MAX, "mem", &inflated, &err), 0);
    assert_int_equal(inflated.len, 18);
    assert_memory_equal(inflated.data, all.data, 18);
    /* Lines of both members come out. */
    struct line_reader *lr;
    const char *line;
    size_t len;
    assert_int_equal(line_reader_open(&lr, path, NULL, 64, &err), 0);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_OK);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_OK);
    assert_memory_equal(line, "{\"n\": 2}", 8);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_END);
    line_reader_close(lr);
    /* Bytes after the last member are not silently dropped. */
    memcpy(raw + raw_len, "junk", 4);
    assert_int_equal(source_inflate(raw, raw_len + 4, 64, SIZE_MAX, "mem", &inflated, &err),
                     SP_FAIL);
    assert_string_equal(err.message, "mem: corrupt gzip data: bytes after the last gzip member");
    /* Content beyond the limit is refused, not held. */
    assert_int_equal(source_inflate(raw, raw_len, 64, 10, "mem", &inflated, &err), SP_FAIL);
    assert_non_null(strstr(err.message, "mem: more than 0 MB of content after decompression"));
    buffer_release(&inflated);
    buffer_release(&all);
}

static void a_growing_file_is_read_up_to_its_listed_size_and_fingerprinted_as_read(void **state)
{
    (void)state;
    write_file("grow.json", "{\"a\": 1}\n{\"a\": 2}\n", 18);
    char path[512];
    snprintf(path, sizeof path, "%s/grow.json", root);
    struct source_list list;
    source_list_init(&list);
    struct sp_error err;
    assert_int_equal(source_list_objects(path, NULL, &list, &err), 0);
    /* The file grows after it was listed: the run reads what was listed. */
    FILE *f = fopen(path, "ab");
    fputs("{\"a\": 3}\n{\"a\"", f);
    fclose(f);
    struct source_object *o = &list.items[0];
    struct line_reader *lr;
    const char *line;
    size_t len;
    assert_int_equal(line_reader_open_object(&lr, o, NULL, 64, &err), 0);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_OK);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_OK);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_END);
    line_reader_finish(lr, o, false);
    line_reader_close(lr);
    assert_int_equal(o->loaded, 18);
    char expected[SOURCE_FINGERPRINT_SIZE];
    source_fingerprint("{\"a\": 1}\n{\"a\": 2}\n", 18, expected);
    assert_string_equal(o->fingerprint, expected);

    /* The next run resumes after the loaded bytes, numbering lines as the file does, and can
     * leave an unfinished last line out of what it records. */
    o->size = 18 + 14;
    o->start = 18;
    char prefix[SOURCE_FINGERPRINT_SIZE];
    snprintf(prefix, sizeof prefix, "%s", expected);
    o->prefix_fingerprint = prefix;
    assert_int_equal(line_reader_open_object(&lr, o, NULL, 64, &err), 0);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_OK);
    assert_int_equal(line_reader_line(lr), 3);
    assert_memory_equal(line, "{\"a\": 3}", 8);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_OK);
    assert_int_equal(line_reader_line(lr), 4);
    assert_int_equal(line_reader_last_is_open(lr), 1);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_END);
    line_reader_finish(lr, o, true);
    line_reader_close(lr);
    assert_int_equal(o->loaded, 27);
    source_fingerprint("{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n", 27, expected);
    assert_string_equal(o->fingerprint, expected);

    /* A file whose loaded part changed is refused when it is opened. */
    write_file("grow.json", "{\"a\": 9}\n{\"a\": 2}\n{\"a\": 3}\n", 27);
    o->size = 27;
    assert_int_equal(line_reader_open_object(&lr, o, NULL, 64, &err), SP_FAIL);
    assert_non_null(
        strstr(err.message, "grow.json: changed since it was loaded: its first 18 bytes"));
    source_list_release(&list);
}

static void a_line_too_long_is_reported_and_skipped_a_bom_is_not_data(void **state)
{
    (void)state;
    size_t long_len = SOURCE_MAX_RECORD + 100;
    char *content = malloc(long_len + 64);
    memcpy(content, "\xEF\xBB\xBF{}\n", 6);
    memset(content + 6, 'x', long_len);
    memcpy(content + 6 + long_len, "\n{\"z\": 1}", 10);
    write_file("long.json", content, 16 + long_len);
    char path[512];
    snprintf(path, sizeof path, "%s/long.json", root);
    struct line_reader *lr;
    struct sp_error err;
    const char *line;
    size_t len;
    assert_int_equal(line_reader_open(&lr, path, NULL, 64, &err), 0);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(line, "{}", 2);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_TOO_LONG);
    assert_int_equal(line_reader_line(lr), 2);
    assert_int_equal(len, 256);
    assert_memory_equal(line, "xxxxxxxx", 8);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_OK);
    assert_int_equal(line_reader_line(lr), 3);
    assert_memory_equal(line, "{\"z\": 1}", 8);
    assert_int_equal(line_reader_next(lr, &line, &len, &err), LINE_END);
    line_reader_close(lr);
    free(content);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(directories_list_json_files_recursively_in_byte_order),
        cmocka_unit_test(a_tree_walked_by_two_threads_lists_each_file_once_and_fails_in_order),
        cmocka_unit_test(lines_come_out_without_line_ends),
        cmocka_unit_test(gzip_is_read_transparently_and_truncation_is_an_error),
        cmocka_unit_test(every_gzip_member_is_read_and_trailing_bytes_are_an_error),
        cmocka_unit_test(a_growing_file_is_read_up_to_its_listed_size_and_fingerprinted_as_read),
        cmocka_unit_test(a_line_too_long_is_reported_and_skipped_a_bom_is_not_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
