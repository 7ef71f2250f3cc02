/* The z-score detector against a plain two-pass reference, point by point,
 * driven as the pipeline drives it (score with the window before the
 * point, then push), plus its warm-up, floors, tail resolution, bad values,
 * configuration, saved state, and robust (median/MAD) mode against a
 * sort-the-window reference. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/kernels.h"

#define CAP 200

typedef struct fixture {
    const vg_detector_ops *d;
    void      *params;
    void      *state;
    vg_window *w;
} fixture;

/* Configures zscore from cfg_json (NULL: defaults); returns the configure
 * result and leaves f open only on success. */
static int fixture_open(fixture *f, const char *cfg_json, uint32_t cap, vg_error *err)
{
    f->d = vg_detector_find("zscore");
    assert_non_null(f->d);
    f->params = calloc(1, f->d->params_size);
    assert_non_null(f->params);
    json_t *cfg = NULL;
    if (cfg_json != NULL) {
        cfg = json_loads(cfg_json, 0, NULL);
        assert_non_null(cfg);
    }
    int rc = f->d->configure(f->params, NULL, cfg, cap, err);
    json_decref(cfg);
    if (rc != 0) {
        free(f->params);
        return rc;
    }
    f->state = calloc(1, f->d->state_size(f->params));
    assert_non_null(f->state);
    f->d->init(f->state, f->params, 1);
    f->w = vg_window_new(cap, NULL);
    assert_non_null(f->w);
    return 0;
}

static void fixture_close(fixture *f)
{
    free(f->params);
    free(f->state);
    vg_window_free(f->w);
}

static double step(fixture *f, int64_t ts, double v, vg_explain *why)
{
    double s = f->d->score(f->state, f->params, f->w, ts, v, why);
    vg_window_push(f->w, v);
    return s;
}

/* Sample mean and standard deviation of the window, the obvious way. */
static void reference(const vg_window *w, double *mean, double *std)
{
    double buf[CAP];
    vg_window_copy(w, buf);
    double s = 0.0, ss = 0.0;
    for (uint32_t i = 0; i < w->len; i++)
        s += buf[i];
    *mean = s / w->len;
    for (uint32_t i = 0; i < w->len; i++)
        ss += (buf[i] - *mean) * (buf[i] - *mean);
    *std = sqrt(ss / (w->len - 1));
}

static double reference_score(double z)
{
    return vg_score_from_surprise(-log10(erfc(fabs(z) / sqrt(2.0))));
}

/* A level of 1e6 that wanders, with unit noise: far from zero, so a
 * sum-of-squares variance would be visibly wrong. */
static double wander(uint64_t *rng, double *level)
{
    *level += 0.5 * vg_test_normal(rng);
    return *level + vg_test_normal(rng);
}

/* std_tol: relative; only the incremental updates ever round away from
 * the reference, so it is tight unless recompute is rare. */
static void check_against_reference(const char *cfg_json, const vg_kernels *k,
                                    double std_tol)
{
    fixture f;
    assert_int_equal(fixture_open(&f, cfg_json, CAP, NULL), 0);
    vg_kernels_force(k);
    uint64_t rng = 3;
    double level = 1e6;
    for (int64_t t = 0; t < 5000; t++) {
        double v = wander(&rng, &level);
        int ready = t >= 30;   /* default warm-up */
        double mean = NAN, std = NAN;
        if (ready)
            reference(f.w, &mean, &std);
        vg_explain why;
        double s = step(&f, t, v, &why);
        if (!ready) {
            assert_true(s == 0.0);
            continue;
        }
        assert_double_near(why.expected, mean, 1e-12 * fabs(mean));
        assert_double_near((why.upper - why.lower) / 6.0, std, std_tol * std);
        assert_double_near(s, reference_score((v - mean) / std), 1e-9);
    }
    vg_kernels_force(NULL);
    fixture_close(&f);
}

static void matches_two_pass_reference(void **state)
{
    (void)state;
    /* Floors off so the band is exactly mean +- 3 std. */
    static const struct {
        const char *json;
        double      std_tol;
    } cfgs[] = {
        {"{\"rel_std_floor\": 0, \"range_floor\": 0, \"min_std\": 0}", 1e-10},
        {"{\"rel_std_floor\": 0, \"range_floor\": 0, \"min_std\": 0, \"recompute\": 7}", 1e-10},
        /* Never recomputed in 5000 points: drift shows, and stays small. */
        {"{\"rel_std_floor\": 0, \"range_floor\": 0, \"min_std\": 0, \"recompute\": 100000}", 1e-6},
    };
    for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
        check_against_reference(cfgs[c].json, vg_kernels_scalar(), cfgs[c].std_tol);
        check_against_reference(cfgs[c].json, NULL, cfgs[c].std_tol);
    }
}

