/* model.c - raw records to star rows (see model.h for the rules and their reasons).
 *
 * Pitfalls: text in event cells belongs to the parser and dies with the next record, so
 * everything kept is copied into the model's arena or a rowbuf; the match key encodes
 * lengths so that "a"+"bc" and "ab"+"c" differ; -0.0 and 0.0 are one duration, as in SQL.
 * Records are read through a copy whose text cells are cut before their trailing spaces (the
 * cells still point into the parser's memory), so every rule and every stored value sees text
 * as the star tables hold it.
 */
#include "model.h"

#include "buffer.h"
#include "hashmap.h"
#include "timeconv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A match key's winner. In probe mode the key is kept too (title, artist, duration), and the
 * writing thread owns song_id, artist_id and probed once the entry is in a batch. */
struct match {
    struct cell song_id; /* CELL_NULL: no song has the key (yet) */
    struct cell artist_id;
    const char *title, *artist; /* the key, in probe mode */
    uint32_t title_len, artist_len;
    double duration;
    bool probed; /* the warehouse's song_lookup was asked */
};

/* The most instants the per-object de-duplication of time rows holds (16 MB of slots): past it,
 * it starts afresh, and the warehouse's key drops the few repeats that let through. */
#define TIME_DEDUPE_MAX (1u << 20)

/* Entries never move (the writing thread holds pointers to them while the reading one adds). */
#define MATCH_BLOCK 4096

struct user {
    struct cell user_id, first_name, last_name, gender, level;
    int64_t ts;
    bool changed; /* this run's events decide the row: it must be written */
};

struct model {
    struct rowbuf songs;   /* songs-table order, one row per song_id */
    struct rowbuf artists; /* artists-table order, one row per artist_id */
    struct rowbuf lookup;  /* this run's song_lookup rows */
    struct strmap song_index, artist_index, match_index, user_index;
    struct match **match_blocks;
    size_t match_count, match_block_count;
    bool probe;           /* matches are settled by the writer against the warehouse */
    struct arena found;   /* the writer's copies of song_lookup rows found */
    size_t probe_matched; /* the writer's count of matched songplays */
    struct user *users;
    size_t user_count, user_capacity;
    struct arena strings;
    struct i64set object_times;
    struct time_converter clock;
    struct buffer key;
    size_t songplays, matched;
};

struct model *model_new(void)
{
    struct model *m = xcalloc(1, sizeof *m);
    rowbuf_init(&m->songs, TABLE_SONGS);
    rowbuf_init(&m->artists, TABLE_ARTISTS);
    rowbuf_init(&m->lookup, TABLE_SONG_LOOKUP);
    strmap_init(&m->song_index);
    strmap_init(&m->artist_index);
    strmap_init(&m->match_index);
    strmap_init(&m->user_index);
    arena_init(&m->strings);
    arena_init(&m->found);
    i64set_init(&m->object_times);
    time_converter_init(&m->clock);
    buffer_init(&m->key);
    return m;
}

void model_free(struct model *m)
{
    if (!m)
        return;
    rowbuf_release(&m->songs);
    rowbuf_release(&m->artists);
    rowbuf_release(&m->lookup);
    strmap_release(&m->song_index);
    strmap_release(&m->artist_index);
    strmap_release(&m->match_index);
    strmap_release(&m->user_index);
    arena_release(&m->strings);
    i64set_release(&m->object_times);
    buffer_release(&m->key);
    for (size_t i = 0; i < m->match_block_count; i++)
        free(m->match_blocks[i]);
    free(m->match_blocks);
    arena_release(&m->found);
    free(m->users);
    free(m);
}

void model_output_init(struct model_output *out)
{
    memset(out, 0, sizeof *out);
    rowbuf_init(&out->songplays, TABLE_SONGPLAYS);
    rowbuf_init(&out->time, TABLE_TIME);
}

void model_output_release(struct model_output *out)
{
    rowbuf_release(&out->songplays);
    rowbuf_release(&out->time);
    free(out->pending);
    free(out->probes);
    free(out->probe_keys);
}

void model_output_clear(struct model_output *out)
{
    rowbuf_clear(&out->songplays);
    rowbuf_clear(&out->time);
    out->pending_count = 0;
    out->probe_count = 0;
}

/* ---- comparisons shared with the SQL rules ---- */

