/* Internal to the isolation-forest detector (detectors/iforest.c: params,
 * scoring, state I/O; detectors/iforest_train.c: building trees): its
 * params, the per-series state header and the forest arrays' places, and
 * the features both sides compute the same way. */
#ifndef VG_DETECTORS_IFOREST_MODEL_H
#define VG_DETECTORS_IFOREST_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/window.h"

#define MAX_SHINGLE 16u
#define MAX_SAMPLE 256u
#define MAX_FEATURES (2u * MAX_SHINGLE - 1u)
/* A pass-through node: threshold 3.4e38 (features stay below 1e30), so a
 * point always goes left; feature 0. */
#define PASS_THROUGH 0x7f7fffe0u
#define WARMUP_TREES_PER_POINT 4u
/* Trees sample the newest TRAIN_SPAN values of longer windows. */
#define TRAIN_SPAN 1024u
/* Features are clamped so a huge deviation stays a finite float. */
#define FEATURE_LIMIT 1e30

typedef struct iforest_params {
    uint32_t shingle;   /* k */
    uint32_t sample;    /* ψ as configured */
    uint32_t trees;
    uint32_t retrain;
    double   min_scale;

    /* derived by configure() */
    uint32_t psi;       /* ψ used: at most the shingles a full window holds */
    uint32_t height;    /* ceil(log2 ψ) */
    uint32_t n_feat;    /* 2k - 1 */
    uint32_t min_len;   /* window values needed to train: ψ + k - 1 */
    size_t   off_node, off_leaf, off_box, bytes;
    double   c_psi;
    double   c[MAX_SAMPLE + 1];   /* c(n) for n <= ψ */
} iforest_params;

/* The state block: this header, then the forest arrays at the params'
 * offsets. */
typedef struct iforest_state {
    uint64_t seed;
    uint64_t builds;    /* trees built since init: numbers each build's seed */
    uint32_t ready;     /* trees of the first forest built; == trees once scoring */
    uint32_t tick;      /* position in the retraining cycle, < retrain */
    double   loc;       /* window mean and scale at the last build */
    double   scale;
} iforest_state;

#define HEADER_BYTES 64u

static inline uint32_t *node_of(void *state, const iforest_params *p)
{
    return (uint32_t *)(void *)((char *)state + p->off_node);
}
static inline uint16_t *leaf_of(void *state, const iforest_params *p)
{
    return (uint16_t *)(void *)((char *)state + p->off_leaf);
}
static inline float *box_of(void *state, const iforest_params *p)
{
    return (float *)((char *)state + p->off_box);
}

/* A value's normalised level as a feature: finite (huge deviations are
 * clamped, NaN becomes 0) and a float, like the thresholds. */
static inline float level_of(double v, double loc, double inv_scale)
{
    double z = (v - loc) * inv_scale;
    z = z > FEATURE_LIMIT ? FEATURE_LIMIT : z;
    z = z < -FEATURE_LIMIT ? -FEATURE_LIMIT : z;
    return z == z ? (float)z : 0.0f;
}

/* The 2k-1 features of a shingle from its k levels z[0..k), oldest first:
 * the levels, then their differences. */
static inline void shingle_features(const float *z, uint32_t k, float *x)
{
    for (uint32_t i = 0; i < k; i++)
        x[i] = z[i];
    for (uint32_t i = 1; i < k; i++)
        x[k - 1 + i] = z[i] - z[i - 1];
}

/* This point's share of training: the first forest a few trees at a time,
 * then the trees whose tick in the retraining cycle has come. */
void vg__iforest_train_step(iforest_state *st, const iforest_params *p, const vg_window *w);

#endif
