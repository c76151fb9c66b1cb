/* record.h - typed values and the shape of the two raw record kinds.
 *
 * A `cell` is one value as Redshift COPY would store it: NULL, integer, double or text.
 * Text cells point into memory owned by someone else (the parser's string buffer, the read
 * buffer or a rowbuf's arena) and live only as long as that owner says; nothing here copies.
 * A `field_spec` tells the JSON parser which keys fill which columns with which types; the
 * event spec's keys come from log_json_path.json (Redshift's JSONPaths format).
 */
#ifndef SPARKIFY_RECORD_H
#define SPARKIFY_RECORD_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum cell_type { CELL_NULL = 0, CELL_INT, CELL_DOUBLE, CELL_TEXT };

struct cell {
    enum cell_type type;
    union {
        int64_t i;
        double d;
        struct {
            const char *ptr;
            size_t len;
        } text;
    };
};

enum column_type { COLUMN_TEXT, COLUMN_INT, COLUMN_BIGINT, COLUMN_DOUBLE };

/* The most bytes a text value may hold, by what it holds: the one list of column sizes. They
 * are the VARCHAR sizes of the Redshift DDL, whose columns are measured in bytes and refuse a
 * longer value ("An attempt to store a longer string into a column of these types results in an
 * error, unless the extra characters are all spaces (blanks), in which case the string is
 * truncated to the maximum length",
 * https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html), and the parser holds
 * every target to them, so that a value too long for Redshift is a bad record everywhere. AWS
 * advises the smallest size that fits: temporary tables of sorts and hashes are not compressed
 * (https://docs.aws.amazon.com/redshift/latest/dg/c_best-practices-smallest-column-size.html).
 * For scale, the real sample's longest values: song 159 bytes, userAgent 139, artist 101,
 * title 98, location 46, artist_id and song_id 18. The star tables' columns take the size of
 * the staging column they are copied from. */
#define TEXT_BYTES_ID 64           /* user_id, song_id, artist_id (a UUID is 36) */
#define TEXT_BYTES_CODE 32         /* auth, gender, level, method */
#define TEXT_BYTES_PAGE 64         /* page ("Cancellation Confirmation") */
#define TEXT_BYTES_PERSON_NAME 128 /* first_name, last_name */
#define TEXT_BYTES_TITLE 512       /* titles and artist names, of songs and events alike */
#define TEXT_BYTES_LOCATION 256    /* a user's or an artist's location */
#define TEXT_BYTES_USER_AGENT 512  /* browsers send 100 to 300 bytes */

#define FIELD_SPEC_MAX 32

struct field_spec {
    size_t count;
    const char *keys[FIELD_SPEC_MAX]; /* JSON key feeding column i */
    size_t key_lens[FIELD_SPEC_MAX];
    const enum column_type *types;
    const uint32_t *text_bytes; /* the most bytes of a text value in column i (0: no limit) */
};

/* staging_events columns, in log_json_path.json order. */
enum event_field {
    EVENT_ARTIST,
    EVENT_AUTH,
    EVENT_FIRST_NAME,
    EVENT_GENDER,
    EVENT_ITEM_IN_SESSION,
    EVENT_LAST_NAME,
    EVENT_LENGTH,
    EVENT_LEVEL,
    EVENT_LOCATION,
    EVENT_METHOD,
    EVENT_PAGE,
    EVENT_REGISTRATION,
    EVENT_SESSION_ID,
    EVENT_SONG,
    EVENT_STATUS,
    EVENT_TS,
    EVENT_USER_AGENT,
    EVENT_USER_ID,
    EVENT_FIELD_COUNT
};

/* staging_songs columns, in the order of the keys of a song file. */
enum song_field {
    SONG_NUM_SONGS,
    SONG_ARTIST_ID,
    SONG_ARTIST_LATITUDE,
    SONG_ARTIST_LONGITUDE,
    SONG_ARTIST_LOCATION,
    SONG_ARTIST_NAME,
    SONG_SONG_ID,
    SONG_TITLE,
    SONG_DURATION,
    SONG_YEAR,
    SONG_FIELD_COUNT
};

extern const char *const event_columns[EVENT_FIELD_COUNT];
extern const enum column_type event_types[EVENT_FIELD_COUNT];
extern const uint32_t event_text_bytes[EVENT_FIELD_COUNT]; /* 0 for numeric columns */
extern const char *const song_columns[SONG_FIELD_COUNT];
extern const enum column_type song_types[SONG_FIELD_COUNT];
extern const uint32_t song_text_bytes[SONG_FIELD_COUNT];

/* The canonical specs: event keys as in the classic log_json_path.json. */
void field_spec_events(struct field_spec *spec);
void field_spec_songs(struct field_spec *spec);

/* Replaces the event spec's keys with those of a JSONPaths document ({"jsonpaths": ["$['k']",
 * ...]}), which must list exactly EVENT_FIELD_COUNT simple paths. `storage` receives the key
 * strings and must outlive `spec`. `source` names the file in error messages. */
int field_spec_from_jsonpaths(struct field_spec *spec, const char *json, size_t len,
                              const char *source, char **storage, struct sp_error *err);

/* Orders cells as the warehouses' rules do: NULL after every value; text by bytes (a prefix
 * first); numbers by value. Cells compared are of the same column type. */
int cell_compare(const struct cell *a, const struct cell *b);

/* A double as the shortest text that reads back as the same double. */
void format_double(double d, char *out, size_t size);

/* A cell's value as text (NULL is ""): numbers are written into `scratch` (64 bytes suffice),
 * text is returned in place and is not NUL-terminated; its length goes to `len`. */
const char *cell_text(const struct cell *c, char *scratch, size_t size, size_t *len);

static inline int cell_is_text(const struct cell *c, const char *s, size_t len)
{
    return c->type == CELL_TEXT && c->text.len == len && memcmp(c->text.ptr, s, len) == 0;
}

/* The length of text `s` without its trailing spaces (U+0020; tabs and other blanks stay). */
static inline size_t text_length_without_trailing_spaces(const char *s, size_t len)
{
    while (len > 0 && s[len - 1] == ' ')
        len--;
    return len;
}

/* `c` as the star tables hold it: text without its trailing spaces (see model.h). */
static inline struct cell cell_without_trailing_spaces(const struct cell *c)
{
    struct cell out = *c;
    if (out.type == CELL_TEXT)
        out.text.len = text_length_without_trailing_spaces(out.text.ptr, out.text.len);
    return out;
}

#endif
