/* Unit tests of the per-series counter -> rate table. */
#include <math.h>

#include "streams/counter_rate.h"
#include "tests/unit/helpers.h"

static void first_sample_then_rates(void **state)
{
    (void)state;
    vg_counter_rate *cr = vg_counter_rate_new(100, NULL);
    assert_non_null(cr);
    double r = -1;
    assert_int_equal(vg_counter_rate_update(cr, 7, 10.0, 100, &r), 0);
    assert_int_equal(vg_counter_rate_update(cr, 7, 12.0, 150, &r), 1);
    assert_double_near(r, 25, 1e-12);
    /* Another series (and the hash 0) are independent. */
    assert_int_equal(vg_counter_rate_update(cr, 0, 12.0, 5, &r), 0);
    assert_int_equal(vg_counter_rate_update(cr, 0, 12.5, 6, &r), 1);
    assert_double_near(r, 2, 1e-12);
    assert_int_equal(vg_counter_rate_count(cr), 2);
    vg_counter_rate_free(cr);
    vg_counter_rate_free(NULL);
}

static void resets_wraps_and_disorder(void **state)
{
    (void)state;
    vg_counter_rate *cr = vg_counter_rate_new(16, NULL);
    assert_non_null(cr);
    double r = -1;
    assert_int_equal(vg_counter_rate_update(cr, 1, 1.0, 4294967000.0, &r), 0);
    /* A 32-bit wrap looks like a decrease: a reset, no negative rate. */
    assert_int_equal(vg_counter_rate_update(cr, 1, 2.0, 200, &r), 0);
    assert_int_equal(vg_counter_rate_update(cr, 1, 3.0, 260, &r), 1);
    assert_double_near(r, 60, 1e-12);
    /* Same time or older: ignored, the baseline stays (3 s, 260). */
    assert_int_equal(vg_counter_rate_update(cr, 1, 3.0, 999, &r), 0);
    assert_int_equal(vg_counter_rate_update(cr, 1, 2.5, 1, &r), 0);
    assert_int_equal(vg_counter_rate_update(cr, 1, 4.0, 270, &r), 1);
    assert_double_near(r, 10, 1e-12);
    /* Not finite: ignored. */
    assert_int_equal(vg_counter_rate_update(cr, 1, 5.0, NAN, &r), 0);
    assert_int_equal(vg_counter_rate_update(cr, 1, INFINITY, 300, &r), 0);
    assert_int_equal(vg_counter_rate_update(cr, 1, 5.0, 280, &r), 1);
    assert_double_near(r, 10, 1e-12);
    vg_counter_rate_free(cr);
}

static void random_counters_never_give_negative_rates(void **state)
{
    (void)state;
    vg_counter_rate *cr = vg_counter_rate_new(64, NULL);
    assert_non_null(cr);
    uint64_t seed = 42;
    double counter[8] = {0}, t = 0;
    size_t rates = 0;
    for (int i = 0; i < 20000; i++) {
        size_t s = vg_test_rand(&seed) % 8;
        t += 0.001 + vg_test_uniform(&seed);
        if (vg_test_uniform(&seed) < 0.05)
            counter[s] = vg_test_uniform(&seed) * 10;  /* reset */
        else
            counter[s] += vg_test_uniform(&seed) * 1000;
        double r;
        if (vg_counter_rate_update(cr, 1000 + s, t, counter[s], &r)) {
            assert_true(r >= 0 && isfinite(r));
            rates++;
        }
    }
    assert_true(rates > 15000);  /* resets cost about one rate in 20 */
    vg_counter_rate_free(cr);
}

static void capacity_is_fixed(void **state)
{
    (void)state;
    vg_counter_rate *cr = vg_counter_rate_new(16, NULL);
    assert_non_null(cr);
    double r;
    /* 1000 series through a 16-slot table: it stays bounded and works. */
    for (uint64_t s = 0; s < 1000; s++)
        vg_counter_rate_update(cr, s * 0x9e3779b97f4a7c15ULL, 1.0, 10, &r);
    assert_true(vg_counter_rate_count(cr) <= 16);
    /* The most recent series survived eviction. */
    uint64_t last = 999 * 0x9e3779b97f4a7c15ULL;
    assert_int_equal(vg_counter_rate_update(cr, last, 2.0, 30, &r), 1);
    assert_double_near(r, 20, 1e-12);
    /* An evicted series starts over: no rate on its next sample. */
    assert_int_equal(vg_counter_rate_update(cr, 0x9e3779b97f4a7c15ULL, 2.0, 30, &r), 0);
    vg_counter_rate_free(cr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_sample_then_rates),
        cmocka_unit_test(resets_wraps_and_disorder),
        cmocka_unit_test(random_counters_never_give_negative_rates),
        cmocka_unit_test(capacity_is_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
