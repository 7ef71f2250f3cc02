/* The ensemble: turns the detectors' raw scores for one point into one
 * final score in [0,1].
 *
 * Each raw score is first calibrated against the same detector's recent
 * scores on the same series (an anomaly likelihood), so 0.99 means "rarer
 * than 99% of what this series usually does" on every series; the
 * calibrated scores are then combined by max, mean or a k-of-n vote. */
#ifndef VG_DETECTORS_ENSEMBLE_H
#define VG_DETECTORS_ENSEMBLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "src/codec.h"
#include "src/conf.h"
#include "src/error.h"

typedef enum vg_combine {
    VG_COMBINE_MAX,
    VG_COMBINE_MEAN,
    VG_COMBINE_VOTE,
    VG_COMBINE_SUM,
} vg_combine;

typedef struct vg_ensemble_params {
    int      combine;       /* vg_combine */
    uint32_t vote_k;        /* VOTE: detectors that must agree */
    double   vote_level;    /* VOTE: calibrated score that counts as a vote */
    int      calibrate;     /* bool: calibrate raw scores per series */
    uint32_t history;       /* calibration: recent scores remembered per detector */
    uint32_t short_span;    /* calibration: points the short-term mean spans */
    uint32_t warmup;        /* calibration: points before calibrated scores count */
    double   min_sd;        /* calibration: floor on the long-term spread */
    double   cap;           /* calibration: largest raw surprise taken as is */
    size_t   n_detectors;   /* set by the pipeline, not the config */
} vg_ensemble_params;

/* Fills params from defaults then from cfg (the "ensemble" object, NULL-able). */
int vg_ensemble_configure(vg_ensemble_params *params, const vg_conf_doc *doc,
                          const json_t *cfg, size_t n_detectors, vg_error *err);

/* Fixed bytes of per-series ensemble state. */
size_t vg_ensemble_state_size(const vg_ensemble_params *params);
void   vg_ensemble_init(void *state, const vg_ensemble_params *params);

/* Combines raw[n_detectors] into the final score; writes each detector's
 * calibrated score into calibrated[n_detectors] (NULL-able). Updates state. */
double vg_ensemble_score(void *state, const vg_ensemble_params *params,
                         const double *raw, double *calibrated);

/* The surprise -log10(1 - score) of a score made by
 * vg_score_from_surprise(), its exact inverse: 0 for score <= 0 (and NaN),
 * +inf for score >= 1. */
double vg_ensemble_surprise(double score);

int vg_ensemble_save(const void *state, const vg_ensemble_params *params, vg_writer *out);
int vg_ensemble_load(void *state, const vg_ensemble_params *params, vg_reader *in,
                     vg_error *err);

#endif
