/* Unit tests of the star model: which events become songplays, the exact match and its tie
 * rule, users' latest level, time de-duplication, the rules for disagreeing song files, and
 * trailing spaces, which no value keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct cell text(const char *s)
{
    struct cell c = {.type = CELL_TEXT};
    c.text.ptr = s;
    c.text.len = strlen(s);
    return c;
}

static struct cell integer(int64_t v)
{
    return (struct cell){.type = CELL_INT, .i = v};
}

static struct cell real(double v)
{
    return (struct cell){.type = CELL_DOUBLE, .d = v};
}

static const struct cell null_cell = {.type = CELL_NULL};

static void event(struct cell *e, const char *page, const char *user, int64_t ts, const char *level,
                  const char *song, const char *artist, double length)
{
    for (int i = 0; i < EVENT_FIELD_COUNT; i++)
        e[i] = null_cell;
    e[EVENT_PAGE] = text(page);
    e[EVENT_USER_ID] = text(user);
    e[EVENT_TS] = integer(ts);
    e[EVENT_LEVEL] = text(level);
    e[EVENT_FIRST_NAME] = text("First");
    if (song) {
        e[EVENT_SONG] = text(song);
        e[EVENT_ARTIST] = text(artist);
        e[EVENT_LENGTH] = real(length);
    }
}

static void song(struct model *m, const char *id, const char *title, const char *artist_id,
                 const char *artist_name, double duration)
{
    struct cell s[SONG_FIELD_COUNT];
    for (int i = 0; i < SONG_FIELD_COUNT; i++)
        s[i] = null_cell;
    s[SONG_SONG_ID] = text(id);
    s[SONG_TITLE] = text(title);
    s[SONG_ARTIST_ID] = text(artist_id);
    s[SONG_ARTIST_NAME] = text(artist_name);
    s[SONG_DURATION] = real(duration);
    char reason[128];
    assert_int_equal(model_add_song(m, s, reason, sizeof reason), 0);
}

static void only_nextsong_events_with_a_user_become_songplays(void **state)
{
    (void)state;
    struct model *m = model_new();
    struct model_output out;
    model_output_init(&out);
    struct cell e[EVENT_FIELD_COUNT];
    char reason[128];
    event(e, "Home", "1", 1000, "free", NULL, NULL, 0);
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
    event(e, "NextSong", "", 1000, "free", "S", "A", 1.0);
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
    event(e, "nextsong", "1", 1000, "free", "S", "A", 1.0);
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
    assert_int_equal(out.songplays.rows, 0);
    event(e, "NextSong", "1", 1541990258796, "free", "S", "A", 1.0);
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
    assert_int_equal(out.songplays.rows, 1);
    const struct cell *row = rowbuf_row(&out.songplays, 0);
    assert_string_equal(row[0].text.ptr, "2018-11-12 02:37:38.796");

    e[EVENT_TS] = null_cell;
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), -1);
    assert_string_equal(reason, "NextSong event without ts");
    e[EVENT_TS] = integer(-5);
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), -1);
    assert_int_equal(out.songplays.rows, 1); /* a rejected event leaves nothing behind */
    model_output_release(&out);
    model_free(m);
}

static void matching_is_exact_and_ties_take_the_smallest_song_id(void **state)
{
    (void)state;
    struct model *m = model_new();
    song(m, "SOB", "Title", "ARB", "Artist", 200.5);
    song(m, "SOA", "Title", "ARA", "Artist", 200.5); /* same key: the smaller id wins */
    song(m, "SOC", "Title", "ARC", "Artist", 200.50001);
    struct model_output out;
    model_output_init(&out);
    struct cell e[EVENT_FIELD_COUNT];
    char reason[128];
    event(e, "NextSong", "1", 1000, "free", "Title", "Artist", 200.5);
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
    event(e, "NextSong", "1", 2000, "free", "Title", "Artist", 200.50001);
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
    event(e, "NextSong", "1", 3000, "free", "title", "Artist", 200.5); /* case matters */
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
    event(e, "NextSong", "1", 4000, "free", "Title", "Artist", 200.4);
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
    const struct cell *r0 = rowbuf_row(&out.songplays, 0), *r1 = rowbuf_row(&out.songplays, 1);
    assert_string_equal(r0[3].text.ptr, "SOA");
    assert_string_equal(r0[4].text.ptr, "ARA");
    assert_string_equal(r1[3].text.ptr, "SOC");
    assert_int_equal(rowbuf_row(&out.songplays, 2)[3].type, CELL_NULL);
    assert_int_equal(rowbuf_row(&out.songplays, 3)[3].type, CELL_NULL);
    struct model_counts counts;
    model_counts(m, &counts);
    assert_int_equal(counts.songplays, 4);
    assert_int_equal(counts.matched, 2);
    model_output_release(&out);
    model_free(m);
}

