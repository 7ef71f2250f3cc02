/* The ensemble: combines the detectors' scores for one point; see
 * ensemble.h. */
#include "detectors/ensemble.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

static const vg_conf_field ensemble_fields[] = {
    {"combine", VG_CONF_ENUM, offsetof(vg_ensemble_params, combine), VG_COMBINE_MAX, 0, 0,
     "max|mean|vote", "how detector scores become one score"},
    {"vote_k", VG_CONF_UINT32, offsetof(vg_ensemble_params, vote_k), 2, 1, 8, NULL,
     "vote: detectors that must reach vote_level"},
    {"vote_level", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, vote_level), 0.99, 0, 1, NULL,
     "vote: score at which a detector votes anomalous"},
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
    (void)params;
    return 0;
}

void vg_ensemble_init(void *state, const vg_ensemble_params *params)
{
    (void)state;
    (void)params;
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
    (void)state;
    size_t n = params->n_detectors;
    if (n == 0)
        return 0.0;
    if (calibrated != NULL)
        memcpy(calibrated, raw, n * sizeof(*raw));

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
    (void)state;
    (void)params;
    (void)out;
    return VG_OK;
}

int vg_ensemble_load(void *state, const vg_ensemble_params *params, vg_reader *in,
                     vg_error *err)
{
    (void)state;
    (void)params;
    (void)in;
    (void)err;
    return VG_OK;
}
