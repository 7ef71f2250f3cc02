/* Season length from the autocorrelation peak; see period.h.
 *
 * The FFT runs over a power-of-two buffer at least 2n long: the real FFT of
 * the zero-padded series, its power spectrum written back in GSL's
 * half-complex layout, and the inverse give sum_i x[i] x[i+k] for every lag
 * k without the circular wrap a length-n transform would add. */
#include "detectors/period.h"

#include <gsl/gsl_fft_halfcomplex.h>
#include <gsl/gsl_fft_real.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Fewer points than this never make a season. */
#define PERIOD_MIN_POINTS 8
/* Values are clipped this many median absolute deviations from the median
 * before the autocorrelation (a season's own swing stays well inside). */
#define WINSOR_MADS 5.0

static size_t fft_len(size_t n)
{
    size_t m = 1;
    while (m < 2 * n)
        m *= 2;
    return m;
}

size_t vg_period_work_len(size_t n)
{
    /* The FFT buffer, then a copy of the detrended series for refining. */
    return fft_len(n < PERIOD_MIN_POINTS ? PERIOD_MIN_POINTS : n) + n;
}

/* Removes the least-squares line from x[0..n). Returns 0 when x is not all
 * finite. */
static int detrend(double *x, size_t n)
{
    double mean_i = (double)(n - 1) / 2.0, mean_x = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return 0;
        mean_x += x[i];
    }
    mean_x /= (double)n;
    double sxy = 0.0, sxx = 0.0;
    for (size_t i = 0; i < n; i++) {
        double di = (double)i - mean_i;
        sxy += di * (x[i] - mean_x);
        sxx += di * di;
    }
    double slope = sxy / sxx;
    for (size_t i = 0; i < n; i++)
        x[i] -= mean_x + slope * ((double)i - mean_i);
    return 1;
}

/* Clips x[0..n) to median +- WINSOR_MADS MADs; scratch holds n doubles.
 * A few large spikes would otherwise own the variance, and the daily
 * cycle of a spiky series would correlate below the bound. A series whose
 * MAD is 0 (mostly one value) is left alone: its blips are its signal. */
static void winsorise(double *x, size_t n, double *scratch)
{
    /* quickselect (GSL): O(n), once per series */
    memcpy(scratch, x, n * sizeof(double));
    double median = gsl_stats_select(scratch, 1, n, n / 2);
    for (size_t i = 0; i < n; i++)
        scratch[i] = fabs(x[i] - median);
    double reach = WINSOR_MADS * gsl_stats_select(scratch, 1, n, n / 2);
    if (!(reach > 0.0))
        return;
    for (size_t i = 0; i < n; i++)
        x[i] = fmin(fmax(x[i], median - reach), median + reach);
}

/* Replaces the zero-padded series in work[0..m) by its autocovariance sums
 * work[k] = sum_i x[i] x[i+k]. */
static void autocovariance(double *work, size_t m)
{
    gsl_fft_real_radix2_transform(work, 1, m);
    /* Radix-2 half-complex: work[k] = Re, work[m-k] = Im for 0 < k < m/2. */
    work[0] *= work[0];
    work[m / 2] *= work[m / 2];
    for (size_t k = 1; k < m / 2; k++) {
        work[k] = work[k] * work[k] + work[m - k] * work[m - k];
        work[m - k] = 0.0;
    }
    gsl_fft_halfcomplex_radix2_inverse(work, 1, m);
}

/* Whether the correlation at lag k repeats at 2k (within a point per
 * repetition and one per 50): a season shows up twice, a random walk that
 * happened to wander back once rarely does. */
static int repeats(const double *acf, size_t k, size_t kmax, double bound)
{
    size_t slack = 1 + k / 50;
    for (size_t j = 2 * k - slack; j <= 2 * k + slack && j <= kmax; j++)
        if (acf[j] >= bound)
            return 1;
    return 0;
}

/* Mean squared error of x[0..n) around its profile folded at length q,
 * per degree of freedom; prof holds q doubles of scratch. */
static double fold_error(const double *x, size_t n, size_t q, double *prof)
{
    /* One cycle of q values at a time: the same additions in the same
     * order as a running fold index, without its test per value, and the
     * profile's sums vectorise. */
    memset(prof, 0, q * sizeof(*prof));
    for (size_t i = 0; i < n; i += q) {
        const size_t m = n - i < q ? n - i : q;
        for (size_t f = 0; f < m; f++)
            prof[f] += x[i + f];
    }
    for (size_t f = 0; f < q; f++)
        prof[f] /= (double)((n - f + q - 1) / q);
    double sse = 0.0;
    for (size_t i = 0; i < n; i += q) {
        const size_t m = n - i < q ? n - i : q;
        for (size_t f = 0; f < m; f++) {
            double d = x[i + f] - prof[f];
            sse += d * d;
        }
    }
    return sse / (double)(n - q);
}