int model_compare_songs(const struct cell *a, const struct cell *b)
{
    static const int order[] = {1, 2, 3, 4}; /* title, artist_id, year, duration */
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        int c = cell_compare(&a[order[i]], &b[order[i]]);
        if (c)
            return c;
    }
    return 0;
}

static size_t utf8_length(const struct cell *c)
{
    size_t n = 0;
    if (c->type != CELL_TEXT)
        return 0;
    for (size_t i = 0; i < c->text.len; i++)
        n += ((unsigned char)c->text.ptr[i] & 0xC0) != 0x80;
    return n;
}

static int empty_text(const struct cell *c)
{
    return c->type != CELL_TEXT || c->text.len == 0;
}

int model_compare_artists(const struct cell *a, const struct cell *b)
{
    enum { ID, NAME, LOCATION, LATITUDE, LONGITUDE };
    int c;
    if ((c = (a[LATITUDE].type == CELL_NULL) - (b[LATITUDE].type == CELL_NULL)))
        return c;
    if ((c = (a[LONGITUDE].type == CELL_NULL) - (b[LONGITUDE].type == CELL_NULL)))
        return c;
    if ((c = empty_text(&a[LOCATION]) - empty_text(&b[LOCATION])))
        return c;
    if ((c = (a[NAME].type == CELL_NULL) - (b[NAME].type == CELL_NULL)))
        return c;
    size_t al = utf8_length(&a[NAME]), bl = utf8_length(&b[NAME]);
    if (al != bl)
        return al < bl ? -1 : 1;
    for (int i = NAME; i <= LONGITUDE; i++)
        if ((c = cell_compare(&a[i], &b[i])))
            return c;
    return 0;
}

/* ---- songs ---- */

static struct cell arena_cell(struct arena *a, const struct cell *c)
{
    struct cell out = *c;
    if (c->type == CELL_TEXT)
        out.text.ptr = arena_copy(a, c->text.ptr, c->text.len);
    return out;
}

static void match_key(struct buffer *key, const struct cell *title, const struct cell *artist,
                      double duration)
{
    buffer_clear(key);
    uint32_t len = (uint32_t)title->text.len;
    buffer_append(key, &len, sizeof len);
    buffer_append(key, title->text.ptr, title->text.len);
    len = (uint32_t)artist->text.len;
    buffer_append(key, &len, sizeof len);
    buffer_append(key, artist->text.ptr, artist->text.len);
    if (duration == 0)
        duration = 0; /* -0.0 equals 0.0 */
    buffer_append(key, &duration, sizeof duration);
}

static struct match *match_at(const struct model *m, uint32_t slot)
{
    return &m->match_blocks[slot / MATCH_BLOCK][slot % MATCH_BLOCK];
}

static void set_match_key(struct match *entry, const char *title, size_t title_len,
                          const char *artist, size_t artist_len, double duration)
{
    entry->title = title;
    entry->title_len = (uint32_t)title_len;
    entry->artist = artist;
    entry->artist_len = (uint32_t)artist_len;
    entry->duration = duration;
}

/* The entry of the key in m->key, created without a song (and, in probe mode, with its key
 * copied) when new. */
static struct match *match_entry(struct model *m, const struct cell *title,
                                 const struct cell *artist_name, double duration)
{
    int inserted;
    uint32_t *slot = strmap_upsert(&m->match_index, m->key.data, m->key.len, &inserted);
    if (!inserted)
        return match_at(m, *slot);
    if (m->match_count == m->match_block_count * MATCH_BLOCK) {
        m->match_blocks =
            xrealloc(m->match_blocks, (m->match_block_count + 1) * sizeof *m->match_blocks);
        m->match_blocks[m->match_block_count++] = xmalloc(MATCH_BLOCK * sizeof(struct match));
    }
    *slot = (uint32_t)m->match_count;
    struct match *entry = match_at(m, (uint32_t)m->match_count++);
    memset(entry, 0, sizeof *entry);
    entry->song_id.type = CELL_NULL;
    entry->artist_id.type = CELL_NULL;
    if (m->probe)
        set_match_key(entry, arena_copy(&m->strings, title->text.ptr, title->text.len),
                      title->text.len,
                      arena_copy(&m->strings, artist_name->text.ptr, artist_name->text.len),
                      artist_name->text.len, duration);
    return entry;
}

