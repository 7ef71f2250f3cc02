/* Two-sided normal tail scores; see normal_tail.h.
 *
 * The body: libm's erf costs ~50 ns of latency here, more than the rest of
 * a z-score point. erf is smooth, so it is tabulated with its derivative
 * at nodes 1/128 apart (filled once, before main, from libm) and expanded
 * in a Taylor series about the nearest node: with |h| <= 1/256 the terms
 * up to h^5 leave an error below 2e-17, under the rounding of the result.
 * The derivatives of erf are Hermite polynomials times its first
 * derivative D = (2 / sqrt pi) exp(-a^2). */
#include "detectors/normal_tail.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_erf.h>
#include <math.h>

#include "detectors/detector.h"

#define Z_BODY 5.6              /* below: the table; p(5.6) ~ 2.1e-8 */
#define STEPS_PER_UNIT 128
#define NODES 508               /* nearest node of 5.6 / sqrt 2 = 3.96 is 507 */

static double erf_at[NODES];    /* erf(k / 128) */
static double slope_at[NODES];  /* erf'(k / 128) */

__attribute__((constructor)) static void fill_table(void)
{
    for (int k = 0; k < NODES; k++) {
        double a = (double)k / STEPS_PER_UNIT;
        erf_at[k] = erf(a);
        slope_at[k] = M_2_SQRTPI * exp(-a * a);
    }
}

static double table_erf(double x)
{
    int k = (int)(x * STEPS_PER_UNIT + 0.5);
    double a = (double)k / STEPS_PER_UNIT, h = x - a, a2 = a * a;
    /* erf(a + h) = erf(a) + D * sum c_n h^n, c_n = (-1)^(n-1) H_(n-1)(a) / n! */
    double c2 = -a;
    double c3 = (2.0 * a2 - 1.0) * (1.0 / 3.0);
    double c4 = -a * (2.0 * a2 - 3.0) * (1.0 / 6.0);
    double c5 = (4.0 * a2 * a2 - 12.0 * a2 + 3.0) * (1.0 / 30.0);
    double poly = h * (1.0 + h * (c2 + h * (c3 + h * (c4 + h * c5))));
    return erf_at[k] + slope_at[k] * poly;
}

double vg_normal_tail_surprise(double az)
{
    double x = az * M_SQRT1_2;
    if (isnan(x))
        return NAN;
    /* GSL returns NaN from about x = 1e62; past 1e8 the asymptotic series'
     * first correction, 1/(2x^2), is below double precision anyway. */
    if (x > 1e8)
        return (x * x + log(x) + 0.5 * log(M_PI)) / M_LN10;
    gsl_sf_result r;
    if (gsl_sf_log_erfc_e(x, &r) != GSL_SUCCESS)
        return NAN;
    return -r.val / M_LN10;
}

double vg_normal_tail_score(double az)
{
    if (az < Z_BODY)   /* false for NaN */
        return az > 0.0 ? table_erf(az * M_SQRT1_2) : 0.0;
    return vg_score_from_surprise(vg_normal_tail_surprise(az));
}
