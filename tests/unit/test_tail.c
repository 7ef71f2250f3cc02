/* The per-series tail of the final surprise (detectors/tail.c): an honest
 * stream keeps its surprises and its nominal rates; a heavy-tailed one (a
 * routine blip scored far out) is brought to within 2x of nominal at
 * 1e-3, 1e-4 and 1e-5; a point beyond everything the series has shown keeps
 * its magnitude; the map is monotone and never adds surprise; exact
 * save/load. Surprises are synthesised: an honest one is -log10(U). */
#include "tests/unit/helpers.h"

#include <math.h>
#include <string.h>

#include "detectors/tail.h"

#define SPAN  300000.0
#define N     1000000
#define LEARN 100000

/* A prior of 1,000 points at nominal: the tail alone at work. */
static const vg_tail_prior PRIOR = {1000.0, 0.0};

static double honest(uint64_t *rng)
{
    return -log10(1.0 - vg_test_uniform(rng));
}

/* Streams N surprises from next() through a fresh tail, scoring each
 * before learning it; rate[k] is the share of recalibrated surprises
 * >= k + 3 after the first LEARN points (a far tail needs a few times
 * 1 / rate points to be seen at all). */
static void stream(vg_tail *t, double (*next)(uint64_t *), uint64_t seed, double rate[3])
{
    uint64_t rng = seed;
    int over[3] = {0};
    vg_tail_init(t);
    for (int i = 0; i < N; i++) {
        double s = next(&rng);
        double u = vg_tail_surprise(t, s, &PRIOR);
        vg_tail_learn(t, s, SPAN);
        for (int k = 0; k < 3 && i >= LEARN; k++)
            over[k] += u >= k + 3;
    }
    for (int k = 0; k < 3; k++)
        rate[k] = over[k] / (double)(N - LEARN);
}

/* Streams next() (see stream) and checks the rates at 1e-3, 1e-4 and 1e-5
 * are within 2x of nominal (the last only from above: 9 are expected). */
static void stream_is_calibrated(vg_tail *t, double (*next)(uint64_t *), uint64_t seed)
{
    double rate[3];
    stream(t, next, seed, rate);
    assert_true(rate[0] > 0.5e-3 && rate[0] < 2e-3);
    assert_true(rate[1] > 0.5e-4 && rate[1] < 2e-4);
    assert_true(rate[2] < 2e-5);
}

static void honest_stream_keeps_its_rates(void **state)
{
    (void)state;
    vg_tail t;
    stream_is_calibrated(&t, honest, 3);
    /* Its surprises are barely moved: at most a tenth of a decade. */
    for (double s = 0.5; s < 6.0; s += 0.5)
        assert_true(vg_tail_surprise(&t, s, &PRIOR) > s - 0.1);
}

/* Honest noise, and one point in 500 a blip scored 10 decades out or more
 * (a mostly-zero metric's routine blip): 200 times nominal at 1e-5 raw. */
static double blippy(uint64_t *rng)
{
    double s = honest(rng);
    return vg_test_uniform(rng) < 2e-3 ? 10.0 + 3.0 * honest(rng) : s;
}

static void heavy_tail_is_brought_to_nominal(void **state)
{
    (void)state;
    vg_tail t;
    stream_is_calibrated(&t, blippy, 5);
    /* A blip of 13 now reads as what it is here: 2e-3 x 10^-1 = 2e-4. */
    double u = vg_tail_surprise(&t, 13.0, &PRIOR);
    assert_true(u > 3.2 && u < 4.2);
    /* Twenty decades past anything seen keeps most of its magnitude. */
    assert_true(vg_tail_surprise(&t, 40.0, &PRIOR) > u + 20.0);
}

static void map_is_monotone_and_never_adds(void **state)
{
    (void)state;
    vg_tail t;
    double rate[3];
    stream(&t, blippy, 7, rate);
    double prev = 0.0;
    for (double s = 0.0; s < 45.0; s += 0.01) {
        double u = vg_tail_surprise(&t, s, &PRIOR);
        assert_true(u <= s + 1e-12);
        assert_true(u >= prev - 1e-12);
        prev = u;
    }
    /* A fresh series: every surprise is taken at its word. */
    vg_tail_init(&t);
    assert_true(vg_tail_surprise(&t, 7.5, &PRIOR) == 7.5);
}

