/* timeconv.c - UTC calendar fields from epoch milliseconds (see timeconv.h). */
#include "timeconv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS_PER_DAY INT64_C(86400000)

void time_converter_init(struct time_converter *tc)
{
    tc->cached_day = INT64_MIN;
}

int time_from_epoch_ms(struct time_converter *tc, int64_t ms, struct time_parts *out)
{
    if (ms < TIME_MIN_MS || ms > TIME_MAX_MS)
        return -1;
    int64_t day = ms / MS_PER_DAY;
    int64_t in_day = ms % MS_PER_DAY;
    if (day != tc->cached_day) {
        time_t seconds = (time_t)(day * 86400);
        struct tm tm;
        if (!gmtime_r(&seconds, &tm))
            return -1;
        struct time_parts *c = &tc->cached;
        char week[8];
        strftime(week, sizeof week, "%V", &tm);
        c->week = atoi(week);
        c->day = tm.tm_mday;
        c->month = tm.tm_mon + 1;
        c->year = tm.tm_year + 1900;
        c->weekday = tm.tm_wday;
        snprintf(c->text, sizeof c->text, "%04d-%02d-%02d", c->year % 10000, c->month % 100,
                 c->day % 100);
        tc->cached_day = day;
    }
    *out = tc->cached;
    int hour = (int)(in_day / 3600000);
    int minute = (int)(in_day / 60000 % 60);
    int second = (int)(in_day / 1000 % 60);
    int milli = (int)(in_day % 1000);
    out->hour = hour;
    /* Fixed-width digits written directly: this runs once per event. */
    char *t = out->text + 10;
    t[0] = ' ';
    t[1] = (char)('0' + hour / 10);
    t[2] = (char)('0' + hour % 10);
    t[3] = ':';
    t[4] = (char)('0' + minute / 10);
    t[5] = (char)('0' + minute % 10);
    t[6] = ':';
    t[7] = (char)('0' + second / 10);
    t[8] = (char)('0' + second % 10);
    t[9] = '.';
    t[10] = (char)('0' + milli / 100);
    t[11] = (char)('0' + milli / 10 % 10);
    t[12] = (char)('0' + milli % 10);
    t[13] = '\0';
    return 0;
}

int time_parse_text(const char *text, int64_t *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int milli = 0, consumed = 0;
    if (sscanf(text, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return -1;
    if (text[consumed] == '.') {
        int digits = 0;
        for (const char *p = text + consumed + 1; *p >= '0' && *p <= '9'; p++) {
            if (digits < 3) {
                milli = milli * 10 + (*p - '0');
                digits++;
            }
        }
        while (digits++ < 3)
            milli *= 10;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t seconds = timegm(&tm);
    *ms = (int64_t)seconds * 1000 + milli;
    return 0;
}
