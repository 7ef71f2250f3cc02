/* Two-sided normal tail scores; see normal_tail.h.
 *
 * The body: libm's erf costs ~50 ns of latency here, more than the rest of
 * a z-score point. erf is smooth, so it is expanded in a Taylor series
 * about the nearest of nodes 1/128 apart, whose values and coefficients
 * are filled once, before main, from libm: with |h| <= 1/256 the terms up
 * to h^5 leave a truncation error below 2e-17; with rounding the result
 * stays within 4e-16 of erf.
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

/* Per node a = k / 128: erf(a) and the Taylor coefficients of
 * erf(a + h) - erf(a) for h^1..h^5, D * c_n with D = erf'(a) and
 * c_n = (-1)^(n-1) H_(n-1)(a) / n!. Precomputed so that a point costs one
 * Horner chain: 24 KiB. */
static struct node {
    double erf;
    double c[5];
} table[NODES];

__attribute__((constructor)) static void fill_table(void)
{
    for (int k = 0; k < NODES; k++) {
        double a = (double)k / STEPS_PER_UNIT, a2 = a * a;
        double d = M_2_SQRTPI * exp(-a * a);
        table[k].erf = erf(a);
        table[k].c[0] = d;
        table[k].c[1] = d * -a;
        table[k].c[2] = d * (2.0 * a2 - 1.0) / 3.0;
        table[k].c[3] = d * -a * (2.0 * a2 - 3.0) / 6.0;
        table[k].c[4] = d * (4.0 * a2 * a2 - 12.0 * a2 + 3.0) / 30.0;
    }
}

static double table_erf(double x)
{
    int k = (int)(x * STEPS_PER_UNIT + 0.5);
    const struct node *n = &table[k];
    double h = x - (double)k / STEPS_PER_UNIT;
    double poly = n->c[0] + h * (n->c[1] + h * (n->c[2] + h * (n->c[3] + h * n->c[4])));
    return n->erf + h * poly;
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
