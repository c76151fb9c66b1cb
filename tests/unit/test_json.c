/* Unit tests of the JSON layer: COPY's coercions, errors with reasons, several objects per
 * file with line numbers, and the JSONPaths file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buffer.h"
#include "json.h"
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct json_parser *parser;
static struct field_spec events, songs;

/* Parses `text` as one event with the padding simdjson needs. */
static int parse_event(const char *text, struct cell *cells, char *reason)
{
    size_t len = strlen(text);
    char *padded = calloc(1, len + JSON_PADDING);
    memcpy(padded, text, len);
    int rc = json_parse_record(parser, padded, len, &events, cells, reason, 256);
    /* Text cells may point into `padded`; tests copy what they check before freeing. */
    static char *keep;
    free(keep);
    keep = padded;
    return rc;
}

static void assert_text(const struct cell *c, const char *expected)
{
    assert_int_equal(c->type, CELL_TEXT);
    assert_int_equal(c->text.len, strlen(expected));
    assert_memory_equal(c->text.ptr, expected, c->text.len);
}

static void real_event_line_fills_every_column_with_its_type(void **state)
{
    (void)state;
    struct cell c[EVENT_FIELD_COUNT];
    char reason[256];
    const char *line =
        "{\"artist\":\"Pavement\",\"auth\":\"Logged In\",\"firstName\":\"Sylvie\",\"gender\":\"F\","
        "\"itemInSession\":0,\"lastName\":\"Cruz\",\"length\":99.16036,\"level\":\"free\","
        "\"location\":\"Washington-Arlington-Alexandria, DC-VA-MD-WV\",\"method\":\"PUT\","
        "\"page\":\"NextSong\",\"registration\":1540266185796.0,\"sessionId\":345,"
        "\"song\":\"Mercy:The Laundromat\",\"status\":200,\"ts\":1541990258796,"
        "\"userAgent\":\"\\\"Mozilla\\/5.0 (Macintosh)\\\"\",\"userId\":\"10\"}";
    assert_int_equal(parse_event(line, c, reason), 0);
    assert_text(&c[EVENT_ARTIST], "Pavement");
    assert_int_equal(c[EVENT_ITEM_IN_SESSION].type, CELL_INT);
    assert_int_equal(c[EVENT_ITEM_IN_SESSION].i, 0);
    assert_int_equal(c[EVENT_LENGTH].type, CELL_DOUBLE);
    assert_true(c[EVENT_LENGTH].d == 99.16036);
    assert_int_equal(c[EVENT_REGISTRATION].type, CELL_DOUBLE);
    assert_true(c[EVENT_REGISTRATION].d == 1540266185796.0);
    assert_int_equal(c[EVENT_SESSION_ID].i, 345);
    assert_int_equal(c[EVENT_TS].type, CELL_INT);
    assert_true(c[EVENT_TS].i == INT64_C(1541990258796));
    assert_text(&c[EVENT_USER_AGENT], "\"Mozilla/5.0 (Macintosh)\"");
    assert_text(&c[EVENT_USER_ID], "10");
}

static void copy_coercions_follow_redshift(void **state)
{
    (void)state;
    struct cell c[EVENT_FIELD_COUNT];
    char reason[256];
    /* number in a text column -> its text; "" in numeric -> NULL; numeric string -> number;
     * integral double in an integer column -> integer; missing -> NULL; unknown -> ignored;
     * bool in text -> its text; an object in text -> its JSON. */
    assert_int_equal(parse_event("{\"userId\": 42, \"artist\": 1.50, \"length\": \"\", "
                                 "\"sessionId\": \"17\", \"status\": 200.0, \"extra\": [1], "
                                 "\"song\": true, \"location\": {\"a\": 1}}",
                                 c, reason),
                     0);
    assert_text(&c[EVENT_USER_ID], "42");
    assert_text(&c[EVENT_ARTIST], "1.50");
    assert_int_equal(c[EVENT_LENGTH].type, CELL_NULL);
    assert_int_equal(c[EVENT_SESSION_ID].type, CELL_INT);
    assert_int_equal(c[EVENT_SESSION_ID].i, 17);
    assert_int_equal(c[EVENT_STATUS].type, CELL_INT);
    assert_int_equal(c[EVENT_STATUS].i, 200);
    assert_int_equal(c[EVENT_TS].type, CELL_NULL);
    assert_text(&c[EVENT_SONG], "true");
    assert_text(&c[EVENT_LOCATION], "{\"a\": 1}");
}