static const struct cell *user_row(const struct rowbuf *users, const char *id)
{
    for (size_t i = 0; i < users->rows; i++)
        if (strcmp(rowbuf_row(users, i)[0].text.ptr, id) == 0)
            return rowbuf_row(users, i);
    return NULL;
}

/* A key of a probe, as text: "title|artist|duration". */
static void probe_key_text(const struct cell *k, char *out, size_t size)
{
    snprintf(out, size, "%.*s|%.*s|%g", (int)k[0].text.len, k[0].text.ptr, (int)k[1].text.len,
             k[1].text.ptr, k[2].d);
}

static void probe_mode_asks_each_key_once_and_keeps_the_tie_rule_across_the_warehouse(void **state)
{
    (void)state;
    struct model *m = model_new();
    /* This run's songs: "Old" has a smaller song_id in the warehouse, "New" a larger one. */
    song(m, "SOM", "Old", "ARM", "Artist", 100.0);
    song(m, "SOB", "New", "ARB", "Artist", 200.0);
    model_probe_warehouse(m);
    struct model_output out;
    model_output_init(&out);
    struct cell e[EVENT_FIELD_COUNT];
    char reason[128];
    event(e, "NextSong", "1", 1000, "free", "Old", "Artist", 100.0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "1", 2000, "free", "New", "Artist", 200.0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "1", 3000, "free", "Known", "Artist", 300.0); /* the warehouse's only */
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "1", 4000, "free", "Nowhere", "Artist", 400.0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "1", 5000, "free", "Old", "Artist", 100.0); /* asked for once */
    model_add_event(m, e, &out, reason, sizeof reason);
    /* Nothing is matched until the writer has asked. */
    assert_int_equal(rowbuf_row(&out.songplays, 0)[3].type, CELL_NULL);

    size_t count;
    const struct cell *keys = model_output_probe_keys(&out, &count);
    assert_int_equal(count, 4);
    char text_key[64];
    const char *expected[] = {"Old|Artist|100", "New|Artist|200", "Known|Artist|300",
                              "Nowhere|Artist|400"};
    for (size_t i = 0; i < count; i++) {
        probe_key_text(&keys[3 * i], text_key, sizeof text_key);
        assert_string_equal(text_key, expected[i]);
    }
    /* The warehouse's song_lookup rows for the keys. */
    struct cell so_a = text("SOA"), ar_a = text("ARA"), so_z = text("SOZ"), ar_z = text("ARZ");
    struct cell so_k = text("SOK"), ar_k = text("ARK");
    model_output_found(m, &out, 0, &so_a, &ar_a);
    model_output_found(m, &out, 1, &so_z, &ar_z);
    model_output_found(m, &out, 2, &so_z, &ar_z);
    model_output_found(m, &out, 2, &so_k, &ar_k); /* two songs with the key: the smaller wins */
    model_output_resolve(m, &out);
    const char *songs[] = {"SOA", "SOB", "SOK", NULL, "SOA"};
    for (size_t i = 0; i < 5; i++) {
        const struct cell *row = rowbuf_row(&out.songplays, i);
        if (songs[i])
            assert_string_equal(row[3].text.ptr, songs[i]);
        else
            assert_int_equal(row[3].type, CELL_NULL);
    }
    /* The next batch: a key asked for before is not asked again, and still matches. */
    model_output_clear(&out);
    event(e, "NextSong", "1", 6000, "free", "Known", "Artist", 300.0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "1", 7000, "free", "Nowhere", "Artist", 400.0);
    model_add_event(m, e, &out, reason, sizeof reason);
    model_output_probe_keys(&out, &count);
    assert_int_equal(count, 0);
    model_output_resolve(m, &out);
    assert_string_equal(rowbuf_row(&out.songplays, 0)[3].text.ptr, "SOK");
    assert_string_equal(rowbuf_row(&out.songplays, 0)[4].text.ptr, "ARK");
    assert_int_equal(rowbuf_row(&out.songplays, 1)[3].type, CELL_NULL);
    struct model_counts counts;
    model_counts(m, &counts);
    assert_int_equal(counts.songplays, 7);
    assert_int_equal(counts.matched, 5);
    model_output_release(&out);
    model_free(m);
}

