/* The long-horizon mechanisms: bucketed time ranges (range.h), the
 * new-extreme detector built on them, and the range floors of zscore and
 * seasonal. Data are made here: 5-minute or 1-minute steps over weeks. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/ensemble.h"
#include "detectors/range.h"

#define MIN_MS 60000
#define DAY_MS 86400000LL
#define CAP    200

/* A detector fed as the pipeline feeds it (tests/unit/helpers.h). */
typedef vg_test_run fixture;

static void fixture_open(fixture *f, const char *name, const char *cfg_json)
{
    const vg_detector_ops *d = vg_detector_find(name);
    assert_non_null(d);
    vg_test_run_open(f, d, cfg_json, CAP);
}

static double step(fixture *f, int64_t ts, double v, vg_explain *why)
{
    double s = f->d->score(f->state, f->params, f->w, ts, v, why);
    vg_window_push(f->w, v);
    return s;
}

/* ---- range.h ------------------------------------------------------------- */

/* The range forgets a value once its bucket leaves the window, by time,
 * whatever the number of points in between. */
static void range_forgets_by_time(void **state)
{
    (void)state;
    vg_range r;
    vg_range_init(&r, DAY_MS, 7);
    double lo, hi;
    assert_int_equal(vg_range_get(&r, &lo, &hi), 0);
    vg_range_push(&r, 0, 100.0);   /* day 0 */
    for (int64_t t = 1; t < 7 * 1440; t++)   /* days 0..6, minute steps */
        vg_range_push(&r, t * MIN_MS, 10.0 + (double)(t % 5));
    assert_int_equal(vg_range_get(&r, &lo, &hi), 1);
    assert_double_near(lo, 10.0, 0.0);
    assert_double_near(hi, 100.0, 0.0);   /* 7 completed days + today */
    assert_int_equal(vg_range_filled(&r), 7);
    vg_range_push(&r, 7 * DAY_MS, 12.0);  /* day 7: day 0 still in */
    assert_int_equal(vg_range_get(&r, &lo, &hi), 1);
    assert_double_near(hi, 100.0, 0.0);
    vg_range_push(&r, 8 * DAY_MS, 12.0);  /* day 8: day 0 is gone */
    assert_int_equal(vg_range_get(&r, &lo, &hi), 1);
    assert_double_near(hi, 14.0, 0.0);
    /* A late point joins the bucket in progress, never history. */
    vg_range_push(&r, 0, -5.0);
    assert_int_equal(vg_range_get(&r, &lo, &hi), 1);
    assert_double_near(lo, -5.0, 0.0);
    /* A gap longer than the window empties it but for the new point. */
    vg_range_push(&r, 100 * DAY_MS, 3.0);
    assert_int_equal(vg_range_get(&r, &lo, &hi), 1);
    assert_double_near(lo, 3.0, 0.0);
    assert_double_near(hi, 3.0, 0.0);
    assert_int_equal(vg_range_filled(&r), 1);
}

/* Extremes are floats relative to the first value, rounded outwards: a
 * series at 1e9 +- 1 keeps its width of 2 (floats of the raw values are 64
 * apart there), and no value pushed lies outside the range read back. */
/* Bucket edges, before the epoch too: a bucket's last millisecond stays
 * in it, the next one opens the next bucket (the in-progress test and the
 * division must agree). */
static void range_buckets_at_their_edges(void **state)
{
    (void)state;
    vg_range r;
    double lo, hi;
    vg_range_init(&r, 1000, 2);
    vg_range_push(&r, -1, 5.0);       /* bucket -1 */
    vg_range_push(&r, -1000, 7.0);    /* bucket -1: its first millisecond */
    assert_int_equal(vg_range_filled(&r), 1);
    vg_range_push(&r, 0, 1.0);        /* bucket 0 */
    vg_range_push(&r, 999, 2.0);      /* bucket 0: its last millisecond */
    assert_int_equal(vg_range_filled(&r), 2);
    vg_range_push(&r, 1000, 3.0);     /* bucket 1: -1 and 0 completed */
    assert_int_equal(vg_range_filled(&r), 3);
    assert_int_equal(vg_range_get(&r, &lo, &hi), 1);
    assert_true(lo == 1.0 && hi == 7.0);
    vg_range_push(&r, 2999, 4.0);     /* bucket 2: -1 is gone */
    assert_int_equal(vg_range_get(&r, &lo, &hi), 1);
    assert_true(lo == 1.0 && hi == 4.0);
    vg_range_push(&r, 3000, 3.5);     /* bucket 3: 0 is gone */
    assert_int_equal(vg_range_get(&r, &lo, &hi), 1);
    assert_true(lo == 3.0 && hi == 4.0);
}

static void range_keeps_width_far_from_zero(void **state)
{
    (void)state;
    vg_range r;
    vg_range_init(&r, DAY_MS, 28);
    uint64_t rng = 3;
    double seen_lo = INFINITY, seen_hi = -INFINITY;
    for (int64_t t = 0; t < 3 * 1440; t++) {
        double x = 1e9 + vg_test_uniform(&rng) * 2.0 - 1.0 + (double)t * 1e-4;
        seen_lo = x < seen_lo ? x : seen_lo;
        seen_hi = x > seen_hi ? x : seen_hi;
        vg_range_push(&r, t * MIN_MS, x);
    }
    double lo, hi;
    assert_int_equal(vg_range_get(&r, &lo, &hi), 1);
    assert_true(lo <= seen_lo && hi >= seen_hi);
    assert_double_near(hi - lo, seen_hi - seen_lo, 1e-6);
}

