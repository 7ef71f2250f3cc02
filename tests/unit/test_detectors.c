/* The promises every registered detector keeps (STYLE.md), the registry
 * itself, and the shared surprise-to-score mapping.
 *
 * The fixture drives each detector exactly as the pipeline does: score()
 * with the window holding the points before this one, then push. */
#include "tests/unit/helpers.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"

#define CAP    200      /* the pipeline's default window */
#define N      1200
#define SPIKE  1000
#define RESUME 700      /* where the save/load round trip cuts the stream */
#define GUARD  64       /* bytes past the state block that must stay untouched */

typedef struct run {
    const vg_detector_ops *d;
    void      *params;
    uint8_t   *state;   /* state_size + GUARD bytes */
    size_t     size;
    vg_window *w;
} run;

static void run_open(run *r, const vg_detector_ops *d, uint64_t seed)
{
    r->d = d;
    r->params = calloc(1, d->params_size);
    assert_non_null(r->params);
    vg_error err;
    assert_int_equal(d->configure(r->params, NULL, NULL, CAP, &err), 0);
    r->size = d->state_size(r->params);
    r->state = malloc(r->size + GUARD);
    assert_non_null(r->state);
    memset(r->state, 0xa5, r->size + GUARD);
    d->init(r->state, r->params, seed);
    r->w = vg_window_new(CAP, NULL);
    assert_non_null(r->w);
}

static void run_close(run *r)
{
    for (size_t i = 0; i < GUARD; i++)
        assert_int_equal(r->state[r->size + i], 0xa5);
    free(r->params);
    free(r->state);
    vg_window_free(r->w);
}

/* A seeded noisy sine (period 50) with one spike at SPIKE. */
static double fixture_value(uint64_t *rng, size_t k)
{
    double v = 10.0 + 3.0 * sin(2.0 * M_PI * (double)k / 50.0) + 0.3 * vg_test_normal(rng);
    return k == SPIKE ? v + 15.0 : v;
}

/* Scores points [from, to) of the fixture stream into out[from..to). */
static void run_span(run *r, uint64_t *rng, size_t from, size_t to, double *out)
{
    for (size_t k = from; k < to; k++) {
        double v = fixture_value(rng, k);
        vg_explain why;
        memset(&why, 0, sizeof(why));
        out[k] = r->d->score(r->state, r->params, r->w, (int64_t)k * 1000, v, &why);
        assert_non_null(memchr(why.detail, '\0', sizeof(why.detail)));
        vg_window_push(r->w, v);
    }
}

static void score_fixture(const vg_detector_ops *d, uint64_t seed, double *out)
{
    run r;
    run_open(&r, d, seed);
    uint64_t rng = seed;
    run_span(&r, &rng, 0, N, out);
    run_close(&r);
}

static void detectors_keep_promises(void **state)
{
    (void)state;
    static double a[N], b[N];
    assert_true(vg_detector_count() >= 1);
    for (size_t i = 0; i < vg_detector_count(); i++) {
        const vg_detector_ops *d = vg_detector_at(i);
        score_fixture(d, 42, a);
        score_fixture(d, 42, b);
        assert_memory_equal(a, b, sizeof(a));    /* deterministic */
        for (size_t k = 0; k < N; k++)
            assert_true(a[k] >= 0.0 && a[k] <= 1.0);
        if (a[SPIKE] <= 0.9)
            fail_msg("%s scores the spike %g", d->name, a[SPIKE]);
    }
}

/* Saving at RESUME and loading into a fresh block gives the same scores
 * from there on as the run that never stopped. */