/* Probe mode keeps the entries of keys asked about up to a bound; then the keys that matched no
 * song are forgotten (asked again if seen again), while this run's songs and the keys the
 * warehouse matched keep their answers: memory follows the songs, not the events. */
static void probe_mode_forgets_unmatched_keys_past_its_bound_and_keeps_the_matches(void **state)
{
    (void)state;
    struct model *m = model_new();
    song(m, "SOB", "New", "ARB", "Artist", 200.0);
    model_probe_warehouse(m);
    struct model_output out;
    model_output_init(&out);
    struct cell e[EVENT_FIELD_COUNT];
    char reason[128], title[32];
    struct cell so_k = text("SOK"), ar_k = text("ARK");
    size_t count, plays = 0, batches_until_full = 0;
    /* Batches of 1000 plays, each of a key never seen, and one of "Known" (the warehouse's). */
    while (!model_probe_full(m)) {
        for (int i = 0; i < 999; i++) {
            snprintf(title, sizeof title, "Unknown %zu", plays++);
            event(e, "NextSong", "1", 1000, "free", title, "Artist", 1.0);
            assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
        }
        event(e, "NextSong", "1", 1000, "free", "Known", "Artist", 300.0);
        model_add_event(m, e, &out, reason, sizeof reason);
        const struct cell *keys = model_output_probe_keys(&out, &count);
        for (size_t i = 0; i < count; i++)
            if (keys[3 * i].text.len == 5) /* "Known", asked in the first batch only */
                model_output_found(m, &out, i, &so_k, &ar_k);
        model_output_resolve(m, &out);
        assert_string_equal(rowbuf_row(&out.songplays, 999)[3].text.ptr, "SOK");
        model_output_clear(&out);
        batches_until_full++;
    }
    /* The bound is 65,536 entries past the song's: 1,000 new keys in the first batch, 999 after. */
    assert_int_equal(batches_until_full, 66);
    model_probe_forget(m);
    assert_false(model_probe_full(m));
    /* An unknown key seen before is asked again; "Known" and the run's song "New" are not, and
     * still match. */
    event(e, "NextSong", "1", 2000, "free", "Unknown 5", "Artist", 1.0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "1", 2000, "free", "Known", "Artist", 300.0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "1", 2000, "free", "New", "Artist", 200.0);
    model_add_event(m, e, &out, reason, sizeof reason);
    const struct cell *keys = model_output_probe_keys(&out, &count);
    assert_int_equal(count, 2); /* "Unknown 5", and "New", never asked before */
    char text_key[64];
    probe_key_text(&keys[0], text_key, sizeof text_key);
    assert_string_equal(text_key, "Unknown 5|Artist|1");
    probe_key_text(&keys[3], text_key, sizeof text_key);
    assert_string_equal(text_key, "New|Artist|200");
    model_output_resolve(m, &out);
    assert_int_equal(rowbuf_row(&out.songplays, 0)[3].type, CELL_NULL);
    assert_string_equal(rowbuf_row(&out.songplays, 1)[3].text.ptr, "SOK");
    assert_string_equal(rowbuf_row(&out.songplays, 2)[3].text.ptr, "SOB");
    struct model_counts counts;
    model_counts(m, &counts);
    assert_int_equal(counts.matched, batches_until_full + 2);
    model_output_release(&out);
    model_free(m);
}

