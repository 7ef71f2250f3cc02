/* Guards against the known false-positive traps of streaming detectors,
 * applied to the final score of every point, whatever the detectors are:
 *
 *  - counter resets: a series that only ever rises (a counter) and then
 *    drops is being reset, not failing; the drop is not an anomaly;
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
 * applies. Call once per point, in order. */
double vg_guard_apply(vg_guard *g, const vg_guard_params *params, int64_t ts_ms,
                      double value, double score);

#endif
