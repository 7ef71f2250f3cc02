/* The ensemble: turns the detectors' raw scores for one point into one
 * final score in [0,1).
 *
 * Each raw score is first calibrated against the same detector's recent
 * scores on the same series (an anomaly likelihood: how rare this surprise
 * is for this detector on this series lately), so one threshold means about
 * the same on every series and every detector; the calibrated surprises are
 * then combined (a norm by default, or max, mean, k-of-n vote), and the part
 * of the result already reported in the last few points is taken off (a
 * refractory period: one event, one peak). See ensemble.c for the method. */
#ifndef VG_DETECTORS_ENSEMBLE_H
#define VG_DETECTORS_ENSEMBLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/codec.h"
#include "core/config_table.h"
#include "core/error.h"
#include "core/event.h"  /* VG_MAX_DETECTORS: the most one ensemble combines */

/* How the detectors' calibrated z-scores make one Z; the final surprise
 * is then log10(e) (1 + Z) - log10(n) (MEAN: without the log10(n)). */
typedef enum vg_combine {
    VG_COMBINE_MAX,   /* the largest z */
    VG_COMBINE_MEAN,  /* the mean of the positive z's */
    VG_COMBINE_VOTE,  /* the vote_k-th largest z */
    VG_COMBINE_NORM,  /* |z+| / sqrt(1 + rho (n - 1)) */
} vg_combine;

typedef struct vg_ensemble_params {
    int      combine;       /* vg_combine */
    uint32_t vote_k;        /* VOTE: detectors that must agree */
    double   correlation;   /* NORM: rho, the detectors' tail correlation */
    int      calibrate;     /* bool: calibrate raw scores per series */
    uint32_t history;       /* calibration: points of the long-term distribution */
    uint32_t short_span;    /* calibration: points of the short-term mean */
    double   min_sd;        /* calibration: floor on the long-term spread */
    double   cap;           /* calibration: largest raw surprise taken as is */
    uint32_t warmup;        /* points before a series' scores count */
    double   refractory;    /* share of the recent peak taken off */
    double   refractory_decay;  /* per-point decay of that peak */
    int      recalibrate;   /* bool: map the final surprise through the series' tail */
    double   tail_span;     /* recalibrate: points the observed tail spans */
    double   tail_prior;    /* recalibrate: points before a series' tail counts */
    double   tail_prior_slope; /* recalibrate: prior's excess, decades per level */
    size_t   n_detectors;   /* set by the pipeline, not the config */
} vg_ensemble_params;

/* Fills params from defaults then from cfg (the "ensemble" object, NULL-able).
 * Returns 0 or VG_ECONFIG naming the key. */
int vg_ensemble_configure(vg_ensemble_params *params, const vg_conf_doc *doc,
                          const json_t *cfg, size_t n_detectors, vg_error *err);

/* Fixed bytes of per-series ensemble state. */
size_t vg_ensemble_state_size(const vg_ensemble_params *params);
void   vg_ensemble_init(void *state, const vg_ensemble_params *params);

/* Combines raw[n_detectors] (each in [0,1]) into the final score, in [0,1):
 * 0 during the warm-up, otherwise vg_score_from_surprise() of the combined
 * surprise. Writes each detector's calibrated score into
 * calibrated[n_detectors] (NULL-able). Updates state; deterministic. */
double vg_ensemble_score(void *state, const vg_ensemble_params *params,
                         const double *raw, double *calibrated);

/* Prints the reference of the "ensemble" keys. */
void vg_ensemble_describe(void *file /* FILE* */);

/* Prints the effective params, `ensemble.key = value` per line. */
void vg_ensemble_dump(const vg_ensemble_params *params, void *file /* FILE* */);

/* The surprise -log10(1 - score) of a score made by
 * vg_score_from_surprise(), its exact inverse: 0 for score <= 0 (and NaN),
 * +inf for score >= 1. */
double vg_ensemble_surprise(double score);

/* Saves state exactly (a restored series scores as if never stopped);
 * load returns 0, or VG_EPARSE on truncated or impossible input. */
int vg_ensemble_save(const void *state, const vg_ensemble_params *params, vg_writer *out);
int vg_ensemble_load(void *state, const vg_ensemble_params *params, vg_reader *in,
                     vg_error *err);

#endif