static void users_take_the_level_of_their_latest_event_in_any_order(void **state)
{
    (void)state;
    struct model *m = model_new();
    struct model_output out;
    model_output_init(&out);
    struct cell e[EVENT_FIELD_COUNT];
    char reason[128];
    event(e, "NextSong", "1", 3000, "paid", NULL, NULL, 0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "1", 1000, "free", NULL, NULL, 0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "2", 5000, "free", NULL, NULL, 0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "2", 5000, "paid", NULL, NULL, 0); /* same instant: paid wins */
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "2", 5000, "free", NULL, NULL, 0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "3", 8000, "free", NULL, NULL, 0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "4", 7000, "paid", NULL, NULL, 0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "5", 6000, "free", NULL, NULL, 0);
    model_add_event(m, e, &out, reason, sizeof reason);
    struct cell ids[8];
    size_t count = model_user_ids(m, 0, 8, ids);
    assert_int_equal(count, 5);
    assert_int_equal(ids[4].text.len, 1); /* in user_id order */
    assert_memory_equal(ids[4].text.ptr, "5", 1);
    assert_int_equal(model_user_ids(m, 3, 8, ids), 2); /* a chunk from position 3 */
    assert_memory_equal(ids[0].text.ptr, "4", 1);
    assert_int_equal(model_user_ids(m, 5, 8, ids), 0);
    /* Settled against the warehouse's latest plays: a user it has at a later time keeps its
     * row (3), as does one it has at the same instant and level (4, a full tie); an earlier play
     * (5) or a lower level at the same instant (2) loses to the run's; one it has not (1). */
    struct cell id2 = text("2"), id3 = text("3"), id4 = text("4"), id5 = text("5");
    struct cell paid = text("paid"), free_level = text("free");
    model_settle_user(m, &id2, 5000, &free_level);
    model_settle_user(m, &id3, 9000, &free_level);
    model_settle_user(m, &id4, 7000, &paid);
    model_settle_user(m, &id5, 5999, &paid);

    const struct rowbuf *songs, *artists, *lookup;
    struct rowbuf users, latest;
    rowbuf_init(&users, TABLE_USERS);
    rowbuf_init(&latest, TABLE_USER_LATEST);
    model_dimensions(m, &songs, &artists, &lookup);
    model_user_rows(m, 0, count, &users, &latest);
    assert_int_equal(users.rows, 3);
    assert_string_equal(user_row(&users, "1")[4].text.ptr, "paid");
    assert_string_equal(user_row(&users, "2")[4].text.ptr, "paid");
    assert_null(user_row(&users, "3"));
    assert_null(user_row(&users, "4"));
    assert_string_equal(user_row(&users, "5")[4].text.ptr, "free");
    /* The user_latest rows of the users written: their latest play's instant and level. */
    assert_int_equal(latest.rows, 3);
    assert_string_equal(user_row(&latest, "1")[1].text.ptr, "1970-01-01 00:00:03.000");
    assert_string_equal(user_row(&latest, "2")[1].text.ptr, "1970-01-01 00:00:05.000");
    assert_string_equal(user_row(&latest, "2")[2].text.ptr, "paid");
    assert_string_equal(user_row(&latest, "5")[1].text.ptr, "1970-01-01 00:00:06.000");
    rowbuf_release(&users);
    rowbuf_release(&latest);
    model_output_release(&out);
    model_free(m);
}

/* Users are packed, indexed and listed a chunk at a time: many users (the index grows several
 * times), values that change length, a level going back and forth, NULL names, and a value
 * longer than its column (refused, nothing changed). */
