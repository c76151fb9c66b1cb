/* Unit tests of the upload plan (upload.h) without a server: what adding a file finds (lines, a
 * grown file's loaded lines, an unfinished last line, gzip content), the fingerprint it leaves
 * (that of the bytes a load reads), parts where the part size says, and undo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define MIB ((uint64_t)1 << 20)

static char root[256];

static char *path_of(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    return path;
}

static void write_file(const char *name, const char *data, size_t len)
{
    FILE *f = fopen(path_of(name), "wb");
    assert_non_null(f);
    fwrite(data, 1, len, f);
    fclose(f);
}

/* A listed local file, as source_list_objects gives it. */
static struct source_object object(const char *name)
{
    struct stat st;
    assert_int_equal(stat(path_of(name), &st), 0);
    return (struct source_object){.key = strdup(path_of(name)), .size = (uint64_t)st.st_size};
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/sparkify-test-upload-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", root);
    return system(command);
}

static void a_file_larger_than_a_part_is_planned_in_parts_and_fingerprinted_whole(void **state)
{
    (void)state;
    size_t len = 12 * MIB + 3;
    char *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = i % 100 == 99 ? '\n' : 'a';
    write_file("big.json", data, len);
    struct source_object o = object("big.json");
    struct upload_batch *b = upload_batch_new(5 * MIB);
    upload_batch_begin(b, "s3://b/big.json");
    struct upload_added added;
    struct sp_error err;
    assert_int_equal(upload_batch_add(b, &o, UPLOAD_ALL, false, &added, &err), SP_OK);
    assert_int_equal(added.bytes, len);
    assert_int_equal(added.lines, len / 100);
    const char *url;
    uint64_t length;
    uint32_t parts;
    upload_batch_object(b, 0, &url, &length, &parts);
    assert_string_equal(url, "s3://b/big.json");
    assert_int_equal(length, len);
    assert_int_equal(parts, 3);
    char expected[SOURCE_FINGERPRINT_SIZE];
    source_fingerprint(data, len, expected);
    assert_string_equal(o.fingerprint, expected);
    assert_int_equal(o.loaded, len);
    upload_batch_free(b);
    free(o.key);
    free(data);
}

static void a_grown_file_adds_its_new_lines_without_an_unfinished_last_one(void **state)
{
    (void)state;
    const char *loaded = "{\"n\": 1}\n{\"n\": 2}\n";
    const char *text = "{\"n\": 1}\n{\"n\": 2}\n{\"n\": 3}\n{\"n\": 4}\n{\"n\": ";
    write_file("day.json", text, strlen(text));
    char prefix[SOURCE_FINGERPRINT_SIZE];
    source_fingerprint(loaded, strlen(loaded), prefix);
    struct source_object o = object("day.json");
    o.start = strlen(loaded);
    o.prefix_fingerprint = prefix;
    struct upload_batch *b = upload_batch_new(5 * MIB);
    upload_batch_begin(b, "s3://b/day.json");
    struct upload_added added;
    struct sp_error err;
    assert_int_equal(upload_batch_add(b, &o, UPLOAD_NEW_LINES, false, &added, &err), SP_OK);
    assert_int_equal(added.lines_before, 2);
    assert_int_equal(added.lines, 2);
    assert_int_equal(added.bytes, 18);
    assert_true(added.open_line);
    /* The record then says the first four lines are loaded. */
    size_t end = strlen(text) - strlen("{\"n\": ");
    char expected[SOURCE_FINGERPRINT_SIZE];
    source_fingerprint(text, end, expected);
    assert_int_equal(o.loaded, end);
    assert_string_equal(o.fingerprint, expected);
    assert_int_equal(upload_batch_length(b), 18);

    /* Bytes that are not those loaded: refused, naming the file. */
    write_file("day.json", "{\"n\": 9}\n{\"n\": 2}\n{\"n\": 3}\n", 27);
    o.size = 27;
    assert_int_equal(upload_batch_add(b, &o, UPLOAD_NEW_LINES, false, &added, &err), SP_FAIL);
    assert_non_null(strstr(err.message, "day.json: changed since it was loaded"));
    assert_int_equal(upload_batch_length(b), 18);
    upload_batch_free(b);
    free(o.key);
}

static void a_last_line_that_is_complete_json_is_sent_without_a_line_end(void **state)
{
    (void)state;
    const char *text = "{\"n\": 1}\n{\"n\": 2}";
    write_file("done.json", text, strlen(text));
    struct source_object o = object("done.json");
    struct upload_batch *b = upload_batch_new(5 * MIB);
    upload_batch_begin(b, "s3://b/done.json");
    struct upload_added added;
    struct sp_error err;
    assert_int_equal(upload_batch_add(b, &o, UPLOAD_NEW_LINES, false, &added, &err), SP_OK);
    assert_false(added.open_line);
    assert_int_equal(added.bytes, strlen(text));
    upload_batch_free(b);
    free(o.key);
}

static void gzip_files_are_planned_inflated_and_joined_song_files_can_be_taken_back(void **state)
{
    (void)state;
    const char *text = "{\"song_id\": \"S1\"}\n";
    char gz[256];
    uLongf gz_len = sizeof gz;
    /* A gzip member written with zlib's gzip wrapper (windowBits 16 + 15). */
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = (Bytef *)gz;
    z.avail_out = (uInt)gz_len;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    gz_len = z.total_out;
    deflateEnd(&z);
    write_file("a.json.gz", gz, gz_len);
    write_file("b.json", text, strlen(text));
    struct source_object a = object("a.json.gz"), song = object("b.json");
    struct upload_batch *b = upload_batch_new(5 * MIB);
    upload_batch_begin(b, "s3://b/song/part-00001.json");
    struct upload_added added;
    struct sp_error err;
    assert_int_equal(upload_batch_add(b, &a, UPLOAD_ALL, true, &added, &err), SP_OK);
    assert_true(a.gzip);
    assert_int_equal(a.loaded, gz_len);
    assert_int_equal(added.bytes, strlen(text));
    assert_int_equal(upload_batch_length(b), strlen(text) + 1);
    assert_int_equal(upload_batch_add(b, &song, UPLOAD_ALL, true, &added, &err), SP_OK);
    assert_int_equal(upload_batch_length(b), 2 * (strlen(text) + 1));
    upload_batch_undo(b);
    assert_int_equal(upload_batch_length(b), strlen(text) + 1);
    assert_int_equal(upload_batch_count(b), 1);
    upload_batch_begin(b, "s3://b/song/part-00002.json");
    upload_batch_drop_empty(b);
    assert_int_equal(upload_batch_count(b), 1);
    upload_batch_free(b);
    free(a.key);
    free(song.key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_file_larger_than_a_part_is_planned_in_parts_and_fingerprinted_whole),
        cmocka_unit_test(a_grown_file_adds_its_new_lines_without_an_unfinished_last_one),
        cmocka_unit_test(a_last_line_that_is_complete_json_is_sent_without_a_line_end),
        cmocka_unit_test(gzip_files_are_planned_inflated_and_joined_song_files_can_be_taken_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
