/* generate.c - the synthetic dataset (see generate.h for what it imitates and why).
 *
 * Randomness is splitmix64 keyed by (seed, kind, index): a song, an artist or a user is a
 * pure function of its index, which is what lets an event re-derive the song it plays
 * instead of keeping the catalogue in memory. Decimal values are generated as integers of
 * 1e-5 and printed with five decimals, so a song's duration and a matching event's length
 * are the same text and hence the same double.
 */
/* nftw() (removing earlier output under --force) is an X/Open extension. */
#define _XOPEN_SOURCE 700

#include "generate.h"

#include "buffer.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct rng {
    uint64_t state;
};

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

enum stream { STREAM_SONG = 1, STREAM_ARTIST, STREAM_USER, STREAM_EVENTS, STREAM_OTHER };

static struct rng rng_for(uint64_t seed, enum stream kind, uint64_t index)
{
    uint64_t s =
        seed * UINT64_C(0xD1B54A32D192ED03) + (uint64_t)kind * UINT64_C(0x8CB92BA72F3D8DD7);
    struct rng r = {s ^ splitmix64(&s) ^ (index * UINT64_C(0x9E3779B97F4A7C15))};
    splitmix64(&r.state);
    return r;
}

static uint64_t next(struct rng *r)
{
    return splitmix64(&r->state);
}

static uint64_t below(struct rng *r, uint64_t n)
{
    return n ? next(r) % n : 0;
}

static int chance(struct rng *r, double p)
{
    return (double)(next(r) >> 11) * 0x1.0p-53 < p;
}

#define PICK(r, list) (list)[below((r), sizeof(list) / sizeof((list)[0]))]

static const char *const words[] = {
    "Love",  "Night",  "Heart",    "Fire",   "Dream", "River",    "Shadow",  "Light",
    "Blue",  "Summer", "Rain",     "Gold",   "Wild",  "Electric", "Lonely",  "Midnight",
    "Sweet", "Broken", "Silver",   "Street", "Dance", "Ghost",    "Ocean",   "Paper",
    "Stone", "Velvet", "Neon",     "Winter", "Honey", "Thunder",  "Crystal", "Echo",
    "Mercy", "Rebel",  "Señorita", "Café",   "Über",  "Déjà Vu",
};
static const char *const artist_words[] = {
    "The Black", "Los",     "DJ",    "Mc",     "Sister",    "Brother",   "Captain",
    "Young",     "Big",     "Lil",   "Björk",  "Sigur",     "Motörhead", "Beyoncé",
    "Mötley",    "Zoë",     "Ana",   "Kings",  "Orchestra", "Quartet",   "Collective",
    "Band",      "Project", "Sound", "System", "Crew",
};
static const char *const first_names[] = {
    "Jacob", "Lily",     "Kate",  "Chloe",  "Tegan", "Aleena", "Ryan", "Jayden", "Zoë",    "José",
    "Ana",   "Mohammad", "Björn", "Sophie", "Liam",  "Ava",    "Noah", "Mia",    "Élodie", "Søren",
};
static const char *const last_names[] = {
    "Klein",  "Koch",     "Levine",   "Cuevas", "Smith", "Müller",  "García", "O'Brien",
    "Nguyen", "Kowalski", "Ødegaard", "Silva",  "Brown", "Johnson", "Lee",    "Martin",
};
static const char *const locations[] = {
    "San Jose-Sunnyvale-Santa Clara, CA",
    "Portland-South Portland, ME",
    "Lansing-East Lansing, MI",
    "Chicago-Naperville-Elgin, IL-IN-WI",
    "Atlanta-Sandy Springs-Roswell, GA",
    "Waterloo-Cedar Falls, IA",
    "San Francisco-Oakland-Hayward, CA",
    "New York-Newark-Jersey City, NY-NJ-PA",
    "Tampa-St. Petersburg-Clearwater, FL",
    "Houston-The Woodlands-Sugar Land, TX",
};
static const char *const artist_locations[] = {
    "",
    "",
    "London, England",
    "New York, NY",
    "Los Angeles, CA",
    "Berlin, Germany",
    "Reykjavík, Iceland",
    "São Paulo, Brazil",
    "Memphis, TN",
    "Montréal, Québec",
    "Tokyo, Japan",
};
static const char *const user_agents[] = {
    "\"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/36.0.1985.143 Safari/537.36\"",
    "\"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/37.0.2062.103 Safari/537.36\"",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0",
    "\"Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, "
    "like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53\"",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/36.0.1985.125 Safari/537.36",
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; WOW64; Trident/6.0)",
};