static void uncoercible_values_name_the_field(void **state)
{
    (void)state;
    struct cell c[EVENT_FIELD_COUNT];
    char reason[256];
    static const struct {
        const char *json, *reason;
    } cases[] = {
        {"{\"ts\": \"soon\"}", "field 'ts': expected a big integer, found \"soon\""},
        {"{\"sessionId\": 1.5}", "field 'sessionId': expected an integer, found 1.5"},
        {"{\"status\": 3000000000}", "field 'status': integer out of range: 3000000000"},
        {"{\"length\": true}", "field 'length': expected a number, found true"},
        {"{\"length\": [1]}", "field 'length': expected a number, found an array"},
        {"[1, 2]", "expected a JSON object"},
        {"{\"ts\": 1", "malformed JSON: unbalanced or incomplete object"},
        {"{\"artist\": \"\xff\"}", "invalid UTF-8"},
        {"{\"artist\": \"x\"} {}", "unexpected content after the JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(parse_event(cases[i].json, c, reason), -1);
        assert_string_equal(reason, cases[i].reason);
    }
}

struct collected {
    int count;
    size_t lines[8];
    char ids[8][32];
};

static int collect(void *ctx, const struct cell *cells, size_t line)
{
    struct collected *c = ctx;
    c->lines[c->count] = line;
    snprintf(c->ids[c->count], sizeof c->ids[0], "%.*s", (int)cells[SONG_SONG_ID].text.len,
             cells[SONG_SONG_ID].text.ptr);
    c->count++;
    return 0;
}

static int parse_songs(const char *text, struct collected *out, size_t *bad_line, char *reason)
{
    size_t len = strlen(text);
    char *padded = calloc(1, len + JSON_PADDING);
    memcpy(padded, text, len);
    memset(out, 0, sizeof *out);
    int rc = json_parse_objects(parser, padded, len, &songs, collect, out, bad_line, reason, 256);
    free(padded);
    return rc;
}

static void song_files_may_hold_several_objects(void **state)
{
    (void)state;
    struct collected got;
    size_t bad;
    char reason[256];
    /* Concatenated without whitespace, then pretty-printed over several lines. */
    assert_int_equal(parse_songs("{\"song_id\":\"S1\"}{\"song_id\":\"S2\"}\n{\n  \"song_id\": "
                                 "\"S3\",\n  \"duration\": 1.5\n}\n",
                                 &got, &bad, reason),
                     0);
    assert_int_equal(got.count, 3);
    assert_string_equal(got.ids[0], "S1");
    assert_string_equal(got.ids[1], "S2");
    assert_string_equal(got.ids[2], "S3");
    assert_int_equal(got.lines[0], 1);
    assert_int_equal(got.lines[2], 2);
}

static void a_truncated_song_file_is_an_error_with_its_line(void **state)
{
    (void)state;
    struct collected got;
    size_t bad = 0;
    char reason[256];
    assert_int_equal(
        parse_songs("{\"song_id\":\"S1\"}\n\n{\"song_id\": \"S2\"", &got, &bad, reason), -1);
    assert_int_equal(bad, 3);
    assert_int_equal(got.count, 1);
    assert_int_equal(parse_songs("  \n ", &got, &bad, reason), -1);
    assert_string_equal(reason, "no JSON object in the file");
}

static void jsonpaths_map_keys_to_columns(void **state)
{
    (void)state;
    struct buffer doc;
    buffer_init(&doc);
    buffer_append_str(&doc, "{\"jsonpaths\": [");
    const char *const keys[] = {
        "artist",    "auth",  "firstName", "gender", "itemInSession", "lastName",
        "length",    "level", "location",  "method", "page",          "registration",
        "sessionId", "song",  "status",    "ts",     "userAgent",     "user_id_renamed"};
    for (int i = 0; i < EVENT_FIELD_COUNT; i++)
        buffer_printf(&doc, "%s\"%s%s%s\"", i ? "," : "", i == 1 ? "$." : "$['", keys[i],
                      i == 1 ? "" : "']");
    buffer_append_str(&doc, "]}");
    struct field_spec spec;
    char *storage[EVENT_FIELD_COUNT + 1] = {0};
    struct sp_error err;
    assert_int_equal(field_spec_from_jsonpaths(&spec, doc.data, doc.len, "p.json", storage, &err),
                     0);
    struct cell c[EVENT_FIELD_COUNT];
    char reason[256];
    char line[] = "{\"user_id_renamed\": \"77\", \"auth\": \"Guest\"}                     "
                  "                                                                     ";
    assert_int_equal(json_parse_record(parser, line, 42, &spec, c, reason, sizeof reason), 0);
    assert_text(&c[EVENT_USER_ID], "77");
    assert_text(&c[EVENT_AUTH], "Guest");
    for (int i = 0; i < EVENT_FIELD_COUNT + 1; i++)
        free(storage[i]);

    const char *short_doc = "{\"jsonpaths\": [\"$['a']\"]}";
    assert_int_not_equal(
        field_spec_from_jsonpaths(&spec, short_doc, strlen(short_doc), "short.json", storage, &err),
        0);
    assert_string_equal(err.message, "short.json: lists 1 paths, staging_events has 18 columns");
    assert_int_not_equal(
        field_spec_from_jsonpaths(&spec, "{\"paths\": []}", 13, "bad.json", storage, &err), 0);
    buffer_release(&doc);
}

int main(void)
{
    parser = json_parser_new();
    field_spec_events(&events);
    field_spec_songs(&songs);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_event_line_fills_every_column_with_its_type),
        cmocka_unit_test(copy_coercions_follow_redshift),
        cmocka_unit_test(uncoercible_values_name_the_field),
        cmocka_unit_test(song_files_may_hold_several_objects),
        cmocka_unit_test(a_truncated_song_file_is_an_error_with_its_line),
        cmocka_unit_test(jsonpaths_map_keys_to_columns),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    json_parser_free(parser);
    return failed;
}
