/* Tests for the seasonal (Holt-Winters / Brutlag) detector, driven as the
 * pipeline drives it: score with the window holding the points before, then
 * vg_window_push (capacity 200). */
#include "tests/unit/helpers.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/range.h"

extern const vg_detector_ops vg_seasonal_ops;

#define WINDOW    200
#define STEP_5MIN 300000
#define HOUR      3600000
#define DAY_PTS   288
#define TRAINING  1440   /* the default until the calendar took daily seasons */
/* The point season alone, sized as before the calendar was on by default
 * (a daily season at 5-minute steps): what these tests are about. */
#define POINT_SEASON "{\"calendar\": false, \"max_period\": 360, \"training\": 1440}"
#define NOISE     1.0
#define AMP       10.0

typedef vg_test_run run;

static void run_open(run *r, const char *cfg_text)
{
    vg_test_run_open(r, &vg_seasonal_ops, cfg_text, WINDOW);
}

#define run_close vg_test_run_close

/* Scores one point the way the pipeline does. */
static double feed(run *r, int64_t ts, double value, vg_explain *why)
{
    vg_explain local;
    if (why == NULL)
        why = &local;
    double s = r->d->score(r->state, r->params, r->w, ts, value, why);
    assert_true(s >= 0.0 && s <= 1.0);
    vg_window_push(r->w, value);
    return s;
}

/* The noise-free daily signal at point i. */
static double daily(int64_t i)
{
    return 100.0 + AMP * sin(2.0 * M_PI * (double)i / DAY_PTS);
}

/* Noisy 5-minute points of the daily signal, one per index. */
static double noisy(int64_t i, uint64_t seed)
{
    uint64_t s = seed * 1000003u + (uint64_t)i * 7919u;
    vg_test_rand(&s);
    return daily(i) + NOISE * vg_test_normal(&s);
}

static void feed_days(run *r, int64_t from, int64_t to, uint64_t seed)
{
    for (int64_t i = from; i < to; i++)
        feed(r, i * STEP_5MIN, noisy(i, seed), NULL);
}

static void finds_daily_season_and_forecasts(void **state)
{
    (void)state;
    run r;
    run_open(&r, POINT_SEASON);
    vg_explain why;
    feed_days(&r, 0, TRAINING, 1);
    double abs_err = 0.0, max_off = 0.0, sq_off = 0.0;
    int n = 0;
    for (int64_t i = TRAINING; i < TRAINING + 2 * DAY_PTS; i++) {
        double v = noisy(i, 1);
        feed(&r, i * STEP_5MIN, v, &why);
        assert_memory_equal(why.detail, "P=288 ", 6);
        abs_err += fabs(v - why.expected);
        max_off = fmax(max_off, fabs(why.expected - daily(i)));
        sq_off += (why.expected - daily(i)) * (why.expected - daily(i));
        n++;
        assert_true(why.lower < why.expected && why.expected < why.upper);
    }
    /* E|noise| is 0.8 sigma: the forecast adds little to it, and is off
     * the true signal by less than the noise. */
    assert_true(abs_err / n < 1.0 * NOISE);
    assert_true(sqrt(sq_off / n) < 0.75 * NOISE);
    assert_true(max_off < 3.0 * NOISE);
    run_close(&r);
}

/* Timestamps a few seconds off the 5-minute grid still give a daily season
 * of exactly 288 points. */
static void jittered_timestamps(void **state)
{
    (void)state;
    run r;
    run_open(&r, POINT_SEASON);
    uint64_t s = 13;
    vg_explain why;
    for (int64_t i = 0; i < TRAINING + 10; i++) {
        int64_t jitter = (int64_t)(vg_test_rand(&s) % 4001) - 2000;
        feed(&r, i * STEP_5MIN + jitter, noisy(i, 13), &why);
    }
    assert_memory_equal(why.detail, "P=288 ", 6);
    assert_double_near(why.expected, daily(TRAINING + 9), 1.5 * NOISE);
    run_close(&r);
}