/* Writes s as a JSON string the way the real files do: '/' escaped as '\/'. */
static void put_json_string(struct buffer *b, const char *s)
{
    buffer_append_char(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\' || c == '/') {
            buffer_append_char(b, '\\');
            buffer_append_char(b, (char)c);
        } else if (c < 0x20) {
            buffer_printf(b, "\\u%04x", c);
        } else {
            buffer_append_char(b, (char)c);
        }
    }
    buffer_append_char(b, '"');
}

/* The JSON text of a decimal given in units of 1e-5, with the five decimals of the real files. */
#define DECIMAL_TEXT_MAX 32

static const char *decimal_text(char out[DECIMAL_TEXT_MAX], int64_t units)
{
    const char *sign = units < 0 ? "-" : "";
    uint64_t u = (uint64_t)(units < 0 ? -units : units);
    snprintf(out, DECIMAL_TEXT_MAX, "%s%llu.%05llu", sign, (unsigned long long)(u / 100000),
             (unsigned long long)(u % 100000));
    return out;
}

static void put_decimal(struct buffer *b, int64_t units)
{
    char text[DECIMAL_TEXT_MAX];
    buffer_append_str(b, decimal_text(text, units));
}

/* The real files write null where a value does not apply (a guest has no name, only a NextSong
 * event plays a song): these write null for NULL, else `text` as a JSON string or `number` as
 * the JSON text of a number. */
static void put_string_or_null(struct buffer *b, const char *text)
{
    if (text)
        put_json_string(b, text);
    else
        buffer_append_str(b, "null");
}

static void put_number_or_null(struct buffer *b, const char *number)
{
    buffer_append_str(b, number ? number : "null");
}

/* The key of an event's field: a comma separates it from the field before, unless it follows the
 * object's opening brace. */
static void put_key(struct buffer *b, const char *key)
{
    int first = b->len > 0 && b->data[b->len - 1] == '{';
    buffer_printf(b, "%s\"%s\":", first ? "" : ",", key);
}

static void put_string_field(struct buffer *b, const char *key, const char *text)
{
    put_key(b, key);
    put_string_or_null(b, text);
}

static void put_number_field(struct buffer *b, const char *key, const char *number)
{
    put_key(b, key);
    put_number_or_null(b, number);
}

static void put_int_field(struct buffer *b, const char *key, int64_t value)
{
    put_key(b, key);
    buffer_printf(b, "%lld", (long long)value);
}

static void base36(char *out, uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        out[i] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[v % 36];
        v /= 36;
    }
}

/* An 18-character id shaped like the real ones: a two-letter kind, random letters, a
 * fixed infix, and the index in base 36 (which keeps ids unique). */
static void make_id(struct rng *r, char out[19], const char *kind, int random_letters,
                    const char *infix, uint64_t index)
{
    memcpy(out, kind, 2);
    for (int i = 0; i < random_letters; i++)
        out[2 + i] = (char)('A' + below(r, 26));
    size_t used = 2 + (size_t)random_letters + strlen(infix);
    memcpy(out + 2 + random_letters, infix, strlen(infix));
    base36(out + used, index, (int)(18 - used));
    out[18] = '\0';
}

struct artist {
    char id[19];
    char name[96];
    const char *location;
    int has_coordinates;
    int64_t latitude, longitude; /* 1e-5 degrees */
};

struct song {
    char track[19];
    char id[19];
    char title[96];
    char artist_name[128];
    int64_t duration; /* 1e-5 s */
    int year;
    struct artist artist;
};

