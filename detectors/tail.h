/* A series' own tail of its final surprise, to keep the alert threshold
 * honest on that series (docs/quality.md, "Honest calibration").
 *
 * The ensemble's surprise S = -log10(p) is exact for honest detectors, but on
 * spiky, mostly-zero or heavy-tailed series a few kinds of point (a blip off
 * zero, a routine spike) score far out again and again: before this, points
 * above 1 - 1e-5 were 50 times more frequent than nominal on normal server
 * metrics. The tracker counts, per series, how often S has reached each whole
 * level 1..VG_TAIL_LEVELS (decayed over `span` points) and maps S to the
 * surprise of the rate observed there:
 *
 *   r_l = max(10^-l, c_l / (n + prior))   S' = -log10 r(S)
 *
 * with r interpolated log-linearly between levels (beyond the last level S'
 * grows with S, so magnitude is kept). An honest series (c_l near n 10^-l)
 * and a new extreme (c = 0 beyond the series' past) keep S; a point no
 * larger than the series' routine spikes gets their observed rate. S' <= S
 * and S' is non-decreasing in S. `prior` is the evidence, in points, a series
 * needs before its own rate overrides the nominal one. O(1) per point (the
 * counts are weighted, not decayed one by one); 8 (VG_TAIL_LEVELS + 3) bytes. */
#ifndef VG_DETECTORS_TAIL_H
#define VG_DETECTORS_TAIL_H

#include "core/codec.h"
#include "core/error.h"

#define VG_TAIL_LEVELS 32

typedef struct vg_tail {
    double w;       /* weight of the next point (grows: the counts decay) */
    double n;       /* weighted points counted */
    double c[VG_TAIL_LEVELS];   /* weighted points with S >= l + 1 */
} vg_tail;

void vg_tail_init(vg_tail *t);

/* The recalibrated surprise of s (>= 0) for this series; reads only. */
/* The prior: `points` of a typical series whose rate at level l exceeds
 * nominal by `slope` decades a level from level 3 to 5, and 2 slope
 * beyond (tail.c). */
typedef struct vg_tail_prior {
    double points;
    double slope;
} vg_tail_prior;

double vg_tail_surprise(const vg_tail *t, double s, const vg_tail_prior *prior);

/* Counts s, decaying what came before over about `span` points. */
void vg_tail_learn(vg_tail *t, double s, double span);

void vg_tail_save(const vg_tail *t, vg_writer *out);
/* Returns 0, or VG_EPARSE on truncated or impossible input. */
int vg_tail_load(vg_tail *t, vg_reader *in, vg_error *err);

#endif
