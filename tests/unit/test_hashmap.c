/* Unit tests of the hash tables: many keys, growth, binary keys, and the int64 set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hashmap.h"

#include <stdio.h>
#include <string.h>

static void strmap_holds_many_keys_through_growth(void **state)
{
    (void)state;
    struct strmap m;
    strmap_init(&m);
    char key[32];
    int inserted;
    for (uint32_t i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof key, "user-%u", i);
        *strmap_upsert(&m, key, (size_t)n, &inserted) = i;
        assert_true(inserted);
    }
    assert_int_equal(m.count, 100000);
    for (uint32_t i = 0; i < 100000; i += 7) {
        int n = snprintf(key, sizeof key, "user-%u", i);
        uint32_t *v = strmap_find(&m, key, (size_t)n);
        assert_non_null(v);
        assert_int_equal(*v, i);
        strmap_upsert(&m, key, (size_t)n, &inserted);
        assert_false(inserted);
    }
    assert_null(strmap_find(&m, "user-100000", 11));
    /* Keys are bytes, NULs included: "a\0b" and "a\0c" differ. */
    *strmap_upsert(&m, "a\0b", 3, &inserted) = 1;
    assert_true(inserted);
    assert_null(strmap_find(&m, "a\0c", 3));
    assert_null(strmap_find(&m, "a", 1));
    strmap_release(&m);
}

static void i64set_reports_first_sight_only(void **state)
{
    (void)state;
    struct i64set s;
    i64set_init(&s);
    for (int64_t i = 0; i < 50000; i++)
        assert_int_equal(i64set_add(&s, i * 1000 - 7), 1);
    for (int64_t i = 0; i < 50000; i += 3)
        assert_int_equal(i64set_add(&s, i * 1000 - 7), 0);
    assert_int_equal(s.count, 50000);
    assert_int_equal(i64set_add(&s, INT64_MAX), 1);
    i64set_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strmap_holds_many_keys_through_growth),
        cmocka_unit_test(i64set_reports_first_sight_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