static void warms_up_before_scoring(void **state)
{
    (void)state;
    fixture f;
    assert_int_equal(fixture_open(&f, "{\"warmup\": 10}", CAP, NULL), 0);
    vg_explain why;
    for (int t = 0; t < 10; t++) {
        /* Wild values, yet no score while warming up. */
        assert_true(step(&f, t, t % 2 ? 1e6 : -1e6, &why) == 0.0);
        assert_true(isnan(why.expected) && isnan(why.lower) && isnan(why.upper));
        assert_string_equal(why.detail, "warming up");
    }
    double s = step(&f, 10, 5e6, &why);
    assert_true(s > 0.9);
    assert_double_near(why.expected, 0.0, 1e-9);
    fixture_close(&f);
}

static void flat_series_stays_quiet(void **state)
{
    (void)state;
    fixture f;
    assert_int_equal(fixture_open(&f, NULL, CAP, NULL), 0);
    vg_explain why;
    for (int t = 0; t < 300; t++)
        assert_true(step(&f, t, 100.0, &why) == 0.0);
    assert_string_equal(why.detail, "z=+0.0");
    /* Changes far below the 0.1% relative floor stay quiet... */
    assert_true(step(&f, 300, 100.0 + 1e-6, &why) < 0.01);
    assert_true(step(&f, 301, 100.0 - 1e-4, &why) < 0.01);
    /* ...while a 2% jump is still an anomaly. */
    assert_true(step(&f, 302, 102.0, &why) > 0.99);
    fixture_close(&f);
}

static void spike_scores_high(void **state)
{
    (void)state;
    fixture f;
    assert_int_equal(fixture_open(&f, NULL, CAP, NULL), 0);
    uint64_t rng = 5;
    vg_explain why;
    for (int t = 0; t < 300; t++)
        assert_true(step(&f, t, vg_test_normal(&rng), &why) < 1.0);
    double s = step(&f, 300, 10.0, &why);
    assert_true(s > 0.99);
    assert_memory_equal(why.detail, "z=+", 3);
    assert_true(why.lower < 0.0 && why.expected > -0.5 && why.expected < 0.5 && why.upper > 0.0);
    s = step(&f, 301, -10.0, &why);
    assert_true(s > 0.99);
    assert_memory_equal(why.detail, "z=-", 3);
    fixture_close(&f);
}

/* Scores of values z standard deviations out, on copies of one state so
 * each sees the same history. */
static void tail_keeps_resolution(void **state)
{
    (void)state;
    fixture f;
    assert_int_equal(fixture_open(&f, NULL, CAP, NULL), 0);
    uint64_t rng = 9;
    vg_explain why;
    for (int t = 0; t < 250; t++)
        step(&f, t, vg_test_normal(&rng), &why);
    size_t size = f.d->state_size(f.params);
    void *copy = malloc(size);
    assert_non_null(copy);
    memcpy(copy, f.state, size);
    f.d->score(copy, f.params, f.w, 250, 0.0, &why);
    double mean = why.expected, std = (why.upper - why.lower) / 6.0;

    static const double zs[] = {1,   3,   5,   6,   8,    10,   20,    40,    60,
                                100, 1e3, 1e4, 1e6, 1e10, 1e50, 1e100, 1e150};
    double prev = 0.0;
    for (size_t i = 0; i < sizeof(zs) / sizeof(zs[0]); i++) {
        memcpy(copy, f.state, size);
        double s = f.d->score(copy, f.params, f.w, 250, mean + zs[i] * std, &why);
        assert_true(s > prev);
        assert_true(s < 1.0);
        prev = s;
    }
    /* Past |z| ~ 1e154 the tail's log overflows: the top score, still < 1. */
    memcpy(copy, f.state, size);
    double top = f.d->score(copy, f.params, f.w, 250, mean + 1e300 * std, &why);
    assert_true(top >= prev && top < 1.0);
    free(copy);
    fixture_close(&f);
}

static void save_load_continues(const char *cfg_json)
{
    fixture a, b;
    assert_int_equal(fixture_open(&a, cfg_json, CAP, NULL), 0);
    assert_int_equal(fixture_open(&b, cfg_json, CAP, NULL), 0);
    uint64_t rng = 13;
    double level = 50.0;
    vg_explain wa, wb;
    for (int t = 0; t < 357; t++)
        step(&a, t, t == 300 ? NAN : wander(&rng, &level), &wa);

    vg_writer out;
    vg_writer_init(&out);
    assert_int_equal(a.d->save(a.state, a.params, &out), 0);
    vg_reader in;
    vg_reader_init(&in, out.buf, out.len);
    vg_error err;
    assert_int_equal(b.d->load(b.state, b.params, &in, &err), 0);
    assert_int_equal(vg_reader_left(&in), 0);
    memcpy(b.w, a.w, vg_window_bytes(CAP));   /* the window is saved by its owner */

    for (int t = 357; t < 1000; t++) {
        double v = wander(&rng, &level);
        if (t == 700)
            v += 40.0;
        double sa = step(&a, t, v, &wa), sb = step(&b, t, v, &wb);
        assert_memory_equal(&sa, &sb, sizeof(sa));
        assert_memory_equal(&wa.expected, &wb.expected, sizeof(double));
        assert_memory_equal(&wa.upper, &wb.upper, sizeof(double));
        assert_string_equal(wa.detail, wb.detail);
    }
    vg_writer_release(&out);
    fixture_close(&a);
    fixture_close(&b);
}

