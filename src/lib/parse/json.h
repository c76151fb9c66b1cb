/* json.h - the C face of the JSON parser (simdjson On-Demand, in json.cpp).
 *
 * Values are taken as Redshift COPY ... FORMAT AS JSON takes them: unknown keys are ignored,
 * missing keys are NULL, a JSON number in a text column becomes its text, "" or a string of
 * white space in a numeric column is NULL, a numeric string in a numeric column is converted, a
 * text value longer than its column's size in bytes (the spec's text_bytes, from record.h) is
 * refused unless what is over is spaces, which are cut, and anything else that cannot be coerced
 * is an error naming the field. Text cells point into the parser or the input and are valid
 * until the next call on the same parser.
 *
 * A record is good only if it is valid JSON (RFC 8259) throughout, as COPY requires: values
 * under unknown keys are checked too, though never stored. A text value holding U+0000 is
 * refused (COPY fails on NUL); so are nesting deeper than JSON_MAX_DEPTH and records larger
 * than JSON_MAX_RECORD.
 *
 * Inputs must be followed by JSON_PADDING readable bytes (simdjson reads ahead).
 */
#ifndef SPARKIFY_JSON_H
#define SPARKIFY_JSON_H

#include "record.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JSON_PADDING 64

/* Redshift COPY refuses a JSON object larger than 4 MB; so does the parser. */
#define JSON_MAX_RECORD 4194304

/* Objects and arrays nested deeper than this (the record's own object is level 1) make a bad
 * record, so that no input can exhaust the stack of the recursive check. It stays below
 * simdjson's own default of 1024 levels, which its development checks (unoptimized builds)
 * assert on, and which iterate_many resets the parser to. */
#define JSON_MAX_DEPTH 1000

struct json_parser;

struct json_parser *json_parser_new(void);
void json_parser_free(struct json_parser *p);

/* Parses one JSON object (one JSON Lines record) into `cells` (spec->count of them).
 * Returns 0, or -1 with a one-line `reason`. A byte order mark is refused: the caller strips
 * the one a file may start with. */
int json_parse_record(struct json_parser *p, const char *line, size_t len,
                      const struct field_spec *spec, struct cell *cells, char *reason,
                      size_t reason_size);

/* Called once per object of json_parse_objects; a non-zero return stops the parse and is
 * returned from it. `line` is the 1-based line where the object starts. */
typedef int (*json_record_fn)(void *ctx, const struct cell *cells, size_t line);

/* Parses a buffer holding one or several objects, concatenated or separated by whitespace
 * (song files), after a UTF-8 byte order mark if the buffer starts with one. Returns 0, the
 * callback's status, or -1 with `reason` and *bad_line set. */
int json_parse_objects(struct json_parser *p, const char *buf, size_t len,
                       const struct field_spec *spec, json_record_fn fn, void *ctx,
                       size_t *bad_line, char *reason, size_t reason_size);

/* A window of a stream of objects too large to hold at once (a song file over a few megabytes,
 * or gzip data): the caller slides the window and json_parse_window parses the whole objects in
 * it. */
struct json_window {
    size_t first_line; /* the line the window starts on */
    bool at_start;     /* the window starts the file: a byte order mark may come first */
    bool final;        /* the window ends the file: no object may be left unfinished */
    size_t consumed;   /* out: bytes of whole objects (and the space around them) parsed */
    size_t lines;      /* out: line ends within those bytes */
    size_t documents;  /* objects parsed so far, over every window */
};

/* Parses the whole objects of buf[0, len) as json_parse_objects does, leaving an object the
 * window cuts (but no more than JSON_MAX_RECORD of it) for the next window. */
int json_parse_window(struct json_parser *p, const char *buf, size_t len, struct json_window *w,
                      const struct field_spec *spec, json_record_fn fn, void *ctx, size_t *bad_line,
                      char *reason, size_t reason_size);

/* Reads {"jsonpaths": [ "...", ... ]}: sets paths[i] to malloc'd copies (at most max).
 * Returns the number of paths, or -1 with `reason`. */
int json_parse_jsonpaths(const char *buf, size_t len, char **paths, size_t max, char *reason,
                         size_t reason_size);

/* 1 when `text` (padded) is the beginning of a JSON object that is not finished yet: it does
 * not end with '}', or its objects, arrays or strings are left open. A complete object, valid or
 * not, is 0. */
int json_text_is_incomplete(const char *text, size_t len);

#ifdef __cplusplus
}
#endif

#endif
