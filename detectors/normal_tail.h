/* Scores for how far out a standard normal deviate lies, two-sided.
 *
 * Shared by the detectors whose residuals are taken as normal (zscore, and
 * any band-based detector): score = vg_score_from_surprise(-log10 p) with
 * p = P(|Z| >= az) = erfc(az / sqrt 2). Fast enough to call per point:
 * a z-score detector spends most of its time here otherwise. */
#ifndef VG_DETECTORS_NORMAL_TAIL_H
#define VG_DETECTORS_NORMAL_TAIL_H

/* -log10 P(|Z| >= az) for az >= 0, in log space (GSL's log_erfc, then its
 * asymptote), so it stays finite and increasing far past where p
 * underflows; +inf only once az*az overflows. NaN gives NaN. */
double vg_normal_tail_surprise(double az);

/* vg_score_from_surprise(vg_normal_tail_surprise(az)), in [0,1): for
 * az < 5.6 (p > 2e-8, where that is exactly 1 - p = erf(az / sqrt 2)) from
 * a table and a short Taylor series, within 4e-16 of erf; beyond, in log
 * space. NaN gives 0. Thread-safe. */
double vg_normal_tail_score(double az);

#endif
