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

static double scalar_sum_sq_dev(const double *x, size_t n, double mean)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean;
        s += d * d;
    }
    return s;
}

static const vg_kernels scalar_kernels = {
    .name       = "scalar",
    .sum        = scalar_sum,
    .sum_sq_dev = scalar_sum_sq_dev,
};

const vg_kernels *vg_kernels_scalar(void)
{
    return &scalar_kernels;
}
