/* The ensemble: calibrates each detector's score per series, then combines
 * them; see ensemble.h.
 *
 * Calibration works on surprise, u = -log10(1 - score): for a detector whose
 * scores are honest tail probabilities (1 - p with p uniform on normal
 * data), u is exponential with mean 1/ln 10. On a series where a detector
 * over-reports (heavy tails, spiky or sparse data), its mean surprise m is
 * larger; modelling u's tail as exponential with that mean gives the
 * calibrated tail P(U > u) = exp(-u/m), i.e. a calibrated surprise of
 * u / (m ln 10). m is an exponentially weighted mean over about `history`
 * points, floored at the honest 1/ln 10 so calibration only ever damps a
 * detector (a quiet series must not turn small blips into alarms), and each
 * point's contribution is capped at `cap` times m so one incident does not
 * hide the next. O(1) and 16 bytes per detector per series. */
#include "detectors/ensemble.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "detectors/detector.h"

#define HONEST_MEAN 0.43429448190325176  /* 1 / ln 10 */
#define WINSOR_CAP  8.0                  /* exp(-8): a 3e-4 tail */

typedef struct calib {
    double mean_surprise;
    double seen;
} calib;

static const vg_conf_field ensemble_fields[] = {
    {"combine", VG_CONF_ENUM, offsetof(vg_ensemble_params, combine), VG_COMBINE_MAX, 0, 0,
     "max|mean|vote", "how detector scores become one score"},
    {"vote_k", VG_CONF_UINT32, offsetof(vg_ensemble_params, vote_k), 2, 1, 8, NULL,
     "vote: detectors that must reach vote_level"},
    {"vote_level", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, vote_level), 0.99, 0, 1, NULL,
     "vote: score at which a detector votes anomalous"},
    {"calibrate", VG_CONF_BOOL, offsetof(vg_ensemble_params, calibrate), 1, 0, 1, NULL,
     "calibrate each detector against its recent scores on the same series"},
    {"history", VG_CONF_UINT32, offsetof(vg_ensemble_params, history), 2000, 10, 1000000, NULL,
     "calibration: points the recent score distribution spans"},
    {"warmup", VG_CONF_UINT32, offsetof(vg_ensemble_params, warmup), 50, 0, 1000000, NULL,
     "calibration: points a detector must score before calibration damps it"},
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
    for (size_t i = 0; params->calibrate && i < params->n_detectors; i++) {
        c[i].mean_surprise = HONEST_MEAN;
        c[i].seen = 0;
    }
}

static double surprise_of(double score)
{
    if (!(score > 0.0))
        return 0.0;
    if (score >= 1.0)
        return 17.0;  /* beyond double resolution: as surprising as it gets */
    return -log10(1.0 - score);
}

/* The calibrated score of one raw score, then learn from it. */
static double calibrate_one(calib *c, const vg_ensemble_params *params, double raw)
{
    double u = surprise_of(raw);
    double m = c->mean_surprise > HONEST_MEAN ? c->mean_surprise : HONEST_MEAN;
    double out = c->seen < params->warmup ? raw
                                          : vg_score_from_surprise(u * HONEST_MEAN / m);
    /* Scores above the honest scale keep their full resolution: the
     * surprise map is 1 - 10^-s only up to s = 8, so rescaling u keeps the
     * order of very anomalous points. */
    double alpha = 1.0 / (c->seen + 1.0 < params->history ? c->seen + 1.0 : params->history);
    double capped = u < WINSOR_CAP * m ? u : WINSOR_CAP * m;
    c->mean_surprise += alpha * (capped - c->mean_surprise);
    c->seen += 1.0;
    return out;
}

/* k-th largest of n scores (k >= 1): the score the k-th strongest detector
 * gives. A vote passes when it reaches vote_level; the result keeps that
 * detector's resolution instead of collapsing to 0/1. */
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

double vg_ensemble_score(void *state, const vg_ensemble_params *params,
                         const double *raw, double *calibrated)
{
    size_t n = params->n_detectors;
    if (n == 0)
        return 0.0;
    double cal[16];
    vg_assert(n <= 16);
    for (size_t i = 0; i < n; i++)
        cal[i] = params->calibrate ? calibrate_one((calib *)state + i, params, raw[i]) : raw[i];
    if (calibrated != NULL)
        memcpy(calibrated, cal, n * sizeof(*cal));
    raw = cal;

    switch (params->combine) {
    case VG_COMBINE_MEAN: {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += raw[i];
        return sum / (double)n;
    }
    case VG_COMBINE_VOTE:
        return kth_largest(raw, n, params->vote_k);
    default: {
        double best = raw[0];
        for (size_t i = 1; i < n; i++)
            best = raw[i] > best ? raw[i] : best;
        return best;
    }
    }
}

int vg_ensemble_save(const void *state, const vg_ensemble_params *params, vg_writer *out)
{
    const calib *c = state;
    for (size_t i = 0; params->calibrate && i < params->n_detectors; i++) {
        vg_writer_f64(out, c[i].mean_surprise);
        vg_writer_f64(out, c[i].seen);
    }
    return out->failed ? VG_ENOMEM : VG_OK;
}

int vg_ensemble_load(void *state, const vg_ensemble_params *params, vg_reader *in,
                     vg_error *err)
{
    calib *c = state;
    for (size_t i = 0; params->calibrate && i < params->n_detectors; i++) {
        vg_reader_f64(in, &c[i].mean_surprise);
        vg_reader_f64(in, &c[i].seen);
    }
    if (in->failed)
        return vg_error_set(err, VG_EPARSE, "ensemble state truncated");
    return VG_OK;
}

void vg_ensemble_dump(const vg_ensemble_params *params, void *file)
{
    vg_conf_dump(ensemble_fields, VG_CONF_COUNT(ensemble_fields), params, "ensemble", file);
}

void vg_ensemble_describe(void *file)
{
    vg_conf_describe(ensemble_fields, VG_CONF_COUNT(ensemble_fields), "ensemble", file);
}