static void spike_is_high_normal_points_low(void **state)
{
    (void)state;
    run r;
    run_open(&r, POINT_SEASON);
    feed_days(&r, 0, TRAINING + DAY_PTS, 2);
    int low = 0, n = 0;
    double max_normal = 0.0, min_spike = 1.0;
    for (int64_t i = TRAINING + DAY_PTS; i < TRAINING + 3 * DAY_PTS; i++) {
        vg_explain why;
        double v = noisy(i, 2);
        double s;
        if (i % 100 == 0) {
            s = feed(&r, i * STEP_5MIN, v + 8.0 * NOISE, &why);  /* spike */
            assert_true(s > 0.9);
            assert_true(why.detail[6] == '+');
            min_spike = fmin(min_spike, s);
        } else if (i % 100 == 50) {
            s = feed(&r, i * STEP_5MIN, v - 8.0 * NOISE, &why);  /* dip */
            assert_true(s > 0.9);
            assert_true(why.detail[6] == '-');
            min_spike = fmin(min_spike, s);
        } else {
            s = feed(&r, i * STEP_5MIN, v, NULL);
            low += s < 0.99;  /* honest 1 - p: about 1% of normal points reach 0.99 */
            max_normal = fmax(max_normal, s);
            n++;
        }
    }
    assert_true(low >= 0.95 * n);
    assert_true(min_spike > max_normal);
    run_close(&r);
}

static void scores_are_ordered_and_resolved(void **state)
{
    (void)state;
    run r;
    run_open(&r, POINT_SEASON);
    feed_days(&r, 0, TRAINING + DAY_PTS, 3);
    size_t size = r.d->state_size(r.params);
    void *saved = malloc(size);
    assert_non_null(saved);
    memcpy(saved, r.state, size);
    int64_t ts = (TRAINING + DAY_PTS) * (int64_t)STEP_5MIN;
    vg_explain why;
    r.d->score(r.state, r.params, r.w, ts, daily(TRAINING + DAY_PTS), &why);
    double expected = why.expected, half = why.upper - why.expected;
    static const double bands[] = {0, 0.5, 0.9, 1.0, 1.5, 3, 10, 30, 100, 1e4, 1e9};
    double prev = -1.0;
    for (size_t i = 0; i < sizeof(bands) / sizeof(bands[0]); i++) {
        memcpy(r.state, saved, size);
        double s = r.d->score(r.state, r.params, r.w, ts, expected + bands[i] * half, &why);
        assert_true(s > prev);  /* strictly: far outside is still ranked */
        assert_true(s < 1.0 || bands[i] >= 1e9);
        if (bands[i] == 1.0)  /* the band's edge: |e| = delta sqrt(2 / pi) sigma */
            assert_double_near(s, erf(3.0 / sqrt(M_PI / 2.0) * M_SQRT1_2), 1e-9);
        prev = s;
    }
    free(saved);
    run_close(&r);
}

/* The forecasts around a gap match the run without a gap. */
static void gap_keeps_the_phase(void **state)
{
    (void)state;
    run a, b;
    run_open(&a, POINT_SEASON);
    run_open(&b, POINT_SEASON);
    int64_t gap_from = TRAINING + 100, gap_len = 37;
    feed_days(&a, 0, TRAINING + 2 * DAY_PTS, 4);
    feed_days(&b, 0, gap_from, 4);
    feed_days(&b, gap_from + gap_len, TRAINING + 2 * DAY_PTS, 4);
    /* After both saw the same last day, b's forecasts follow the season. */
    for (int64_t i = TRAINING + 2 * DAY_PTS; i < TRAINING + 2 * DAY_PTS + 50; i++) {
        vg_explain wa, wb;
        double v = noisy(i, 4);
        feed(&a, i * STEP_5MIN, v, &wa);
        feed(&b, i * STEP_5MIN, v, &wb);
        assert_double_near(wb.expected, wa.expected, 0.5 * NOISE);
    }
    /* Right after a gap during running, the forecast is on the season. */
    int64_t resume = TRAINING + 2 * DAY_PTS + 50 + 61;
    vg_explain why;
    double s = feed(&b, resume * STEP_5MIN, noisy(resume, 4), &why);
    assert_double_near(why.expected, daily(resume), 1.5 * NOISE);
    assert_true(s < 0.99);
    run_close(&a);
    run_close(&b);
}