static void save_load_round_trips(void **state)
{
    (void)state;
    static double whole[N], resumed[N];
    for (size_t i = 0; i < vg_detector_count(); i++) {
        const vg_detector_ops *d = vg_detector_at(i);
        score_fixture(d, 42, whole);

        run a, b;
        run_open(&a, d, 42);
        uint64_t rng = 42;
        run_span(&a, &rng, 0, RESUME, resumed);
        vg_writer out;
        vg_writer_init(&out);
        assert_int_equal(d->save(a.state, a.params, &out), 0);

        run_open(&b, d, 42);
        vg_reader in;
        vg_reader_init(&in, out.buf, out.len);
        vg_error err;
        assert_int_equal(d->load(b.state, b.params, &in, &err), 0);
        assert_int_equal(vg_reader_left(&in), 0);
        memcpy(b.w, a.w, vg_window_bytes(CAP));   /* windows are saved by their owner */
        run_span(&b, &rng, RESUME, N, resumed);
        assert_memory_equal(whole + RESUME, resumed + RESUME, (N - RESUME) * sizeof(double));

        vg_writer_release(&out);
        run_close(&a);
        run_close(&b);
    }
}

/* state_size depends on the params only, and the detector never writes
 * past it (run_close checks the guard bytes). */
static void state_size_is_fixed(void **state)
{
    (void)state;
    static double scores[N];
    for (size_t i = 0; i < vg_detector_count(); i++) {
        const vg_detector_ops *d = vg_detector_at(i);
        run r;
        run_open(&r, d, 7);
        assert_true(r.size > 0);
        uint64_t rng = 7;
        run_span(&r, &rng, 0, N, scores);
        assert_int_equal(d->state_size(r.params), r.size);
        run_close(&r);
    }
}

static void registry_lists_each_once(void **state)
{
    (void)state;
    size_t n = vg_detector_count();
    assert_null(vg_detector_at(n));
    assert_null(vg_detector_find("no-such-detector"));
    assert_non_null(vg_detector_find("zscore"));
    for (size_t i = 0; i < n; i++) {
        const vg_detector_ops *d = vg_detector_at(i);
        assert_ptr_equal(vg_detector_find(d->name), d);
        assert_true(d->params_size > 0);
        assert_non_null(d->configure);
        assert_non_null(d->state_size);
        assert_non_null(d->init);
        assert_non_null(d->score);
        assert_non_null(d->save);
        assert_non_null(d->load);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(d->name, vg_detector_at(j)->name);
    }
}

static void surprise_maps_into_unit_interval(void **state)
{
    (void)state;
    assert_true(vg_score_from_surprise(0.0) == 0.0);
    assert_true(vg_score_from_surprise(-3.0) == 0.0);
    assert_true(vg_score_from_surprise(NAN) == 0.0);
    assert_true(vg_score_from_surprise(-INFINITY) == 0.0);
    /* 1 - p while p >= 1e-8. */
    assert_double_near(vg_score_from_surprise(1.0), 0.9, 1e-15);
    assert_double_near(vg_score_from_surprise(2.0), 0.99, 1e-15);
    assert_double_near(vg_score_from_surprise(8.0), 1.0 - 1e-8, 1e-16);
    /* Continuous where the slow tail takes over. */
    assert_double_near(vg_score_from_surprise(8.0 + 1e-9), 1.0 - 1e-8, 1e-16);
    assert_true(vg_score_from_surprise(INFINITY) < 1.0);
    assert_true(vg_score_from_surprise(DBL_MAX) < 1.0);
}

/* Strictly increasing from 1e-3 to 1e300 on a geometric grid. */
static void surprise_mapping_is_monotone(void **state)
{
    (void)state;
    double prev = 0.0;
    for (double s = 1e-3; s < 1e300; s *= 1.5) {
        double v = vg_score_from_surprise(s);
        if (!(v > prev && v < 1.0))
            fail_msg("score(%g) = %.17g after %.17g", s, v, prev);
        prev = v;
    }
    assert_true(vg_score_from_surprise(INFINITY) >= prev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detectors_keep_promises),
        cmocka_unit_test(save_load_round_trips),
        cmocka_unit_test(state_size_is_fixed),
        cmocka_unit_test(registry_lists_each_once),
        cmocka_unit_test(surprise_maps_into_unit_interval),
        cmocka_unit_test(surprise_mapping_is_monotone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
