/* Unit tests for the alert state machine (engine/alert.c). */
#include "tests/unit/helpers.h"

#include <math.h>

#include "engine/alert.h"

/* The alert's own judgement of a point: its score against the threshold
 * (the pipeline adds the paging floors and the incident's baseline). */
static vg_alert_state step(vg_alert *a, const vg_alert_params *p, int64_t ts_ms, double score)
{
    /* NaN compares false: a point without a score is normal. */
    return vg_alert_step(a, p, ts_ms, score, score >= p->threshold, 0);
}

static const vg_alert_params params = {
    .threshold = 0.9, .critical = 0.99, .fire_after = 3, .resolve_after = 2,
};

/* Feeds scores[i] at ts 1000*i and returns how many events of `kind`. */
static int feed(vg_alert *a, const vg_alert_params *p, const double *scores,
                size_t n, vg_alert_state kind, int64_t t0)
{
    int events = 0;
    for (size_t i = 0; i < n; i++)
        events += step(a, p, t0 + 1000 * (int64_t)i, scores[i]) == kind;
    return events;
}

static void starts_normal(void **state)
{
    (void)state;
    vg_alert a;
    vg_alert_init(&a);
    assert_int_equal(a.state, VG_ALERT_NORMAL);
    assert_int_equal(a.streak, 0);
    assert_int_equal(a.incidents, 0);
    assert_int_equal(step(&a, &params, 0, 0.1), VG_ALERT_NORMAL);
    assert_int_equal(a.state, VG_ALERT_NORMAL);
}

static void every_transition(void **state)
{
    (void)state;
    vg_alert a;
    vg_alert_init(&a);
    /* normal -> pending */
    assert_int_equal(step(&a, &params, 1000, 0.95), VG_ALERT_NORMAL);
    assert_int_equal(a.state, VG_ALERT_PENDING);
    assert_int_equal(a.streak, 1);
    assert_int_equal(a.start_ms, 1000);
    /* pending -> pending */
    assert_int_equal(step(&a, &params, 2000, 0.92), VG_ALERT_NORMAL);
    assert_int_equal(a.state, VG_ALERT_PENDING);
    assert_int_equal(a.streak, 2);
    /* pending -> firing on the third anomalous point */
    assert_int_equal(step(&a, &params, 3000, 0.97), VG_ALERT_FIRING);
    assert_int_equal(a.state, VG_ALERT_FIRING);
    assert_int_equal(a.incidents, 1);
    assert_int_equal(a.start_ms, 1000);
    assert_double_near(a.peak, 0.97, 0.0);
    /* firing stays firing on one normal point */
    assert_int_equal(step(&a, &params, 4000, 0.2), VG_ALERT_NORMAL);
    assert_int_equal(a.state, VG_ALERT_FIRING);
    assert_int_equal(a.streak, 1);
    /* an anomalous point restarts the normal streak */
    assert_int_equal(step(&a, &params, 5000, 0.91), VG_ALERT_NORMAL);
    assert_int_equal(a.streak, 0);
    assert_int_equal(step(&a, &params, 6000, 0.2), VG_ALERT_NORMAL);
    /* firing -> resolved (-> normal) */
    assert_int_equal(step(&a, &params, 7000, 0.2), VG_ALERT_RESOLVED);
    assert_int_equal(a.state, VG_ALERT_NORMAL);
    assert_int_equal(a.start_ms, 1000);  /* kept for the resolved event */
    assert_double_near(a.peak, 0.97, 0.0);
    /* a new incident starts afresh */
    step(&a, &params, 8000, 0.93);
    assert_int_equal(a.state, VG_ALERT_PENDING);
    assert_int_equal(a.start_ms, 8000);
    assert_double_near(a.peak, 0.93, 0.0);
}

static void pending_falls_back_silently(void **state)
{
    (void)state;
    vg_alert a;
    vg_alert_init(&a);
    const double s[] = {0.95, 0.96, 0.1, 0.95, 0.1, 0.99, 0.99, 0.3};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        assert_int_equal(step(&a, &params, (int64_t)i, s[i]), VG_ALERT_NORMAL);
    assert_int_equal(a.state, VG_ALERT_NORMAL);
    assert_int_equal(a.incidents, 0);
}

static void threshold_is_inclusive_and_nan_is_normal(void **state)
{
    (void)state;
    vg_alert_params p = params;
    p.fire_after = 1;
    vg_alert a;
    vg_alert_init(&a);
    assert_int_equal(step(&a, &p, 0, 0.9), VG_ALERT_FIRING);
    vg_alert_init(&a);
    assert_int_equal(step(&a, &p, 0, NAN), VG_ALERT_NORMAL);
    assert_int_equal(a.state, VG_ALERT_NORMAL);
}

static void counts_are_honoured(void **state)
{
    (void)state;
    for (uint32_t fa = 1; fa <= 5; fa++) {
        for (uint32_t ra = 1; ra <= 5; ra++) {
            vg_alert_params p = params;
            p.fire_after = fa;
            p.resolve_after = ra;
            vg_alert a;
            vg_alert_init(&a);
            int64_t t = 0;
            for (uint32_t i = 1; i < fa; i++)
                assert_int_equal(step(&a, &p, t++, 0.95), VG_ALERT_NORMAL);
            assert_int_equal(step(&a, &p, t++, 0.95), VG_ALERT_FIRING);
            for (uint32_t i = 1; i < ra; i++)
                assert_int_equal(step(&a, &p, t++, 0.0), VG_ALERT_NORMAL);
            assert_int_equal(step(&a, &p, t++, 0.0), VG_ALERT_RESOLVED);
            assert_int_equal(step(&a, &p, t++, 0.0), VG_ALERT_NORMAL);
        }
    }
}

