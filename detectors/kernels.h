/* Reduction kernels over contiguous arrays of doubles, with a scalar
 * reference and SIMD versions chosen once at start-up.
 *
 * Detectors that keep running statistics over a window recompute them
 * exactly from time to time so rounding never accumulates; these kernels
 * do that recompute. Every set computes the same sums, only the order of
 * the additions differs, so results agree to rounding (the unit test holds
 * each set to the scalar reference). Intrinsics live in the .c files only.
 *
 * Statistics use the corrected two-pass method: shift = sum(x) / n, then
 * one pass for d = sum(x - shift) and q = sum((x - shift)^2), giving
 * mean = shift + d / n and m2 = q - d^2 / n. Unlike the one-pass sum of
 * squares it stays accurate when the mean is large compared to the spread,
 * and d corrects the rounding of the first pass's mean. */
#ifndef VG_DETECTORS_KERNELS_H
#define VG_DETECTORS_KERNELS_H

#include <stddef.h>

typedef struct vg_kernels {
    const char *name;   /* "scalar", "sse2", "avx2", "avx512" */
    /* sum of x[0..n); 0 for n == 0. x needs no particular alignment. */
    double (*sum)(const double *x, size_t n);
    /* *d = sum of (x[i] - shift), *q = sum of (x[i] - shift)^2 over
     * x[0..n); both 0 for n == 0. */
    void (*dev_sums)(const double *x, size_t n, double shift, double *d, double *q);
} vg_kernels;

/* The kernels in use (borrowed, static): the fastest set this CPU runs,
 * picked once before main(), unless vg_kernels_force() chose another. */
const vg_kernels *vg_kernels_get(void);

/* The scalar reference: one accumulator, in index order. */
const vg_kernels *vg_kernels_scalar(void);

/* Every set this CPU can run, scalar first and fastest last. */
size_t vg_kernels_count(void);
const vg_kernels *vg_kernels_at(size_t i);   /* NULL when i >= count */

/* For tests and benches: makes vg_kernels_get() return k (NULL: the
 * start-up choice again). Not thread-safe: call it while nothing scores. */
void vg_kernels_force(const vg_kernels *k);

/* Internal, between kernels_x86.c and kernels.c: writes the SIMD sets this
 * CPU runs into out[cap], slowest first, and returns how many. */
size_t vg__kernels_simd(const vg_kernels **out, size_t cap);

#endif
