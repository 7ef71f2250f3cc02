/* Evidence of a run: consecutive points that deviate from their expected
 * value on the same side, judged as a whole.
 *
 * A fault that develops slowly (a daily peak that does not come, a slow
 * sag) is decisive as a run long before any one point is: its early points
 * are small deviations (under the paging floors), and by the time a point
 * is large the detectors and the ensemble's calibration have learnt it, so
 * no single point pages. A run is judged instead by the ensemble as it was
 * before the run began (the pipeline holds that copy while a run is open,
 * as it does for a pending incident), point by point summed:
 *
 *  - evidence: a CUSUM of the points' surprises u = -ln(1 - score) under
 *    that ensemble, S = max(0, S + u - k); a point on the other side
 *    starts a new run. On honest noise u is exponential with mean 1, and
 *    k = ln m / (1 - 1/m) is the log-likelihood-ratio reference for runs
 *    whose points are m times as surprising (VG_RUN_GAIN, m = 10: a decade
 *    a point);
 *  - its chance: for exponential increments the walk's overshoot is
 *    exponential too, so a run of noise starting at S = 0 ever reaches S
 *    with probability exactly (1/m) exp(-(1 - 1/m) S) (a geometric number
 *    of exponential ladder heights; the side condition only lowers it);
 *    the run's score is 1 minus that, on the same scale as a point's, and
 *    bounds the rate at which noise makes runs that high (at most one run
 *    starts a point);
 *  - its size: the sum and the number of its deviations, so that the
 *    paging floors can judge the run (engine/baseline.h,
 *    vg_baseline_pages_run).
 *
 * 12 bytes, embedded in the series head; saved with it. */
#ifndef VG_ENGINE_RUN_EVIDENCE_H
#define VG_ENGINE_RUN_EVIDENCE_H

#include <stdint.h>

/* m: the runs the CUSUM is tuned for have points m times as surprising as
 * noise (a decade each); smaller m accumulates weaker evidence and admits
 * more noise, larger m is a point rule again. */
#define VG_RUN_GAIN 30.0

typedef struct vg_run {
    float    evidence;  /* S, in nats; 0: no run open */
    float    sum;       /* sum of the run's deviations (its sign is the run's side) */
    uint32_t n;         /* its points */
} vg_run;

void vg_run_reset(vg_run *r);

/* 1 while a run is open (the ensemble before it must be kept). */
int vg_run_open(const vg_run *r);

/* Feeds one point: its deviation from the expected value and its score
 * under the ensemble before the run (NaN deviation or score: the run
 * ends). */
void vg_run_step(vg_run *r, double deviation, double score);

/* 1 - the chance that noise makes a run with this much evidence, in [0, 1)
 * (0 with no run open). */
double vg_run_score(const vg_run *r);

#endif
