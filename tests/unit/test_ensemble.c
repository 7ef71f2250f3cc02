/* The ensemble: the exact inverse of the score map, per-series calibration
 * (honest detectors left alone, over-reporting ones damped, quiet ones
 * heard), the combination's false-alarm rate on honest noise, resolution
 * near 1, the refractory period, warm-up, exact save/load, and config
 * errors. Detector scores are synthesised: an honest detector's score is
 * 1 - U with U uniform, so its surprise is exponential. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/ensemble.h"

#define NMAX 4

typedef struct ens {
    vg_ensemble_params params;
    void              *state;
} ens;

/* Configures an ensemble of n detectors from cfg_json (NULL: defaults);
 * returns the configure result, leaving e open only on success. */
static int ens_open(ens *e, const char *cfg_json, size_t n, vg_error *err)
{
    json_t *cfg = NULL;
    if (cfg_json != NULL) {
        cfg = json_loads(cfg_json, 0, NULL);
        assert_non_null(cfg);
    }
    int rc = vg_ensemble_configure(&e->params, NULL, cfg, n, err);
    json_decref(cfg);
    if (rc != 0)
        return rc;
    e->state = malloc(vg_ensemble_state_size(&e->params));
    assert_non_null(e->state);
    vg_ensemble_init(e->state, &e->params);
    return 0;
}

static void ens_close(ens *e)
{
    free(e->state);
}

/* An honest detector's score: 1 - U, U uniform on (0, 1]. */
static double honest(uint64_t *rng)
{
    return vg_test_uniform(rng);
}

static double surprise(double score)
{
    return vg_ensemble_surprise(score);
}

static void surprise_inverts_the_score_map(void **state)
{
    (void)state;
    static const double s[] = {1e-6, 0.1, 1, 3.5, 7.9, 8, 8.1, 9, 20, 100, 1e4, 1e6};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        assert_double_near(surprise(vg_score_from_surprise(s[i])), s[i], 1e-6 * s[i] + 1e-9);
    assert_double_near(surprise(0.0), 0.0, 0.0);
    assert_double_near(surprise(-1.0), 0.0, 0.0);
    assert_double_near(surprise(NAN), 0.0, 0.0);
    assert_true(isinf(surprise(1.0)));
    /* Monotone through the knee, where the map changes form. */
    double prev = 0.0;
    for (double u = 7.0; u < 12.0; u += 0.01) {
        double v = surprise(vg_score_from_surprise(u));
        assert_true(v > prev);
        prev = v;
    }
}

/* One honest detector: the final score keeps its meaning, so the share of
 * points at or above 1 - 10^-k is about 10^-k. */
static void honest_detector_keeps_its_rate(void **state)
{
    (void)state;
    ens e;
    assert_int_equal(ens_open(&e, "{\"refractory\": 0}", 1, NULL), 0);
    uint64_t rng = 5;
    const int n = 400000;
    int over2 = 0, over3 = 0;
    for (int i = 0; i < n; i++) {
        double raw = honest(&rng);
        double s = vg_ensemble_score(e.state, &e.params, &raw, NULL);
        assert_true(s >= 0.0 && s < 1.0);
        if (i >= 1000) {
            over2 += s >= 0.99;
            over3 += s >= 0.999;
        }
    }
    double r2 = over2 / (double)(n - 1000), r3 = over3 / (double)(n - 1000);
    assert_true(r2 > 0.5e-2 && r2 < 2e-2);
    assert_true(r3 > 0.5e-3 && r3 < 2e-3);
    ens_close(&e);
}

/* Three independent honest detectors: the combination (with its
 * correction for n) does not turn noise into alarms. */
