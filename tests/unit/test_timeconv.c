/* Unit tests of the time conversions against dates checked by hand and by libc's calendar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "timeconv.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void known_instants_convert_exactly(void **state)
{
    (void)state;
    struct time_converter tc;
    time_converter_init(&tc);
    struct time_parts p;
    assert_int_equal(time_from_epoch_ms(&tc, INT64_C(1541990258796), &p), 0);
    assert_string_equal(p.text, "2018-11-12 02:37:38.796");
    assert_int_equal(p.hour, 2);
    assert_int_equal(p.week, 46);
    assert_int_equal(p.weekday, 1);
    assert_int_equal(time_from_epoch_ms(&tc, 0, &p), 0);
    assert_string_equal(p.text, "1970-01-01 00:00:00.000");
    assert_int_equal(p.weekday, 4);
    assert_int_equal(time_from_epoch_ms(&tc, TIME_MAX_MS, &p), 0);
    assert_string_equal(p.text, "9999-12-31 23:59:59.999");
    assert_int_equal(time_from_epoch_ms(&tc, TIME_MAX_MS + 1, &p), -1);
    assert_int_equal(time_from_epoch_ms(&tc, -1, &p), -1);
}

static void every_day_of_a_decade_agrees_with_strftime(void **state)
{
    (void)state;
    struct time_converter tc;
    time_converter_init(&tc);
    for (int64_t day = 17000; day < 17000 + 3653; day++) {
        int64_t ms = day * 86400000 + 12345678;
        struct time_parts p;
        assert_int_equal(time_from_epoch_ms(&tc, ms, &p), 0);
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        char expected[32], week[8];
        strftime(expected, sizeof expected, "%Y-%m-%d %H:%M:%S", &tm);
        strftime(week, sizeof week, "%V", &tm);
        assert_memory_equal(p.text, expected, 19);
        assert_string_equal(p.text + 19, ".678");
        assert_int_equal(p.week, atoi(week));
        assert_int_equal(p.weekday, tm.tm_wday);
        assert_int_equal(p.hour, tm.tm_hour);
        int64_t back;
        assert_int_equal(time_parse_text(p.text, &back), 0);
        assert_true(back == ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_instants_convert_exactly),
        cmocka_unit_test(every_day_of_a_decade_agrees_with_strftime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