/* Gaps while training keep the buffer aligned with the season. */
static void gaps_while_training(void **state)
{
    (void)state;
    run r;
    run_open(&r, POINT_SEASON);
    for (int64_t i = 0; i < TRAINING + DAY_PTS; i++) {
        if (i % 97 >= 90 && i > 200)
            continue;  /* a missing half hour every 8 hours */
        feed(&r, i * STEP_5MIN, noisy(i, 5), NULL);
    }
    vg_explain why;
    int64_t i = TRAINING + DAY_PTS;
    feed(&r, i * STEP_5MIN, noisy(i, 5), &why);
    assert_memory_equal(why.detail, "P=288 ", 6);
    assert_double_near(why.expected, daily(i), 1.5 * NOISE);
    run_close(&r);
}

/* Values at the edge of double range, while training and while running,
 * give scores in [0,1] and leave a model that scores normal points again. */
static void extreme_values_do_not_poison(void **state)
{
    (void)state;
    static const int64_t starts[] = {0, 100, TRAINING + 100};
    for (size_t c = 0; c < 3; c++) {
        run r;
        run_open(&r, POINT_SEASON);
        int64_t i = 0;
        for (; i < starts[c]; i++)
            feed(&r, i * STEP_5MIN, noisy(i, 12), NULL);
        vg_explain why;
        int restarts = 0;
        for (int j = 0; j < 20; j++, i++) {
            feed(&r, i * STEP_5MIN, j % 2 ? DBL_MAX : -DBL_MAX, &why);
            restarts += strstr(why.detail, "restarted") != NULL;
        }
        /* While warming up nothing is clipped: the model overflows. */
        assert_true(c > 0 || restarts > 0);
        int64_t end = i + TRAINING + DAY_PTS;
        for (; i < end; i++)
            feed(&r, i * STEP_5MIN, noisy(i, 12), &why);
        assert_true(isfinite(why.expected));
        assert_true(feed(&r, end * STEP_5MIN, noisy(end, 12), NULL) < 0.99);
        run_close(&r);
    }
}

static void repeated_and_backward_times_are_harmless(void **state)
{
    (void)state;
    run a, b;
    run_open(&a, POINT_SEASON);
    run_open(&b, POINT_SEASON);
    int64_t end = TRAINING + 2 * DAY_PTS;
    for (int64_t i = 0; i < end; i++) {
        double v = noisy(i, 6);
        feed(&a, i * STEP_5MIN, v, NULL);
        feed(&b, i * STEP_5MIN, v, NULL);
        if (i % 50 == 49) {
            vg_explain why;
            double s = feed(&b, i * STEP_5MIN, v, &why);            /* repeated */
            assert_true(s < 0.999);
            feed(&b, (i - 30) * STEP_5MIN, noisy(i - 30, 6), NULL); /* late */
            feed(&b, i * STEP_5MIN + 1000, v + 0.1, NULL);          /* jitter */
        }
    }
    /* b learnt nothing from the extra points: same forecasts as a. */
    vg_explain wa, wb;
    feed(&a, end * STEP_5MIN, noisy(end, 6), &wa);
    feed(&b, end * STEP_5MIN, noisy(end, 6), &wb);
    assert_double_near(wb.expected, wa.expected, 0.0);
    assert_double_near(wb.upper, wa.upper, 0.0);
    run_close(&a);
    run_close(&b);
}

/* Scores every point of a fixture with a spike at SPIKE and a few
 * hostile inputs, into out[]. */
#define FIXTURE_N (TRAINING + 3 * DAY_PTS)
#define SPIKE     (TRAINING + 2 * DAY_PTS + 17)

static double fixture_value(int64_t i)
{
    return noisy(i, 7) + (i == SPIKE ? 12.0 : 0.0);
}

static void score_fixture(run *r, int64_t from, int64_t to, double *out)
{
    for (int64_t i = from; i < to; i++)
        out[i] = feed(r, i * STEP_5MIN, fixture_value(i), NULL);
}