/* Makes (song_id, artist_id) the entry's winner when the tie rule prefers it. */
static void offer_match(struct arena *a, struct match *entry, const struct cell *song_id,
                        const struct cell *artist_id)
{
    if (entry->song_id.type != CELL_NULL) {
        int c = cell_compare(song_id, &entry->song_id);
        if (c > 0 || (c == 0 && cell_compare(artist_id, &entry->artist_id) >= 0))
            return;
    }
    entry->song_id = arena_cell(a, song_id);
    entry->artist_id = arena_cell(a, artist_id);
}

/* Adds a (title, artist name, duration) -> (song_id, artist_id) entry, keeping the tie rule. */
static void add_match(struct model *m, const struct cell *title, const struct cell *artist_name,
                      const struct cell *duration, const struct cell *song_id,
                      const struct cell *artist_id)
{
    if (title->type != CELL_TEXT || artist_name->type != CELL_TEXT || duration->type != CELL_DOUBLE)
        return; /* such a song can never equal an event: NULL = x is never true */
    match_key(&m->key, title, artist_name, duration->d);
    offer_match(&m->strings, match_entry(m, title, artist_name, duration->d), song_id, artist_id);
}

void model_probe_warehouse(struct model *m)
{
    m->probe = true;
    /* Keys of this run's songs, added before, are asked for as well: the warehouse may hold a
     * smaller song_id for one. Their key text is the arena's copy held by the songs' rows. */
    for (size_t i = 0; i < m->lookup.rows; i++) {
        const struct cell *row = rowbuf_row(&m->lookup, i);
        match_key(&m->key, &row[0], &row[1], row[2].d);
        struct match *entry = match_at(m, *strmap_find(&m->match_index, m->key.data, m->key.len));
        set_match_key(entry, row[0].text.ptr, row[0].text.len, row[1].text.ptr, row[1].text.len,
                      row[2].d);
    }
}

const struct cell *model_output_probe_keys(struct model_output *out, size_t *count)
{
    out->probe_count = 0;
    for (size_t i = 0; i < out->pending_count; i++) {
        struct match *entry = out->pending[i].entry;
        if (entry->probed)
            continue;
        entry->probed = true; /* asked once, here; the answer is in before the batch is written */
        if (out->probe_count == out->probe_capacity) {
            out->probe_capacity = out->probe_capacity ? out->probe_capacity * 2 : 256;
            out->probes = xrealloc(out->probes, out->probe_capacity * sizeof *out->probes);
            out->probe_keys =
                xrealloc(out->probe_keys, 3 * out->probe_capacity * sizeof *out->probe_keys);
        }
        out->probes[out->probe_count] = entry;
        struct cell *key = &out->probe_keys[3 * out->probe_count];
        key[0] = (struct cell){.type = CELL_TEXT, .text = {entry->title, entry->title_len}};
        key[1] = (struct cell){.type = CELL_TEXT, .text = {entry->artist, entry->artist_len}};
        key[2] = (struct cell){.type = CELL_DOUBLE, .d = entry->duration};
        out->probe_count++;
    }
    *count = out->probe_count;
    return out->probe_keys;
}

void model_output_found(struct model *m, struct model_output *out, size_t i,
                        const struct cell *song_id, const struct cell *artist_id)
{
    if (i < out->probe_count && song_id->type == CELL_TEXT)
        offer_match(&m->found, out->probes[i], song_id, artist_id);
}

void model_output_resolve(struct model *m, struct model_output *out)
{
    for (size_t i = 0; i < out->pending_count; i++) {
        const struct match *entry = out->pending[i].entry;
        if (entry->song_id.type == CELL_NULL)
            continue;
        struct cell *row = rowbuf_row(&out->songplays, out->pending[i].row);
        row[3] = entry->song_id;
        row[4] = entry->artist_id;
        m->probe_matched++;
    }
    out->pending_count = 0;
    out->probe_count = 0;
}

