/* Unit tests of the JSON layer: COPY's coercions, errors with reasons, several objects per
 * file with line numbers, the JSONPaths file, and the validity of the whole record (RFC 8259,
 * under unknown keys too), NUL, the byte order mark, the 4 MB and depth limits, the columns'
 * sizes, blank numeric text. */
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

/* The reason `text` is a bad event, or "" when it parses. */
static const char *event_reason(const char *text)
{
    static char reason[256];
    struct cell c[EVENT_FIELD_COUNT];
    return parse_event(text, c, reason) == 0 ? "" : reason;
}

/* `head`, then `fill` `times` times, then `tail`, as a new string the caller frees. */
static char *repeated(const char *head, const char *fill, size_t times, const char *tail)
{
    size_t h = strlen(head), f = strlen(fill), t = strlen(tail);
    char *out = malloc(h + f * times + t + 1);
    memcpy(out, head, h);
    for (size_t i = 0; i < times; i++)
        memcpy(out + h + f * i, fill, f);
    memcpy(out + h + f * times, tail, t + 1);
    return out;
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

/* A stream of song objects parsed through a sliding window of `window` bytes, as a song file
 * too large to hold is: the objects and lines must be those of one parse of the whole. */
static int parse_in_windows(const char *text, size_t window, struct collected *out,
                            size_t *bad_line, char *reason)
{
    size_t len = strlen(text), pos = 0, have = 0;
    char *buf = calloc(1, len + JSON_PADDING);
    memset(out, 0, sizeof *out);
    struct json_window w = {.first_line = 1, .at_start = true};
    int rc;
    for (;;) {
        size_t take = len - pos < window - have ? len - pos : window - have;
        memcpy(buf + have, text + pos, take);
        pos += take;
        have += take;
        w.final = pos == len;
        memset(buf + have, 0, JSON_PADDING);
        rc = json_parse_window(parser, buf, have, &w, &songs, collect, out, bad_line, reason, 256);
        if (rc != 0 || w.final)
            break;
        if (w.consumed == 0)
            window *= 2; /* an object larger than the window: this test's reader grows it */
        memmove(buf, buf + w.consumed, have - w.consumed);
        have -= w.consumed;
        w.first_line += w.lines;
        w.at_start = w.at_start && w.consumed == 0;
    }
    free(buf);
    return rc;
}

static void a_stream_of_song_objects_parses_the_same_in_windows_of_any_size(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF{\"song_id\":\"S1\"}{\"song_id\":\"S2\", \"title\": \"} {\"}\n"
                       "\n{\n  \"song_id\": \"S3\",\n  \"duration\": 1.5\n}\n  "
                       "{\"song_id\":\"S4\"}\n{\"song_id\":\"S5\", \"year\": 2001}";
    struct collected whole, part;
    size_t bad;
    char reason[256];
    assert_int_equal(parse_songs(text, &whole, &bad, reason), 0);
    assert_int_equal(whole.count, 5);
    const size_t lines[] = {1, 1, 3, 7, 8};
    for (int i = 0; i < 5; i++)
        assert_int_equal(whole.lines[i], lines[i]);
    /* Blank lines before the first object count. */
    assert_int_equal(parse_songs("\n\n  {\"song_id\":\"S1\"}", &part, &bad, reason), 0);
    assert_int_equal(part.lines[0], 3);
    for (size_t window = 1; window <= strlen(text) + 1; window++) {
        assert_int_equal(parse_in_windows(text, window, &part, &bad, reason), 0);
        assert_int_equal(part.count, whole.count);
        for (int i = 0; i < whole.count; i++) {
            assert_string_equal(part.ids[i], whole.ids[i]);
            assert_int_equal(part.lines[i], whole.lines[i]);
        }
    }
    /* A stream cut short is an error at the line where its last object starts, in any window. */
    for (size_t window = 4; window <= 64; window += 12) {
        assert_int_equal(parse_in_windows("{\"song_id\":\"S1\"}\n\n{\"song_id\": \"S2\"", window,
                                          &part, &bad, reason),
                         -1);
        assert_int_equal(bad, 3);
        assert_int_equal(part.count, 1);
    }
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

/* Issue 11: any known key whose value started with n but was not null threw a simdjson_error
 * out of the parser and aborted the process. */
static void a_value_starting_with_n_that_is_not_null_is_a_bad_record_not_a_crash(void **state)
{
    (void)state;
    static const struct {
        const char *json, *reason;
    } cases[] = {
        {"{\"page\":\"Home\",\"artist\":nul}",
         "field 'artist': malformed JSON: bad literal (true/false/null)"},
        {"{\"ts\":nul}", "field 'ts': malformed JSON: bad literal (true/false/null)"},
        {"{\"artist\":n}", "field 'artist': malformed JSON: bad literal (true/false/null)"},
        {"{\"artist\":nulls}", "field 'artist': malformed JSON: bad literal (true/false/null)"},
        {"{\"artist\":tru}", "field 'artist': malformed JSON: bad literal (true/false/null)"},
        {"{\"length\":fals}", "field 'length': malformed JSON: bad literal (true/false/null)"},
        {"{\"artist\":+1}", "field 'artist': malformed JSON: bad number"},
        /* The fuzzer's first find, run against the code before the fix. */
        {"{\"artist\":nullt\":1543190571796,,\"auth\":\"Logged Out\",\"firstName\":null,"
         "tration\":null,\"sessionId\":814,\"song\":null,\"status\":307,\"tt\":1543190571796,"
         "\"userAgent\":null,\"userId\":\"\"}",
         "field 'artist': malformed JSON: bad literal (true/false/null)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(event_reason(cases[i].json), cases[i].reason);
    struct cell c[EVENT_FIELD_COUNT];
    char reason[256];
    assert_int_equal(parse_event("{\"artist\":null, \"ts\": null}", c, reason), 0);
    assert_int_equal(c[EVENT_ARTIST].type, CELL_NULL);
    assert_int_equal(c[EVENT_TS].type, CELL_NULL);
}

static void malformed_json_under_a_key_sparkify_does_not_use_is_a_bad_record(void **state)
{
    (void)state;
    static const struct {
        const char *value, *reason;
    } cases[] = {
        {"]", "malformed JSON: unbalanced or incomplete object"},
        {"tru", "malformed JSON: bad literal (true/false/null)"},
        {"truex", "malformed JSON: bad literal (true/false/null)"},
        {"True", "malformed JSON: bad literal (true/false/null)"},
        {"nul", "malformed JSON: bad literal (true/false/null)"},
        {"nulll", "malformed JSON: bad literal (true/false/null)"},
        {"01", "malformed JSON: bad number"},
        {"+1", "malformed JSON: bad number"},
        {"-", "malformed JSON: bad number"},
        {".5", "malformed JSON: bad number"},
        {"1.", "malformed JSON: bad number"},
        {"1e", "malformed JSON: bad number"},
        {"1e+", "malformed JSON: bad number"},
        {"0x10", "malformed JSON: bad number"},
        {"\"\\q\"", "malformed JSON: bad string escape"},
        {"\"\\u12\"", "malformed JSON: bad string escape"},
        {"[1,,2]", "malformed JSON: unbalanced or incomplete object"},
        {"[1 2]", "malformed JSON: unbalanced or incomplete object"},
        {"[1,2}, \"a\": 1", "malformed JSON: unbalanced or incomplete object"},
        {"{\"a\":1]", "malformed JSON: unbalanced or incomplete object"},
        {"{\"a\" 1}", "malformed JSON: unbalanced or incomplete object"},
        {"{\"a\":1,}", "malformed JSON: unbalanced or incomplete object"},
        {"{1:2}", "malformed JSON: unbalanced or incomplete object"},
        {"[[[tru]]]", "malformed JSON: bad literal (true/false/null)"},
        {"{\"a\":{\"b\":[0, 01]}}", "malformed JSON: bad number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[128], expected[128];
        snprintf(json, sizeof json, "{\"page\":\"Home\",\"zzz\":%s}", cases[i].value);
        snprintf(expected, sizeof expected, "field 'zzz': %s", cases[i].reason);
        assert_string_equal(event_reason(json), expected);
    }
    /* The same check in song files. */
    struct collected got;
    size_t bad = 0;
    char reason[256];
    assert_int_equal(
        parse_songs("{\"song_id\":\"S1\"}\n{\"song_id\":\"S2\",\"zzz\":[tru]}", &got, &bad, reason),
        -1);
    assert_int_equal(got.count, 1);
    assert_int_equal(bad, 2);
    assert_string_equal(reason, "field 'zzz': malformed JSON: bad literal (true/false/null)");
}

static void a_bad_escape_in_any_key_is_refused(void **state)
{
    (void)state;
    assert_string_equal(event_reason("{\"page\":\"Home\",\"z\\qz\":1}"),
                        "malformed JSON: bad string escape");
    assert_string_equal(event_reason("{\"page\":\"Home\",\"zzz\":{\"\\q\":1}}"),
                        "field 'zzz': malformed JSON: bad string escape");
    assert_string_equal(event_reason("{\"page\":\"Home\",\"artist\":[{\"\\x\":1}]}"),
                        "field 'artist': malformed JSON: bad string escape");
}

static void a_nested_value_kept_as_text_must_be_valid_json(void **state)
{
    (void)state;
    static const struct {
        const char *json, *reason;
    } cases[] = {
        {"{\"artist\":{\"a\":tru}}",
         "field 'artist': malformed JSON: bad literal (true/false/null)"},
        {"{\"artist\":[1,,2]}", "field 'artist': malformed JSON: unbalanced or incomplete object"},
        {"{\"artist\":[1,2}, \"page\": \"Home\"}",
         "field 'artist': malformed JSON: unbalanced or incomplete object"},
        {"{\"location\":{\"a\":\"\\q\"}}", "field 'location': malformed JSON: bad string escape"},
        {"{\"song\":[{\"a\":1e}]}", "field 'song': malformed JSON: bad number"},
        {"{\"song\":[nul]}", "field 'song': malformed JSON: bad literal (true/false/null)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(event_reason(cases[i].json), cases[i].reason);
    /* A valid one is kept byte for byte, exotic numbers included. */
    struct cell c[EVENT_FIELD_COUNT];
    char reason[256];
    assert_int_equal(parse_event("{\"artist\": {\"a\": [1, {\"b\": null}], \"c\": \"\\u00e9\", "
                                 "\"d\": 1e400} , \"page\": \"Home\"}",
                                 c, reason),
                     0);
    assert_text(&c[EVENT_ARTIST], "{\"a\": [1, {\"b\": null}], \"c\": \"\\u00e9\", \"d\": 1e400}");
    assert_text(&c[EVENT_PAGE], "Home");
}

static void valid_json_of_every_shape_is_accepted_under_unknown_keys(void **state)
{
    (void)state;
    struct cell c[EVENT_FIELD_COUNT];
    char reason[256];
    assert_int_equal(
        parse_event("{\"a\":1e400, \"b\":-123456789012345678901234567890, "
                    "\"c\":1e00000000000000000001, \"d\":-0.0e-999, \"e\":1E+2, \"f\":0.5e-3, "
                    "\"g\":\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"\\\\\\u0000\", "
                    "\"h\":[], \"i\":{}, \"j\":[{\"k\":[null,true,false,0,-0,[[]]]}], \"\":\"\", "
                    "\"\\u00e9\\u0000\":0, \"page\":\"Home\", \"l\":  [ 1 , { } ] }",
                    c, reason),
        0);
    assert_text(&c[EVENT_PAGE], "Home");
    /* A number in a text column keeps its text even beyond a double; a numeric column still
     * needs a value it can hold, whatever valid JSON spells it. */
    assert_int_equal(
        parse_event("{\"artist\":1e400, \"song\":123456789012345678901234567890}", c, reason), 0);
    assert_text(&c[EVENT_ARTIST], "1e400");
    assert_text(&c[EVENT_SONG], "123456789012345678901234567890");
    /* Below INT64_MIN, which simdjson's DOM parser refuses (found by the fuzzer's oracle). */
    assert_int_equal(
        parse_event("{\"ap\":-9792270368547758087,\"artist\":-9792270368547758087}", c, reason), 0);
    assert_text(&c[EVENT_ARTIST], "-9792270368547758087");
    assert_string_equal(event_reason("{\"ts\":-9792270368547758087}"),
                        "field 'ts': expected a big integer, found -9792270368547758087");
    assert_string_equal(event_reason("{\"length\":1e400}"),
                        "field 'length': number out of range: 1e400");
    assert_string_equal(event_reason("{\"ts\":-1e400}"),
                        "field 'ts': integer out of range: -1e400");
    assert_string_equal(event_reason("{\"length\":1e}"),
                        "field 'length': malformed JSON: bad number");
    assert_int_equal(
        parse_event("{\"length\":1e00000000000000000001, \"ts\":1E0000000000000000000012}", c,
                    reason),
        0);
    assert_true(c[EVENT_LENGTH].type == CELL_DOUBLE && c[EVENT_LENGTH].d == 10.0);
    assert_true(c[EVENT_TS].type == CELL_INT && c[EVENT_TS].i == INT64_C(1000000000000));
    assert_string_equal(event_reason("{\"ts\":123456789012345678901234567890}"),
                        "field 'ts': expected a big integer, found 123456789012345678901234567890");
}

/* `head`, `levels` times `open`, a 0, as many `close`, then `tail`: a value nested that deep. */
static char *nested(const char *head, const char *open, const char *close, size_t levels,
                    const char *tail)
{
    char *opened = repeated(head, open, levels, "0");
    char *out = repeated(opened, close, levels, tail);
    free(opened);
    return out;
}

static void nesting_deeper_than_the_limit_is_a_bad_record_not_a_stack_overflow(void **state)
{
    (void)state;
    /* The record's object is level 1: JSON_MAX_DEPTH - 1 levels under a key reach the limit. */
    static const struct {
        const char *head, *open, *close, *reason;
        size_t levels;
    } cases[] = {
        {"{\"zzz\":", "[", "]", "", JSON_MAX_DEPTH - 1},
        {"{\"zzz\":", "{\"a\":", "}", "", JSON_MAX_DEPTH - 1},
        /* Deep enough is checked first: what fails is the size of artist's column. */
        {"{\"artist\":", "[", "]", "field 'artist': longer than 512 bytes", JSON_MAX_DEPTH - 1},
        {"{\"zzz\":", "[", "]", "field 'zzz': nested too deeply (more than 1000 levels)",
         JSON_MAX_DEPTH},
        {"{\"zzz\":", "{\"a\":", "}", "field 'zzz': nested too deeply (more than 1000 levels)",
         JSON_MAX_DEPTH},
        {"{\"artist\":", "[", "]", "field 'artist': nested too deeply (more than 1000 levels)",
         JSON_MAX_DEPTH},
        {"{\"zzz\":", "[", "]", "field 'zzz': nested too deeply (more than 1000 levels)", 200000},
        {"{\"artist\":", "[{\"a\":", "}]",
         "field 'artist': nested too deeply (more than 1000 levels)", 100000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *json = nested(cases[i].head, cases[i].open, cases[i].close, cases[i].levels, "}");
        assert_string_equal(event_reason(json), cases[i].reason);
        free(json);
    }
    /* Song files alike. */
    struct collected got;
    size_t bad = 0;
    char reason[256];
    const char *head = "{\"song_id\":\"S1\",\"zzz\":";
    char *file = nested(head, "[", "]", JSON_MAX_DEPTH - 1, "}\n");
    assert_int_equal(parse_songs(file, &got, &bad, reason), 0);
    assert_int_equal(got.count, 1);
    free(file);
    file = nested(head, "[", "]", JSON_MAX_DEPTH, "}\n");
    assert_int_equal(parse_songs(file, &got, &bad, reason), -1);
    assert_string_equal(reason, "field 'zzz': nested too deeply (more than 1000 levels)");
    free(file);
}

static void a_nul_character_in_a_stored_text_value_makes_a_bad_record(void **state)
{
    (void)state;
    static const struct {
        const char *json, *reason;
    } cases[] = {
        {"{\"userId\":\"9001\\u0000x\"}",
         "field 'userId': contains a NUL character (U+0000), which COPY refuses"},
        {"{\"artist\":\"\\u0000\"}",
         "field 'artist': contains a NUL character (U+0000), which COPY refuses"},
        {"{\"artist\":{\"a\":[\"x\\u0000\"]}}",
         "field 'artist': contains a NUL character (U+0000), which COPY refuses"},
        {"{\"artist\":{\"\\u0000\":1}}",
         "field 'artist': contains a NUL character (U+0000), which COPY refuses"},
        {"{\"ts\":\"1541990258796\\u0000\"}",
         "field 'ts': expected a big integer, found \"1541990258796?\""},
        {"{\"length\":\"1.5\\u0000\"}", "field 'length': expected a number, found \"1.5?\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(event_reason(cases[i].json), cases[i].reason);
    /* Under a key sparkify does not use, nothing is stored: valid JSON is enough. */
    assert_string_equal(event_reason("{\"zzz\":\"\\u0000\", \"z\\u0000\":[\"\\u0000\"]}"), "");
}

static void a_byte_order_mark_may_start_a_song_file_but_not_a_record(void **state)
{
    (void)state;
    struct collected got;
    size_t bad = 0;
    char reason[256];
    assert_int_equal(
        parse_songs("\xEF\xBB\xBF{\"song_id\":\"S1\"}\n{\"song_id\":\"S2\"}", &got, &bad, reason),
        0);
    assert_int_equal(got.count, 2);
    assert_string_equal(got.ids[0], "S1");
    assert_int_equal(got.lines[0], 1);
    assert_int_equal(got.lines[1], 2);
    assert_int_equal(parse_songs("\xEF\xBB\xBF \n", &got, &bad, reason), -1);
    assert_string_equal(reason, "no JSON object in the file");
    /* Only at the very start of the file. */
    assert_int_equal(
        parse_songs("{\"song_id\":\"S1\"}\n\xEF\xBB\xBF{\"song_id\":\"S2\"}", &got, &bad, reason),
        -1);
    assert_int_equal(got.count, 1);
    assert_int_equal(bad, 2);
    assert_int_equal(parse_songs(" \xEF\xBB\xBF{\"song_id\":\"S1\"}", &got, &bad, reason), -1);
    assert_int_equal(got.count, 0);
    /* A line of events is mid-file data: the reader strips the file's own BOM before. */
    assert_string_equal(event_reason("\xEF\xBB\xBF{\"page\":\"Home\"}"),
                        "a UTF-8 byte order mark (BOM) is allowed only at the start of a file");
}

/* A song object `{"song_id":"ID","zzz":"aaa..."}` of exactly `size` bytes. */
static char *song_of_size(const char *id, size_t size)
{
    char head[64];
    snprintf(head, sizeof head, "{\"song_id\":\"%s\",\"zzz\":\"", id);
    return repeated(head, "a", size - strlen(head) - 2, "\"}");
}

static void an_object_over_4_mb_is_a_bad_record(void **state)
{
    (void)state;
    char *line = song_of_size("S1", JSON_MAX_RECORD);
    assert_string_equal(event_reason(line), "");
    free(line);
    line = song_of_size("S1", JSON_MAX_RECORD + 1);
    assert_string_equal(event_reason(line), "JSON object larger than 4 MB (Redshift COPY's limit)");
    free(line);

    struct collected got;
    size_t bad = 0;
    char reason[256];
    /* A file over 4 MB of objects within it is fine... */
    char *largest = song_of_size("S1", JSON_MAX_RECORD);
    char *file = repeated(largest, "\n{\"song_id\":\"S2\"}", 1, "\n");
    assert_int_equal(parse_songs(file, &got, &bad, reason), 0);
    assert_int_equal(got.count, 2);
    assert_string_equal(got.ids[1], "S2");
    free(file);
    free(largest);
    /* ...but one object over it is a bad record, on its line. */
    char *over = song_of_size("S2", JSON_MAX_RECORD + 1);
    file = repeated("{\"song_id\":\"S1\"}\n", over, 1, "\n{\"song_id\":\"S3\"}");
    assert_int_equal(parse_songs(file, &got, &bad, reason), -1);
    assert_int_equal(got.count, 1);
    assert_int_equal(bad, 2);
    assert_string_equal(reason, "JSON object larger than 4 MB (Redshift COPY's limit)");
    free(file);
    free(over);
}

static void blank_text_in_a_numeric_column_is_null_as_copy_loads_it(void **state)
{
    (void)state;
    struct cell c[EVENT_FIELD_COUNT];
    char reason[256];
    /* COPY: "Blank fields for other data types, such as INT, are always loaded with NULL", blank
     * being "only white space characters": spaces, a tab, and the other ASCII ones. */
    static const char *const blanks[] = {"\" \"", "\"\\t\"", "\"   \"",
                                         "\" \\t\\r\\n\\f\\u000b \""};
    for (size_t i = 0; i < sizeof blanks / sizeof blanks[0]; i++) {
        char line[256];
        snprintf(line, sizeof line,
                 "{\"length\": %s, \"sessionId\": %s, \"ts\": %s, \"registration\": %s}", blanks[i],
                 blanks[i], blanks[i], blanks[i]);
        assert_int_equal(parse_event(line, c, reason), 0);
        assert_int_equal(c[EVENT_LENGTH].type, CELL_NULL);
        assert_int_equal(c[EVENT_SESSION_ID].type, CELL_NULL);
        assert_int_equal(c[EVENT_TS].type, CELL_NULL);
        assert_int_equal(c[EVENT_REGISTRATION].type, CELL_NULL);
    }
    /* In a text column a blank string is text, as COPY loads it without BLANKSASNULL. */
    assert_int_equal(parse_event("{\"location\": \" \\t\"}", c, reason), 0);
    assert_text(&c[EVENT_LOCATION], " \t");
    /* Other Unicode spaces are not in the page's sense of blank: refused, as before. */
    assert_string_equal(event_reason("{\"sessionId\": \"\\u00a0\"}"),
                        "field 'sessionId': expected an integer, found \"\xc2\xa0\"");
}

static void numeric_text_the_copy_page_leaves_open_keeps_its_rules(void **state)
{
    (void)state;
    struct cell c[EVENT_FIELD_COUNT];
    char reason[256];
    /* Neither the data conversion page nor the JSON pages say how COPY reads the text of a
     * number; these are sparkify's rules, pinned so that a change is a decision. */
    assert_int_equal(parse_event("{\"sessionId\": \"+1\", \"length\": \"1e3\"}", c, reason), 0);
    assert_int_equal(c[EVENT_SESSION_ID].i, 1);
    assert_true(c[EVENT_LENGTH].d == 1000.0);
    static const struct {
        const char *json, *reason;
    } cases[] = {
        {"{\"sessionId\": \" 12\"}", "field 'sessionId': expected an integer, found \" 12\""},
        {"{\"sessionId\": \"12 \"}", "field 'sessionId': expected an integer, found \"12 \""},
        {"{\"sessionId\": \"1e3\"}", "field 'sessionId': expected an integer, found \"1e3\""},
        {"{\"sessionId\": \"0x10\"}", "field 'sessionId': expected an integer, found \"0x10\""},
        {"{\"length\": \"inf\"}", "field 'length': expected a number, found \"inf\""},
        {"{\"sessionId\": true}", "field 'sessionId': expected an integer, found true"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(event_reason(cases[i].json), cases[i].reason);
}

/* {"KEY": "HEAD" + `fill` x `times` + "TAIL"} */
static char *event_with_text(const char *key, const char *fill, size_t times, const char *tail)
{
    char head[64];
    snprintf(head, sizeof head, "{\"%s\": \"", key);
    char *value = repeated(head, fill, times, tail);
    char *line = repeated(value, "", 0, "\"}");
    free(value);
    return line;
}

static void text_longer_than_its_column_is_a_bad_record_in_bytes(void **state)
{
    (void)state;
    struct cell c[EVENT_FIELD_COUNT];
    char reason[256];
    char expected[128];
    snprintf(expected, sizeof expected, "field 'userId': longer than %d bytes", TEXT_BYTES_ID);
    /* Exactly the size: loaded; a byte more: refused. */
    char *line = event_with_text("userId", "a", TEXT_BYTES_ID, "");
    assert_int_equal(parse_event(line, c, reason), 0);
    assert_int_equal(c[EVENT_USER_ID].text.len, TEXT_BYTES_ID);
    free(line);
    line = event_with_text("userId", "a", TEXT_BYTES_ID + 1, "");
    assert_string_equal(event_reason(line), expected);
    free(line);
    /* Bytes, not characters: a two-byte character across the size is over it, though the value
     * has as many characters as the column has bytes. */
    line = event_with_text("userId", "a", TEXT_BYTES_ID - 1, "\xc3\xa9");
    assert_string_equal(event_reason(line), expected);
    free(line);
    line = event_with_text("userId", "a", TEXT_BYTES_ID - 2, "\xc3\xa9");
    assert_int_equal(parse_event(line, c, reason), 0);
    assert_int_equal(c[EVENT_USER_ID].text.len, TEXT_BYTES_ID);
    free(line);
    /* Spaces past the size are cut, as Redshift cuts them; anything else past it is refused. */
    line = event_with_text("userId", "a", TEXT_BYTES_ID, "   ");
    assert_int_equal(parse_event(line, c, reason), 0);
    assert_int_equal(c[EVENT_USER_ID].text.len, TEXT_BYTES_ID);
    free(line);
    line = event_with_text("userId", "a", TEXT_BYTES_ID, " \\t");
    assert_string_equal(event_reason(line), expected);
    free(line);
    /* A number kept as text counts its text. */
    line = repeated("{\"userId\": ", "1", TEXT_BYTES_ID + 1, "}");
    assert_string_equal(event_reason(line), expected);
    free(line);
    /* Every text column has its size; song files alike. */
    snprintf(expected, sizeof expected, "field 'userAgent': longer than %d bytes",
             TEXT_BYTES_USER_AGENT);
    line = event_with_text("userAgent", "a", TEXT_BYTES_USER_AGENT + 1, "");
    assert_string_equal(event_reason(line), expected);
    free(line);
    struct collected got;
    size_t bad = 0;
    char *file = repeated("{\"song_id\": \"S1\", \"title\": \"", "t", TEXT_BYTES_TITLE + 1, "\"}");
    assert_int_equal(parse_songs(file, &got, &bad, reason), -1);
    snprintf(expected, sizeof expected, "field 'title': longer than %d bytes", TEXT_BYTES_TITLE);
    assert_string_equal(reason, expected);
    free(file);
    /* Under a key sparkify does not use, nothing is stored: no size applies. */
    line = event_with_text("zzz", "a", 100000, "");
    assert_string_equal(event_reason(line), "");
    free(line);
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
        cmocka_unit_test(a_stream_of_song_objects_parses_the_same_in_windows_of_any_size),
        cmocka_unit_test(jsonpaths_map_keys_to_columns),
        cmocka_unit_test(malformed_json_under_a_key_sparkify_does_not_use_is_a_bad_record),
        cmocka_unit_test(a_bad_escape_in_any_key_is_refused),
        cmocka_unit_test(a_nested_value_kept_as_text_must_be_valid_json),
        cmocka_unit_test(valid_json_of_every_shape_is_accepted_under_unknown_keys),
        cmocka_unit_test(nesting_deeper_than_the_limit_is_a_bad_record_not_a_stack_overflow),
        cmocka_unit_test(a_nul_character_in_a_stored_text_value_makes_a_bad_record),
        cmocka_unit_test(a_byte_order_mark_may_start_a_song_file_but_not_a_record),
        cmocka_unit_test(an_object_over_4_mb_is_a_bad_record),
        cmocka_unit_test(blank_text_in_a_numeric_column_is_null_as_copy_loads_it),
        cmocka_unit_test(numeric_text_the_copy_page_leaves_open_keeps_its_rules),
        cmocka_unit_test(text_longer_than_its_column_is_a_bad_record_in_bytes),
        /* Last: before its fix it aborted the process. */
        cmocka_unit_test(a_value_starting_with_n_that_is_not_null_is_a_bad_record_not_a_crash),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    json_parser_free(parser);
    return failed;
}
