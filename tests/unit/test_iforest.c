/* Unit tests for the isolation-forest detector: determinism, score range,
 * spikes and level shifts, SIMD kernel against the scalar reference,
 * save/load, fixed state size and the amortised retraining schedule. The
 * window is driven as the pipeline drives it: score with the window of the
 * points before, then push. */
#include "helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/iforest_forest.h"

extern const vg_detector_ops vg_iforest_ops;

#define WINDOW 200u
#define N 1500
#define SPIKE 1200
#define SHIFT 1200
#define GUARD 256

typedef enum { SINE, SINE_SPIKE, SINE_SHIFT } fixture;

/* A detector set up for one series: params, state (with a guard zone after
 * it), window. */
typedef struct rig {
    const vg_detector_ops *d;
    void *params;
    uint8_t *state;
    size_t size;
    vg_window *w;
} rig;

static void rig_open(rig *r, const char *cfg_text, uint64_t seed)
{
    vg_error err;
    r->d = &vg_iforest_ops;
    r->params = calloc(1, r->d->params_size);
    assert_non_null(r->params);
    json_t *cfg = cfg_text != NULL ? json_loads(cfg_text, 0, NULL) : NULL;
    assert_int_equal(r->d->configure(r->params, NULL, cfg, WINDOW, &err), VG_OK);
    json_decref(cfg);
    r->size = r->d->state_size(r->params);
    r->state = malloc(r->size + GUARD);
    assert_non_null(r->state);
    memset(r->state + r->size, 0xA5, GUARD);
    r->d->init(r->state, r->params, seed);
    r->w = vg_window_new(WINDOW, &err);
    assert_non_null(r->w);
}

static void rig_close(rig *r)
{
    for (size_t i = 0; i < GUARD; i++)
        assert_int_equal(r->state[r->size + i], 0xA5); /* never wrote past its block */
    vg_window_free(r->w);
    free(r->state);
    free(r->params);
}

static double fixture_value(fixture f, int i, uint64_t *rng)
{
    double v = 10.0 + 3.0 * sin(2.0 * M_PI * i / 50.0) + 0.3 * vg_test_normal(rng);
    if (f == SINE_SPIKE && i == SPIKE)
        v += 6.0;
    if (f == SINE_SHIFT && i >= SHIFT)
        v += 3.0;
    return v;
}

/* Scores points [from, to) of fixture f (its noise stream in *rng). */
static void run(rig *r, fixture f, int from, int to, uint64_t *rng, double *scores)
{
    for (int i = from; i < to; i++) {
        double v = fixture_value(f, i, rng);
        vg_explain why;
        scores[i] = r->d->score(r->state, r->params, r->w, i * 1000LL, v, &why);
        vg_window_push(r->w, v);
    }
}