static void many_users_keep_their_latest_values_through_packing_and_chunks(void **state)
{
    (void)state;
    struct model *m = model_new();
    struct model_output out;
    model_output_init(&out);
    struct cell e[EVENT_FIELD_COUNT];
    char reason[128], id[16], name[40];
    enum { USERS = 5000 };
    for (int round = 0; round < 3; round++) {
        for (int u = USERS - 1; u >= 0; u--) { /* out of key order */
            snprintf(id, sizeof id, "u%05d", u);
            event(e, "NextSong", id, 1000 * (round + 1), round == 1 ? "paid" : "free", NULL, NULL,
                  0);
            /* Round 0 a short name, round 1 a long one (a new packing), round 2 a short one
             * again (written over the long one); every third user has no first name at the end. */
            snprintf(name, sizeof name, round == 1 ? "%d-a-much-longer-first-name" : "n%d", u);
            e[EVENT_FIRST_NAME] = round == 2 && u % 3 == 0 ? null_cell : text(name);
            e[EVENT_GENDER] = text(u % 2 ? "F" : "M");
            assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
        }
        model_output_clear(&out);
    }
    char long_id[80];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    event(e, "NextSong", long_id, 5000, "free", NULL, NULL, 0);
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), -1);
    assert_string_equal(reason, "a user value longer than 64 bytes");
    assert_int_equal(model_user_count(m), USERS);

    struct rowbuf users, latest;
    rowbuf_init(&users, TABLE_USERS);
    rowbuf_init(&latest, TABLE_USER_LATEST);
    struct cell ids[777]; /* a chunk size that does not divide the count */
    size_t first = 0, count;
    while ((count = model_user_ids(m, first, 777, ids)) > 0) {
        for (size_t i = 0; i < count; i++) {
            snprintf(id, sizeof id, "u%05zu", first + i);
            assert_int_equal(ids[i].text.len, 6);
            assert_memory_equal(ids[i].text.ptr, id, 6);
        }
        model_user_rows(m, first, count, &users, &latest);
        first += count;
    }
    assert_int_equal(first, USERS);
    assert_int_equal(users.rows, USERS);
    assert_int_equal(latest.rows, USERS);
    for (int u = 0; u < USERS; u++) {
        const struct cell *row = rowbuf_row(&users, (size_t)u);
        snprintf(id, sizeof id, "u%05d", u);
        assert_memory_equal(row[0].text.ptr, id, 6);
        if (u % 3 == 0) {
            assert_int_equal(row[1].type, CELL_NULL);
        } else {
            snprintf(name, sizeof name, "n%d", u);
            assert_int_equal(row[1].text.len, strlen(name));
            assert_memory_equal(row[1].text.ptr, name, strlen(name));
        }
        assert_int_equal(row[2].type, CELL_NULL); /* no last name in any event */
        assert_memory_equal(row[3].text.ptr, u % 2 ? "F" : "M", 1);
        assert_memory_equal(row[4].text.ptr, "free", 4);
        assert_string_equal(rowbuf_row(&latest, (size_t)u)[1].text.ptr, "1970-01-01 00:00:03.000");
    }
    struct model_counts counts;
    model_counts(m, &counts);
    assert_int_equal(counts.users, USERS);
    rowbuf_release(&users);
    rowbuf_release(&latest);
    model_output_release(&out);
    model_free(m);
}

static void time_rows_are_written_once_per_instant_per_object(void **state)
{
    (void)state;
    struct model *m = model_new();
    struct model_output out;
    model_output_init(&out);
    struct cell e[EVENT_FIELD_COUNT];
    char reason[128];
    /* 2018-12-31 is in ISO week 1 of 2019; 2021-01-03 (a Sunday) in week 53 of 2020. */
    event(e, "NextSong", "1", INT64_C(1546214400000), "free", NULL, NULL, 0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "2", INT64_C(1546214400000), "free", NULL, NULL, 0);
    model_add_event(m, e, &out, reason, sizeof reason);
    event(e, "NextSong", "1", INT64_C(1609632000123), "free", NULL, NULL, 0);
    model_add_event(m, e, &out, reason, sizeof reason);
    assert_int_equal(out.time.rows, 2);
    const struct cell *t0 = rowbuf_row(&out.time, 0), *t1 = rowbuf_row(&out.time, 1);
    assert_string_equal(t0[0].text.ptr, "2018-12-31 00:00:00.000");
    assert_int_equal(t0[3].i, 1);    /* week */
    assert_int_equal(t0[5].i, 2018); /* year */
    assert_int_equal(t0[6].i, 1);    /* Monday */
    assert_string_equal(t1[0].text.ptr, "2021-01-03 00:00:00.123");
    assert_int_equal(t1[3].i, 53);
    assert_int_equal(t1[6].i, 0); /* Sunday */
    model_end_object(m);
    model_add_event(m, e, &out, reason, sizeof reason);
    assert_int_equal(out.time.rows, 3); /* a new object: the warehouse key de-duplicates */
    model_output_release(&out);
    model_free(m);
}