static void make_artist(uint64_t seed, uint64_t index, struct artist *a)
{
    struct rng r = rng_for(seed, STREAM_ARTIST, index);
    make_id(&r, a->id, "AR", 4, "1187B", index);
    snprintf(a->name, sizeof a->name, "%s %s", PICK(&r, artist_words), PICK(&r, words));
    a->location = PICK(&r, artist_locations);
    a->has_coordinates = chance(&r, 0.4);
    a->latitude = (int64_t)below(&r, 12000000) - 6000000;
    a->longitude = (int64_t)below(&r, 36000000) - 18000000;
}

static uint64_t artist_count(uint64_t songs)
{
    return songs / 3 + 1;
}

static void make_song(uint64_t seed, uint64_t songs, uint64_t index, struct song *s)
{
    struct rng r = rng_for(seed, STREAM_SONG, index);
    make_id(&r, s->track, "TR", 3, "128F", index);
    make_id(&r, s->id, "SO", 3, "12A", index);
    snprintf(s->title, sizeof s->title, "%s %s", PICK(&r, words), PICK(&r, words));
    s->duration = 3000000 + (int64_t)below(&r, 50000000);
    s->year = chance(&r, 0.3) ? 0 : 1950 + (int)below(&r, 61);
    make_artist(seed, below(&r, artist_count(songs)), &s->artist);
    /* Like the real files, a few songs credit their artist differently ("X feat. Y"). */
    if (chance(&r, 0.02))
        snprintf(s->artist_name, sizeof s->artist_name, "%s feat. %s", s->artist.name,
                 PICK(&r, first_names));
    else
        snprintf(s->artist_name, sizeof s->artist_name, "%s", s->artist.name);
}

static void song_json(const struct song *s, struct buffer *b)
{
    buffer_append_str(b, "{\"num_songs\": 1, \"artist_id\": ");
    put_json_string(b, s->artist.id);
    char latitude[DECIMAL_TEXT_MAX], longitude[DECIMAL_TEXT_MAX];
    int known = s->artist.has_coordinates;
    buffer_append_str(b, ", \"artist_latitude\": ");
    put_number_or_null(b, known ? decimal_text(latitude, s->artist.latitude) : NULL);
    buffer_append_str(b, ", \"artist_longitude\": ");
    put_number_or_null(b, known ? decimal_text(longitude, s->artist.longitude) : NULL);
    buffer_append_str(b, ", \"artist_location\": ");
    put_json_string(b, s->artist.location);
    buffer_append_str(b, ", \"artist_name\": ");
    put_json_string(b, s->artist_name);
    buffer_append_str(b, ", \"song_id\": ");
    put_json_string(b, s->id);
    buffer_append_str(b, ", \"title\": ");
    put_json_string(b, s->title);
    buffer_append_str(b, ", \"duration\": ");
    put_decimal(b, s->duration);
    buffer_printf(b, ", \"year\": %d}", s->year);
}

static int make_dirs(const char *path, struct sp_error *err)
{
    char *copy = xstrdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            int status = sp_fail(err, "%s: cannot create directory: %s", copy, strerror(errno));
            free(copy);
            return status;
        }
        *p = '/';
    }
    int status = SP_OK;
    if (mkdir(copy, 0777) != 0 && errno != EEXIST)
        status = sp_fail(err, "%s: cannot create directory: %s", copy, strerror(errno));
    free(copy);
    return status;
}

static int write_file(const char *path, const struct buffer *b, struct generate_result *result,
                      struct sp_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return sp_fail(err, "%s: cannot create: %s", path, strerror(errno));
    size_t n = fwrite(b->data, 1, b->len, f);
    int failed = n != b->len;
    if (fclose(f) != 0 || failed)
        return sp_fail(err, "%s: write failed: %s", path, strerror(errno));
    result->files++;
    result->bytes += b->len;
    return SP_OK;
}

