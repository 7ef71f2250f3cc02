/* The sorted window copy: random inserts and removals keep it equal to a
 * sorted reference, and its median and MAD match a brute-force count. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/sorted.h"

#define CAP 64

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of a sorted copy, averaging the two middle values for an
 * even count. */
static double brute_median(const double *x, uint32_t n)
{
    double *c = malloc(n * sizeof(double));
    assert_non_null(c);
    memcpy(c, x, n * sizeof(double));
    qsort(c, n, sizeof(double), cmp_double);
    double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
    free(c);
    return m;
}

static void tracks_a_sliding_window(void **state)
{
    (void)state;
    vg_sorted *s = malloc(vg_sorted_bytes(CAP));
    assert_non_null(s);
    vg_sorted_init(s, CAP);
    double ring[CAP], dev[CAP];
    uint32_t len = 0, next = 0;
    uint64_t rng = 31;
    for (int t = 0; t < 5000; t++) {
        /* Few distinct values, so ties are common. */
        double v = floor(8.0 * vg_test_uniform(&rng)) * 0.5;
        if (len == CAP)
            assert_int_equal(vg_sorted_remove(s, ring[next]), 0);
        vg_sorted_insert(s, v);
        ring[next] = v;
        next = (next + 1) % CAP;
        if (len < CAP)
            len++;
        assert_int_equal(s->len, len);
        for (uint32_t i = 1; i < s->len; i++)
            assert_true(s->v[i - 1] <= s->v[i]);
        double m = vg_sorted_median(s);
        assert_double_near(m, brute_median(ring, len), 0.0);
        for (uint32_t i = 0; i < len; i++)
            dev[i] = fabs(ring[i] - m);
        assert_double_near(vg_sorted_mad(s, m), brute_median(dev, len), 0.0);
    }
    free(s);
}

static void rebuild_and_missing_values(void **state)
{
    (void)state;
    vg_sorted *s = malloc(vg_sorted_bytes(8));
    assert_non_null(s);
    vg_sorted_init(s, 8);
    const double x[6] = {3.0, NAN, 1.0, INFINITY, 2.0, -INFINITY};
    assert_int_equal(vg_sorted_rebuild(s, x, 6), 3);
    assert_int_equal(s->len, 3);
    assert_true(s->v[0] == 1.0 && s->v[1] == 2.0 && s->v[2] == 3.0);
    assert_int_equal(vg_sorted_remove(s, 2.5), -1);
    assert_int_equal(vg_sorted_remove(s, 4.0), -1);
    assert_int_equal(s->len, 3);
    assert_double_near(vg_sorted_median(s), 2.0, 0.0);
    assert_double_near(vg_sorted_mad(s, 2.0), 1.0, 0.0);
    /* MAD about a center outside the values. */
    assert_double_near(vg_sorted_mad(s, 10.0), 8.0, 0.0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tracks_a_sliding_window),
        cmocka_unit_test(rebuild_and_missing_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