/* A prior tail heavier than nominal (slope 0.25 decades a level from 1e-3):
 * a fresh series reads a 5-decade surprise as the typical series' rate
 * there, 10^0.5 over nominal; once its own honest counts outweigh the
 * prior it takes its surprises at their word again. The map stays
 * monotone. */
static void young_series_takes_the_prior_tail(void **state)
{
    (void)state;
    const vg_tail_prior heavy = {10000.0, 0.25};
    vg_tail t;
    vg_tail_init(&t);
    assert_true(fabs(vg_tail_surprise(&t, 5.0, &heavy) - 4.5) < 1e-9);
    assert_true(fabs(vg_tail_surprise(&t, 2.5, &heavy) - 2.5) < 1e-9);
    /* Beyond 1e-5 the shift stops growing: magnitude is kept. */
    assert_true(fabs(vg_tail_surprise(&t, 20.0, &heavy) - 19.5) < 1e-9);
    double prev = 0.0;
    for (double s = 0.0; s < 40.0; s += 0.01) {
        double u = vg_tail_surprise(&t, s, &heavy);
        assert_true(u >= prev - 1e-12 && u <= s + 1e-12);
        prev = u;
    }
    uint64_t rng = 13;
    for (int i = 0; i < N; i++)
        vg_tail_learn(&t, honest(&rng), SPAN);
    assert_true(vg_tail_surprise(&t, 5.0, &heavy) > 4.85);
}

/* A series' own count is its rate's estimate in full (the posterior mean):
 * a blip seen k times in n points reads at k / n. Discounted (as c - 1/2
 * once was), every repeat of a young series' far blips read rarer than
 * observed, and smd-dev's train halves exceeded 1e-5 2.4 times as often as
 * nominal (docs/quality.md, "branch q-cal6"). */
static void repeats_read_at_their_rate(void **state)
{
    (void)state;
    const vg_tail_prior none = {0.0, 0.0};
    const double n = 20000.0;
    for (int k = 1; k <= 3; k++) {
        vg_tail t;
        vg_tail_init(&t);
        for (int i = 0; i < n; i++)
            vg_tail_learn(&t, i < k ? 9.0 : 0.5, 1e12);
        assert_true(fabs(vg_tail_surprise(&t, 9.0, &none) + log10(k / n)) < 1e-6);
    }
}

static void save_load_is_exact(void **state)
{
    (void)state;
    vg_tail a, b;
    double rate[3];
    stream(&a, blippy, 11, rate);
    vg_writer out;
    vg_writer_init(&out);
    vg_tail_save(&a, &out);
    vg_reader in;
    vg_reader_init(&in, out.buf, out.len);
    assert_int_equal(vg_tail_load(&b, &in, NULL), 0);
    assert_int_equal(vg_reader_left(&in), 0);
    assert_memory_equal(&a, &b, sizeof(a));

    vg_error err = {0};
    vg_reader_init(&in, out.buf, out.len - 1);
    assert_int_equal(vg_tail_load(&b, &in, &err), VG_EPARSE);
    /* Counts that rise with the level are impossible. */
    a.c[5] = a.c[4] + 1.0;
    vg_writer_release(&out);
    vg_writer_init(&out);
    vg_tail_save(&a, &out);
    vg_reader_init(&in, out.buf, out.len);
    assert_int_equal(vg_tail_load(&b, &in, &err), VG_EPARSE);
    vg_writer_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(honest_stream_keeps_its_rates),
        cmocka_unit_test(heavy_tail_is_brought_to_nominal),
        cmocka_unit_test(map_is_monotone_and_never_adds),
        cmocka_unit_test(young_series_takes_the_prior_tail),
        cmocka_unit_test(repeats_read_at_their_rate),
        cmocka_unit_test(save_load_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