static int write_songs(const struct generate_options *o, struct generate_result *result,
                       struct sp_error *err)
{
    struct buffer path, json;
    buffer_init(&path);
    buffer_init(&json);
    int status = SP_OK;
    FILE *single = NULL;
    if (o->songs_in_one_file) {
        buffer_printf(&path, "%s/song_data", o->out_dir);
        status = make_dirs(path.data, err);
        buffer_append_str(&path, "/songs.json");
        if (status == SP_OK && !(single = fopen(path.data, "wb")))
            status = sp_fail(err, "%s: cannot create: %s", path.data, strerror(errno));
    }
    struct song s;
    for (uint64_t i = 0; status == SP_OK && i < o->songs; i++) {
        make_song(o->seed, o->songs, i, &s);
        buffer_clear(&json);
        song_json(&s, &json);
        if (single) {
            buffer_append_char(&json, '\n');
            if (fwrite(json.data, 1, json.len, single) != json.len)
                status = sp_fail(err, "%s: write failed: %s", path.data, strerror(errno));
            result->bytes += json.len;
        } else {
            buffer_clear(&path);
            buffer_printf(&path, "%s/song_data/%c/%c/%c", o->out_dir, s.track[2], s.track[3],
                          s.track[4]);
            status = make_dirs(path.data, err);
            buffer_printf(&path, "/%s.json", s.track);
            if (status == SP_OK)
                status = write_file(path.data, &json, result, err);
        }
        result->songs++;
    }
    if (single) {
        if (fclose(single) != 0 && status == SP_OK)
            status = sp_fail(err, "%s: write failed: %s", path.data, strerror(errno));
        result->files++;
    }
    buffer_release(&path);
    buffer_release(&json);
    return status;
}

struct user {
    const char *first, *last, *location, *agent;
    char gender;
    int paid;
    int64_t registration;
};

static void make_user(uint64_t seed, uint64_t index, struct user *u)
{
    struct rng r = rng_for(seed, STREAM_USER, index);
    u->first = PICK(&r, first_names);
    u->last = PICK(&r, last_names);
    u->location = PICK(&r, locations);
    u->agent = PICK(&r, user_agents);
    u->gender = chance(&r, 0.5) ? 'F' : 'M';
    u->paid = chance(&r, 0.25);
    u->registration = INT64_C(1500000000000) + (int64_t)below(&r, 40000000) * 1000 + 796;
}

/* Plays per hour of day (UTC) in the real November 2018 logs: quiet nights, busy
 * afternoons. */
static const double hour_weights[24] = {155, 154, 117, 109, 136, 162, 183, 179, 207, 270, 312, 336,
                                        308, 324, 432, 477, 542, 494, 498, 367, 360, 280, 217, 201};
static const double hour_weight_sum = 6820;

struct session {
    int64_t id;
    int64_t user; /* -1: a logged-out guest */
    int item;
    int remaining;
};

#define SESSION_SLOTS 8

struct event_state {
    const struct generate_options *o;
    struct rng r;
    struct user *users;
    uint64_t user_count;
    struct session slots[SESSION_SLOTS];
    int64_t next_session;
};

/* The page mix of a logged-in listener, per thousand events; some pages depend on the plan. */
static const struct {
    int upto; /* cumulative share, per thousand */
    const char *free_page, *paid_page;
    int status;
} page_mix[] = {
    {800, "NextSong", "NextSong", 200},
    {850, "Home", "Home", 200},
    {890, "Thumbs Up", "Thumbs Up", 200},
    {910, "Add to Playlist", "Add to Playlist", 200},
    {920, "Thumbs Down", "Thumbs Down", 200},
    {930, "Add Friend", "Add Friend", 200},
    {940, "Settings", "Settings", 200},
    {950, "Roll Advert", "Home", 200},
    {960, "Help", "Help", 200},
    {965, "About", "About", 200},
    {970, "Error", "Error", 404},
    {980, "Upgrade", "Downgrade", 200},
    {985, "Submit Upgrade", "Submit Downgrade", 307},
    {990, "Save Settings", "Save Settings", 307},
    {1000, "Home", "Home", 200},
};

static const char *logged_in_page(struct rng *r, const struct user *u, int *status)
{
    int x = (int)below(r, 1000);
    size_t i = 0;
    while (x >= page_mix[i].upto)
        i++;
    *status = page_mix[i].status;
    return u->paid ? page_mix[i].paid_page : page_mix[i].free_page;
}

/* The session an event belongs to: one of SESSION_SLOTS open at once, drawn at random, and a new
 * one, of a listener or a guest, where the slot's session is over. */