/* Save and load give back the same range, including the cached extremes
 * of the completed buckets; a short or impossible record is refused. */
static void range_round_trips(void **state)
{
    (void)state;
    vg_range a, b;
    vg_range_init(&a, 3600000, 24);
    uint64_t rng = 5;
    for (int64_t t = -3000; t < 3000; t++)   /* before the epoch too */
        vg_range_push(&a, t * MIN_MS, vg_test_normal(&rng));
    vg_writer out;
    vg_writer_init(&out);
    assert_int_equal(vg_range_save(&a, &out), 0);
    vg_range_init(&b, 3600000, 24);
    vg_reader in;
    vg_reader_init(&in, out.buf, out.len);
    vg_error err = {0};
    assert_int_equal(vg_range_load(&b, &in, &err), 0);
    assert_int_equal(vg_reader_left(&in), 0);
    assert_memory_equal(&a, &b, sizeof(a));
    vg_reader_init(&in, out.buf, out.len - 1);
    assert_int_equal(vg_range_load(&b, &in, &err), VG_EPARSE);
    vg_writer_release(&out);
}

/* ---- the new-extreme detector --------------------------------------------- */

/* Four weeks of 5-minute points with a spike of 2-4x the usual peak every
 * few hours, then one 40x spike: the 40x spike outranks every earlier one,
 * and a spike no larger than the usual ones scores 0. */
static void spike_40x_outranks_weeks_of_spikes(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, "extreme", NULL);
    uint64_t rng = 11;
    const int64_t step_ms = 5 * MIN_MS, n = 28 * 288;
    double worst_routine = 0.0;
    vg_explain why;
    for (int64_t k = 0; k < n; k++) {
        double v = 10.0 + vg_test_uniform(&rng);
        if (k % 37 == 0)
            v = 10.0 + (2.0 + 2.0 * vg_test_uniform(&rng)) * 11.0;
        double s = step(&f, k * step_ms, v, &why);
        if (k > 14 * 288 && s > worst_routine)
            worst_routine = s;
    }
    double usual = step(&f, n * step_ms, 40.0, &why);
    double spike = step(&f, (n + 1) * step_ms, 440.0, &why);
    assert_true(usual == 0.0);
    assert_true(spike > 0.9999);
    assert_true(vg_ensemble_surprise(spike) > vg_ensemble_surprise(worst_routine) + 10.0);
    assert_non_null(strstr(why.detail, "beyond 28d range"));
    vg_test_run_close(&f);
}

/* A near-flat series (1000 with 0.5 % wiggles, every 5 minutes for two
 * weeks) gives the new-extreme detector nothing to say; a 5 % step out of
 * that range does. */
static void near_flat_wiggles_score_low(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, "extreme", NULL);
    uint64_t rng = 3;
    const int64_t step_ms = 5 * MIN_MS, n = 14 * 288;
    vg_explain why;
    for (int64_t k = 0; k < n; k++) {
        double s = step(&f, k * step_ms, 1000.0 * (1.0 + 0.005 * (vg_test_uniform(&rng) - 0.5)),
                        &why);
        /* Past the first day, a new high is only ever a hair beyond. */
        if (k > 288 && s > 0.99)
            fail_msg("point %lld scored %g (%s)", (long long)k, s, why.detail);
    }
    assert_true(step(&f, n * step_ms, 1050.0, &why) > 0.9999);
    vg_test_run_close(&f);
}

/* An idle interface: zeros with a blip of 21 now and then. Once the
 * 28-day range has seen one blip, zscore's and seasonal's scales are
 * floored by it, so a blip after a window of zeros is tens of deviations,
 * not 1e10. */
static void mostly_zero_blips_stay_finite(void **state)
{
    (void)state;
    static const char *const names[] = {"zscore", "seasonal"};
    for (size_t i = 0; i < 2; i++) {
        fixture f;
        fixture_open(&f, names[i], NULL);
        vg_explain why;
        double last = 0.0;
        for (int64_t k = 0; k < 3000; k++)
            last = step(&f, k * MIN_MS, k % 700 == 350 ? 21.0 : 0.0, &why);
        (void)last;
        double s = step(&f, 3000 * MIN_MS + 20, 21.0, &why);
        double u = vg_ensemble_surprise(s);
        /* 21 against a floor of 1 % of the range 21: z = 100 (seasonal:
         * a little less, its band is floored, not the residual's sd), a
         * surprise of about 2170 decades, where it used to be z = 2e10. */
        if (!(u > 1000.0 && u < 3000.0))
            fail_msg("%s: surprise %g (%s)", names[i], u, why.detail);
        vg_test_run_close(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(range_forgets_by_time),
        cmocka_unit_test(range_buckets_at_their_edges),
        cmocka_unit_test(range_keeps_width_far_from_zero),
        cmocka_unit_test(range_round_trips),
        cmocka_unit_test(spike_40x_outranks_weeks_of_spikes),
        cmocka_unit_test(near_flat_wiggles_score_low),
        cmocka_unit_test(mostly_zero_blips_stay_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