static void combining_honest_detectors_keeps_the_rate(void **state)
{
    (void)state;
    static const char *const cfgs[] = {
        "{\"refractory\": 0}",
        "{\"refractory\": 0, \"combine\": \"max\"}",
        "{\"refractory\": 0, \"combine\": \"mean\"}",
    };
    for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
        ens e;
        assert_int_equal(ens_open(&e, cfgs[c], 3, NULL), 0);
        uint64_t rng = 7;
        const int n = 300000;
        int over = 0;
        for (int i = 0; i < n; i++) {
            double raw[3] = {honest(&rng), honest(&rng), honest(&rng)};
            over += vg_ensemble_score(e.state, &e.params, raw, NULL) >= 0.999 && i >= 1000;
        }
        double rate = over / (double)(n - 1000);
        assert_true(rate < 3e-3);
        assert_true(rate > 1e-6);  /* and not deaf either */
        ens_close(&e);
    }
}

/* Detector 0 is honest, detector 1 over-reports (its surprises are five
 * times too large, as on a spiky series), detector 2 is nearly silent. The
 * same raw score counts for less from 1 and for more from 2. */
static void calibration_damps_and_lifts(void **state)
{
    (void)state;
    ens e;
    assert_int_equal(ens_open(&e, NULL, 3, NULL), 0);
    uint64_t rng = 11;
    double cal[3];
    for (int i = 0; i < 5000; i++) {
        double u = surprise(honest(&rng));
        double raw[3] = {vg_score_from_surprise(u), vg_score_from_surprise(5.0 * u),
                         vg_score_from_surprise(0.05 * u)};
        vg_ensemble_score(e.state, &e.params, raw, cal);
    }
    double probe = vg_score_from_surprise(4.0);
    double raw[3] = {probe, probe, probe};
    vg_ensemble_score(e.state, &e.params, raw, cal);
    double c0 = surprise(cal[0]), c1 = surprise(cal[1]), c2 = surprise(cal[2]);
    assert_double_near(c0, 4.0, 0.6);  /* honest: left about alone */
    assert_true(c1 < 1.5);             /* over-reporting: damped */
    assert_true(c2 > 8.0);             /* quiet: lifted */
    ens_close(&e);
}

/* Two very anomalous points of one series keep distinct, ordered scores,
 * even past the cap, and no score reaches 1. */
static void keeps_resolution_near_one(void **state)
{
    (void)state;
    static const double far[] = {6, 9, 12, 20, 50, 300, 1e4, 1e100};
    double prev = 0.0;
    for (size_t k = 0; k < sizeof(far) / sizeof(far[0]); k++) {
        ens e;
        assert_int_equal(ens_open(&e, NULL, 2, NULL), 0);
        uint64_t rng = 13;
        for (int i = 0; i < 2000; i++) {
            double raw[2] = {honest(&rng), honest(&rng)};
            vg_ensemble_score(e.state, &e.params, raw, NULL);
        }
        double raw[2] = {vg_score_from_surprise(far[k]), 0.5};
        double s = vg_ensemble_score(e.state, &e.params, raw, NULL);
        assert_true(s > prev);
        assert_true(s < 1.0);
        prev = s;
        ens_close(&e);
    }
    /* 1 - 1.02e-8 with the defaults: the refractory takes a share of the
     * noise's recent peak off even the farthest point. */
    assert_true(prev > 0.99999998);
}

/* A spike scores high; the same spike right after counts for less (one
 * event, one peak); long after, it scores high again. */
