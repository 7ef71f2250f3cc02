/* The scalar reference kernels: one accumulator, index order, exactly as
 * the formulas read. The SIMD sets in kernels_x86.c are checked against
 * these, and benches use them as the baseline. */
#include "detectors/kernels.h"

static double scalar_sum(const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s;
}

static void scalar_dev_sums(const double *x, size_t n, double shift, double *d, double *q)
{
    double sd = 0.0, sq = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = x[i] - shift;
        sd += e;
        sq += e * e;
    }
    *d = sd;
    *q = sq;
}

static const vg_kernels scalar_kernels = {
    .name       = "scalar",
    .sum        = scalar_sum,
    .dev_sums   = scalar_dev_sums,
};

const vg_kernels *vg_kernels_scalar(void)
{
    return &scalar_kernels;
}