static void save_load_continues_identically(void **state)
{
    (void)state;
    save_load_continues("{\"recompute\": 33}");
    save_load_continues("{\"robust\": true}");
}

static void load_rejects_bad_state(void **state)
{
    (void)state;
    fixture f;
    assert_int_equal(fixture_open(&f, NULL, CAP, NULL), 0);
    vg_explain why;
    for (int t = 0; t < 50; t++)
        step(&f, t, t, &why);
    vg_writer out;
    vg_writer_init(&out);
    assert_int_equal(f.d->save(f.state, f.params, &out), 0);

    size_t size = f.d->state_size(f.params);
    void *fresh = calloc(1, size), *before = calloc(1, size);
    assert_non_null(fresh);
    assert_non_null(before);
    f.d->init(fresh, f.params, 1);
    memcpy(before, fresh, size);
    vg_error err;
    vg_reader in;

    /* Truncated by one byte. */
    vg_reader_init(&in, out.buf, out.len - 1);
    assert_int_equal(f.d->load(fresh, f.params, &in, &err), VG_EPARSE);
    assert_int_equal(err.code, VG_EPARSE);
    assert_memory_equal(fresh, before, size);

    /* More values than the window holds (the u32 after the u64 count). */
    uint8_t *bad = malloc(out.len);
    assert_non_null(bad);
    memcpy(bad, out.buf, out.len);
    bad[8] = 0xff;
    bad[9] = 0xff;
    vg_reader_init(&in, bad, out.len);
    assert_int_equal(f.d->load(fresh, f.params, &in, &err), VG_EPARSE);
    assert_non_null(strstr(err.msg, "window"));
    assert_memory_equal(fresh, before, size);

    free(bad);
    free(fresh);
    free(before);
    vg_writer_release(&out);
    fixture_close(&f);
}

/* A NaN scores 0 and, once it has left the window, leaves no trace. */
static void non_finite_values_are_contained(void **state)
{
    (void)state;
    fixture f;
    assert_int_equal(fixture_open(&f, "{\"rel_std_floor\": 0, \"range_floor\": 0}", CAP, NULL), 0);
    uint64_t rng = 17;
    vg_explain why;
    for (int t = 0; t < 600; t++) {
        double v = vg_test_normal(&rng);
        if (t == 100)
            v = NAN;
        if (t == 300)
            v = INFINITY;
        double mean = NAN, std = NAN;
        int clean = t > 100 + CAP && (t < 300 || t > 300 + CAP);
        if (clean)
            reference(f.w, &mean, &std);
        double s = step(&f, t, v, &why);
        assert_true(s >= 0.0 && s < 1.0);
        if (t == 100 || t == 300) {
            assert_true(s == 0.0);
            assert_string_equal(why.detail, "not a finite value");
        }
        if (clean) {
            assert_double_near(why.expected, mean, 1e-12);
            assert_double_near((why.upper - why.lower) / 6.0, std, 1e-9);
        }
    }
    fixture_close(&f);
}

/* Median and scaled MAD of the window's finite values, the obvious way. */
static int robust_reference(const vg_window *w, double *median, double *spread)
{
    double buf[CAP], dev[CAP];
    vg_window_copy(w, buf);
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->len; i++)
        if (isfinite(buf[i]))
            buf[n++] = buf[i];
    if (n < 2)
        return 0;
    /* Insertion sort: slow and obviously right. */
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && buf[j - 1] > buf[j]; j--) {
            double t = buf[j];
            buf[j] = buf[j - 1];
            buf[j - 1] = t;
        }
    *median = n % 2 ? buf[n / 2] : 0.5 * (buf[n / 2 - 1] + buf[n / 2]);
    for (uint32_t i = 0; i < n; i++)
        dev[i] = fabs(buf[i] - *median);
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && dev[j - 1] > dev[j]; j--) {
            double t = dev[j];
            dev[j] = dev[j - 1];
            dev[j - 1] = t;
        }
    double mad = n % 2 ? dev[n / 2] : 0.5 * (dev[n / 2 - 1] + dev[n / 2]);
    *spread = 1.482602218505602 * mad;
    return 1;
}