static void refractory_period(void **state)
{
    (void)state;
    ens e;
    /* Without the tail, which would also (rightly) damp the identical
     * repeat 3000 points later: tests/unit/test_tail.c. */
    assert_int_equal(ens_open(&e, "{\"recalibrate\": false}", 1, NULL), 0);
    uint64_t rng = 17;
    for (int i = 0; i < 3000; i++) {
        double raw = honest(&rng);
        vg_ensemble_score(e.state, &e.params, &raw, NULL);
    }
    double spike = vg_score_from_surprise(9.0);
    double first = vg_ensemble_score(e.state, &e.params, &spike, NULL);
    double second = vg_ensemble_score(e.state, &e.params, &spike, NULL);
    assert_true(first > 0.99999);
    assert_true(surprise(second) < 0.8 * surprise(first));
    for (int i = 0; i < 3000; i++) {
        double raw = honest(&rng);
        vg_ensemble_score(e.state, &e.params, &raw, NULL);
    }
    double later = vg_ensemble_score(e.state, &e.params, &spike, NULL);
    assert_true(later > 0.99999);
    /* An echo 30 points after it is still damped: the peak fades over
     * about a hundred points, not ten (the calibration's learning of the
     * spike damps it too, less). */
    for (int i = 0; i < 30; i++) {
        double raw = honest(&rng);
        vg_ensemble_score(e.state, &e.params, &raw, NULL);
    }
    double echo = vg_ensemble_score(e.state, &e.params, &spike, NULL);
    assert_true(surprise(echo) < 0.75 * surprise(later));  /* 0.68; 0.81 at 0.5 over ten */
    ens_close(&e);

    /* refractory 0: the repeat is judged on its own. */
    assert_int_equal(ens_open(&e, "{\"refractory\": 0, \"recalibrate\": false}", 1, NULL), 0);
    for (int i = 0; i < 3000; i++) {
        double raw = honest(&rng);
        vg_ensemble_score(e.state, &e.params, &raw, NULL);
    }
    first = vg_ensemble_score(e.state, &e.params, &spike, NULL);
    second = vg_ensemble_score(e.state, &e.params, &spike, NULL);
    assert_true(second > 0.99999);
    ens_close(&e);
}

static void warms_up_then_scores(void **state)
{
    (void)state;
    ens e;
    assert_int_equal(ens_open(&e, "{\"warmup\": 40}", 2, NULL), 0);
    uint64_t rng = 31;
    double spike[2] = {0.9999999, 0.9999999};
    for (int i = 0; i < 40; i++) {
        double raw[2] = {honest(&rng), honest(&rng)};
        double *in = i == 30 ? spike : raw;
        assert_double_near(vg_ensemble_score(e.state, &e.params, in, NULL), 0.0, 0.0);
    }
    for (int i = 0; i < 400; i++) {
        double raw[2] = {honest(&rng), honest(&rng)};
        vg_ensemble_score(e.state, &e.params, raw, NULL);
    }
    /* 1 - 1.01e-5: two detectors at 1e-7, less the refractory's share of
     * the noise's recent peak. */
    assert_true(vg_ensemble_score(e.state, &e.params, spike, NULL) > 0.99998);
    ens_close(&e);
}

/* Without calibration an honest detector's score passes through. */
static void uncalibrated_passes_scores_through(void **state)
{
    (void)state;
    ens e;
    const char *cfg = "{\"calibrate\": false, \"recalibrate\": false, \"warmup\": 0,"
                      " \"refractory\": 0}";
    assert_int_equal(ens_open(&e, cfg, 1, NULL), 0);
    /* (Surprises below an honest detector's mean, 1 / ln 10, count as 0.) */
    double below = 0.5, cal0;
    assert_double_near(vg_ensemble_score(e.state, &e.params, &below, &cal0), 0.0, 0.0);
    const double raw[] = {0.9, 0.999, 0.9999999, vg_score_from_surprise(30),
                          vg_score_from_surprise(1e100)};
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        double cal;
        double s = vg_ensemble_score(e.state, &e.params, &raw[i], &cal);
        assert_double_near(surprise(s), surprise(raw[i]), 1e-9 * surprise(raw[i]));
        assert_true(s < 1.0);
        assert_double_near(cal, s, 1e-15);
    }
    ens_close(&e);
}

