/* record.c - the columns of the raw records and the JSONPaths mapping (see record.h). */
#include "record.h"

#include "buffer.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const event_columns[EVENT_FIELD_COUNT] = {
    "artist", "auth",     "first_name", "gender",  "item_in_session", "last_name",  "length",
    "level",  "location", "method",     "page",    "registration",    "session_id", "song",
    "status", "ts",       "user_agent", "user_id",
};

const enum column_type event_types[EVENT_FIELD_COUNT] = {
    COLUMN_TEXT,   COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT,   COLUMN_INT,  COLUMN_TEXT,
    COLUMN_DOUBLE, COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT,   COLUMN_TEXT, COLUMN_DOUBLE,
    COLUMN_INT,    COLUMN_TEXT, COLUMN_INT,  COLUMN_BIGINT, COLUMN_TEXT, COLUMN_TEXT,
};

const uint32_t event_text_bytes[EVENT_FIELD_COUNT] = {
    [EVENT_ARTIST] = TEXT_BYTES_TITLE,
    [EVENT_AUTH] = TEXT_BYTES_CODE,
    [EVENT_FIRST_NAME] = TEXT_BYTES_PERSON_NAME,
    [EVENT_GENDER] = TEXT_BYTES_CODE,
    [EVENT_LAST_NAME] = TEXT_BYTES_PERSON_NAME,
    [EVENT_LEVEL] = TEXT_BYTES_CODE,
    [EVENT_LOCATION] = TEXT_BYTES_LOCATION,
    [EVENT_METHOD] = TEXT_BYTES_CODE,
    [EVENT_PAGE] = TEXT_BYTES_PAGE,
    [EVENT_SONG] = TEXT_BYTES_TITLE,
    [EVENT_USER_AGENT] = TEXT_BYTES_USER_AGENT,
    [EVENT_USER_ID] = TEXT_BYTES_ID,
};

static const char *const event_default_keys[EVENT_FIELD_COUNT] = {
    "artist",    "auth",  "firstName", "gender", "itemInSession", "lastName",
    "length",    "level", "location",  "method", "page",          "registration",
    "sessionId", "song",  "status",    "ts",     "userAgent",     "userId",
};

const char *const song_columns[SONG_FIELD_COUNT] = {
    "num_songs",   "artist_id", "artist_latitude", "artist_longitude", "artist_location",
    "artist_name", "song_id",   "title",           "duration",         "year",
};

const enum column_type song_types[SONG_FIELD_COUNT] = {
    COLUMN_INT,  COLUMN_TEXT, COLUMN_DOUBLE, COLUMN_DOUBLE, COLUMN_TEXT,
    COLUMN_TEXT, COLUMN_TEXT, COLUMN_TEXT,   COLUMN_DOUBLE, COLUMN_INT,
};

const uint32_t song_text_bytes[SONG_FIELD_COUNT] = {
    [SONG_ARTIST_ID] = TEXT_BYTES_ID,      [SONG_ARTIST_LOCATION] = TEXT_BYTES_LOCATION,
    [SONG_ARTIST_NAME] = TEXT_BYTES_TITLE, [SONG_SONG_ID] = TEXT_BYTES_ID,
    [SONG_TITLE] = TEXT_BYTES_TITLE,
};

void field_spec_events(struct field_spec *spec)
{
    spec->count = EVENT_FIELD_COUNT;
    spec->types = event_types;
    spec->text_bytes = event_text_bytes;
    for (size_t i = 0; i < EVENT_FIELD_COUNT; i++) {
        spec->keys[i] = event_default_keys[i];
        spec->key_lens[i] = strlen(event_default_keys[i]);
    }
}

void field_spec_songs(struct field_spec *spec)
{
    spec->count = SONG_FIELD_COUNT;
    spec->types = song_types;
    spec->text_bytes = song_text_bytes;
    for (size_t i = 0; i < SONG_FIELD_COUNT; i++) {
        spec->keys[i] = song_columns[i];
        spec->key_lens[i] = strlen(song_columns[i]);
    }
}

/* Accepts the simple JSONPath forms COPY accepts for a top-level key: $['k'], $["k"], $.k */
static int jsonpath_key(const char *path, const char **key, size_t *len)
{
    size_t n = strlen(path);
    if (n > 5 && path[0] == '$' && path[1] == '[' && (path[2] == '\'' || path[2] == '"') &&
        path[n - 1] == ']' && path[n - 2] == path[2]) {
        *key = path + 3;
        *len = n - 5;
    } else if (n > 2 && path[0] == '$' && path[1] == '.') {
        *key = path + 2;
        *len = n - 2;
    } else {
        return -1;
    }
    for (size_t i = 0; i < *len; i++)
        if (strchr("[]'\".*", (*key)[i]))
            return -1; /* nested or wildcard paths are not supported */
    return *len > 0 ? 0 : -1;
}

int field_spec_from_jsonpaths(struct field_spec *spec, const char *json, size_t len,
                              const char *source, char **storage, struct sp_error *err)
{
    char *padded = xmalloc(len + JSON_PADDING);
    memcpy(padded, json, len);
    memset(padded + len, 0, JSON_PADDING);
    char reason[256];
    int count =
        json_parse_jsonpaths(padded, len, storage, EVENT_FIELD_COUNT + 1, reason, sizeof reason);
    free(padded);
    if (count < 0)
        return sp_fail(err, "%s: %s", source, reason);
    int status = SP_OK;
    if (count != EVENT_FIELD_COUNT) {
        status = sp_fail(err, "%s: lists %d paths, staging_events has %d columns", source, count,
                         EVENT_FIELD_COUNT);
    }
    field_spec_events(spec);
    for (int i = 0; status == SP_OK && i < count; i++) {
        if (jsonpath_key(storage[i], &spec->keys[i], &spec->key_lens[i]) != 0)
            status = sp_fail(err, "%s: path %d \"%s\" is not a simple top-level key like $['ts']",
                             source, i + 1, storage[i]);
    }
    if (status != SP_OK) {
        for (int i = 0; i < count; i++) {
            free(storage[i]);
            storage[i] = NULL;
        }
        field_spec_events(spec);
    }
    return status;
}

int cell_compare(const struct cell *a, const struct cell *b)
{
    int an = a->type == CELL_NULL, bn = b->type == CELL_NULL;
    if (an || bn)
        return an - bn;
    switch (a->type) {
    case CELL_TEXT: {
        size_t n = a->text.len < b->text.len ? a->text.len : b->text.len;
        int c = n ? memcmp(a->text.ptr, b->text.ptr, n) : 0;
        if (c)
            return c;
        return (a->text.len > b->text.len) - (a->text.len < b->text.len);
    }
    case CELL_INT:
        return (a->i > b->i) - (a->i < b->i);
    case CELL_DOUBLE:
        return (a->d > b->d) - (a->d < b->d);
    default:
        return 0;
    }
}

void format_double(double d, char *out, size_t size)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, size, "%.*g", digits, d);
        if (strtod(out, NULL) == d)
            break;
    }
}

const char *cell_text(const struct cell *c, char *scratch, size_t size, size_t *len)
{
    switch (c->type) {
    case CELL_INT:
        *len = (size_t)snprintf(scratch, size, "%lld", (long long)c->i);
        return scratch;
    case CELL_DOUBLE:
        format_double(c->d, scratch, size);
        *len = strlen(scratch);
        return scratch;
    case CELL_TEXT:
        *len = c->text.len;
        return c->text.ptr;
    default:
        *len = 0;
        return "";
    }
}
