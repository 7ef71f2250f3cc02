/* Evidence of a run of same-signed deviations; see run_evidence.h. */
#include "engine/run_evidence.h"

#include <math.h>

#include "detectors/detector.h"
#include "detectors/ensemble.h"

/* The CUSUM's reference k and the walk's exponent theta for VG_RUN_GAIN. */
#define RUN_THETA (1.0 - 1.0 / VG_RUN_GAIN)
#define RUN_K     (log(VG_RUN_GAIN) / RUN_THETA)

void vg_run_reset(vg_run *r)
{
    r->evidence = 0.0f;
    r->sum = 0.0f;
    r->n = 0;
}

int vg_run_open(const vg_run *r)
{
    return r->evidence > 0.0f;
}

void vg_run_step(vg_run *r, double deviation, double score)
{
    double u = M_LN10 * vg_ensemble_surprise(score);  /* 0 for NaN */
    if (isnan(deviation) || isnan(score) || deviation == 0.0) {
        vg_run_reset(r);
        return;
    }
    /* A point on the other side ends the run and may start one. */
    if (r->n > 0 && (deviation > 0.0) != (r->sum > 0.0f))
        vg_run_reset(r);
    double s = (double)r->evidence + u - RUN_K;
    if (!(s > 0.0)) {  /* the evidence is spent: no run (the next starts afresh) */
        vg_run_reset(r);
        return;
    }
    r->evidence = (float)(s < 1e30 ? s : 1e30);  /* +inf surprise: a float's worth */
    r->sum += (float)deviation;
    r->n += r->n < UINT32_MAX;
}

double vg_run_score(const vg_run *r)
{
    if (!vg_run_open(r))
        return 0.0;
    /* 1 - (1/m) exp(-theta S), through the shared map so that very high
     * runs keep their order. */
    double decades = (RUN_THETA * (double)r->evidence + log(VG_RUN_GAIN)) / M_LN10;
    return vg_score_from_surprise(decades);
}