static void deterministic_and_bounded(void **state)
{
    (void)state;
    static double a[FIXTURE_N], b[FIXTURE_N];
    run ra, rb;
    run_open(&ra, POINT_SEASON);
    run_open(&rb, POINT_SEASON);
    score_fixture(&ra, 0, FIXTURE_N, a);
    score_fixture(&rb, 0, FIXTURE_N, b);
    assert_memory_equal(a, b, sizeof(a));
    assert_true(a[SPIKE] > 0.99);
    /* Hostile values are scored in [0,1] (feed checks) and not learnt. */
    vg_explain why;
    int64_t t = FIXTURE_N * (int64_t)STEP_5MIN;
    assert_double_near(feed(&ra, t, NAN, &why), 0.0, 0.0);
    assert_true(isnan(why.expected));
    assert_double_near(feed(&ra, t, INFINITY, NULL), 0.0, 0.0);
    assert_true(feed(&ra, t, 1e300, NULL) > 0.999);
    assert_true(feed(&ra, t, -1e300, NULL) > 0.999);
    feed(&ra, INT64_MAX, 1.0, NULL);
    feed(&ra, INT64_MIN + 1, 1.0, NULL);
    run_close(&ra);
    run_close(&rb);
}

/* Save mid-stream (while training, and while running), load into a fresh
 * state, and continue: the scores are bit-identical. */
static void save_load_continues_identically(void **state)
{
    (void)state;
    static const int64_t cut_at[] = {10, 700, TRAINING + 300};
    for (size_t c = 0; c < sizeof(cut_at) / sizeof(cut_at[0]); c++) {
        static double a[FIXTURE_N], b[FIXTURE_N];
        run ra, rb;
        run_open(&ra, POINT_SEASON);
        run_open(&rb, POINT_SEASON);
        score_fixture(&ra, 0, cut_at[c], a);
        vg_writer out;
        vg_writer_init(&out);
        vg_test_run_copy(&rb, &ra, &out);
        vg_reader in;
        vg_error err = {0};
        score_fixture(&ra, cut_at[c], FIXTURE_N, a);
        score_fixture(&rb, cut_at[c], FIXTURE_N, b);
        assert_memory_equal(a + cut_at[c], b + cut_at[c],
                            (FIXTURE_N - cut_at[c]) * sizeof(double));

        /* Every truncation of the saved bytes is refused. */
        for (size_t len = 0; len < out.len; len += 1 + len / 4) {
            vg_reader_init(&in, out.buf, len);
            assert_int_equal(rb.d->load(rb.state, rb.params, &in, &err), VG_EPARSE);
        }
        vg_writer_release(&out);
        run_close(&ra);
        run_close(&rb);
    }
}

static void load_refuses_state_of_other_params(void **state)
{
    (void)state;
    run big, small;
    run_open(&big, "{\"max_period\": 1024, \"training\": 2048}");
    run_open(&small, "{\"max_period\": 100, \"training\": 400}");
    for (int64_t i = 0; i < 2048 + 10; i++)
        feed(&big, i * STEP_5MIN, noisy(i, 8), NULL);
    vg_writer out;
    vg_writer_init(&out);
    assert_int_equal(big.d->save(big.state, big.params, &out), 0);
    vg_reader in;
    vg_reader_init(&in, out.buf, out.len);
    vg_error err = {0};
    assert_int_equal(small.d->load(small.state, small.params, &in, &err), VG_EPARSE);
    assert_non_null(strstr(err.msg, "seasonal"));
    vg_writer_release(&out);
    run_close(&big);
    run_close(&small);
}

/* Hourly data: a daily and a weekly season are found with the defaults,
 * after four weeks (training_days) rather than 1440 hours. */
static void hourly_seasons(void **state)
{
    (void)state;
    static const int periods[] = {24, 168};
    for (size_t k = 0; k < 2; k++) {
        run r;
        run_open(&r, POINT_SEASON);
        uint64_t s = 9 + k;
        vg_explain why;
        for (int64_t i = 0; i <= 4 * 168 + 10; i++) {
            double v = 50.0 + 5.0 * ((i % periods[k]) < periods[k] / 3 ? 1.0 : -1.0) +
                       vg_test_normal(&s);
            feed(&r, i * HOUR, v, &why);
        }
        char want[16];
        snprintf(want, sizeof(want), "P=%d ", periods[k]);
        assert_memory_equal(why.detail, want, strlen(want));
        run_close(&r);
    }
}

