/* The false-positive guards: a counter's reset is damped and reported only
 * once the series has proved to be a counter, flat and wobbling series never become
 * counters, the first points after a gap are damped and gaps do not teach
 * the usual step, timestamps out of order are harmless, and the config
 * names bad keys. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <string.h>

#include "engine/guard.h"

#define MIN 60000  /* one minute in ms */

static vg_guard_params params_of(const char *cfg_json)
{
    vg_guard_params p;
    json_t *cfg = cfg_json ? json_loads(cfg_json, 0, NULL) : NULL;
    assert_int_equal(vg_guard_configure(&p, NULL, cfg, NULL), 0);
    json_decref(cfg);
    return p;
}

static void counter_reset_is_damped(void **state)
{
    (void)state;
    vg_guard_params p = params_of(NULL);
    vg_guard g;
    vg_guard_init(&g);
    double v = 1000.0;
    int64_t t = 0;
    for (int i = 0; i < 100; i++, t += MIN) {
        v += 7.0;
        assert_double_near(vg_guard_apply(&g, &p, t, v, 0.9, NULL), 0.9, 0.0);
    }
    /* The reset: damped, and reported. The counter then climbs again from 0. */
    int reset = 0;
    assert_double_near(vg_guard_apply(&g, &p, t, 3.0, 0.999999, &reset), 0.0, 0.0);
    assert_int_equal(reset, 1);
    t += MIN;
    assert_double_near(vg_guard_apply(&g, &p, t, 10.0, 0.8, &reset), 0.8, 0.0);
    assert_int_equal(reset, 0);
    t += MIN;
    /* A second drop right after is no counter's reset: it counts. */
    assert_double_near(vg_guard_apply(&g, &p, t, 2.0, 0.999999, &reset), 0.999999, 0.0);
    assert_int_equal(reset, 0);

    /* A dip of a rising series, not back to about 0: set aside, but no
     * restart (a rising gauge's dip; guard.c, RESTART_SHARE). */
    vg_guard_init(&g);
    for (int i = 0; i < 100; i++)
        vg_guard_apply(&g, &p, i * MIN, 1000.0 + i, 0.1, NULL);
    assert_double_near(vg_guard_apply(&g, &p, 100 * MIN, 1090.0, 0.999, &reset), 0.0, 0.0);
    assert_int_equal(reset, 0);

    /* Off: the same reset counts. */
    vg_guard_params off = params_of("{\"counter_resets\": false}");
    vg_guard_init(&g);
    v = 0.0;
    for (int i = 0; i < 100; i++)
        vg_guard_apply(&g, &off, i * MIN, v += 1.0, 0.1, NULL);
    reset = 1;
    assert_double_near(vg_guard_apply(&g, &off, 100 * MIN, 0.0, 0.999, &reset), 0.999, 0.0);
    assert_int_equal(reset, 0);
}

/* A short rising run, a flat series, or one that wobbles is not a counter:
 * its drops keep their scores. Repeats (an idle counter) neither make nor
 * break a counter. */
static void only_counters_are_counters(void **state)
{
    (void)state;
    vg_guard_params p = params_of(NULL);
    vg_guard g;
    vg_guard_init(&g);
    for (int i = 0; i < 49; i++)
        vg_guard_apply(&g, &p, i * MIN, (double)i, 0.0, NULL);
    assert_double_near(vg_guard_apply(&g, &p, 49 * MIN, -5.0, 0.99, NULL), 0.99, 0.0);

    vg_guard_init(&g);
    for (int i = 0; i < 500; i++)
        assert_double_near(vg_guard_apply(&g, &p, i * MIN, 42.0, 0.5, NULL), 0.5, 0.0);
    assert_double_near(vg_guard_apply(&g, &p, 500 * MIN, 41.0, 0.99, NULL), 0.99, 0.0);

    vg_guard_init(&g);
    uint64_t rng = 3;
    for (int i = 0; i < 500; i++)
        vg_guard_apply(&g, &p, i * MIN, 50.0 + vg_test_normal(&rng), 0.5, NULL);
    assert_double_near(vg_guard_apply(&g, &p, 500 * MIN, 0.0, 0.99, NULL), 0.99, 0.0);

    /* An idle counter repeats its value between rises: still a counter. */
    vg_guard_init(&g);
    double v = 0.0;
    for (int i = 0; i < 200; i++) {
        v += i % 3 == 0 ? 1.0 : 0.0;
        vg_guard_apply(&g, &p, i * MIN, v, 0.1, NULL);
    }
    assert_double_near(vg_guard_apply(&g, &p, 200 * MIN, 0.0, 0.99, NULL), 0.0, 0.0);
}

