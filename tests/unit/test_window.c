/* Unit tests for ring-buffer windows (core/window.c, core/window.h). */
#include "tests/unit/helpers.h"

#include <stdlib.h>
#include <string.h>

#include "core/window.h"

static void new_and_bad_capacity(void **state)
{
    (void)state;
    vg_error err;
    vg_error_clear(&err);
    assert_null(vg_window_new(0, &err));
    assert_int_equal(err.code, VG_EARG);
    vg_window *w = vg_window_new(4, &err);
    assert_non_null(w);
    assert_int_equal(w->cap, 4);
    assert_int_equal(w->len, 0);
    assert_false(vg_window_full(w));
    vg_window_free(w);
    vg_window_free(NULL);
    assert_int_equal(vg_window_bytes(10), sizeof(vg_window) + 10 * sizeof(double));
}

static void fills_then_wraps(void **state)
{
    (void)state;
    vg_window *w = vg_window_new(3, NULL);
    vg_window_push(w, 1);
    vg_window_push(w, 2);
    assert_int_equal(w->len, 2);
    assert_false(vg_window_full(w));
    assert_double_near(vg_window_at(w, 0), 1, 0);
    assert_double_near(vg_window_at(w, 1), 2, 0);
    assert_double_near(vg_window_last(w), 2, 0);
    /* not full: the raw values are the first len slots, in order */
    assert_double_near(vg_window_raw(w)[0], 1, 0);
    assert_double_near(vg_window_raw(w)[1], 2, 0);
    vg_window_push(w, 3);
    assert_true(vg_window_full(w));
    assert_double_near(vg_window_oldest(w), 1, 0);
    vg_window_push(w, 4);  /* drops 1 */
    assert_int_equal(w->len, 3);
    assert_double_near(vg_window_at(w, 0), 2, 0);
    assert_double_near(vg_window_at(w, 2), 4, 0);
    assert_double_near(vg_window_last(w), 4, 0);
    assert_double_near(vg_window_oldest(w), 2, 0);
    double out[3];
    vg_window_copy(w, out);
    assert_double_near(out[0], 2, 0);
    assert_double_near(out[1], 3, 0);
    assert_double_near(out[2], 4, 0);
    vg_window_init(w, w->cap);  /* re-initialising empties it */
    assert_int_equal(w->len, 0);
    assert_int_equal(w->cap, 3);
    vg_window_push(w, 9);
    assert_double_near(vg_window_at(w, 0), 9, 0);
    vg_window_free(w);
}

/* Against a plain array of everything pushed, for several capacities. */
static void matches_reference(void **state)
{
    (void)state;
    static const uint32_t caps[] = {1, 2, 3, 7, 64, 100};
    uint64_t seed = 11;
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        uint32_t cap = caps[c];
        /* embedded use: init over caller-provided bytes */
        vg_window *w = malloc(vg_window_bytes(cap));
        memset(w, 0xFF, vg_window_bytes(cap));
        vg_window_init(w, cap);
        double all[400], out[100];
        for (int n = 0; n < 400; n++) {
            all[n] = vg_test_normal(&seed);
            if (n > 0 && vg_window_full(w))
                assert_double_near(vg_window_oldest(w), all[n - cap], 0);
            vg_window_push(w, all[n]);
            uint32_t len = (uint32_t)(n + 1) < cap ? (uint32_t)(n + 1) : cap;
            assert_int_equal(w->len, len);
            assert_int_equal(vg_window_full(w), len == cap);
            assert_double_near(vg_window_last(w), all[n], 0);
            vg_window_copy(w, out);
            double sum_raw = 0, sum_ref = 0;
            for (uint32_t i = 0; i < len; i++) {
                double want = all[n + 1 - len + i];
                assert_double_near(vg_window_at(w, i), want, 0);
                assert_double_near(out[i], want, 0);
                sum_raw += vg_window_raw(w)[i];
                sum_ref += want;
            }
            /* raw holds the same values in another order */
            assert_double_near(sum_raw, sum_ref, 1e-9);
        }
        free(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_and_bad_capacity),
        cmocka_unit_test(fills_then_wraps),
        cmocka_unit_test(matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
