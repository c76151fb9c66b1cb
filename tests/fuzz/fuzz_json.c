/* fuzz_json.c - libFuzzer target for the JSON layer (src/lib/json.cpp).
 *
 * Each input is parsed as an event line (json_parse_record with the event spec, the input
 * cut at its first newline as the line reader would) and as a song file (json_parse_objects
 * with the song spec), each from its own padded copy as the callers provide. Besides what the
 * sanitizers catch, it checks the promises callers rely on: a refusal has a reason of one
 * non-empty line; song records come on ascending lines within the input; every text cell
 * can be read whole; parsing the same line again gives the same answer (no state leaks from
 * one parse into the next). Built and run by tests/fuzz/run.sh.
 */
#include "json.h"
#include "record.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct json_parser *parser;
static struct field_spec events, songs;
static volatile unsigned char sink;

static void fail(const char *what, const char *reason)
{
    fprintf(stderr, "fuzz_json: %s (reason: \"%s\")\n", what, reason ? reason : "");
    abort();
}

static void check_reason(const char *reason)
{
    if (reason[0] == '\0')
        fail("a refusal without a reason", reason);
    if (strchr(reason, '\n') || strchr(reason, '\r'))
        fail("a reason of more than one line", reason);
}

/* Reads every byte of every text cell, so that AddressSanitizer sees a dangling one. */
static void touch_cells(const struct cell *cells, size_t count)
{
    unsigned char sum = 0;
    for (size_t i = 0; i < count; i++) {
        if (cells[i].type > CELL_TEXT)
            fail("a cell of no known type", NULL);
        if (cells[i].type == CELL_TEXT)
            for (size_t j = 0; j < cells[i].text.len; j++)
                sum ^= (unsigned char)cells[i].text.ptr[j];
    }
    sink = sum;
}

struct song_walk {
    size_t last_line, lines;
};

static int on_song(void *ctx, const struct cell *cells, size_t line)
{
    struct song_walk *walk = ctx;
    if (line < walk->last_line || line < 1 || line > walk->lines)
        fail("a song record on a line out of order or out of the input", NULL);
    walk->last_line = line;
    touch_cells(cells, SONG_FIELD_COUNT);
    return 0;
}

/* A copy of `data` followed by JSON_PADDING zero bytes, as the readers provide. */
static char *padded_copy(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + JSON_PADDING);
    if (!copy)
        abort();
    if (size)
        memcpy(copy, data, size);
    memset(copy + size, 0, JSON_PADDING);
    return copy;
}

static void fuzz_record(const uint8_t *data, size_t size)
{
    const uint8_t *newline = size ? memchr(data, '\n', size) : NULL;
    size_t len = newline ? (size_t)(newline - data) : size;
    char *line = padded_copy(data, len);
    struct cell cells[EVENT_FIELD_COUNT];
    char reason[256], again[256];
    int rc = json_parse_record(parser, line, len, &events, cells, reason, sizeof reason);
    if (rc == 0)
        touch_cells(cells, EVENT_FIELD_COUNT);
    else if (rc == -1)
        check_reason(reason);
    else
        fail("json_parse_record returned neither 0 nor -1", NULL);
    int rc_again = json_parse_record(parser, line, len, &events, cells, again, sizeof again);
    if (rc_again != rc || (rc && strcmp(reason, again) != 0))
        fail("the same line parsed twice gave two answers", again);
    free(line);
}

static void fuzz_song_file(const uint8_t *data, size_t size)
{
    char *file = padded_copy(data, size);
    struct song_walk walk = {1, 1};
    for (size_t i = 0; i < size; i++)
        walk.lines += data[i] == '\n';
    size_t bad_line = 0;
    char reason[256];
    int rc = json_parse_objects(parser, file, size, &songs, on_song, &walk, &bad_line, reason,
                                sizeof reason);
    if (rc == -1) {
        check_reason(reason);
        if (bad_line < 1 || bad_line > walk.lines)
            fail("a bad line out of the input", reason);
    } else if (rc != 0) {
        fail("json_parse_objects returned a status its callback never gave", NULL);
    }
    free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!parser) {
        parser = json_parser_new();
        field_spec_events(&events);
        field_spec_songs(&songs);
    }
    fuzz_record(data, size);
    fuzz_song_file(data, size);
    return 0;
}