/* Outliers, repeated values and non-finite values included. */
static void robust_matches_median_mad_reference(void **state)
{
    (void)state;
    fixture f;
    assert_int_equal(fixture_open(&f, "{\"robust\": true, \"rel_std_floor\": 0, \"range_floor\": 0, "
                                      "\"min_std\": 0}", CAP, NULL), 0);
    uint64_t rng = 23;
    for (int64_t t = 0; t < 3000; t++) {
        double v = 5.0 + vg_test_normal(&rng);
        if (t % 37 == 0)
            v += 50.0;
        if (t % 11 == 0)
            v = 5.0;                      /* ties */
        if (t == 400 || t == 401 || t == 1500)
            v = t == 400 ? INFINITY : NAN;
        double median = NAN, spread = NAN;
        int ready = t >= 30 && robust_reference(f.w, &median, &spread);
        vg_explain why;
        double s = step(&f, t, v, &why);
        if (!isfinite(v) || !ready) {
            assert_true(s == 0.0);
            continue;
        }
        assert_double_near(why.expected, median, 1e-12);
        assert_double_near((why.upper - why.lower) / 6.0, spread, 1e-12);
        double z = (v - median) / spread;
        if (fabs(z) < 37.0)   /* erfc underflows beyond */
            assert_double_near(s, reference_score(z), 1e-9);
        else
            assert_true(s > reference_score(37.0) && s < 1.0);
    }
    /* The sorted copy costs its header and one double per window slot, and
     * the robust mode its count of non-finite values (8 bytes, padded). */
    fixture plain;
    assert_int_equal(fixture_open(&plain, NULL, CAP, NULL), 0);
    assert_int_equal(f.d->state_size(f.params) - plain.d->state_size(plain.params),
                     8 + 8 + CAP * sizeof(double));
    fixture_close(&plain);
    fixture_close(&f);
}

/* After a burst of outliers, the mean and standard deviation stretch to
 * cover them; the median and MAD do not, so a new anomaly still stands out. */
static void robust_resists_outlier_bursts(void **state)
{
    (void)state;
    fixture plain, robust;
    assert_int_equal(fixture_open(&plain, NULL, CAP, NULL), 0);
    assert_int_equal(fixture_open(&robust, "{\"robust\": true}", CAP, NULL), 0);
    uint64_t rng = 29;
    vg_explain why;
    for (int t = 0; t < 400; t++) {
        double v = 100.0 + vg_test_normal(&rng) + (t >= 370 && t < 390 ? 30.0 : 0.0);
        step(&plain, t, v, &why);
        step(&robust, t, v, &why);
    }
    double sp = step(&plain, 400, 108.0, &why), sr = step(&robust, 400, 108.0, &why);
    assert_true(sr > 0.99);
    assert_true(sp < 0.99);
    fixture_close(&plain);
    fixture_close(&robust);
}

static void configure_checks_params(void **state)
{
    (void)state;
    fixture f;
    vg_error err;
    assert_int_equal(fixture_open(&f, "{\"bogus\": 1}", CAP, &err), VG_ECONFIG);
    assert_non_null(strstr(err.msg, "bogus"));
    assert_int_equal(fixture_open(&f, "{\"warmup\": 1}", CAP, &err), VG_ECONFIG);
    assert_non_null(strstr(err.msg, "warmup"));
    assert_int_equal(fixture_open(&f, "{\"k\": -1}", CAP, &err), VG_ECONFIG);
    assert_int_equal(fixture_open(&f, NULL, 0, &err), VG_ECONFIG);

    /* k sets the band's half-width. */
    assert_int_equal(fixture_open(&f, "{\"k\": 2, \"rel_std_floor\": 0, \"range_floor\": 0}", CAP, NULL), 0);
    uint64_t rng = 19;
    vg_explain why;
    for (int t = 0; t < 100; t++)
        step(&f, t, vg_test_normal(&rng), &why);
    double mean, std;
    reference(f.w, &mean, &std);
    step(&f, 100, 0.0, &why);
    assert_double_near(why.upper - why.expected, 2.0 * std, 1e-9);
    assert_double_near(why.expected - why.lower, 2.0 * std, 1e-9);
    fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_two_pass_reference),
        cmocka_unit_test(warms_up_before_scoring),
        cmocka_unit_test(flat_series_stays_quiet),
        cmocka_unit_test(spike_scores_high),
        cmocka_unit_test(tail_keeps_resolution),
        cmocka_unit_test(save_load_continues_identically),
        cmocka_unit_test(load_rejects_bad_state),
        cmocka_unit_test(non_finite_values_are_contained),
        cmocka_unit_test(robust_matches_median_mad_reference),
        cmocka_unit_test(robust_resists_outlier_bursts),
        cmocka_unit_test(configure_checks_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
