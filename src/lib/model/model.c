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
#include <xxhash.h>

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

/* Entries never move while batches hold pointers to them (the writing thread settles them while
 * the reading one adds); model_probe_forget moves them once no batch does. */
#define MATCH_BLOCK 4096

/* Probe mode keeps an entry for each key its events ask about, so that a key is asked once; most
 * keys of a large run may match no song (seven plays in ten of the generator's), so past this
 * many entries the keys without a song are forgotten: memory follows the songs, not the events.
 * (A day of 333k events into a 10M-event warehouse held 86 MB of entries before.) */
#define PROBE_ENTRIES_MAX (1u << 16)

struct user {
    int64_t ts;
    unsigned char *packed; /* the winning event's values (see "users" below) */
    bool changed;          /* this run's events decide the row: it must be written */
};

struct model {
    struct rowbuf songs;   /* songs-table order, one row per song_id */
    struct rowbuf artists; /* artists-table order, one row per artist_id */
    struct rowbuf lookup;  /* this run's song_lookup rows */
    struct strmap song_index, artist_index, match_index;
    struct match **match_blocks;
    size_t match_count, match_block_count;
    bool probe;              /* matches are settled by the writer against the warehouse */
    size_t song_entries;     /* probe mode: match entries [0, song_entries) are this run's songs' */
    size_t probe_limit;      /* probe mode: entries past which model_probe_full says so */
    struct arena probe_keys; /* probe mode: the key text of the events' entries */
    struct arena found;      /* the writer's copies of song_lookup rows found */
    size_t probe_matched;    /* the writer's count of matched songplays */
    struct user *users;
    size_t user_count, user_capacity;
    uint32_t *user_slots; /* the index: a user's position + 1, 0 for an empty slot */
    size_t user_slots_capacity;
    uint32_t *user_order; /* positions in user_id order, once model_user_ids was called */
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
    arena_init(&m->strings);
    arena_init(&m->found);
    arena_init(&m->probe_keys);
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
    arena_release(&m->strings);
    i64set_release(&m->object_times);
    buffer_release(&m->key);
    for (size_t i = 0; i < m->match_block_count; i++)
        free(m->match_blocks[i]);
    free(m->match_blocks);
    arena_release(&m->found);
    arena_release(&m->probe_keys);
    free(m->users);
    free(m->user_slots);
    free(m->user_order);
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
        set_match_key(entry, arena_copy(&m->probe_keys, title->text.ptr, title->text.len),
                      title->text.len,
                      arena_copy(&m->probe_keys, artist_name->text.ptr, artist_name->text.len),
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
    m->song_entries = m->match_count;
    m->probe_limit = m->match_count + PROBE_ENTRIES_MAX;
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

bool model_probe_full(const struct model *m)
{
    return m->probe && m->match_count >= m->probe_limit;
}

void model_probe_forget(struct model *m)
{
    struct arena keys;
    arena_init(&keys);
    strmap_release(&m->match_index);
    strmap_init(&m->match_index);
    size_t kept = 0;
    for (size_t i = 0; i < m->match_count; i++) {
        struct match e = *match_at(m, (uint32_t)i);
        bool song = i < m->song_entries; /* its key is the song's row text, which stays */
        if (!song && e.song_id.type == CELL_NULL)
            continue;
        if (!song) {
            e.title = arena_copy(&keys, e.title, e.title_len);
            e.artist = arena_copy(&keys, e.artist, e.artist_len);
        }
        struct cell title = {.type = CELL_TEXT, .text = {e.title, e.title_len}};
        struct cell artist = {.type = CELL_TEXT, .text = {e.artist, e.artist_len}};
        match_key(&m->key, &title, &artist, e.duration);
        int inserted;
        *strmap_upsert(&m->match_index, m->key.data, m->key.len, &inserted) = (uint32_t)kept;
        *match_at(m, (uint32_t)kept++) = e; /* kept <= i: an entry moves down, never over one
                                                not read yet */
    }
    m->match_count = kept;
    size_t blocks = (kept + MATCH_BLOCK - 1) / MATCH_BLOCK;
    for (size_t b = blocks; b < m->match_block_count; b++)
        free(m->match_blocks[b]);
    m->match_block_count = blocks;
    arena_release(&m->probe_keys);
    m->probe_keys = keys;
    m->probe_limit = kept + PROBE_ENTRIES_MAX;
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

/* ---- users ----
 * Users are what a run's memory grows with (1.25M of them at 100M generated events), so one
 * costs what it must: a 24-byte struct user, a 4-byte slot of the index, and its winning
 * event's values packed in the arena: a 2-byte capacity, then user_id, first_name, last_name,
 * gender and level, each a length byte (PACKED_NULL for NULL) and its bytes. A new winner is
 * written over the old one when it fits, so a user whose level goes back and forth costs no
 * more. (Cells and a hash map of copied keys took about 270 bytes a user.) */

enum { USER_ID, USER_FIRST_NAME, USER_LAST_NAME, USER_GENDER, USER_LEVEL, USER_FIELDS };
#define PACKED_NULL 0xFFu
_Static_assert(TEXT_BYTES_ID < PACKED_NULL && TEXT_BYTES_PERSON_NAME < PACKED_NULL &&
                   TEXT_BYTES_CODE < PACKED_NULL,
               "a user's values fit a length byte");
static const int user_event_field[USER_FIELDS] = {EVENT_USER_ID, EVENT_FIRST_NAME, EVENT_LAST_NAME,
                                                  EVENT_GENDER, EVENT_LEVEL};

static void unpack_user(const unsigned char *packed, struct cell out[USER_FIELDS])
{
    const unsigned char *p = packed + 2;
    for (int i = 0; i < USER_FIELDS; i++) {
        unsigned len = *p++;
        if (len == PACKED_NULL) {
            out[i].type = CELL_NULL;
            continue;
        }
        out[i].type = CELL_TEXT;
        out[i].text.ptr = (const char *)p;
        out[i].text.len = len;
        p += len;
    }
}

static size_t packed_size(const struct cell *event)
{
    size_t size = 2;
    for (int i = 0; i < USER_FIELDS; i++) {
        const struct cell *c = &event[user_event_field[i]];
        size += 1 + (c->type == CELL_TEXT ? c->text.len : 0);
    }
    return size;
}

/* Packs the event's user values over `u->packed` when they fit, else into new arena space. */
static void pack_user(struct model *m, struct user *u, const struct cell *event)
{
    size_t size = packed_size(event);
    unsigned char *p = u->packed;
    if (!p || (size_t)(p[0] | p[1] << 8) < size) {
        p = (unsigned char *)arena_alloc(&m->strings, size);
        p[0] = (unsigned char)(size & 0xFF);
        p[1] = (unsigned char)(size >> 8);
        u->packed = p;
    }
    p += 2;
    for (int i = 0; i < USER_FIELDS; i++) {
        const struct cell *c = &event[user_event_field[i]];
        if (c->type != CELL_TEXT) {
            *p++ = PACKED_NULL;
            continue;
        }
        *p++ = (unsigned char)c->text.len;
        memcpy(p, c->text.ptr, c->text.len);
        p += c->text.len;
    }
}

static uint64_t user_hash(const char *id, size_t len)
{
    return XXH3_64bits(id, len);
}

static bool user_has_id(const struct user *u, const char *id, size_t len)
{
    return u->packed[2] == len && memcmp(u->packed + 3, id, len) == 0;
}

/* The index: open addressing over slots holding a user's position + 1 (0: empty), at most half
 * full; a user's hash is computed again from its packed id when the index grows. */
static void user_index_grow(struct model *m)
{
    size_t capacity = m->user_slots_capacity ? m->user_slots_capacity * 2 : 1024;
    uint32_t *slots = xcalloc(capacity, sizeof *slots);
    for (size_t i = 0; i < m->user_count; i++) {
        const unsigned char *id = m->users[i].packed + 3;
        size_t at = (size_t)user_hash((const char *)id, id[-1]) & (capacity - 1);
        while (slots[at])
            at = (at + 1) & (capacity - 1);
        slots[at] = (uint32_t)i + 1;
    }
    free(m->user_slots);
    m->user_slots = slots;
    m->user_slots_capacity = capacity;
}

static struct user *find_user(const struct model *m, const char *id, size_t len, size_t *at)
{
    if (!m->user_slots_capacity)
        return NULL;
    size_t mask = m->user_slots_capacity - 1;
    size_t i = (size_t)user_hash(id, len) & mask;
    for (; m->user_slots[i]; i = (i + 1) & mask) {
        struct user *u = &m->users[m->user_slots[i] - 1];
        if (user_has_id(u, id, len))
            return u;
    }
    if (at)
        *at = i;
    return NULL;
}

/* Levels in the users rule's order: NULL below any text (compare_cells puts NULL last). */
static int compare_levels(const struct cell *a, const struct cell *b)
{
    if (a->type == CELL_NULL || b->type == CELL_NULL)
        return (a->type != CELL_NULL) - (b->type != CELL_NULL);
    return cell_compare(a, b);
}

/* qsort has no context argument in C17; the users travel in a thread-local. */
static _Thread_local const struct user *sorting_users;

static int compare_user_ids(const void *a, const void *b)
{
    const struct user *users = sorting_users;
    const unsigned char *x = users[*(const uint32_t *)a].packed + 2;
    const unsigned char *y = users[*(const uint32_t *)b].packed + 2;
    size_t n = x[0] < y[0] ? x[0] : y[0];
    int c = n ? memcmp(x + 1, y + 1, n) : 0;
    return c ? c : (x[0] > y[0]) - (x[0] < y[0]);
}

size_t model_user_count(const struct model *m)
{
    return m->user_count;
}

size_t model_user_ids(struct model *m, size_t first, size_t max, struct cell *ids)
{
    if (!m->user_order) { /* the first call: user_id order, as the warehouse's key */
        m->user_order = xmalloc((m->user_count ? m->user_count : 1) * sizeof *m->user_order);
        for (size_t i = 0; i < m->user_count; i++)
            m->user_order[i] = (uint32_t)i;
        sorting_users = m->users;
        qsort(m->user_order, m->user_count, sizeof *m->user_order, compare_user_ids);
    }
    size_t n = 0;
    for (size_t i = first; i < m->user_count && n < max; i++, n++) {
        struct cell values[USER_FIELDS];
        unpack_user(m->users[m->user_order[i]].packed, values);
        ids[n] = values[USER_ID];
    }
    return n;
}

void model_settle_user(struct model *m, const struct cell *user_id, int64_t ts,
                       const struct cell *level)
{
    if (user_id->type != CELL_TEXT)
        return;
    struct user *u = find_user(m, user_id->text.ptr, user_id->text.len, NULL);
    if (!u)
        return;
    struct cell values[USER_FIELDS];
    unpack_user(u->packed, values);
    if (u->ts < ts || (u->ts == ts && compare_levels(&values[USER_LEVEL], level) <= 0))
        u->changed = false; /* the warehouse's row wins, a full tie included */
}

void model_user_rows(struct model *m, size_t first, size_t count, struct rowbuf *users,
                     struct rowbuf *latest)
{
    for (size_t i = first; i < first + count && i < m->user_count; i++) {
        const struct user *u = &m->users[m->user_order[i]];
        if (!u->changed)
            continue;
        struct cell values[USER_FIELDS];
        unpack_user(u->packed, values);
        struct cell *row = rowbuf_add_row(users);
        for (int f = 0; f < USER_FIELDS; f++) /* the users table's column order */
            rowbuf_set_cell(users, &row[f], &values[f]);
        struct time_parts when;
        time_from_epoch_ms(&m->clock, u->ts, &when); /* a songplay's ts: in range */
        row = rowbuf_add_row(latest);
        rowbuf_set_cell(latest, &row[0], &values[USER_ID]);
        rowbuf_set_text(latest, &row[1], when.text, TIME_TEXT_LEN);
        rowbuf_set_cell(latest, &row[2], &values[USER_LEVEL]);
    }
}

/* Whether the event's values are the user's winning ones already (nothing to pack). */
static bool same_user_values(const struct cell *values, const struct cell *event)
{
    for (int i = USER_FIRST_NAME; i < USER_FIELDS; i++) {
        const struct cell *c = &event[user_event_field[i]];
        if (c->type != values[i].type || cell_compare(c, &values[i]) != 0)
            return false;
    }
    return true;
}

static void update_user(struct model *m, const struct cell *event, int64_t ts)
{
    const struct cell *id = &event[EVENT_USER_ID];
    size_t at = 0;
    struct user *u = find_user(m, id->text.ptr, id->text.len, &at);
    if (!u) {
        if ((m->user_count + 1) * 2 > m->user_slots_capacity) {
            user_index_grow(m);
            find_user(m, id->text.ptr, id->text.len, &at);
        }
        if (m->user_count == m->user_capacity) {
            m->user_capacity = m->user_capacity ? m->user_capacity * 2 : 1024;
            m->users = xrealloc(m->users, m->user_capacity * sizeof *m->users);
        }
        m->user_slots[at] = (uint32_t)m->user_count + 1;
        u = &m->users[m->user_count++];
        *u = (struct user){.ts = ts, .changed = true};
        pack_user(m, u, event);
        return;
    }
    struct cell values[USER_FIELDS];
    unpack_user(u->packed, values);
    if (ts < u->ts)
        return;
    if (ts == u->ts) {
        int c = compare_levels(&event[EVENT_LEVEL], &values[USER_LEVEL]);
        if (c < 0)
            return;
        if (c == 0) {
            int n = 0;
            for (int i = USER_FIRST_NAME; i <= USER_GENDER && n == 0; i++)
                n = cell_compare(&event[user_event_field[i]], &values[i]);
            if (n >= 0)
                return;
        }
    }
    u->ts = ts;
    u->changed = true;
    if (!same_user_values(values, event))
        pack_user(m, u, event);
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
    for (int i = 0; i < USER_FIELDS; i++) { /* the parser's limits, which the packing needs */
        const struct cell *c = &event[user_event_field[i]];
        if (c->type == CELL_TEXT && c->text.len > event_text_bytes[user_event_field[i]]) {
            snprintf(reason, reason_size, "a user value longer than %u bytes",
                     (unsigned)event_text_bytes[user_event_field[i]]);
            return -1;
        }
    }
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
                      const struct rowbuf **lookup)
{
    /* In key order, so the warehouse appends instead of splitting pages. The indexes into
     * these rows are stale afterwards: this is the model's last use. */
    rowbuf_sort(&m->songs, 1);
    rowbuf_sort(&m->artists, 1);
    rowbuf_sort(&m->lookup, 5);
    *songs = &m->songs;
    *artists = &m->artists;
    *lookup = &m->lookup;
}