/* Keeps one row per key in `rows`, replacing it when `better` says the new one wins. */
static void keep_best(struct rowbuf *rows, struct strmap *index, const struct cell *candidate,
                      int (*compare)(const struct cell *, const struct cell *))
{
    const struct cell *key = &candidate[0];
    int inserted;
    uint32_t *slot = strmap_upsert(index, key->text.ptr, key->text.len, &inserted);
    struct cell *row;
    if (inserted) {
        *slot = (uint32_t)rows->rows;
        row = rowbuf_add_row(rows);
    } else {
        row = rowbuf_row(rows, *slot);
        if (compare(candidate, row) >= 0)
            return;
    }
    for (size_t i = 0; i < rows->columns; i++)
        rowbuf_set_cell(rows, &row[i], &candidate[i]);
}

/* A record as the star tables see it: text without trailing spaces (see model.h). */
static void without_trailing_spaces(const struct cell *record, size_t count, struct cell *out)
{
    for (size_t i = 0; i < count; i++)
        out[i] = cell_without_trailing_spaces(&record[i]);
}

int model_check_song(const struct cell *song, char *reason, size_t reason_size)
{
    struct cell song_id = cell_without_trailing_spaces(&song[SONG_SONG_ID]);
    if (song_id.type != CELL_TEXT || song_id.text.len == 0) {
        snprintf(reason, reason_size, "song_id is missing or empty");
        return -1;
    }
    return 0;
}

int model_add_song(struct model *m, const struct cell *record, char *reason, size_t reason_size)
{
    struct cell song[SONG_FIELD_COUNT];
    without_trailing_spaces(record, SONG_FIELD_COUNT, song);
    if (model_check_song(song, reason, reason_size) != 0)
        return -1;
    const struct cell *song_id = &song[SONG_SONG_ID];
    struct cell row[5] = {*song_id, song[SONG_TITLE], song[SONG_ARTIST_ID], song[SONG_YEAR],
                          song[SONG_DURATION]};
    keep_best(&m->songs, &m->song_index, row, model_compare_songs);

    const struct cell *artist_id = &song[SONG_ARTIST_ID];
    if (artist_id->type == CELL_TEXT && artist_id->text.len > 0) {
        struct cell artist[5] = {*artist_id, song[SONG_ARTIST_NAME], song[SONG_ARTIST_LOCATION],
                                 song[SONG_ARTIST_LATITUDE], song[SONG_ARTIST_LONGITUDE]};
        keep_best(&m->artists, &m->artist_index, artist, model_compare_artists);
    }

    if (song[SONG_TITLE].type == CELL_TEXT && song[SONG_ARTIST_NAME].type == CELL_TEXT &&
        song[SONG_DURATION].type == CELL_DOUBLE) {
        struct cell *lookup = rowbuf_add_row(&m->lookup);
        rowbuf_set_cell(&m->lookup, &lookup[0], &song[SONG_TITLE]);
        rowbuf_set_cell(&m->lookup, &lookup[1], &song[SONG_ARTIST_NAME]);
        lookup[2] = song[SONG_DURATION];
        rowbuf_set_cell(&m->lookup, &lookup[3], song_id);
        rowbuf_set_cell(&m->lookup, &lookup[4], artist_id);
        add_match(m, &song[SONG_TITLE], &song[SONG_ARTIST_NAME], &song[SONG_DURATION], song_id,
                  artist_id);
    }
    return 0;
}

/* ---- users ---- */

static struct user *user_slot(struct model *m, const struct cell *user_id, int *inserted)
{
    uint32_t *slot = strmap_upsert(&m->user_index, user_id->text.ptr, user_id->text.len, inserted);
    if (*inserted) {
        if (m->user_count == m->user_capacity) {
            m->user_capacity = m->user_capacity ? m->user_capacity * 2 : 1024;
            m->users = xrealloc(m->users, m->user_capacity * sizeof *m->users);
        }
        *slot = (uint32_t)m->user_count++;
        struct user *u = &m->users[*slot];
        memset(u, 0, sizeof *u);
        u->user_id = arena_cell(&m->strings, user_id);
    }
    return &m->users[*slot];
}

/* Levels in the users rule's order: NULL below any text (compare_cells puts NULL last). */
static int compare_levels(const struct cell *a, const struct cell *b)
{
    if (a->type == CELL_NULL || b->type == CELL_NULL)
        return (a->type != CELL_NULL) - (b->type != CELL_NULL);
    return cell_compare(a, b);
}