static void no_season_still_scores(void **state)
{
    (void)state;
    run r;
    run_open(&r, POINT_SEASON);
    uint64_t s = 11;
    vg_explain why;
    int low = 0;
    for (int64_t i = 0; i < TRAINING + 500; i++) {
        double sc = feed(&r, i * STEP_5MIN, 20.0 + vg_test_normal(&s), &why);
        if (i >= 100)
            low += sc < 0.99;
    }
    assert_memory_equal(why.detail, "no season ", 10);
    assert_true(low > 0.9 * (TRAINING + 400));
    double sc = feed(&r, (TRAINING + 500) * (int64_t)STEP_5MIN, 28.0, &why);
    assert_true(sc > 0.99);
    /* While training, the level model already watches the series. */
    run t;
    run_open(&t, POINT_SEASON);
    for (int64_t i = 0; i < 100; i++)
        feed(&t, i * STEP_5MIN, 20.0 + vg_test_normal(&s), NULL);
    sc = feed(&t, 100 * (int64_t)STEP_5MIN, 30.0, &why);
    assert_true(sc > 0.99);
    assert_memory_equal(why.detail, "training +", 10);
    run_close(&t);
    run_close(&r);
}

static void explicit_period_and_flat_series(void **state)
{
    (void)state;
    run r;
    run_open(&r, "{\"period\": 7, \"training\": 64}");
    vg_explain why;
    for (int64_t i = 0; i < 200; i++)
        feed(&r, i * 1000, (double)(i % 7), &why);
    assert_memory_equal(why.detail, "P=7 ", 4);
    assert_double_near(why.expected, 199 % 7, 1e-6);
    run_close(&r);

    /* A flat series: equal values score low, a change scores high. */
    run_open(&r, POINT_SEASON);
    for (int64_t i = 0; i < TRAINING + 10; i++)
        assert_true(feed(&r, i * 1000, 5.0, NULL) < 0.5);
    assert_true(feed(&r, (TRAINING + 10) * 1000, 5.5, NULL) > 0.99);
    run_close(&r);
}

static void bad_config_names_the_key(void **state)
{
    (void)state;
    static const struct { const char *text, *key; } bad[] = {
        {"{\"period\": 600, \"max_period\": 500}", "period"},
        {"{\"period\": 100, \"training\": 150}", "training"},
        {"{\"alpha\": 2}", "alpha"},
        {"{\"period\": 1}", "period"},
        {"{\"training_days\": -1}", "training_days"},
        {"{\"bogus\": 1}", "bogus"},
    };
    void *params = calloc(1, vg_seasonal_ops.params_size);
    assert_non_null(params);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *cfg = json_loads(bad[i].text, 0, NULL);
        assert_non_null(cfg);
        vg_error err = {0};
        assert_int_equal(vg_seasonal_ops.configure(params, NULL, cfg, WINDOW, &err),
                         VG_ECONFIG);
        assert_non_null(strstr(err.msg, bad[i].key));
        json_decref(cfg);
    }
    vg_error err = {0};
    assert_int_equal(vg_seasonal_ops.configure(params, NULL, NULL, WINDOW, &err), 0);
    /* Default state: the larger of the training buffer and the season,
     * plus the 28-day range (range.h). */
    size_t size = vg_seasonal_ops.state_size(params);
    assert_true(size >= 360 * 16 + sizeof(vg_range) && size < 360 * 16 + sizeof(vg_range) + 512);
    free(params);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_daily_season_and_forecasts),
        cmocka_unit_test(jittered_timestamps),
        cmocka_unit_test(spike_is_high_normal_points_low),
        cmocka_unit_test(scores_are_ordered_and_resolved),
        cmocka_unit_test(gap_keeps_the_phase),
        cmocka_unit_test(gaps_while_training),
        cmocka_unit_test(extreme_values_do_not_poison),
        cmocka_unit_test(repeated_and_backward_times_are_harmless),
        cmocka_unit_test(deterministic_and_bounded),
        cmocka_unit_test(save_load_continues_identically),
        cmocka_unit_test(load_refuses_state_of_other_params),
        cmocka_unit_test(hourly_seasons),
        cmocka_unit_test(no_season_still_scores),
        cmocka_unit_test(explicit_period_and_flat_series),
        cmocka_unit_test(bad_config_names_the_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
