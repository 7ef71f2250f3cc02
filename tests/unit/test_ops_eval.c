/* The operator view: hand-counted cases, and the threshold sweep against a
 * naive count at every threshold.
 *
 * Fixture: one file of 1441 rows one minute apart (exactly one day), one
 * window on rows 100..109. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/ops_eval.h"

#define ROWS 1441
#define MIN_MS 60000

typedef struct fixture {
    int64_t ts[ROWS];
    double  score[ROWS];
} fixture;

static void fixture_init(fixture *fx)
{
    for (int i = 0; i < ROWS; i++) {
        fx->ts[i] = (int64_t)i * MIN_MS;
        fx->score[i] = 0.0;
    }
}

static const vg_label_window one_window = {100 * MIN_MS, 109 * MIN_MS};

static vg_ops *one_file(const fixture *fx, const int64_t *fired, size_t n_fired)
{
    vg_error err;
    vg_ops *o = vg_ops_new(&err);
    assert_non_null(o);
    assert_int_equal(vg_ops_add_file(o, "f.csv", fx->ts, fx->score, ROWS, fired, NULL, n_fired,
                                     &one_window, 1, &err), 0);
    return o;
}

/* Firing at rows 50 (before), 103 and 105 (inside), 500 (after): two false
 * incidents on one day, the window caught 3 minutes in. */
static void defaults_count_firings(void **state)
{
    (void)state;
    static fixture fx;
    fixture_init(&fx);
    int64_t fired[] = {50 * MIN_MS, 103 * MIN_MS, 105 * MIN_MS, 500 * MIN_MS};
    vg_ops *o = one_file(&fx, fired, 4);
    vg_ops_defaults d;
    vg_error err;
    assert_int_equal(vg_ops_defaults_of(o, 0, &d, &err), 0);
    assert_double_near(d.days, 1.0, 1e-12);
    assert_int_equal(d.windows, 1);
    assert_int_equal(d.incidents, 4);
    assert_int_equal(d.false_incidents, 2);
    assert_int_equal(d.caught, 1);
    assert_double_near(d.mean_delay_ms, 3.0 * MIN_MS, 0.0);
    assert_double_near(d.median_delay_ms, 3.0 * MIN_MS, 0.0);
    vg_ops_free(o);
}

/* A firing that joined another series' incident is not a page: outside
 * every window it is not false; inside one it still catches it. Firing at
 * rows 50 (joined), 103 (joined) and 500 (a page): one false, caught at 3
 * minutes, two joined. */
static void defaults_joined_not_pages(void **state)
{
    (void)state;
    static fixture fx;
    fixture_init(&fx);
    int64_t fired[] = {50 * MIN_MS, 103 * MIN_MS, 500 * MIN_MS};
    uint8_t joined[] = {1, 1, 0};
    vg_error err;
    vg_ops *o = vg_ops_new(&err);
    assert_non_null(o);
    assert_int_equal(vg_ops_add_file(o, "f.csv", fx.ts, fx.score, ROWS, fired, joined, 3,
                                     &one_window, 1, &err), 0);
    vg_ops_defaults d;
    assert_int_equal(vg_ops_defaults_of(o, 0, &d, &err), 0);
    assert_int_equal(d.incidents, 3);
    assert_int_equal(d.joined, 2);
    assert_int_equal(d.false_incidents, 1);
    assert_int_equal(d.caught, 1);
    assert_double_near(d.mean_delay_ms, 3.0 * MIN_MS, 0.0);
    vg_ops_free(o);
}

/* Two files: delays 2 and 8 minutes pool to mean 5, median 5; the corpus
 * days are the sum. An unlabelled file (no window) only adds false ones. */
static void defaults_pool_files(void **state)
{
    (void)state;
    static fixture fx;
    fixture_init(&fx);
    vg_error err;
    vg_ops *o = vg_ops_new(&err);
    int64_t a[] = {102 * MIN_MS}, b[] = {108 * MIN_MS, 1000 * MIN_MS}, c[] = {7 * MIN_MS};
    assert_int_equal(vg_ops_add_file(o, "a", fx.ts, fx.score, ROWS, a, NULL, 1, &one_window, 1,
                                     &err), 0);
    assert_int_equal(vg_ops_add_file(o, "b", fx.ts, fx.score, ROWS, b, NULL, 2, &one_window, 1,
                                     &err), 0);
    assert_int_equal(vg_ops_add_file(o, "c", fx.ts, fx.score, ROWS, c, NULL, 1, NULL, 0,
                                     &err), 0);
    vg_ops_defaults d;
    assert_int_equal(vg_ops_defaults_of(o, SIZE_MAX, &d, &err), 0);
    assert_double_near(d.days, 3.0, 1e-12);
    assert_int_equal(d.windows, 2);
    assert_int_equal(d.incidents, 4);
    assert_int_equal(d.false_incidents, 2);
    assert_int_equal(d.caught, 2);
    assert_double_near(d.mean_delay_ms, 5.0 * MIN_MS, 0.0);
    assert_double_near(d.median_delay_ms, 5.0 * MIN_MS, 0.0);
    assert_int_equal(vg_ops_defaults_of(o, 2, &d, &err), 0);
    assert_true(isnan(d.mean_delay_ms));
    vg_ops_free(o);
}

/* Runs: rows 10..12 (0.9, one false alert), 98..104 (0.8, starts before the
 * window: false, and does not catch it), 106 (0.95: starts inside, catches),
 * 700 (0.7, false). */