static void artists_rule_prefers_complete_rows_then_short_names(void **state)
{
    (void)state;
    struct cell megadeth_plain[5] = {text("AR"), text("Megadeth"), text("Los Angeles, CA"),
                                     null_cell, null_cell};
    struct cell megadeth_located[5] = {text("AR"), text("Megadeth"),
                                       text("Los Angeles, California, United States"),
                                       real(34.05349), real(-118.24532)};
    assert_true(model_compare_artists(megadeth_located, megadeth_plain) < 0);
    struct cell dmx[5] = {text("AR"), text("DMX"), text(""), null_cell, null_cell};
    struct cell dmx_sisqo[5] = {text("AR"), text("DMX / Sisqo"), text(""), null_cell, null_cell};
    assert_true(model_compare_artists(dmx, dmx_sisqo) < 0);
    struct cell plain[5] = {text("AR"), text("Leftover Crack"), text("NYC"), null_cell, null_cell};
    struct cell umlaut[5] = {text("AR"), text("Leftöver Crack"), text("NYC"), null_cell, null_cell};
    assert_true(model_compare_artists(plain, umlaut) < 0); /* same length; bytes decide */
    assert_int_equal(model_compare_artists(plain, plain), 0);
}

static void songs_rule_takes_the_smallest_row_nulls_last(void **state)
{
    (void)state;
    struct cell a[5] = {text("SO"), text("Alpha"), text("AR1"), integer(0), real(1.0)};
    struct cell b[5] = {text("SO"), text("Beta"), text("AR1"), integer(0), real(1.0)};
    struct cell n[5] = {text("SO"), null_cell, text("AR1"), integer(0), real(1.0)};
    assert_true(model_compare_songs(a, b) < 0);
    assert_true(model_compare_songs(n, b) > 0);
    struct model *m = model_new();
    song(m, "SO1", "Zeta", "AR1", "X", 1.0);
    song(m, "SO1", "Alpha", "AR1", "X", 1.0);
    song(m, "SO1", "Beta", "AR1", "X", 1.0);
    const struct rowbuf *songs, *artists, *lookup;
    model_dimensions(m, &songs, &artists, &lookup);
    assert_int_equal(songs->rows, 1);
    assert_string_equal(rowbuf_row(songs, 0)[1].text.ptr, "Alpha");
    assert_int_equal(artists->rows, 1);
    assert_int_equal(lookup->rows, 3);
    model_free(m);
}