/* The autocorrelation peak is only near the period: the edges of a series
 * holding a few cycles bias it by a point or two. The exact length is the
 * one whose folded profile fits the series best, searched around the peak. */
static size_t refine(const double *x, size_t n, size_t lag, size_t min_p, size_t max_p,
                     double *prof)
{
    size_t span = 2 + lag / 16;
    size_t lo = lag > min_p + span ? lag - span : min_p;
    size_t hi = lag + span < max_p ? lag + span : max_p;
    size_t best = lag;
    double best_err = fold_error(x, n, lag, prof);
    for (size_t q = lo; q <= hi; q++) {
        double err = fold_error(x, n, q, prof);
        if (err < best_err) {
            best_err = err;
            best = q;
        }
    }
    return best;
}

/* Whether lag `best` is a whole multiple (> 1) of lag c. Broad peaks wander
 * by a few lags with the noise, so it may be off by 1/25 of best. */
static int is_multiple(size_t best, size_t c)
{
    size_t j = (best + c / 2) / c;
    if (j < 2)
        return 0;
    size_t near = j * c;
    size_t off = near > best ? near - best : best - near;
    return off <= 1 + best / 25;
}

/* A candidate season: a local maximum that is strong enough and repeats. */
static int qualifies(const double *acf, size_t k, size_t kmax, double bound)
{
    return acf[k] > acf[k - 1] && acf[k] >= acf[k + 1] && acf[k] >= bound &&
           repeats(acf, k, kmax, bound);
}

void vg_period_find_inplace(double *work, size_t n, size_t min_p, size_t max_p,
                            vg_period_result *r)
{
    memset(r, 0, sizeof(*r));
    r->bound = VG_PERIOD_MIN_ACF;
    if (min_p < 2)
        min_p = 2;
    /* Four cycles at least: over fewer, a random walk that wandered back
     * looks as periodic as a season. */
    if (max_p > n / VG_PERIOD_MIN_CYCLES)
        max_p = n / VG_PERIOD_MIN_CYCLES;
    if (n < PERIOD_MIN_POINTS || min_p > max_p || !detrend(work, n))
        return;

    size_t m = vg_period_work_len(n) - n;
    double *x = work + m;
    /* Clipping moves the mean (the spikes were one-sided): detrend again,
     * or the offset would correlate at every lag. */
    winsorise(work, n, x);
    detrend(work, n);
    memcpy(x, work, n * sizeof(double));
    memset(work + n, 0, (m - n) * sizeof(double));
    autocovariance(work, m);
    double c0 = work[0] / (double)n;
    if (!(c0 > 0.0) || !isfinite(c0))
        return;
    /* work[k] becomes the unbiased autocorrelation up to kmax < n. */
    size_t kmax = 2 * max_p + 2 + max_p / 50;
    if (kmax > n - 1)
        kmax = n - 1;
    for (size_t k = 1; k <= kmax; k++)
        work[k] = work[k] / (double)(n - k) / c0;
    work[0] = 1.0;

    double sig = 2.0 / sqrt((double)n);
    r->bound = sig > VG_PERIOD_MIN_ACF ? sig : VG_PERIOD_MIN_ACF;

    /* A season's correlation first falls below zero (half a period away),
     * then comes back: peaks before that crossing are the slow decay of a
     * trend or a random walk, not a season. */
    size_t start = 1;
    while (start <= max_p && work[start] > 0.0)
        start++;
    if (start < min_p)
        start = min_p;

    size_t best = 0, peak = 0;
    for (size_t k = start; k <= max_p; k++) {
        if (work[k] > work[k - 1] && work[k] >= work[k + 1] &&
            (peak == 0 || work[k] > work[peak]))
            peak = k;
        if (qualifies(work, k, kmax, r->bound) && (best == 0 || work[k] > work[best]))
            best = k;
    }
    r->lag = best ? best : peak;
    r->acf = r->lag ? work[r->lag] : 0.0;
    if (best == 0)
        return;

    /* Prefer the fundamental: the shortest strong peak the best repeats. */
    for (size_t k = start; k < best; k++) {
        if (work[k] >= VG_PERIOD_FUNDAMENTAL_SHARE * r->acf && is_multiple(best, k) &&
            qualifies(work, k, kmax, r->bound)) {
            r->lag = k;
            r->acf = work[k];
            break;
        }
    }
    /* work[0..m) is free again: scratch for the folded profiles. */
    r->period = refine(x, n, r->lag, min_p, max_p, work);
}

int vg_period_find(const double *x, size_t n, size_t min_p, size_t max_p,
                   vg_period_result *r)
{
    double *work = malloc(vg_period_work_len(n) * sizeof(*work));
    if (work == NULL) {
        memset(r, 0, sizeof(*r));
        return VG_ENOMEM;
    }
    if (n > 0)
        memcpy(work, x, n * sizeof(*work));
    vg_period_find_inplace(work, n, min_p, max_p, r);
    free(work);
    return VG_OK;
}