static void score_fixture(fixture f, uint64_t seed, double *scores)
{
    rig r;
    uint64_t rng = 7;
    rig_open(&r, NULL, seed);
    run(&r, f, 0, N, &rng, scores);
    rig_close(&r);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of scores[from, to) minus the points in [skip, skip_to). */
static double quantile(const double *scores, int from, int to, int skip, int skip_to, double q)
{
    double *v = malloc(sizeof(double) * (size_t)(to - from));
    size_t n = 0;
    for (int i = from; i < to; i++) {
        if (i < skip || i >= skip_to)
            v[n++] = scores[i];
    }
    qsort(v, n, sizeof(double), cmp_double);
    double out = v[(size_t)(q * (double)(n - 1))];
    free(v);
    return out;
}

static void deterministic_for_a_seed(void **state)
{
    (void)state;
    static double a[N], b[N], c[N];
    score_fixture(SINE_SPIKE, 42, a);
    score_fixture(SINE_SPIKE, 42, b);
    score_fixture(SINE_SPIKE, 43, c);
    assert_memory_equal(a, b, sizeof(a));
    int differ = 0;
    for (int i = 0; i < N; i++)
        differ += a[i] != c[i];
    assert_true(differ > N / 2); /* another seed grows other trees */
}

static void scores_in_unit_interval_after_warm_up(void **state)
{
    (void)state;
    static double s[N];
    score_fixture(SINE_SPIKE, 1, s);
    /* 39 values hold ψ = 32 shingles of 8; then 4 trees a point for 32 trees */
    const int first = 32 + 8 - 1 + 32 / 4 - 1;
    for (int i = 0; i < first; i++)
        assert_true(s[i] == 0.0);
    assert_true(s[first] > 0.0); /* the logistic never gives exactly 0 */
    int positive = 0;
    for (int i = 0; i < N; i++) {
        assert_true(s[i] >= 0.0 && s[i] < 1.0);
        positive += s[i] > 0.0;
    }
    assert_true(positive > (N - first) / 4);
}

static void finds_the_spike(void **state)
{
    (void)state;
    static double s[N];
    for (uint64_t seed = 1; seed <= 5; seed++) {
        score_fixture(SINE_SPIKE, seed, s);
        /* normal: after warm-up, minus the shingles holding the spike */
        double p95 = quantile(s, 300, N, SPIKE, SPIKE + 8, 0.95);
        double top = quantile(s, 300, N, SPIKE, SPIKE + 8, 1.0);
        assert_true(s[SPIKE] > 0.9);
        assert_true(s[SPIKE] > p95 + 0.5);
        assert_true(s[SPIKE] > top); /* above every normal point */
    }
}

static void notices_a_level_shift(void **state)
{
    (void)state;
    static double s[N];
    score_fixture(SINE_SHIFT, 3, s);
    double p99 = quantile(s, 300, SHIFT, 0, 0, 0.99);
    double best = 0.0;
    for (int i = SHIFT; i < SHIFT + 3; i++)
        best = fmax(best, s[i]);
    assert_true(best > 0.85);
    assert_true(best > p99 + 0.3);
}

static void explains_with_the_window(void **state)
{
    (void)state;
    rig r;
    uint64_t rng = 7;
    static double s[N];
    rig_open(&r, NULL, 9);
    run(&r, SINE, 0, 400, &rng, s);
    vg_explain why;
    r.d->score(r.state, r.params, r.w, 0, 10.0, &why);
    assert_double_near(why.expected, 10.0, 0.5);   /* the window's mean */
    assert_double_near(why.upper - why.expected, 3.0 * 2.13, 0.4); /* 3 sd of the sine */
    assert_double_near(why.expected - why.lower, why.upper - why.expected, 1e-9);
    assert_memory_equal(why.detail, "depth=", 6);
    assert_true(r.d->score(r.state, r.params, r.w, 0, NAN, &why) == 0.0);
    assert_string_equal(why.detail, "non-finite value");
    rig_close(&r);
}

static void simd_matches_scalar_on_trained_forests(void **state)
{
    (void)state;
    if (!__builtin_cpu_supports("avx2")) {
        print_message("no AVX2 on this CPU: only the scalar kernel runs\n");
        return;
    }
    /* the defaults, and a deep forest over 23 features (four registers) */
    const char *cfgs[] = {NULL, "{\"trees\": 16, \"sample\": 100, \"shingle\": 12}"};
    for (size_t c = 0; c < 2; c++) {
        rig r;
        uint64_t rng = 11;
        static double s[N];
        rig_open(&r, cfgs[c], 5);
        run(&r, SINE_SPIKE, 0, 300, &rng, s);
        float a[256], b[256];
        for (int i = 0; i < 400; i++) {
            /* ordinary values, then far out of range both ways */
            double v = i < 300 ? fixture_value(SINE, i, &rng) : (i - 350) * 1e3;
            double ds = vg__iforest_depth(r.state, r.params, r.w, v, vg__iforest_paths_scalar, a);
            double dv = vg__iforest_depth(r.state, r.params, r.w, v, vg__iforest_paths_avx2, b);
            assert_true(ds == dv);
            assert_memory_equal(a, b, sizeof(float) * (c == 0 ? 32 : 16));
            assert_true(ds >= 1.0);
            if (i % 3 == 0) { /* feed a normal point: retraining changes the forest */
                double u = fixture_value(SINE, i, &rng);
                vg_explain why;
                r.d->score(r.state, r.params, r.w, 0, u, &why);
                vg_window_push(r.w, u);
            }
        }
        rig_close(&r);
    }
}

/* Hand-made forests with random thresholds, features, pass-throughs and
 * leaves, narrow (two feature registers) and wide (four). */
static void simd_matches_scalar_on_random_forests(void **state)
{
    (void)state;
    if (!__builtin_cpu_supports("avx2")) {
        print_message("no AVX2 on this CPU: only the scalar kernel runs\n");
        return;
    }
    uint64_t rng = 99;
    for (uint32_t round = 0; round < 24; round++) {
        const uint32_t trees = 8 * (1 + round % 4), height = 1 + round % 8;
        const uint32_t nf = round % 2 ? 31 : 15, rows = 1u << height;
        const size_t slots = (size_t)trees * rows;
        uint32_t *node = malloc(slots * sizeof(uint32_t));
        uint16_t *leaf = malloc((slots + 2) * sizeof(uint16_t));   /* + the kernel's overread */
        float *box = malloc(4 * trees * sizeof(float));
        for (size_t i = 0; i < slots; i++) {
            float thr = (float)vg_test_normal(&rng);
            uint32_t bits;
            memcpy(&bits, &thr, sizeof(bits));
            uint32_t q = (uint32_t)(vg_test_rand(&rng) % nf);
            node[i] = vg_test_uniform(&rng) < 0.1 ? 0x7f7fffe0u : (bits & ~31u) | q;
            leaf[i] = (uint16_t)(10.0 * VG__IFOREST_LEAF_ONE * vg_test_uniform(&rng));
        }
        for (uint32_t t = 0; t < trees; t++) {
            float lo = (float)vg_test_normal(&rng), hi = lo + (float)vg_test_uniform(&rng);
            box[t] = lo;
            box[trees + t] = hi;
            box[2 * trees + t] = -hi;
            box[3 * trees + t] = t % 5 == 0 ? -hi : -lo; /* some empty ranges */
        }
        vg__iforest_forest f = {
            .trees = trees, .height = height, .n_feat = nf, .level = 7, .step = nf - 1,
            .node = node, .leaf = leaf, .box = box,
        };
        for (int k = 0; k < 200; k++) {
            float x[VG__IFOREST_FEATURES] = {0}, a[32], b[32];
            for (uint32_t q = 0; q < nf; q++)
                x[q] = (float)(vg_test_normal(&rng) * (k % 4 == 0 ? 100.0 : 1.0));
            double ds = vg__iforest_paths_scalar(&f, x, a);
            double dv = vg__iforest_paths_avx2(&f, x, b);
            assert_true(ds == dv);
            assert_memory_equal(a, b, sizeof(float) * trees);
            assert_true(vg__iforest_paths_avx2(&f, x, NULL) == ds);
        }
        free(node);
        free(leaf);
        free(box);
    }
}

static void save_load_continues_bit_identically(void **state)
{
    (void)state;
    static double a[N], b[N];
    rig one, two;
    uint64_t rng_one = 7, rng_two;
    vg_error err;
    rig_open(&one, NULL, 77);
    rig_open(&two, NULL, 12345); /* load must bring the seed back too */
    run(&one, SINE_SPIKE, 0, 700, &rng_one, a);

    vg_writer out;
    vg_writer_init(&out);
    assert_int_equal(one.d->save(one.state, one.params, &out), VG_OK);
    vg_reader in;
    vg_reader_init(&in, out.buf, out.len);
    assert_int_equal(two.d->load(two.state, two.params, &in, &err), VG_OK);
    assert_int_equal(vg_reader_left(&in), 0);
    assert_memory_equal(one.state, two.state, one.size);
    for (uint32_t i = 0; i < one.w->len; i++)
        vg_window_push(two.w, vg_window_at(one.w, i));

    rng_two = rng_one;
    run(&one, SINE_SPIKE, 700, N, &rng_one, a);
    run(&two, SINE_SPIKE, 700, N, &rng_two, b);
    assert_memory_equal(a + 700, b + 700, sizeof(double) * (N - 700));
    assert_memory_equal(one.state, two.state, one.size);

    /* every truncation fails cleanly and leaves a fresh series */
    for (size_t len = 0; len < out.len; len += 1 + len / 3) {
        vg_reader_init(&in, out.buf, len);
        assert_int_equal(two.d->load(two.state, two.params, &in, &err), VG_EPARSE);
        assert_int_equal(vg__iforest_builds(two.state), 0);
    }
    /* a split feature out of range is refused, not followed */
    out.buf[out.len - 1] = 200;
    vg_reader_init(&in, out.buf, out.len);
    assert_int_equal(two.d->load(two.state, two.params, &in, &err), VG_EPARSE);
    rig_close(&one);
    rig_close(&two);

    /* another shape is refused */
    rig other;
    rig_open(&other, "{\"trees\": 16}", 77);
    vg_reader_init(&in, out.buf, out.len);
    assert_int_equal(other.d->load(other.state, other.params, &in, &err), VG_EPARSE);
    assert_non_null(strstr(err.msg, "trees=32"));
    rig_close(&other);
    vg_writer_release(&out);
}

static void state_size_is_fixed_and_small(void **state)
{
    (void)state;
    rig r;
    uint64_t rng = 3;
    static double s[N];
    rig_open(&r, NULL, 1);
    size_t before = r.d->state_size(r.params);
    assert_true(before < 16 * 1024);
    run(&r, SINE_SPIKE, 0, N, &rng, s); /* rig_close checks the guard zone */
    assert_int_equal(r.d->state_size(r.params), before);
    rig_close(&r);

    rig small;
    rig_open(&small, "{\"trees\": 8, \"sample\": 16}", 1);
    assert_true(small.size < before / 3);
    rig_close(&small);
}

/* Trees built per point, from the build counter. */
static void check_schedule(const char *cfg, uint32_t trees, uint32_t retrain)
{
    rig r;
    uint64_t rng = 5;
    rig_open(&r, cfg, 8);
    const uint32_t per_point = (trees + retrain - 1) / retrain;
    const uint32_t cap = per_point > 4 ? per_point : 4;
    uint64_t last = 0, cycle_start = 0;
    int steady_from = -1;
    for (int i = 0; i < 2000; i++) {
        double v = fixture_value(SINE, i, &rng), s;
        vg_explain why;
        s = r.d->score(r.state, r.params, r.w, 0, v, &why);
        vg_window_push(r.w, v);
        uint64_t now = vg__iforest_builds(r.state);
        assert_true(now - last <= cap); /* never a whole forest at once */
        last = now;
        if (steady_from < 0 && now == trees) {
            steady_from = i + 1;
            cycle_start = now;
        } else if (steady_from >= 0 && (i + 1 - steady_from) % (int)retrain == 0) {
            assert_int_equal(now - cycle_start, trees); /* each tree once a cycle */
            cycle_start = now;
        }
        assert_true(s >= 0.0 && s < 1.0);
    }
    assert_true(steady_from > 0);
    rig_close(&r);
}

static void retraining_is_amortised(void **state)
{
    (void)state;
    check_schedule(NULL, 32, 512);  /* the defaults */
    check_schedule("{\"trees\": 64, \"retrain\": 16}", 64, 16);
    check_schedule("{\"trees\": 24, \"retrain\": 100}", 24, 100);
}

/* Values no metric should send still give scores in [0, 1] and a state
 * that saves and loads (the window may hold whatever the pipeline pushed). */
static void survives_extreme_values(void **state)
{
    (void)state;
    const double odd[] = {1e308, -1e308, NAN, INFINITY, -INFINITY, 0.0, 5e-324, 1e-300};
    rig r;
    uint64_t rng = 1;
    vg_error err;
    rig_open(&r, NULL, 4);
    for (int i = 0; i < 1200; i++) {
        double v = i % 3 == 0 ? odd[(i / 3) % 8] : fixture_value(SINE, i, &rng);
        vg_explain why;
        double s = r.d->score(r.state, r.params, r.w, 0, v, &why);
        assert_true(s >= 0.0 && s <= 1.0);
        vg_window_push(r.w, v);
        if (i % 100 == 99) {
            vg_writer out;
            vg_writer_init(&out);
            assert_int_equal(r.d->save(r.state, r.params, &out), VG_OK);
            vg_reader in;
            vg_reader_init(&in, out.buf, out.len);
            assert_int_equal(r.d->load(r.state, r.params, &in, &err), VG_OK);
            vg_writer_release(&out);
        }
    }
    /* and a foreign blob is refused by its tag */
    uint8_t junk[64] = {1, 2, 3};
    vg_reader in;
    vg_reader_init(&in, junk, sizeof(junk));
    assert_int_equal(r.d->load(r.state, r.params, &in, &err), VG_EPARSE);
    assert_non_null(strstr(err.msg, "not an iforest state"));
    rig_close(&r);
}

static void refuses_a_window_too_short(void **state)
{
    (void)state;
    void *params = calloc(1, vg_iforest_ops.params_size);
    vg_error err;
    assert_int_equal(vg_iforest_ops.configure(params, NULL, NULL, 20, &err), VG_ECONFIG);
    assert_non_null(strstr(err.msg, "detectors.iforest.shingle"));
    /* a short window still works with a smaller sample */
    assert_int_equal(vg_iforest_ops.configure(params, NULL, NULL, 30, &err), VG_OK);
    json_t *cfg = json_loads("{\"trees\": 12}", 0, NULL);
    assert_int_equal(vg_iforest_ops.configure(params, NULL, cfg, 200, &err), VG_ECONFIG);
    assert_non_null(strstr(err.msg, "detectors.iforest.trees"));
    json_decref(cfg);
    free(params);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deterministic_for_a_seed),
        cmocka_unit_test(scores_in_unit_interval_after_warm_up),
        cmocka_unit_test(finds_the_spike),
        cmocka_unit_test(notices_a_level_shift),
        cmocka_unit_test(explains_with_the_window),
        cmocka_unit_test(simd_matches_scalar_on_trained_forests),
        cmocka_unit_test(simd_matches_scalar_on_random_forests),
        cmocka_unit_test(save_load_continues_bit_identically),
        cmocka_unit_test(state_size_is_fixed_and_small),
        cmocka_unit_test(retraining_is_amortised),
        cmocka_unit_test(survives_extreme_values),
        cmocka_unit_test(refuses_a_window_too_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