static void trailing_spaces_are_not_part_of_any_value(void **state)
{
    (void)state;
    struct model *m = model_new();
    char reason[128];
    /* Song "Song " by "Artist ", as one file has it, and its id once more with a space. */
    song(m, "SO1 ", "Song ", "AR1 ", "Artist ", 100.0);
    song(m, "SO1", "Song", "AR1", "Artist", 100.0);
    struct cell s[SONG_FIELD_COUNT];
    for (int i = 0; i < SONG_FIELD_COUNT; i++)
        s[i] = null_cell;
    s[SONG_SONG_ID] = text("   ");
    assert_int_equal(model_add_song(m, s, reason, sizeof reason), -1);
    assert_string_equal(reason, "song_id is missing or empty");

    struct model_output out;
    model_output_init(&out);
    struct cell e[EVENT_FIELD_COUNT];
    /* A play of "Song" by "Artist  " matches; page "NextSong " is a play; user "7 " is user 7. */
    event(e, "NextSong ", "7 ", 1000, "paid ", "Song", "Artist  ", 100.0);
    e[EVENT_LOCATION] = text("  ");
    e[EVENT_USER_AGENT] = text("UA ");
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
    event(e, "NextSong", "7", 2000, "free", "Song ", "Artist", 100.0);
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
    /* A user_id of spaces is no user: not a songplay. */
    event(e, "NextSong", "  ", 3000, "free", NULL, NULL, 0);
    assert_int_equal(model_add_event(m, e, &out, reason, sizeof reason), 0);
    assert_int_equal(model_check_event(e, reason, sizeof reason), 0);
    assert_int_equal(out.songplays.rows, 2);
    const struct cell *play = rowbuf_row(&out.songplays, 0);
    assert_int_equal(play[1].text.len, 1); /* "7" */
    assert_int_equal(play[2].text.len, 4); /* "paid" */
    assert_memory_equal(play[3].text.ptr, "SO1", 3);
    assert_int_equal(play[3].text.len, 3);
    assert_int_equal(play[4].text.len, 3); /* "AR1" */
    assert_int_equal(play[6].text.len, 0); /* a location of spaces is empty */
    assert_int_equal(play[7].text.len, 2); /* "UA" */
    assert_int_equal(rowbuf_row(&out.songplays, 1)[3].text.len, 3);

    const struct rowbuf *songs, *artists, *lookup;
    model_dimensions(m, &songs, &artists, &lookup);
    /* Keys that differ only in trailing spaces are one row, stored without them. */
    assert_int_equal(songs->rows, 1);
    assert_int_equal(rowbuf_row(songs, 0)[0].text.len, 3);
    assert_int_equal(rowbuf_row(songs, 0)[1].text.len, 4); /* "Song" */
    assert_int_equal(artists->rows, 1);
    assert_int_equal(rowbuf_row(artists, 0)[1].text.len, 6); /* "Artist" */
    struct rowbuf users, latest;
    rowbuf_init(&users, TABLE_USERS);
    rowbuf_init(&latest, TABLE_USER_LATEST);
    struct cell ids[4];
    model_user_rows(m, 0, model_user_ids(m, 0, 4, ids), &users, &latest);
    assert_int_equal(users.rows, 1);
    assert_int_equal(rowbuf_row(&users, 0)[0].text.len, 1);
    assert_memory_equal(rowbuf_row(&users, 0)[4].text.ptr, "free", 4);
    rowbuf_release(&users);
    rowbuf_release(&latest);
    for (size_t i = 0; i < lookup->rows; i++)
        assert_int_equal(rowbuf_row(lookup, i)[0].text.len, 4);
    model_output_release(&out);
    model_free(m);
}

static void an_artist_location_of_spaces_is_empty_in_the_artists_rule(void **state)
{
    (void)state;
    struct model *m = model_new();
    char reason[128];
    struct cell s[SONG_FIELD_COUNT];
    const char *locations[] = {"   ", "Here"};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < SONG_FIELD_COUNT; i++)
            s[i] = null_cell;
        s[SONG_SONG_ID] = text("SO1");
        s[SONG_ARTIST_ID] = text("AR1");
        s[SONG_ARTIST_NAME] = text(k ? "Longer Name" : "Name");
        s[SONG_ARTIST_LOCATION] = text(locations[k]);
        assert_int_equal(model_add_song(m, s, reason, sizeof reason), 0);
    }
    const struct rowbuf *songs, *artists, *lookup;
    model_dimensions(m, &songs, &artists, &lookup);
    /* A location wins over none, and spaces are none: the longer name with "Here" is kept. */
    assert_int_equal(artists->rows, 1);
    assert_memory_equal(rowbuf_row(artists, 0)[2].text.ptr, "Here", 4);
    model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(only_nextsong_events_with_a_user_become_songplays),
        cmocka_unit_test(matching_is_exact_and_ties_take_the_smallest_song_id),
        cmocka_unit_test(probe_mode_asks_each_key_once_and_keeps_the_tie_rule_across_the_warehouse),
        cmocka_unit_test(probe_mode_forgets_unmatched_keys_past_its_bound_and_keeps_the_matches),
        cmocka_unit_test(users_take_the_level_of_their_latest_event_in_any_order),
        cmocka_unit_test(many_users_keep_their_latest_values_through_packing_and_chunks),
        cmocka_unit_test(time_rows_are_written_once_per_instant_per_object),
        cmocka_unit_test(artists_rule_prefers_complete_rows_then_short_names),
        cmocka_unit_test(songs_rule_takes_the_smallest_row_nulls_last),
        cmocka_unit_test(trailing_spaces_are_not_part_of_any_value),
        cmocka_unit_test(an_artist_location_of_spaces_is_empty_in_the_artists_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