/* A saved and restored state scores exactly as the original goes on. */
static void save_load_is_exact(void **state)
{
    (void)state;
    ens a, b;
    assert_int_equal(ens_open(&a, NULL, 3, NULL), 0);
    assert_int_equal(ens_open(&b, NULL, 3, NULL), 0);
    uint64_t rng = 23;
    for (int i = 0; i < 1500; i++) {
        double raw[3] = {honest(&rng), honest(&rng), i % 97 == 0 ? 0.9999999 : honest(&rng)};
        vg_ensemble_score(a.state, &a.params, raw, NULL);
    }
    vg_writer out;
    vg_writer_init(&out);
    assert_int_equal(vg_ensemble_save(a.state, &a.params, &out), 0);
    vg_reader in;
    vg_reader_init(&in, out.buf, out.len);
    assert_int_equal(vg_ensemble_load(b.state, &b.params, &in, NULL), 0);
    assert_int_equal(vg_reader_left(&in), 0);
    for (int i = 0; i < 1500; i++) {
        double raw[3] = {honest(&rng), honest(&rng), i % 89 == 0 ? 0.99999999 : honest(&rng)};
        double ca[3], cb[3];
        double sa = vg_ensemble_score(a.state, &a.params, raw, ca);
        double sb = vg_ensemble_score(b.state, &b.params, raw, cb);
        assert_memory_equal(&sa, &sb, sizeof(sa));
        assert_memory_equal(ca, cb, sizeof(ca));
    }

    /* Truncated state: an error, never a crash. */
    vg_error err = {0};
    vg_reader_init(&in, out.buf, out.len - 3);
    assert_int_equal(vg_ensemble_load(b.state, &b.params, &in, &err), VG_EPARSE);
    assert_non_null(strstr(err.msg, "truncated"));
    vg_writer_release(&out);
    ens_close(&a);
    ens_close(&b);
}

static void configure_checks_params(void **state)
{
    (void)state;
    ens e;
    vg_error err = {0};
    assert_int_equal(ens_open(&e, "{\"combine\": \"median\"}", 3, &err), VG_ECONFIG);
    assert_non_null(strstr(err.msg, "combine"));
    assert_int_equal(ens_open(&e, "{\"combine\": \"vote\", \"vote_k\": 4}", 3, &err),
                     VG_ECONFIG);
    assert_non_null(strstr(err.msg, "vote_k"));
    assert_int_equal(ens_open(&e, "{\"history\": 1}", 3, &err), VG_ECONFIG);
    assert_non_null(strstr(err.msg, "history"));
    assert_int_equal(ens_open(&e, "{\"refractory\": 2}", 3, &err), VG_ECONFIG);
    assert_int_equal(ens_open(&e, "{\"bogus\": 1}", 3, &err), VG_ECONFIG);
    assert_non_null(strstr(err.msg, "bogus"));

    /* vote: the k-th most surprised detector sets the score. */
    assert_int_equal(ens_open(&e, "{\"combine\": \"vote\", \"vote_k\": 2, \"warmup\": 0}", 3,
                              NULL),
                     0);
    uint64_t rng = 29;
    for (int i = 0; i < 2000; i++) {
        double raw[3] = {honest(&rng), honest(&rng), honest(&rng)};
        vg_ensemble_score(e.state, &e.params, raw, NULL);
    }
    double one[3] = {0.99999999, 0.5, 0.5}, two[3] = {0.99999999, 0.99999999, 0.5};
    double s1 = vg_ensemble_score(e.state, &e.params, one, NULL);
    for (int i = 0; i < 200; i++) {
        double raw[3] = {honest(&rng), honest(&rng), honest(&rng)};
        vg_ensemble_score(e.state, &e.params, raw, NULL);
    }
    double s2 = vg_ensemble_score(e.state, &e.params, two, NULL);
    assert_true(s1 < 0.999);
    assert_true(s2 > 0.99999);
    ens_close(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(surprise_inverts_the_score_map),
        cmocka_unit_test(honest_detector_keeps_its_rate),
        cmocka_unit_test(combining_honest_detectors_keeps_the_rate),
        cmocka_unit_test(calibration_damps_and_lifts),
        cmocka_unit_test(keeps_resolution_near_one),
        cmocka_unit_test(refractory_period),
        cmocka_unit_test(warms_up_then_scores),
        cmocka_unit_test(uncalibrated_passes_scores_through),
        cmocka_unit_test(save_load_is_exact),
        cmocka_unit_test(configure_checks_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