static void one_firing_one_resolved_per_incident(void **state)
{
    (void)state;
    /* Three incidents of noisy scores (dips below threshold shorter than
     * resolve_after), separated by long calm stretches. */
    vg_alert_params p = params;
    p.resolve_after = 5;
    uint64_t seed = 7;
    vg_alert a;
    vg_alert_init(&a);
    int firing = 0, resolved = 0;
    int64_t t = 0;
    for (int incident = 0; incident < 3; incident++) {
        for (int i = 0; i < 50; i++, t++) {
            double s = 0.5 * vg_test_uniform(&seed);
            vg_alert_state e = step(&a, &p, t, s);
            firing += e == VG_ALERT_FIRING;
            resolved += e == VG_ALERT_RESOLVED;
        }
        for (int i = 0; i < 100; i++, t++) {
            /* at most 2 normal points in a row inside the incident */
            double s = (i % 7 == 3 || i % 7 == 4) ? 0.3 : 0.9 + 0.1 * vg_test_uniform(&seed);
            vg_alert_state e = step(&a, &p, t, s);
            firing += e == VG_ALERT_FIRING;
            resolved += e == VG_ALERT_RESOLVED;
        }
    }
    const double calm[10] = {0};
    resolved += feed(&a, &p, calm, 10, VG_ALERT_RESOLVED, t);
    assert_int_equal(firing, 3);
    assert_int_equal(resolved, 3);
    assert_int_equal(a.incidents, 3);
}

static void severity_from_peak(void **state)
{
    (void)state;
    vg_alert a;
    vg_alert_init(&a);
    const double warn[] = {0.91, 0.95, 0.92, 0.93};
    assert_int_equal(feed(&a, &params, warn, 4, VG_ALERT_FIRING, 0), 1);
    assert_int_equal(vg_alert_severity(&a, &params), VG_SEVERITY_WARNING);
    /* the peak after firing still counts */
    step(&a, &params, 10000, 0.995);
    assert_double_near(a.peak, 0.995, 0.0);
    assert_int_equal(vg_alert_severity(&a, &params), VG_SEVERITY_CRITICAL);
    const double calm[] = {0.1, 0.1};
    assert_int_equal(feed(&a, &params, calm, 2, VG_ALERT_RESOLVED, 11000), 1);
    assert_int_equal(vg_alert_severity(&a, &params), VG_SEVERITY_CRITICAL);
    /* a peak during pending counts too */
    vg_alert_init(&a);
    const double early[] = {0.999, 0.91, 0.91};
    assert_int_equal(feed(&a, &params, early, 3, VG_ALERT_FIRING, 0), 1);
    assert_int_equal(vg_alert_severity(&a, &params), VG_SEVERITY_CRITICAL);
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(vg_alert_state_name(VG_ALERT_NORMAL), "normal");
    assert_string_equal(vg_alert_state_name(VG_ALERT_PENDING), "pending");
    assert_string_equal(vg_alert_state_name(VG_ALERT_FIRING), "firing");
    assert_string_equal(vg_alert_state_name(VG_ALERT_RESOLVED), "resolved");
    assert_string_equal(vg_severity_name(VG_SEVERITY_WARNING), "warning");
    assert_string_equal(vg_severity_name(VG_SEVERITY_CRITICAL), "critical");
}

/* rearm_s: after an incident fired, the series opens no new one for
 * rearm_s unless a point scores fire_at_once; after it, it does again. */
static void rearm_holds_a_repeat(void **state)
{
    (void)state;
    vg_alert_params p = params;
    p.fire_after = 1;
    p.fire_at_once = 0.999;
    p.rearm_s = 10.0;
    const double incident[] = {0.95, 0.1, 0.1};  /* fires, resolves */
    vg_alert a;
    vg_alert_init(&a);
    assert_int_equal(feed(&a, &p, incident, 3, VG_ALERT_FIRING, 0), 1);
    assert_int_equal(a.state, VG_ALERT_NORMAL);
    /* 5 s after the firing: held, no pending either */
    assert_int_equal(step(&a, &p, 5000, 0.95), VG_ALERT_NORMAL);
    assert_int_equal(a.state, VG_ALERT_NORMAL);
    /* a critical point opens one at once */
    assert_int_equal(step(&a, &p, 6000, 0.9995), VG_ALERT_FIRING);
    assert_int_equal(feed(&a, &p, incident + 1, 2, VG_ALERT_RESOLVED, 7000), 1);
    /* re-armed 10 s after that firing */
    assert_int_equal(step(&a, &p, 15000, 0.95), VG_ALERT_NORMAL);
    assert_int_equal(step(&a, &p, 16000, 0.95), VG_ALERT_FIRING);
    assert_int_equal(a.incidents, 3);
    /* 0: off, the repeat fires */
    p.rearm_s = 0.0;
    vg_alert_init(&a);
    assert_int_equal(feed(&a, &p, incident, 3, VG_ALERT_FIRING, 0), 1);
    assert_int_equal(step(&a, &p, 5000, 0.95), VG_ALERT_FIRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_normal),
        cmocka_unit_test(every_transition),
        cmocka_unit_test(pending_falls_back_silently),
        cmocka_unit_test(threshold_is_inclusive_and_nan_is_normal),
        cmocka_unit_test(counts_are_honoured),
        cmocka_unit_test(one_firing_one_resolved_per_incident),
        cmocka_unit_test(severity_from_peak),
        cmocka_unit_test(names),
        cmocka_unit_test(rearm_holds_a_repeat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
