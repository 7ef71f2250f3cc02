/* The ensemble: calibrates each detector's score per series, then combines
 * them; see ensemble.h.
 *
 * Calibration is an anomaly likelihood (Ahmad et al. 2017, the HTM
 * detector's last stage), one per detector per series:
 *  - a raw score becomes its surprise u = -log10(1 - score), undoing
 *    vg_score_from_surprise exactly, so far tails keep their order;
 *  - a short-term mean of u (an EWMA over about `short` points) says how
 *    surprising the series has been lately: one wild point counts a little,
 *    a run of odd points counts a lot;
 *  - its long-term mean and variance (EWMAs over about `history` points)
 *    say what is usual for this detector on this series: a detector that
 *    always over-reports (a noiseless series, a heavy-tailed one) has a
 *    high mean and spread, and is damped by them;
 *  - the calibrated surprise is the Gaussian upper tail of the short-term
 *    mean's z-score against the long-term distribution, in log space.
 * Every detector's calibrated surprise is then on the same scale on every
 * series ("how rare is this for this series and detector"), so they can be
 * combined: the default adds them (independent evidence multiplies
 * probabilities) and then removes log10(n) per detector's worth of
 * multiple testing... see combine(). */
#include "detectors/ensemble.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/normal_tail.h"

#define KNEE 8.0            /* vg_score_from_surprise's knee */
#define MAX_SURPRISE 300.0  /* raw surprises above are capped (≈ a 1e-300 tail) */

typedef struct calib {
    double mean;    /* long-term mean of the short-term surprise */
    double var;     /* its long-term variance */
    double recent;  /* short-term mean of the raw surprise */
    double seen;    /* points calibrated */
} calib;

static const vg_conf_field ensemble_fields[] = {
    {"combine", VG_CONF_ENUM, offsetof(vg_ensemble_params, combine), VG_COMBINE_SUM, 0, 0,
     "max|mean|vote|sum", "how detector scores become one score"},
    {"vote_k", VG_CONF_UINT32, offsetof(vg_ensemble_params, vote_k), 2, 1, 8, NULL,
     "vote: detectors that must reach vote_level"},
    {"vote_level", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, vote_level), 0.99, 0, 1, NULL,
     "vote: score at which a detector votes anomalous"},
    {"calibrate", VG_CONF_BOOL, offsetof(vg_ensemble_params, calibrate), 1, 0, 1, NULL,
     "calibrate each detector against its recent scores on the same series"},
    {"history", VG_CONF_UINT32, offsetof(vg_ensemble_params, history), 2000, 10, 1000000, NULL,
     "calibration: points the long-term score distribution spans"},
    {"short", VG_CONF_UINT32, offsetof(vg_ensemble_params, short_span), 10, 1, 10000, NULL,
     "calibration: points the short-term mean spans"},
    {"min_sd", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, min_sd), 0.05, 1e-6, 100, NULL,
     "calibration: floor on the long-term spread of the short-term surprise"},
    {"cap", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, cap), 30, 1, 300, NULL,
     "calibration: raw surprise cap (-log10 of the smallest tail a detector may claim)"},
    {"warmup", VG_CONF_UINT32, offsetof(vg_ensemble_params, warmup), 100, 0, 1000000, NULL,
     "calibration: points a detector must score before its calibrated score counts"},
};

int vg_ensemble_configure(vg_ensemble_params *params, const vg_conf_doc *doc,
                          const json_t *cfg, size_t n_detectors, vg_error *err)
{
    memset(params, 0, sizeof(*params));
    int rc = vg_conf_apply(doc, cfg, "ensemble", ensemble_fields,
                           VG_CONF_COUNT(ensemble_fields), NULL, params, err);
    if (rc != VG_OK)
        return rc;
    params->n_detectors = n_detectors;
    if (params->combine == VG_COMBINE_VOTE && params->vote_k > n_detectors)
        return vg_error_set_at(err, VG_ECONFIG, "ensemble.vote_k",
                               "ensemble.vote_k: %u exceeds the %zu enabled detectors",
                               params->vote_k, n_detectors);
    return VG_OK;
}

size_t vg_ensemble_state_size(const vg_ensemble_params *params)
{
    return params->calibrate ? params->n_detectors * sizeof(calib) : 0;
}