static void fixture_runs(fixture *fx)
{
    fixture_init(fx);
    for (int i = 10; i <= 12; i++)
        fx->score[i] = 0.9;
    for (int i = 98; i <= 104; i++)
        fx->score[i] = 0.8;
    fx->score[106] = 0.95;
    fx->score[700] = 0.7;
    fx->score[701] = NAN;   /* never alerts */
}

static void threshold_counts_runs(void **state)
{
    (void)state;
    static fixture fx;
    fixture_runs(&fx);
    vg_ops *o = one_file(&fx, NULL, 0);
    size_t caught, fa;
    vg_ops_at_threshold(o, 0, 0.95, &caught, &fa);
    assert_int_equal(caught, 1);
    assert_int_equal(fa, 0);
    vg_ops_at_threshold(o, 0, 0.9, &caught, &fa);
    assert_int_equal(caught, 1);
    assert_int_equal(fa, 1);
    vg_ops_at_threshold(o, 0, 0.8, &caught, &fa);
    assert_int_equal(caught, 1);
    assert_int_equal(fa, 2);
    vg_ops_at_threshold(o, 0, 0.7, &caught, &fa);
    assert_int_equal(caught, 1);
    assert_int_equal(fa, 3);
    /* Everything on: one run from row 0, false, and the window's start is
     * swallowed by it: nothing caught. */
    vg_ops_at_threshold(o, 0, 0.0, &caught, &fa);
    assert_int_equal(caught, 0);
    assert_int_equal(fa, 2);   /* rows 0..700, and 702..1440 after the NaN */
    vg_ops_free(o);
}

static void budget_picks_most_caught(void **state)
{
    (void)state;
    static fixture fx;
    fixture_runs(&fx);
    vg_ops *o = one_file(&fx, NULL, 0);
    vg_ops_budget b;
    vg_error err;
    /* Budget 0 per day: 0.95 catches the window without a false alert. */
    assert_int_equal(vg_ops_best_threshold(o, 0.0, &b, &err), 0);
    assert_double_near(b.threshold, 0.95, 0.0);
    assert_int_equal(b.caught, 1);
    assert_int_equal(b.false_alerts, 0);
    /* A larger budget catches no more: the highest threshold is kept. */
    assert_int_equal(vg_ops_best_threshold(o, 5.0, &b, &err), 0);
    assert_double_near(b.threshold, 0.95, 0.0);
    vg_ops_free(o);

    /* Nothing catchable: threshold INFINITY, nothing caught. */
    fixture_init(&fx);
    fx.score[5] = 1.0;
    o = one_file(&fx, NULL, 0);
    assert_int_equal(vg_ops_best_threshold(o, 1.0, &b, &err), 0);
    assert_true(isinf(b.threshold));
    assert_int_equal(b.caught, 0);
    vg_ops_free(o);
}

typedef struct curve_check {
    const vg_ops *o;
    size_t        points;
} curve_check;

static void check_point(void *ctx, double t, size_t caught, size_t fa)
{
    curve_check *c = ctx;
    size_t want_caught, want_fa;
    vg_ops_at_threshold(c->o, 0, t, &want_caught, &want_fa);
    assert_int_equal(caught, want_caught);
    assert_int_equal(fa, want_fa);
    c->points++;
}

/* The sweep's incremental counts equal a direct count at every threshold,
 * on random scores with ties, several windows and NaNs. */
static void curve_matches_direct_count(void **state)
{
    (void)state;
    static fixture fx;
    fixture_init(&fx);
    uint64_t seed = 7;
    for (int i = 0; i < ROWS; i++) {
        double u = vg_test_uniform(&seed);
        fx.score[i] = u < 0.01 ? NAN : floor(u * 50.0) / 50.0;   /* ties */
    }
    vg_label_window w[] = {{5 * MIN_MS, 9 * MIN_MS}, {100 * MIN_MS, 140 * MIN_MS},
                           {900 * MIN_MS, 900 * MIN_MS}};
    vg_error err;
    vg_ops *o = vg_ops_new(&err);
    assert_int_equal(vg_ops_add_file(o, "r", fx.ts, fx.score, ROWS, NULL, NULL, 0, w, 3, &err), 0);
    curve_check c = {o, 0};
    assert_int_equal(vg_ops_curve(o, 0, check_point, &c, &err), 0);
    assert_int_equal(c.points, 50);
    vg_ops_free(o);
}

static void rejects_missing_data(void **state)
{
    (void)state;
    vg_error err;
    vg_ops *o = vg_ops_new(&err);
    int64_t ts = 0;
    assert_int_equal(vg_ops_add_file(o, NULL, &ts, NULL, 0, NULL, NULL, 0, NULL, 0, &err), VG_EARG);
    assert_int_equal(vg_ops_add_file(o, "x", NULL, NULL, 3, NULL, NULL, 0, NULL, 0, &err), VG_EARG);
    assert_int_equal(vg_ops_files(o), 0);
    vg_ops_free(o);
    vg_ops_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_count_firings),
        cmocka_unit_test(defaults_joined_not_pages),
        cmocka_unit_test(defaults_pool_files),
        cmocka_unit_test(threshold_counts_runs),
        cmocka_unit_test(budget_picks_most_caught),
        cmocka_unit_test(curve_matches_direct_count),
        cmocka_unit_test(rejects_missing_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