static void first_points_after_a_gap_are_damped(void **state)
{
    (void)state;
    vg_guard_params p = params_of("{\"gap_grace\": 2}");
    vg_guard g;
    vg_guard_init(&g);
    int64_t t = 0;
    for (int i = 0; i < 100; i++, t += MIN)
        assert_double_near(vg_guard_apply(&g, &p, t, 5.0, 0.7, NULL), 0.7, 0.0);
    /* 9 steps: not a gap (factor 10). */
    t += 8 * MIN;
    assert_double_near(vg_guard_apply(&g, &p, t, 5.0, 0.7, NULL), 0.7, 0.0);
    /* 2 hours: a gap; this point and the next are damped, then back. */
    t += 120 * MIN;
    int reset = 1;
    assert_double_near(vg_guard_apply(&g, &p, t, 5.0, 0.999, &reset), 0.0, 0.0);
    assert_int_equal(reset, 0);  /* a gap is no reset: the model stays */
    t += MIN;
    assert_double_near(vg_guard_apply(&g, &p, t, 5.0, 0.999, NULL), 0.0, 0.0);
    t += MIN;
    assert_double_near(vg_guard_apply(&g, &p, t, 5.0, 0.999, NULL), 0.999, 0.0);
    /* The gap did not teach the step: a second one is still a gap. */
    t += 120 * MIN;
    assert_double_near(vg_guard_apply(&g, &p, t, 5.0, 0.999, NULL), 0.0, 0.0);
    assert_true(g.step_ms < 2.0 * MIN);  /* the 9-step pause taught it a little */

    /* gap_grace 0: gaps are not damped. */
    vg_guard_params none = params_of("{\"gap_grace\": 0}");
    vg_guard_init(&g);
    for (int i = 0; i < 50; i++)
        vg_guard_apply(&g, &none, i * MIN, 1.0, 0.1, NULL);
    assert_double_near(vg_guard_apply(&g, &none, 500 * MIN, 1.0, 0.9, NULL), 0.9, 0.0);
}

/* Repeated and backward timestamps: no gap, no change of the usual step,
 * no crash; NaN values are passed through without making a counter. */
static void odd_times_and_values_are_harmless(void **state)
{
    (void)state;
    vg_guard_params p = params_of(NULL);
    vg_guard g;
    vg_guard_init(&g);
    for (int i = 0; i < 100; i++)
        vg_guard_apply(&g, &p, i * MIN, 1.0, 0.1, NULL);
    double step = g.step_ms;
    assert_double_near(vg_guard_apply(&g, &p, 99 * MIN, 1.0, 0.6, NULL), 0.6, 0.0);
    assert_double_near(vg_guard_apply(&g, &p, 50 * MIN, 1.0, 0.6, NULL), 0.6, 0.0);
    assert_double_near(vg_guard_apply(&g, &p, 100 * MIN, 1.0, 0.6, NULL), 0.6, 0.0);
    assert_double_near(g.step_ms, step, 1e-9);
    assert_double_near(vg_guard_apply(&g, &p, 101 * MIN, NAN, 0.6, NULL), 0.6, 0.0);
    assert_double_near(vg_guard_apply(&g, &p, 102 * MIN, INFINITY, 0.6, NULL), 0.6, 0.0);
    assert_int_equal(g.rises, 0);  /* NaN neither rises nor falls, nor does what follows it */
    /* The very first point can be anything. */
    vg_guard_init(&g);
    assert_double_near(vg_guard_apply(&g, &p, INT64_MIN + 1, -1e308, 0.3, NULL), 0.3, 0.0);
}

static void configure_checks_params(void **state)
{
    (void)state;
    vg_guard_params p = params_of(NULL);
    assert_true(p.counter_resets);
    assert_int_equal(p.counter_min_run, 50);
    assert_double_near(p.gap_factor, 10.0, 0.0);
    assert_int_equal(p.gap_grace, 1);

    static const char *const bad[][2] = {
        {"{\"gap_factor\": 1}", "gap_factor"},
        {"{\"counter_min_run\": 1}", "counter_min_run"},
        {"{\"gap_grace\": -1}", "gap_grace"},
        {"{\"counter_resets\": 3}", "counter_resets"},
        {"{\"sparse\": true}", "sparse"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *cfg = json_loads(bad[i][0], 0, NULL);
        assert_non_null(cfg);
        vg_error err = {0};
        assert_int_equal(vg_guard_configure(&p, NULL, cfg, &err), VG_ECONFIG);
        assert_non_null(strstr(err.msg, bad[i][1]));
        json_decref(cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counter_reset_is_damped),
        cmocka_unit_test(only_counters_are_counters),
        cmocka_unit_test(first_points_after_a_gap_are_damped),
        cmocka_unit_test(odd_times_and_values_are_harmless),
        cmocka_unit_test(configure_checks_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
