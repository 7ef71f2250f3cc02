/* Tests for the automatic season-length finder (detectors/period.c). */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdlib.h>

#include "detectors/period.h"

#define N_MAX 4096

static double x[N_MAX];

static void fill_sine(size_t n, size_t period, double amp, double noise, double slope,
                      uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        x[i] = 50.0 + slope * (double)i + amp * sin(2.0 * M_PI * (double)i / (double)period) +
               noise * vg_test_normal(&s);
}

static size_t find(size_t n, size_t min_p, size_t max_p, vg_period_result *r)
{
    assert_int_equal(vg_period_find(x, n, min_p, max_p, r), 0);
    return r->period;
}

static void noisy_sines_find_exact_period(void **state)
{
    (void)state;
    /* Noise with a fifth of the amplitude; a long season over only five
     * cycles needs less noise to be placed to the exact point. */
    static const struct { size_t p; double noise; } cases[] = {
        {7, 2.0}, {24, 2.0}, {60, 2.0}, {168, 2.0}, {288, 0.5},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (uint64_t seed = 1; seed <= 10; seed++) {
            vg_period_result r;
            fill_sine(1440, cases[i].p, 10.0, cases[i].noise, 0.0, seed * 7 + i);
            assert_int_equal(find(1440, 2, 720, &r), cases[i].p);
            assert_true(r.acf >= r.bound);
            assert_true(r.acf > 0.5 && r.acf <= 1.05);
        }
    }
}

static void square_wave_finds_period(void **state)
{
    (void)state;
    uint64_t s = 99;
    for (size_t i = 0; i < 1024; i++)
        x[i] = ((i / 20) % 2 ? 5.0 : -5.0) + 0.5 * vg_test_normal(&s);
    vg_period_result r;
    assert_int_equal(find(1024, 2, 512, &r), 40);
}

static void trend_does_not_hide_season(void **state)
{
    (void)state;
    vg_period_result r;
    /* The trend adds 100 over the series, ten times the season's amplitude. */
    fill_sine(1440, 288, 10.0, 0.5, 0.07, 5);
    assert_int_equal(find(1440, 2, 720, &r), 288);
    fill_sine(2048, 168, 3.0, 1.0, -0.05, 6);
    assert_int_equal(find(2048, 2, 1024, &r), 168);
}

static void weekly_with_daily_reports_the_day(void **state)
{
    (void)state;
    uint64_t s = 3;
    /* Hourly data: a daily cycle every day and a weekly one on top. */
    for (size_t i = 0; i < 2048; i++)
        x[i] = 10.0 * sin(2.0 * M_PI * (double)i / 24.0) +
               4.0 * sin(2.0 * M_PI * (double)i / 168.0) + vg_test_normal(&s);
    vg_period_result r;
    size_t p = find(2048, 2, 1024, &r);
    assert_int_equal(p, 24);
    /* Without the daily cycle, the week is the season. */
    for (size_t i = 0; i < 2048; i++)
        x[i] = (i % 168 < 120 ? 10.0 : 2.0) + vg_test_normal(&s);
    assert_int_equal(find(2048, 2, 1024, &r), 168);
}

/* A daily cycle under rare huge spikes (3 % of points, 40x the cycle's
 * amplitude): the spikes own the raw variance, so the cycle correlated
 * below the bound until the values were clipped at the median +- 5 MADs. */
static void spikes_do_not_hide_season(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        fill_sine(1440, 288, 3.0, 1.0, 0.0, seed);
        uint64_t s = seed * 31;
        for (size_t i = 0; i < 1440; i++)
            if (vg_test_uniform(&s) < 0.03)
                x[i] += 120.0;
        /* the clipped spikes blur the exact length by a point or two (the
         * seasonal detector then snaps it to the calendar's 288) */
        vg_period_result r;
        size_t p = find(1440, 2, 360, &r);
        assert_in_range(p, 288 - 288 / 50, 288 + 288 / 50);
    }
}

