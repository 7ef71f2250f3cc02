/* Every kernel set this CPU runs against the scalar reference, on every
 * length from 0 to 67 (all the remainder paths of every vector width) and
 * every alignment a double can have, plus the start-up choice itself. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/kernels.h"

#define MAX_N 67
#define MAX_OFFSET 8   /* doubles: covers every 64-byte alignment */
#define BUF_DOUBLES 80 /* >= MAX_N + MAX_OFFSET, a multiple of 8 for aligned_alloc */

/* Random values around `level`, so sums and deviations are both tested
 * away from zero. */
static void fill(double *x, size_t n, double level, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = level + 10.0 * vg_test_normal(rng);
}

static void sets_agree_with_scalar(void **state)
{
    (void)state;
    const vg_kernels *ref = vg_kernels_scalar();
    double *buf = aligned_alloc(64, BUF_DOUBLES * sizeof(double));
    assert_non_null(buf);
    uint64_t rng = 7;
    for (size_t k = 0; k < vg_kernels_count(); k++) {
        const vg_kernels *ks = vg_kernels_at(k);
        for (size_t off = 0; off < MAX_OFFSET; off++) {
            for (size_t n = 0; n <= MAX_N; n++) {
                double *x = buf + off;
                fill(x, n, 50.0, &rng);
                double abs_sum = 0.0;
                for (size_t i = 0; i < n; i++)
                    abs_sum += fabs(x[i]);
                double s = ks->sum(x, n), r = ref->sum(x, n);
                assert_double_near(s, r, 1e-14 * abs_sum);
                double shift = n > 0 ? r / n : 0.0, abs_dev = 0.0;
                for (size_t i = 0; i < n; i++)
                    abs_dev += fabs(x[i] - shift);
                double d, q, dr, qr;
                ks->dev_sums(x, n, shift, &d, &q);
                ref->dev_sums(x, n, shift, &dr, &qr);
                assert_double_near(d, dr, 1e-14 * abs_dev);
                assert_double_near(q, qr, 1e-13 * qr);
                if (n == 0) {
                    assert_true(s == 0.0 && d == 0.0 && q == 0.0);
                }
            }
        }
    }
    free(buf);
}

/* The corrected two passes keep the mean and variance of values near 1e9
 * with unit spread, where a sum of squares would lose every digit. */
static void two_pass_is_accurate_far_from_zero(void **state)
{
    (void)state;
    enum { N = 10007 };
    double *x = malloc(N * sizeof(double));
    assert_non_null(x);
    uint64_t rng = 11;
    for (size_t i = 0; i < N; i++)
        x[i] = 1e9 + vg_test_normal(&rng);
    /* The sample variance computed in long double as the yardstick. */
    long double lsum = 0.0L, lss = 0.0L;
    for (size_t i = 0; i < N; i++)
        lsum += x[i];
    long double lmean = lsum / N;
    for (size_t i = 0; i < N; i++)
        lss += (x[i] - lmean) * (x[i] - lmean);
    for (size_t k = 0; k < vg_kernels_count(); k++) {
        const vg_kernels *ks = vg_kernels_at(k);
        double shift = ks->sum(x, N) / N, d, q;
        ks->dev_sums(x, N, shift, &d, &q);
        double mean = shift + d / N, var = (q - d * d / N) / (N - 1);
        /* The correction d brings the mean within an ulp or two of 1e9. */
        assert_double_near(mean, (double)lmean, 3e-7);
        assert_double_near(var, (double)(lss / (N - 1)), 1e-9);
    }
    free(x);
}

static void start_up_choice_and_force(void **state)
{
    (void)state;
    size_t n = vg_kernels_count();
    assert_true(n >= 1);
    assert_ptr_equal(vg_kernels_at(0), vg_kernels_scalar());
    assert_null(vg_kernels_at(n));
    /* The default is the last (fastest) set this CPU runs. */
    assert_ptr_equal(vg_kernels_get(), vg_kernels_at(n - 1));
    for (size_t i = 0; i < n; i++) {
        assert_non_null(vg_kernels_at(i)->name);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(vg_kernels_at(i)->name, vg_kernels_at(j)->name);
    }
    vg_kernels_force(vg_kernels_scalar());
    assert_ptr_equal(vg_kernels_get(), vg_kernels_scalar());
    vg_kernels_force(NULL);
    assert_ptr_equal(vg_kernels_get(), vg_kernels_at(n - 1));
#if defined(__x86_64__)
    /* x86-64 always has SSE2, so there is at least one SIMD set to test. */
    assert_true(n >= 2);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sets_agree_with_scalar),
        cmocka_unit_test(two_pass_is_accurate_far_from_zero),
        cmocka_unit_test(start_up_choice_and_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
