/* timeconv.h - epoch milliseconds to the columns of the time table, in UTC.
 *
 * start_time is kept as text "YYYY-MM-DD HH:MM:SS.mmm": it sorts as time sorts, SQLite's date
 * functions read it, and PostgreSQL/Redshift cast it to TIMESTAMP without loss. week is ISO
 * 8601 (strftime %V), weekday 0 = Sunday as EXTRACT(DOW). Consecutive events mostly fall on
 * the same day, so the calendar part is cached per day by the caller-owned converter.
 */
#ifndef SPARKIFY_TIMECONV_H
#define SPARKIFY_TIMECONV_H

#include <stdint.h>

#define TIME_TEXT_LEN 23

struct time_parts {
    char text[TIME_TEXT_LEN + 1];
    int hour, day, week, month, year, weekday;
};

struct time_converter {
    int64_t cached_day; /* days since the epoch of `cached`, or INT64_MIN */
    struct time_parts cached;
};

/* The range a start_time may take: 1970-01-01 to 9999-12-31. */
#define TIME_MIN_MS INT64_C(0)
#define TIME_MAX_MS INT64_C(253402300799999)

void time_converter_init(struct time_converter *tc);
/* Returns 0, or -1 when `ms` is outside [TIME_MIN_MS, TIME_MAX_MS]. */
int time_from_epoch_ms(struct time_converter *tc, int64_t ms, struct time_parts *out);
/* Parses "YYYY-MM-DD HH:MM:SS[.mmm]" (UTC) back to epoch ms; returns 0 or -1. */
int time_parse_text(const char *text, int64_t *ms);

#endif
