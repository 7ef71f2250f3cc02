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
 *  - Settled range: the long-run range as it stood at the last midnight
 *    (UTC), before any point of the day in progress. A value beyond it by
 *    more than `alert.beyond_range` of its width for `alert.beyond_for_s`
 *    is anomalous whatever the detectors say: they follow a slow drift point by point, the settled
 *    range does not. It exists once the series has a whole day behind it,
 *    and pages only when one of the last two days was calm (its learned
 *    points all stayed within that margin): a series that leaves its range
 *    every day (a counter, a fast trend) is doing what it always does; a
 *    drift that began before midnight still pages after it.
 *  - Warm-up: a series pages once it has learned `alert.warmup_points`
 *    points over `alert.warmup_s` seconds since its first one.
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
    double settled_hi, settled_lo;  /* the range at the last midnight (NaN: none yet) */
    int64_t first_ms;      /* timestamp of the first learned point */
    int64_t day;           /* UTC day (from the epoch) of the last learned point */
    int32_t went_beyond;   /* a learned point of that day was beyond the settled range */
    int32_t calm_before;   /* the day before it had a settled range and stayed within */
    int32_t calm;          /* ... or the day before that: the settled range may page */
    int64_t beyond_since;  /* first point of the current run beyond the settled range */
} vg_baseline;

void vg_baseline_init(vg_baseline *b);

/* Learns one normal point at ts_ms into the long-run range. */
void vg_baseline_learn(vg_baseline *b, const vg_alert_params *params, int64_t ts_ms,
                       double value);

/* A point the guards set aside (a counter reset, the first after a gap),
 * or a level an incident accepted: the series' level jumped for a known
 * reason, so the next day is not calm and the settled range does not page
 * until one is. */
void vg_baseline_disrupted(vg_baseline *b);

/* 1 once the series may page at ts_ms (its warm-up is over). */
int vg_baseline_warm(const vg_baseline *b, const vg_alert_params *params, int64_t ts_ms);

/* 1 when `value` at ts_ms lies beyond the settled range by more than
 * alert.beyond_range of its width, passing the paging floors, on a side
 * alert.direction allows, and the points have stayed so for
 * alert.beyond_for_s. Called on every point (it times the run). */
int vg_baseline_beyond(vg_baseline *b, const vg_alert_params *params, int64_t ts_ms,
                       double value);

/* The value a deviation is measured from: `expected` when it is a number,
 * else the long-run mean (NaN before any point). */
double vg_baseline_reference(const vg_baseline *b, double expected);

/* 1 when a deviation of `value` from `expected` passes every paging floor
 * and lies on a side alert.direction allows. `swing` (NaN-able): the part
 * of the long-run range a season accounts for when `expected` is that
 * season's; alert.min_range then judges against the range less it. */
int vg_baseline_pages(const vg_baseline *b, const vg_alert_params *params, double expected,
                      double swing, double value);

/* Remembers the baseline of an incident beginning now: `expected` and the
 * half band (lower, upper; NaN-able), widened to the paging floors (with
 * `swing` as in vg_baseline_pages). */
void vg_baseline_begin(vg_baseline *b, const vg_alert_params *params, double expected,
                       double swing, double lower, double upper);

/* 1 while `value` lies outside the incident's baseline band around
 * `expected` (the pre-incident model's expectation now, NaN-able: then the
 * expectation when the incident began). */
int vg_baseline_outside(const vg_baseline *b, double expected, double value);

#endif