/* Spikes on white noise do not make a season either. */
static void spiky_noise_has_no_season(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        uint64_t s = seed;
        for (size_t i = 0; i < 1440; i++)
            x[i] = 3.0 + vg_test_normal(&s) + (vg_test_uniform(&s) < 0.03 ? 40.0 : 0.0);
        vg_period_result r;
        assert_int_equal(find(1440, 2, 360, &r), 0);
    }
}

static void white_noise_has_no_season(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        uint64_t s = seed;
        for (size_t i = 0; i < 1024; i++)
            x[i] = 3.0 + vg_test_normal(&s);
        vg_period_result r;
        assert_int_equal(find(1024, 2, 512, &r), 0);
        assert_true(r.acf < r.bound);
    }
}

static void random_walk_has_no_season(void **state)
{
    (void)state;
    static const size_t lengths[] = {1024, 1440, 4096};
    for (size_t l = 0; l < 3; l++) {
        for (uint64_t seed = 1; seed <= 30; seed++) {
            uint64_t s = seed * 1000;
            double v = 0.0;
            for (size_t i = 0; i < lengths[l]; i++) {
                v += vg_test_normal(&s);
                x[i] = v;
            }
            vg_period_result r;
            assert_int_equal(find(lengths[l], 2, lengths[l] / 2, &r), 0);
        }
    }
}

static void short_constant_or_bad_input_has_no_season(void **state)
{
    (void)state;
    vg_period_result r;
    fill_sine(1024, 24, 10.0, 0.1, 0.0, 1);
    assert_int_equal(find(5, 2, 512, &r), 0);       /* too short */
    assert_int_equal(find(90, 2, 512, &r), 0);      /* under four cycles */
    assert_int_equal(find(1024, 30, 40, &r), 0);    /* outside [min_p, max_p]... */
    assert_int_equal(find(1024, 2, 20, &r), 0);     /* ...on both sides */
    assert_int_equal(find(1024, 30, 60, &r), 48);   /* a multiple is still a season */
    assert_int_equal(find(0, 2, 512, &r), 0);
    assert_int_equal(vg_period_find(NULL, 0, 2, 10, &r), 0);
    assert_int_equal(r.period, 0);
    for (size_t i = 0; i < 100; i++)
        x[i] = 7.0;
    assert_int_equal(find(100, 2, 50, &r), 0);      /* constant */
    fill_sine(1024, 24, 10.0, 0.1, 0.0, 1);
    x[500] = NAN;
    assert_int_equal(find(1024, 2, 512, &r), 0);    /* non-finite */
}

static void inplace_matches_copy(void **state)
{
    (void)state;
    fill_sine(1000, 50, 5.0, 1.0, 0.0, 11);
    size_t len = vg_period_work_len(1000);
    assert_true(len >= 2000);
    double *work = malloc(len * sizeof(*work));
    assert_non_null(work);
    for (size_t i = 0; i < 1000; i++)
        work[i] = x[i];
    vg_period_result a, b;
    vg_period_find_inplace(work, 1000, 2, 500, &a);
    assert_int_equal(vg_period_find(x, 1000, 2, 500, &b), 0);
    assert_int_equal(a.period, 50);
    assert_int_equal(a.period, b.period);
    assert_double_near(a.acf, b.acf, 0.0);
    free(work);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(noisy_sines_find_exact_period),
        cmocka_unit_test(square_wave_finds_period),
        cmocka_unit_test(trend_does_not_hide_season),
        cmocka_unit_test(weekly_with_daily_reports_the_day),
        cmocka_unit_test(spikes_do_not_hide_season),
        cmocka_unit_test(spiky_noise_has_no_season),
        cmocka_unit_test(white_noise_has_no_season),
        cmocka_unit_test(random_walk_has_no_season),
        cmocka_unit_test(short_constant_or_bad_input_has_no_season),
        cmocka_unit_test(inplace_matches_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