static struct session *draw_session(struct event_state *st)
{
    struct rng *r = &st->r;
    struct session *s = &st->slots[below(r, SESSION_SLOTS)];
    if (s->remaining <= 0) {
        s->id = st->next_session++;
        s->user = chance(r, 0.04) ? -1 : (int64_t)below(r, st->user_count);
        s->item = 0;
        s->remaining = 1 + (int)below(r, 60);
    }
    return s;
}

/* The page a listener (NULL: a guest) opens in session `s`, and its HTTP status. */
static const char *draw_page(struct rng *r, const struct session *s, const struct user *u,
                             int *status)
{
    static const char *const guest_pages[] = {"Home", "Login", "About", "Help"};
    if (!u) {
        const char *page = PICK(r, guest_pages);
        *status = strcmp(page, "Login") == 0 ? 307 : 200;
        return page;
    }
    if (s->remaining == 1 && chance(r, 0.5)) {
        *status = 307;
        return "Logout";
    }
    return logged_in_page(r, u, status);
}

/* One event, drawn before it is written. */
struct event {
    int64_t ts;
    const struct session *session;
    const struct user *user; /* NULL: a guest */
    const char *page;
    int status;
    int plays; /* a NextSong event: title, artist and length are set */
    char title[160], artist[160];
    int64_t length; /* 1e-5 s */
};

/* The song a NextSong event plays: one of the catalogue (a share match_share of them), or one
 * outside it, as the real logs mostly play. */
static void draw_song(struct event_state *st, struct event *e, struct generate_result *result)
{
    struct rng *r = &st->r;
    if (chance(r, st->o->match_share) && st->o->songs > 0) {
        struct song song;
        make_song(st->o->seed, st->o->songs, below(r, st->o->songs), &song);
        snprintf(e->title, sizeof e->title, "%s", song.title);
        snprintf(e->artist, sizeof e->artist, "%s", song.artist_name);
        e->length = song.duration;
        result->matching_events++;
    } else {
        snprintf(e->title, sizeof e->title, "%s %s (%s)", PICK(r, words), PICK(r, words),
                 PICK(r, words));
        snprintf(e->artist, sizeof e->artist, "%s %s %s", PICK(r, artist_words), PICK(r, words),
                 PICK(r, artist_words));
        e->length = 3000000 + (int64_t)below(r, 50000000);
    }
}

/* The event as one JSON object, its keys in the real files' order. */
static void put_event(struct buffer *b, const struct event *e)
{
    const struct user *u = e->user;
    char gender[2] = {u ? u->gender : '\0', '\0'};
    char length[DECIMAL_TEXT_MAX], registration[32], user_id[32] = "";
    if (u) {
        snprintf(registration, sizeof registration, "%lld.0", (long long)u->registration);
        snprintf(user_id, sizeof user_id, "%lld", (long long)e->session->user + 1);
    }
    const char *auth = u ? "Logged In" : strcmp(e->page, "Login") == 0 ? "Logged Out" : "Guest";
    buffer_append_char(b, '{');
    put_string_field(b, "artist", e->plays ? e->artist : NULL);
    put_string_field(b, "auth", auth);
    put_string_field(b, "firstName", u ? u->first : NULL);
    put_string_field(b, "gender", u ? gender : NULL);
    put_int_field(b, "itemInSession", e->session->item);
    put_string_field(b, "lastName", u ? u->last : NULL);
    put_number_field(b, "length", e->plays ? decimal_text(length, e->length) : NULL);
    put_string_field(b, "level", u && u->paid ? "paid" : "free");
    put_string_field(b, "location", u ? u->location : NULL);
    put_string_field(b, "method", e->plays || e->status == 307 ? "PUT" : "GET");
    put_string_field(b, "page", e->page);
    put_number_field(b, "registration", u ? registration : NULL);
    put_int_field(b, "sessionId", e->session->id);
    put_string_field(b, "song", e->plays ? e->title : NULL);
    put_int_field(b, "status", e->status);
    put_int_field(b, "ts", e->ts);
    put_string_field(b, "userAgent", u ? u->agent : NULL);
    put_string_field(b, "userId", user_id); /* "" for a guest, as in the real logs */
    buffer_append_char(b, '}');
}