void vg_ensemble_init(void *state, const vg_ensemble_params *params)
{
    calib *c = state;
    for (size_t i = 0; params->calibrate && i < params->n_detectors; i++)
        memset(&c[i], 0, sizeof(c[i]));
}

double vg_ensemble_surprise(double score)
{
    if (!(score > 0.0))
        return 0.0;
    if (score >= 1.0)
        return INFINITY;
    double p = 1.0 - score;
    if (p >= 1e-8)
        return -log10(p);
    /* vg_score_from_surprise's slow tail: p = 1e-8 / (1 + ln(s / KNEE)). */
    return KNEE * exp(1e-8 / p - 1.0);
}

/* The calibrated surprise of one raw score, then learn from it. */
static double calibrate_one(calib *c, const vg_ensemble_params *params, double raw)
{
    double u = vg_ensemble_surprise(raw);
    u = u < params->cap ? u : params->cap;
    double a_short = 2.0 / (params->short_span + 1.0);
    c->recent += a_short * (u - c->recent);

    double sd = sqrt(c->var);
    sd = sd > params->min_sd ? sd : params->min_sd;
    double z = (c->recent - c->mean) / sd;
    double out = 0.0;
    if (c->seen >= params->warmup && z > 0.0)  /* one-sided: P(Z >= z) */
        out = vg_normal_tail_surprise(z) - M_LOG10E * M_LN2;
    out = out > 0.0 ? out : 0.0;

    double n = c->seen + 1.0 < params->history ? c->seen + 1.0 : params->history;
    double a = 1.0 / n, d = c->recent - c->mean;
    c->mean += a * d;
    c->var = (1.0 - a) * (c->var + a * d * d);
    c->seen += 1.0;
    return out;
}

/* k-th largest of n values (k >= 1). */
static double kth_largest(const double *s, size_t n, size_t k)
{
    double sorted[16];
    size_t m = n < 16 ? n : 16;
    for (size_t i = 0; i < m; i++) {
        size_t j = i;
        while (j > 0 && sorted[j - 1] < s[i]) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = s[i];
    }
    return sorted[(k <= m ? k : m) - 1];
}

/* Combines n surprises into one. */
static double combine(const vg_ensemble_params *params, const double *u, size_t n)
{
    switch (params->combine) {
    case VG_COMBINE_MEAN: {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += u[i];
        return sum / (double)n;
    }
    case VG_COMBINE_SUM: {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += u[i];
        return sum;
    }
    case VG_COMBINE_VOTE:
        return kth_largest(u, n, params->vote_k);
    default: {
        double best = u[0];
        for (size_t i = 1; i < n; i++)
            best = u[i] > best ? u[i] : best;
        return best - log10((double)n);
    }
    }
}

double vg_ensemble_score(void *state, const vg_ensemble_params *params,
                         const double *raw, double *calibrated)
{
    size_t n = params->n_detectors;
    if (n == 0)
        return 0.0;
    double u[16];
    vg_assert(n <= 16);
    for (size_t i = 0; i < n; i++)
        u[i] = params->calibrate ? calibrate_one((calib *)state + i, params, raw[i])
                                 : vg_ensemble_surprise(raw[i]);
    if (calibrated != NULL)
        for (size_t i = 0; i < n; i++)
            calibrated[i] = vg_score_from_surprise(u[i]);
    return vg_score_from_surprise(combine(params, u, n));
}

int vg_ensemble_save(const void *state, const vg_ensemble_params *params, vg_writer *out)
{
    const calib *c = state;
    for (size_t i = 0; params->calibrate && i < params->n_detectors; i++) {
        vg_writer_f64(out, c[i].mean);
        vg_writer_f64(out, c[i].var);
        vg_writer_f64(out, c[i].recent);
        vg_writer_f64(out, c[i].seen);
    }
    return out->failed ? VG_ENOMEM : VG_OK;
}

int vg_ensemble_load(void *state, const vg_ensemble_params *params, vg_reader *in,
                     vg_error *err)
{
    calib *c = state;
    for (size_t i = 0; params->calibrate && i < params->n_detectors; i++) {
        vg_reader_f64(in, &c[i].mean);
        vg_reader_f64(in, &c[i].var);
        vg_reader_f64(in, &c[i].recent);
        vg_reader_f64(in, &c[i].seen);
    }
    if (in->failed)
        return vg_error_set(err, VG_EPARSE, "ensemble state truncated");
    return VG_OK;
}
