/* Automatic season length: the lag of the strongest autocorrelation peak.
 *
 * The series is detrended (least-squares line removed), clipped at its
 * median +- 5 median absolute deviations (so rare large spikes cannot own
 * the variance and hide a daily cycle) and detrended again, zero-padded to a
 * power of two at least twice its length so the FFT's circular correlation
 * equals the linear one, and its autocorrelation is computed with GSL's
 * radix-2 real FFT (power spectrum, then inverse). Each lag is normalised by
 * its number of pairs (unbiased), so a peak is not pulled towards shorter
 * lags. A season is reported only for a true local maximum past the first
 * zero crossing whose value passes max(VG_PERIOD_MIN_ACF, 2/sqrt(n)) and
 * comes back at twice the lag, within lengths that fit VG_PERIOD_MIN_CYCLES
 * times in the input (seeded random walks never pass these; see the tests).
 * Among peaks nearly as strong as the best, the shortest whose multiple the
 * best is wins, so a daily season is not reported as two days. The peak is
 * then refined to the nearby length whose folded profile fits the series
 * best: over few cycles the autocorrelation peak sits a point or two off. */
#ifndef VG_DETECTORS_PERIOD_H
#define VG_DETECTORS_PERIOD_H

#include <stddef.h>

/* The smallest autocorrelation accepted as a season. */
#define VG_PERIOD_MIN_ACF 0.3
/* A season must fit this many times in the input. */
#define VG_PERIOD_MIN_CYCLES 4
/* Peaks at least this fraction of the best one count as its fundamental. */
#define VG_PERIOD_FUNDAMENTAL_SHARE 0.8

typedef struct vg_period_result {
    size_t period;  /* season length in points; 0 = no season */
    size_t lag;     /* best candidate peak, also when rejected; 0 = none */
    double acf;     /* autocorrelation at `lag` (0 when none) */
    double bound;   /* what acf had to reach to count */
} vg_period_result;

/* Doubles of scratch vg_period_find_inplace() needs for n points. */
size_t vg_period_work_len(size_t n);

/* Finds the season of the n values in work[0..n) among lengths
 * [min_p, max_p] (clamped to [2, n / VG_PERIOD_MIN_CYCLES]); work holds vg_period_work_len(n)
 * doubles and is overwritten. Non-finite values, constant input or fewer
 * than 2 * min_p points give period 0. Never allocates. */
void vg_period_find_inplace(double *work, size_t n, size_t min_p, size_t max_p,
                            vg_period_result *r);

/* As above on a copy of x[0..n) (x is not modified). Returns 0, or
 * VG_ENOMEM when the scratch cannot be allocated (r then says no season). */
int vg_period_find(const double *x, size_t n, size_t min_p, size_t max_p,
                   vg_period_result *r);

#endif
