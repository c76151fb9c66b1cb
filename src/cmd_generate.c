/* cmd_generate.c - `sparkify generate`: write a synthetic dataset shaped like the real one. */
#include "commands.h"

#include "generate.h"

#include <stdio.h>
#include <stdlib.h>

static void usage(void)
{
    printf("usage: sparkify generate [--out DIR] [--events N] [--songs N] [--seed N] [--days N]\n"
           "                         [--users N] [--match-share X] [--start-date YYYY-MM-DD]\n"
           "                         [--songs-in-one-file]\n\n"
           "Writes DIR/log_data/YYYY/MM/YYYY-MM-DD-events.json (one file per day) and\n"
           "DIR/song_data/A/B/C/TR....json (one song per file, or DIR/song_data/songs.json).\n"
           "Defaults: --out sample --events 10000 --songs 1000 --seed 42 --days 30\n"
           "--match-share 0.3 (share of NextSong events naming a catalogue song exactly)\n"
           "--start-date 2018-11-01. The same options always write the same bytes.\n");
}

int cmd_generate(int argc, char **argv, struct cli *cli)
{
    enum { OUT = 256, EVENTS, SONGS, SEED, DAYS, USERS, MATCH, START, ONE_FILE };
    static const struct option options[] = {CLI_COMMON_OPTIONS,
                                            {"out", required_argument, NULL, OUT},
                                            {"events", required_argument, NULL, EVENTS},
                                            {"songs", required_argument, NULL, SONGS},
                                            {"seed", required_argument, NULL, SEED},
                                            {"days", required_argument, NULL, DAYS},
                                            {"users", required_argument, NULL, USERS},
                                            {"match-share", required_argument, NULL, MATCH},
                                            {"start-date", required_argument, NULL, START},
                                            {"songs-in-one-file", no_argument, NULL, ONE_FILE},
                                            {NULL, 0, NULL, 0}};
    struct generate_options o;
    generate_options_default(&o);
    long long n;
    char *end;
    int c;
    while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORT, options)) != -1) {
        switch (c) {
        case 'h':
            usage();
            return 0;
        case OUT:
            o.out_dir = optarg;
            break;
        case EVENTS:
        case SONGS:
        case SEED:
        case DAYS:
        case USERS:
            if (cli_parse_count(optarg, c == SEED ? INT64_MAX : 1000000000000LL, &n) != 0)
                return cli_usage_error("generate", "--%s takes a number >= 0, not '%s'",
                                       c == EVENTS  ? "events"
                                       : c == SONGS ? "songs"
                                       : c == SEED  ? "seed"
                                       : c == DAYS  ? "days"
                                                    : "users",
                                       optarg);
            if (c == EVENTS)
                o.events = (uint64_t)n;
            else if (c == SONGS)
                o.songs = (uint64_t)n;
            else if (c == SEED)
                o.seed = (uint64_t)n;
            else if (c == DAYS)
                o.days = (uint32_t)(n > 100000 ? 100000 : n);
            else
                o.users = (uint32_t)(n > 100000 ? 100000 : n);
            break;
        case MATCH:
            o.match_share = strtod(optarg, &end);
            if (*end || end == optarg || o.match_share < 0 || o.match_share > 1)
                return cli_usage_error("generate", "--match-share takes 0..1, not '%s'", optarg);
            break;
        case START:
            if (sscanf(optarg, "%4d-%2d-%2d", &o.start_year, &o.start_month, &o.start_day) != 3 ||
                o.start_month < 1 || o.start_month > 12 || o.start_day < 1 || o.start_day > 31 ||
                o.start_year < 1970)
                return cli_usage_error("generate", "--start-date takes YYYY-MM-DD, not '%s'",
                                       optarg);
            break;
        case ONE_FILE:
            o.songs_in_one_file = true;
            break;
        default:
            return cli_usage_error("generate", "unknown or invalid option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("generate", "unexpected argument '%s'", argv[optind]);
    if (cli->dry_run) {
        printf("-- dry run: generate runs no SQL; it would write %llu events and %llu songs under "
               "%s\n",
               (unsigned long long)o.events, (unsigned long long)o.songs, o.out_dir);
        return 0;
    }
    struct sp_error err;
    sp_error_clear(&err);
    struct generate_result r;
    /* Files are written in place, one after another. */
    cli_interrupt_message("sparkify: interrupted; the dataset written so far is incomplete\n");
    if (generate_dataset(&o, &r, &err) != SP_OK)
        return cli_report_error(&err);
    cli_info(cli,
             "wrote %llu events (%llu NextSong, %llu matching a song) and %llu songs to %s: "
             "%llu files, %.1f MB\n",
             (unsigned long long)r.events, (unsigned long long)r.nextsong_events,
             (unsigned long long)r.matching_events, (unsigned long long)r.songs, o.out_dir,
             (unsigned long long)r.files, (double)r.bytes / 1e6);
    return 0;
}