/* What an event leaves behind: a submitted change of plan takes effect after the event that asks
 * for it, and a logout ends the session. */
static void end_event(struct session *s, struct user *u, const char *page)
{
    if (u && strcmp(page, "Submit Upgrade") == 0)
        u->paid = 1;
    if (u && strcmp(page, "Submit Downgrade") == 0)
        u->paid = 0;
    s->item++;
    s->remaining--;
    if (strcmp(page, "Logout") == 0)
        s->remaining = 0;
}

static void write_event(struct event_state *st, int64_t ts, struct buffer *b,
                        struct generate_result *result)
{
    struct session *s = draw_session(st);
    struct user *u = s->user >= 0 ? &st->users[s->user] : NULL;
    struct event e;
    e.ts = ts;
    e.session = s;
    e.user = u;
    e.page = draw_page(&st->r, s, u, &e.status);
    e.plays = strcmp(e.page, "NextSong") == 0;
    if (e.plays) {
        result->nextsong_events++;
        draw_song(st, &e, result);
    }
    put_event(b, &e);
    end_event(s, u, e.page);
    result->events++;
}

/* The millisecond of the day of event i of `count`, the event before it being at `previous`.
 * The day follows its hour weights over all 24 hours: event i falls at quantile (i + u) / count
 * of the day's distribution (hour h holds hour_weights[h] / hour_weight_sum of it, spread evenly
 * over the hour), u uniform in [0, 1) and drawn once per event, as the gap it replaces was, so
 * that the pages, users and songs drawn after it stay the same. Each event keeps to its own
 * slice of the day: hour h receives its share of the events to within two, whatever the count,
 * and memory stays constant. */
static int64_t next_offset(struct rng *r, int64_t previous, uint64_t i, uint64_t count)
{
    double u = (double)(next(r) >> 11) * 0x1.0p-53;
    double target = ((double)i + u) / (double)count * hour_weight_sum;
    int hour = 0;
    while (hour < 23 && target >= hour_weights[hour]) {
        target -= hour_weights[hour];
        hour++;
    }
    double within = target / hour_weights[hour];
    int64_t offset = (int64_t)hour * 3600000 + (int64_t)(within * 3600000.0);
    /* Strictly later than the event before: one listener's session never holds two events at
     * the same millisecond, as in the real logs (a play is its (ts, user, session), which the
     * checks count). */
    if (i > 0 && offset <= previous)
        offset = previous + 1;
    return offset > 86399999 ? 86399999 : offset;
}

static int write_events(const struct generate_options *o, struct generate_result *result,
                        struct sp_error *err)
{
    struct event_state st;
    memset(&st, 0, sizeof st);
    st.o = o;
    st.r = rng_for(o->seed, STREAM_EVENTS, 0);
    st.user_count = o->users ? o->users : (o->events / 80 < 10 ? 10 : o->events / 80);
    if (st.user_count > 100000)
        st.user_count = 100000;
    st.users = xmalloc(st.user_count * sizeof *st.users);
    for (uint64_t i = 0; i < st.user_count; i++)
        make_user(o->seed, i, &st.users[i]);
    st.next_session = 1;