struct cell *model_user_ids(const struct model *m, size_t *count)
{
    struct cell *ids = xmalloc((m->user_count ? m->user_count : 1) * sizeof *ids);
    for (size_t i = 0; i < m->user_count; i++)
        ids[i] = m->users[i].user_id;
    *count = m->user_count;
    return ids;
}

void model_settle_user(struct model *m, const struct cell *user_id, int64_t ts,
                       const struct cell *level)
{
    if (user_id->type != CELL_TEXT)
        return;
    uint32_t *slot = strmap_find(&m->user_index, user_id->text.ptr, user_id->text.len);
    if (!slot)
        return;
    struct user *u = &m->users[*slot];
    if (u->ts < ts || (u->ts == ts && compare_levels(&u->level, level) <= 0))
        u->changed = false; /* the warehouse's row wins, a full tie included */
}

static int same_cell(const struct cell *a, const struct cell *b)
{
    return a->type == b->type && cell_compare(a, b) == 0;
}

/* Replaces `dst` with `src` only when they differ, so a user's many events with the same
 * names cost no memory. */
static void update_cell(struct arena *a, struct cell *dst, const struct cell *src)
{
    if (!same_cell(dst, src))
        *dst = arena_cell(a, src);
}

static void update_user(struct model *m, const struct cell *event, int64_t ts)
{
    int inserted;
    struct user *u = user_slot(m, &event[EVENT_USER_ID], &inserted);
    if (!inserted) {
        if (ts < u->ts)
            return;
        if (ts == u->ts) {
            int c = compare_levels(&event[EVENT_LEVEL], &u->level);
            if (c < 0)
                return;
            if (c == 0) {
                const struct cell *names[] = {&event[EVENT_FIRST_NAME], &event[EVENT_LAST_NAME],
                                              &event[EVENT_GENDER]};
                const struct cell *mine[] = {&u->first_name, &u->last_name, &u->gender};
                int n = 0;
                for (int i = 0; i < 3 && n == 0; i++)
                    n = cell_compare(names[i], mine[i]);
                if (n >= 0)
                    return;
            }
        }
    }
    u->ts = ts;
    u->changed = true;
    update_cell(&m->strings, &u->first_name, &event[EVENT_FIRST_NAME]);
    update_cell(&m->strings, &u->last_name, &event[EVENT_LAST_NAME]);
    update_cell(&m->strings, &u->gender, &event[EVENT_GENDER]);
    update_cell(&m->strings, &u->level, &event[EVENT_LEVEL]);
}

/* ---- events ---- */

int model_check_event(const struct cell *event, char *reason, size_t reason_size)
{
    struct cell page = cell_without_trailing_spaces(&event[EVENT_PAGE]);
    if (!cell_is_text(&page, "NextSong", 8))
        return 0;
    struct cell user_id = cell_without_trailing_spaces(&event[EVENT_USER_ID]);
    if (user_id.type != CELL_TEXT || user_id.text.len == 0)
        return 0; /* a logged-out listener is not a songplay */
    const struct cell *ts = &event[EVENT_TS];
    if (ts->type != CELL_INT) {
        snprintf(reason, reason_size, "NextSong event without ts");
        return -1;
    }
    if (ts->i < TIME_MIN_MS || ts->i > TIME_MAX_MS) {
        snprintf(reason, reason_size, "ts %lld is outside 1970-01-01..9999-12-31 (epoch ms)",
                 (long long)ts->i);
        return -1;
    }
    return 1;
}

