/* vg_grow: doubles only when full, keeps the contents, refuses overflow
 * without losing the array. */
#include <stdint.h>
#include <stdlib.h>

#include "core/grow.h"
#include "tests/unit/helpers.h"

static void grows_by_doubling_and_keeps_contents(void **state)
{
    (void)state;
    int *v = NULL;
    size_t cap = 0, n = 0;
    for (int i = 0; i < 1000; i++) {
        int *grown = vg_grow(v, &cap, n, sizeof(*v), 4);
        assert_non_null(grown);
        v = grown;
        v[n++] = i;
        assert_true(n <= cap);
    }
    assert_int_equal(cap, 1024);  /* 4, 8, ..., 1024: doubled, never more */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(v[i], i);
    free(v);
}

static void room_left_returns_the_same_array(void **state)
{
    (void)state;
    size_t cap = 0;
    char *v = vg_grow(NULL, &cap, 0, 1, 0);  /* first 0: one element */
    assert_non_null(v);
    assert_int_equal(cap, 1);
    char *again = vg_grow(v, &cap, 0, 1, 0);
    assert_ptr_equal(again, v);
    assert_int_equal(cap, 1);
    free(v);
}

static void overflow_fails_and_leaves_the_array(void **state)
{
    (void)state;
    size_t cap = 2;
    long *v = calloc(cap, sizeof(*v));
    assert_non_null(v);
    v[1] = 7;
    size_t huge = SIZE_MAX / sizeof(*v) / 2 + 1;  /* doubling it overflows */
    size_t big_cap = huge;
    assert_null(vg_grow(v, &big_cap, huge, sizeof(*v), 16));
    assert_int_equal(big_cap, huge);  /* unchanged on failure */
    assert_int_equal(v[1], 7);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grows_by_doubling_and_keeps_contents),
        cmocka_unit_test(room_left_returns_the_same_array),
        cmocka_unit_test(overflow_fails_and_leaves_the_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
