/* What "normal" is for one series, as the alert decision sees it: the
 * series' long-run range, and the baseline an incident is judged against.
 *
 *  - Long-run range: a mean and high and low extremes that decay towards it
 *    over about `alert.range_span` learned points, so a long-gone outlier
 *    does not widen the range forever. Points of an incident are not
 *    learned, so a fault never becomes part of the range.
 *  - Paging floors: a point can only page when its deviation from the
 *    expected value passes every floor (alert.min_deviation,
 *    alert.min_change of the level unless the deviation exceeds the whole
 *    long-run range, alert.min_range of the long-run range). They are what
 *    keeps sub-1 % moves of near-flat series and 0 -> small blips of
 *    mostly-zero series from paging, measured against each series' own
 *    range rather than constants tuned per series. A rule may add its own
 *    suppression: a direction (alert.direction) and a strict relative floor
 *    (alert.min_relative).
 *  - Incident baseline: the expected value and band when the incident
 *    began; while the value stays outside that band the incident stays
 *    firing, whatever the score of the moment says. */
#ifndef VG_ENGINE_BASELINE_H
#define VG_ENGINE_BASELINE_H

#include <stdint.h>

#include "engine/alert.h"

/* Per-series; embedded in the series head. */
typedef struct vg_baseline {
    double mean, hi, lo;   /* long-run mean and decayed extremes */
    double n;              /* points learned, for the early EWMA length */
    double expected;       /* the incident's baseline value (NaN: none) */
    double band;           /* its half band: farther away is still abnormal */
} vg_baseline;

void vg_baseline_init(vg_baseline *b);

/* Learns one normal point into the long-run range. */
void vg_baseline_learn(vg_baseline *b, const vg_alert_params *params, double value);

/* The value a deviation is measured from: `expected` when it is a number,
 * else the long-run mean (NaN before any point). */
double vg_baseline_reference(const vg_baseline *b, double expected);

/* 1 when a deviation of `value` from `expected` passes every paging floor
 * and lies on a side alert.direction allows. */
int vg_baseline_pages(const vg_baseline *b, const vg_alert_params *params, double expected,
                      double value);

/* Remembers the baseline of an incident beginning now: `expected` and the
 * half band (lower, upper; NaN-able), widened to the paging floors. */
void vg_baseline_begin(vg_baseline *b, const vg_alert_params *params, double expected,
                       double lower, double upper);

/* 1 while `value` lies outside the incident's baseline band around
 * `expected` (the pre-incident model's expectation now, NaN-able: then the
 * expectation when the incident began). */
int vg_baseline_outside(const vg_baseline *b, double expected, double value);

#endif