int model_add_event(struct model *m, const struct cell *record, struct model_output *out,
                    char *reason, size_t reason_size)
{
    struct cell event[EVENT_FIELD_COUNT];
    without_trailing_spaces(record, EVENT_FIELD_COUNT, event);
    int songplay = model_check_event(event, reason, reason_size);
    if (songplay <= 0)
        return songplay;
    const struct cell *user_id = &event[EVENT_USER_ID];
    const struct cell *ts = &event[EVENT_TS];
    struct time_parts when;
    time_from_epoch_ms(&m->clock, ts->i, &when); /* in range: checked above */

    const struct match *match = NULL;
    struct match *pending = NULL;
    const struct cell *song = &event[EVENT_SONG], *artist = &event[EVENT_ARTIST];
    if (song->type == CELL_TEXT && artist->type == CELL_TEXT &&
        event[EVENT_LENGTH].type == CELL_DOUBLE) {
        match_key(&m->key, song, artist, event[EVENT_LENGTH].d);
        if (m->probe) {
            pending = match_entry(m, song, artist, event[EVENT_LENGTH].d);
        } else {
            uint32_t *slot = strmap_find(&m->match_index, m->key.data, m->key.len);
            if (slot && match_at(m, *slot)->song_id.type != CELL_NULL)
                match = match_at(m, *slot);
        }
    }
    if (pending) { /* the writer settles it (model_output_resolve) */
        if (out->pending_count == out->pending_capacity) {
            out->pending_capacity = out->pending_capacity ? out->pending_capacity * 2 : 1024;
            out->pending = xrealloc(out->pending, out->pending_capacity * sizeof *out->pending);
        }
        out->pending[out->pending_count++] = (struct model_pending){out->songplays.rows, pending};
    }

    struct rowbuf *plays = &out->songplays;
    struct cell *row = rowbuf_add_row(plays);
    rowbuf_set_text(plays, &row[0], when.text, TIME_TEXT_LEN);
    rowbuf_set_cell(plays, &row[1], user_id);
    rowbuf_set_cell(plays, &row[2], &event[EVENT_LEVEL]);
    if (match) {
        row[3] = match->song_id; /* owned by the model, which outlives the batch */
        row[4] = match->artist_id;
        m->matched++;
    }
    row[5] = event[EVENT_SESSION_ID];
    rowbuf_set_cell(plays, &row[6], &event[EVENT_LOCATION]);
    rowbuf_set_cell(plays, &row[7], &event[EVENT_USER_AGENT]);
    m->songplays++;

    if (m->object_times.count >= TIME_DEDUPE_MAX) { /* a bound, not a rule: see model.h */
        i64set_release(&m->object_times);
        i64set_init(&m->object_times);
    }
    if (i64set_add(&m->object_times, ts->i)) {
        struct cell *t = rowbuf_add_row(&out->time);
        rowbuf_set_text(&out->time, &t[0], when.text, TIME_TEXT_LEN);
        const int parts[] = {when.hour, when.day, when.week, when.month, when.year, when.weekday};
        for (int i = 0; i < 6; i++) {
            t[i + 1].type = CELL_INT;
            t[i + 1].i = parts[i];
        }
    }
    update_user(m, event, ts->i);
    return 0;
}

void model_end_object(struct model *m)
{
    i64set_release(&m->object_times);
    i64set_init(&m->object_times);
}

void model_counts(const struct model *m, struct model_counts *counts)
{
    counts->songplays = m->songplays;
    counts->matched = m->matched + m->probe_matched;
    counts->users = 0;
    for (size_t i = 0; i < m->user_count; i++)
        counts->users += m->users[i].changed;
    counts->songs = m->songs.rows;
    counts->artists = m->artists.rows;
}

void model_dimensions(struct model *m, const struct rowbuf **songs, const struct rowbuf **artists,
                      const struct rowbuf **lookup, struct rowbuf *users, struct rowbuf *latest)
{
    /* In key order, so the warehouse appends instead of splitting pages. The indexes into
     * these rows are stale afterwards: this is the model's last use. */
    rowbuf_sort(&m->songs, 1);
    rowbuf_sort(&m->artists, 1);
    rowbuf_sort(&m->lookup, 5);
    *songs = &m->songs;
    *artists = &m->artists;
    *lookup = &m->lookup;
    for (size_t i = 0; i < m->user_count; i++) {
        const struct user *u = &m->users[i];
        if (!u->changed)
            continue;
        struct cell *row = rowbuf_add_row(users);
        rowbuf_set_cell(users, &row[0], &u->user_id);
        rowbuf_set_cell(users, &row[1], &u->first_name);
        rowbuf_set_cell(users, &row[2], &u->last_name);
        rowbuf_set_cell(users, &row[3], &u->gender);
        rowbuf_set_cell(users, &row[4], &u->level);
        struct time_parts when;
        time_from_epoch_ms(&m->clock, u->ts, &when); /* a songplay's ts: in range */
        row = rowbuf_add_row(latest);
        rowbuf_set_cell(latest, &row[0], &u->user_id);
        rowbuf_set_text(latest, &row[1], when.text, TIME_TEXT_LEN);
        rowbuf_set_cell(latest, &row[2], &u->level);
    }
}
