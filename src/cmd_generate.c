/* cmd_generate.c - `sparkify generate`: write a synthetic dataset shaped like the real one. */
#include "commands.h"

#include "generate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct generate_args {
    struct generate_options o;
    uint64_t days, users; /* at most 100000 are written */
};

static int parse_share(void *field, const char *text)
{
    double *share = field;
    char *end;
    *share = strtod(text, &end);
    return *end || end == text || *share < 0 || *share > 1 ? -1 : 0;
}

static int parse_start_date(void *field, const char *text)
{
    struct generate_options *o = field;
    if (sscanf(text, "%4d-%2d-%2d", &o->start_year, &o->start_month, &o->start_day) != 3 ||
        o->start_month < 1 || o->start_month > 12 || o->start_day < 1 || o->start_day > 31 ||
        o->start_year < 1970)
        return -1;
    return 0;
}

/* A count: any number >= 0, up to a trillion. */
#define OPT_COUNT(l, field, h)                                                                     \
    OPT_INT_F(0, l, field, "N", 0, 1000000000000LL, h, .takes = "a number >= 0")

#define CLI_ARGS struct generate_args
static const struct cli_option generate_options[] = {
    OPT_STRING(0, "out", o.out_dir, "DIR", "where to write (default sample)"),
    OPT_COUNT("events", o.events, "log events (default 10000)"),
    OPT_COUNT("songs", o.songs, "songs (default 1000)"),
    OPT_INT_F(0, "seed", o.seed, "N", 0, INT64_MAX,
              "the seed of the random numbers (default 42); the same options always write the "
              "same bytes",
              .takes = "a number >= 0"),
    OPT_COUNT("days", days, "log files, one per day (default 30, at most 100000)"),
    OPT_COUNT("users", users, "users (default: from the events; at most 100000)"),
    OPT_CALLBACK(0, "match-share", o.match_share, "X", parse_share, "0..1",
                 "share of NextSong events naming a catalogue song exactly (default 0.3)"),
    OPT_CALLBACK(0, "start-date", o, "YYYY-MM-DD", parse_start_date, "YYYY-MM-DD",
                 "the first day (default 2018-11-01)"),
    OPT_BOOL(0, "songs-in-one-file", o.songs_in_one_file,
             "every song in DIR/song_data/songs.json instead of one file per song"),
    OPT_BOOL(0, "force", o.force,
             "write into a DIR that is not empty, removing DIR/song_data and DIR/log_data first "
             "(anything else in DIR is left as it is); without it such a DIR is refused"),
    OPT_END,
};
#undef CLI_ARGS

static void generate_init(void *args)
{
    struct generate_args *a = args;
    generate_options_default(&a->o);
    a->days = a->o.days;
    a->users = a->o.users;
}

static int cmd_generate(struct cli *cli, void *args)
{
    struct generate_args *a = args;
    struct generate_options *o = &a->o;
    o->days = (uint32_t)(a->days > 100000 ? 100000 : a->days);
    o->users = (uint32_t)(a->users > 100000 ? 100000 : a->users);
    if (cli->dry_run) {
        printf("-- dry run: generate runs no SQL; it would write %llu events and %llu songs under "
               "%s\n",
               (unsigned long long)o->events, (unsigned long long)o->songs, o->out_dir);
        return 0;
    }
    struct sp_error err;
    sp_error_clear(&err);
    struct generate_result r;
    /* Files are written in place, one after another. */
    cli_interrupt_message("sparkify: interrupted; the dataset written so far is incomplete\n");
    if (generate_dataset(o, &r, &err) != SP_OK)
        return cli_report_error(&err);
    cli_info(cli,
             "wrote %llu events (%llu NextSong, %llu matching a song) and %llu songs to %s: "
             "%llu files, %.1f MB\n",
             (unsigned long long)r.events, (unsigned long long)r.nextsong_events,
             (unsigned long long)r.matching_events, (unsigned long long)r.songs, o->out_dir,
             (unsigned long long)r.files, (double)r.bytes / 1e6);
    return 0;
}

const struct cli_command generate_command = {
    .options = generate_options,
    .description = "Writes DIR/log_data/YYYY/MM/YYYY-MM-DD-events.json (one file per day) and "
                   "DIR/song_data/A/B/C/TR....json (one song per file, or "
                   "DIR/song_data/songs.json).",
    .args_size = sizeof(struct generate_args),
    .init = generate_init,
    .run = cmd_generate,
};
