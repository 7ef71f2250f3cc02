/* Guards against the known false-positive traps of streaming detectors,
 * applied to the final score of every point, whatever the detectors are:
 *
 *  - counter resets: a series that only ever rises (a counter) and then
 *    drops is being reset, not failing; the drop is not an anomaly. When
 *    it drops to less than half its value (a restart from about 0) the
 *    caller is told (*reset), because what the series' model learned
 *    of the counter's old level must not judge the points after the reset
 *    either (the detectors would expect 142,000 after a reset to 0, and
 *    with a longer calibration history the next points paged:
 *    docs/quality.md, q-reset8). What the pipeline does then
 *    (pipeline_score.c):
 *      restarted: the window and every detector's state (vg_detector_ops
 *        init, as for a new series): their levels, trends, seasonal and
 *        calendar profiles and trees are of the old level; the reset point
 *        is the first of the new run and the detectors' own warm-ups keep
 *        the next points from scoring until they know the new level;
 *      kept: the ensemble's calibration, refractory peak and tail (how
 *        surprised each detector usually is on this series, not its
 *        level), the alert and its paging warm-up (already over: the
 *        detectors' warm-ups do that job again), the feedback floors;
 *      disrupted, not restarted: the long-run range (vg_baseline_disrupted,
 *        as for every point a guard sets aside: the settled range does
 *        not page until a calm day; its decayed extremes only widen the
 *        paging floors);
 *    no state is added: the guard knows the reset at the point itself;
 *  - gaps: the first points after a gap much longer than the series' usual
 *    step compare against stale history; their scores are damped.
 *
 * (Flat and sparse series are handled where the knowledge is: the
 * detectors' deviation floors and the ensemble's per-series calibration.) */
#ifndef VG_ENGINE_GUARD_H
#define VG_ENGINE_GUARD_H

#include <jansson.h>
#include <stdint.h>

#include "core/config_table.h"
#include "core/error.h"

typedef struct vg_guard_params {
    int      counter_resets;  /* bool */
    uint32_t counter_min_run; /* rises in a row that make a series a counter */
    double   gap_factor;      /* a gap is a step this many times the usual one */
    uint32_t gap_grace;       /* points damped after a gap */
} vg_guard_params;

/* Per-series guard state; embedded in the series block. */
typedef struct vg_guard {
    double   prev_value;
    double   step_ms;     /* exponentially weighted usual step */
    int64_t  prev_ts;
    uint32_t rises;       /* rises since the last fall */
    uint32_t grace;       /* points left to damp after a gap */
} vg_guard;

int vg_guard_configure(vg_guard_params *params, const vg_conf_doc *doc,
                       const json_t *cfg, vg_error *err);
void vg_guard_init(vg_guard *g);

/* Prints the reference of the "guards" keys. */
void vg_guard_describe(void *file /* FILE* */);

/* Returns the score to use for this point: `score`, or 0 when a guard
 * applies. *reset (NULL-able) is set to 1 when the point is a counter's
 * restart (see above), else 0. Call once per point, in order. */
double vg_guard_apply(vg_guard *g, const vg_guard_params *params, int64_t ts_ms,
                      double value, double score, int *reset);

#endif