    struct tm start = {
        .tm_year = o->start_year - 1900, .tm_mon = o->start_month - 1, .tm_mday = o->start_day};
    int64_t first_day = (int64_t)timegm(&start) * 1000;
    struct buffer path, line, file;
    buffer_init(&path);
    buffer_init(&line);
    buffer_init(&file);
    int status = SP_OK;
    FILE *f = NULL;
    for (uint32_t day = 0; status == SP_OK && day < o->days; day++) {
        uint64_t count = o->events / o->days + (day < o->events % o->days ? 1 : 0);
        int64_t day_start = first_day + (int64_t)day * 86400000;
        time_t seconds = (time_t)(day_start / 1000);
        struct tm tm;
        gmtime_r(&seconds, &tm);
        buffer_clear(&path);
        buffer_printf(&path, "%s/log_data/%04d/%02d", o->out_dir, tm.tm_year + 1900, tm.tm_mon + 1);
        if ((status = make_dirs(path.data, err)) != SP_OK)
            break;
        buffer_printf(&path, "/%04d-%02d-%02d-events.json", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday);
        if (!(f = fopen(path.data, "wb"))) {
            status = sp_fail(err, "%s: cannot create: %s", path.data, strerror(errno));
            break;
        }
        int64_t offset = 0;
        for (uint64_t i = 0; status == SP_OK && i < count; i++) {
            offset = next_offset(&st.r, offset, i, count);
            buffer_clear(&line);
            if (i > 0)
                buffer_append_char(&line, '\n'); /* no newline after the last line */
            write_event(&st, day_start + offset, &line, result);
            buffer_append(&file, line.data, line.len);
            if (file.len >= 1 << 20 || i + 1 == count) {
                if (fwrite(file.data, 1, file.len, f) != file.len)
                    status = sp_fail(err, "%s: write failed: %s", path.data, strerror(errno));
                result->bytes += file.len;
                buffer_clear(&file);
            }
        }
        if (fclose(f) != 0 && status == SP_OK)
            status = sp_fail(err, "%s: write failed: %s", path.data, strerror(errno));
        result->files++;
    }
    buffer_release(&path);
    buffer_release(&line);
    buffer_release(&file);
    free(st.users);
    return status;
}

/* Whether the directory at `path` holds any entry; -1 (with errno) when it cannot be read. */
static int directory_has_entries(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    int found = 0;
    const struct dirent *entry;
    while (!found && (entry = readdir(dir)))
        found = strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0;
    closedir(dir);
    return found;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

/* Removes `path` and everything under it (links are removed, not followed); absent is done. */
static int remove_tree(const char *path, struct sp_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0 && errno == ENOENT)
        return SP_OK;
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return sp_fail(err, "%s: cannot remove the earlier output: %s", path, strerror(errno));
    return SP_OK;
}

/* The output directory, made if absent; one holding anything only with o->force, which empties
 * what generate writes there (see generate.h). */
static int prepare_out_dir(const struct generate_options *o, struct sp_error *err)
{
    struct stat st;
    if (stat(o->out_dir, &st) != 0) {
        if (errno != ENOENT)
            return sp_fail(err, "%s: %s", o->out_dir, strerror(errno));
        return make_dirs(o->out_dir, err);
    }
    if (!S_ISDIR(st.st_mode))
        return sp_usage(err, "%s: not a directory", o->out_dir);
    int used = directory_has_entries(o->out_dir);
    if (used < 0)
        return sp_fail(err, "%s: cannot read the directory: %s", o->out_dir, strerror(errno));
    if (!used)
        return SP_OK;
    if (!o->force)
        return sp_usage(err,
                        "%s is not empty; nothing was written (the new files would mix with what "
                        "is there: use --force to remove %s/song_data and %s/log_data first)",
                        o->out_dir, o->out_dir, o->out_dir);
    struct buffer path;
    buffer_init(&path);
    int status = SP_OK;
    for (int i = 0; status == SP_OK && i < 2; i++) {
        buffer_clear(&path);
        buffer_printf(&path, "%s/%s", o->out_dir, i == 0 ? "song_data" : "log_data");
        status = remove_tree(path.data, err);
    }
    buffer_release(&path);
    return status;
}

void generate_options_default(struct generate_options *o)
{
    memset(o, 0, sizeof *o);
    o->out_dir = "sample";
    o->events = 10000;
    o->songs = 1000;
    o->seed = 42;
    o->days = 30;
    o->match_share = 0.3;
    o->start_year = 2018;
    o->start_month = 11;
    o->start_day = 1;
}

int generate_dataset(const struct generate_options *o, struct generate_result *result,
                     struct sp_error *err)
{
    memset(result, 0, sizeof *result);
    if (o->days == 0)
        return sp_usage(err, "--days must be at least 1");
    if (o->match_share < 0 || o->match_share > 1)
        return sp_usage(err, "--match-share must be between 0 and 1");
    int status = prepare_out_dir(o, err);
    if (status == SP_OK && o->songs)
        status = write_songs(o, result, err);
    if (status == SP_OK)
        status = write_events(o, result, err);
    return status;
}
