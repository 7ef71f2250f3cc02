/* Building the isolation forest's trees, in place in the series' state
 * block: a stratified sample of the window's shingles, random axis
 * splits, and each tree's box of the newest value's features. The design
 * is described in detectors/iforest.c. */
#include "detectors/iforest_forest.h"
#include "detectors/iforest_model.h"

#include <gsl/gsl_rng.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/error.h"

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Mean and floored standard deviation of the window's finite values, in
 * one pass over the values shifted by the newest one (no cancellation for
 * a large level). The sums run in time order in four fixed lanes, so the
 * result does not depend on where the ring starts: a window restored from
 * a snapshot gives the same bits. */
static void window_stats(const vg_window *w, double min_scale, double *loc, double *scale)
{
    const uint32_t start = w->len == w->cap ? w->next : 0;
    const uint32_t first = w->len < w->cap - start ? w->len : w->cap - start;
    const double *seg[2] = {w->values + start, w->values};
    const uint32_t len[2] = {first, w->len - first};
    const double shift = isfinite(vg_window_last(w)) ? vg_window_last(w) : 0.0;
    double sum[4] = {0}, ss[4] = {0};
    uint32_t n = 0, t = 0;
    for (int g = 0; g < 2; g++) {
        for (uint32_t i = 0; i < len[g]; i++, t++) {
            double d = seg[g][i] - shift;
            if (isfinite(d)) {
                sum[t & 3] += d;
                ss[t & 3] += d * d;
                n++;
            }
        }
    }
    double s = (sum[0] + sum[1]) + (sum[2] + sum[3]);
    double q = (ss[0] + ss[1]) + (ss[2] + ss[3]);
    double mean = n > 0 ? s / n : 0.0;
    double var = n > 1 ? (q - s * mean) / (n - 1) : 0.0;
    double sd = var > 0.0 ? sqrt(var) : 0.0;
    /* values near DBL_MAX overflow the sums: stay finite, saved state must load */
    *loc = isfinite(shift + mean) ? shift + mean : shift;
    sd = isfinite(sd) ? sd : DBL_MAX;
    *scale = fmax(sd, fmax(fmax(min_scale, 1e-6 * fabs(*loc)), 1e-300));
}

static uint32_t word_of(float threshold, uint32_t feature)
{
    uint32_t bits;
    memcpy(&bits, &threshold, sizeof(bits));
    return (bits & ~VG__IFOREST_FEATURE_MASK) | feature;
}

static float threshold_of(uint32_t word)
{
    float v;
    word &= ~VG__IFOREST_FEATURE_MASK;
    memcpy(&v, &word, sizeof(v));
    return v;
}

/* One tree being built: its nodes and slots (every 8th element, see the
 * layout in iforest_forest.h) and the sampled features. */
typedef struct builder {
    const iforest_params *p;
    uint32_t      *node;
    uint16_t      *leaf;
    const float   *x;       /* [ψ][n_feat] */
    gsl_rng       *rng;
} builder;

/* Makes node a leaf of n samples at depth: pass-through down the left
 * spine to the bottom slot holding its path length. */
static void make_leaf(builder *b, uint32_t node, uint32_t depth, uint32_t n)
{
    const uint32_t inner = (1u << b->p->height) - 1;
    /* fixed point (iforest_forest.h); at most 8 + c(256) < 32 */
    uint16_t len = (uint16_t)lrint(((double)depth + b->p->c[n]) * VG__IFOREST_LEAF_ONE);
    while (node < inner) {
        b->node[(size_t)node * 8] = PASS_THROUGH;
        node = 2 * node + 1;
    }
    b->leaf[(size_t)(node - inner) * 8] = len;
}

static void grow(builder *b, uint16_t *idx, uint32_t n, uint32_t node, uint32_t depth)
{
    const uint32_t nf = b->p->n_feat;
    if (depth == b->p->height || n <= 1) {
        make_leaf(b, node, depth, n);
        return;
    }
    /* A random feature; if it is constant here, the next one that is not. */
    uint32_t q0 = (uint32_t)gsl_rng_uniform_int(b->rng, nf);
    for (uint32_t a = 0; a < nf; a++) {
        uint32_t q = q0 + a < nf ? q0 + a : q0 + a - nf;
        float lo = b->x[(size_t)idx[0] * nf + q], hi = lo;
        for (uint32_t s = 1; s < n; s++) {
            float v = b->x[(size_t)idx[s] * nf + q];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (!(hi > lo))
            continue;
        double u = gsl_rng_uniform_pos(b->rng);
        uint32_t word = word_of((float)((double)lo + ((double)hi - (double)lo) * u), q);
        float t = threshold_of(word);
        /* branch-free partition (the comparison is a coin toss): [0, left)
         * holds the samples below t, [left, s] the others */
        uint32_t left = 0;
        for (uint32_t s = 0; s < n; s++) {
            uint16_t v = idx[s];
            idx[s] = idx[left];
            idx[left] = v;
            left += b->x[(size_t)v * nf + q] < t;
        }
        b->node[(size_t)node * 8] = word;
        grow(b, idx, left, 2 * node + 1, depth + 1);
        grow(b, idx + left, n - left, 2 * node + 2, depth + 1);
        return;
    }
    make_leaf(b, node, depth, n);
}

/* Rebuilds tree j from a fresh sample of the window (len >= min_len). */
static void build_tree(iforest_state *st, const iforest_params *p, const vg_window *w, uint32_t j)
{
    const uint32_t k = p->shingle, nf = p->n_feat, psi = p->psi;
    const size_t rows = (size_t)1 << p->height;
    const size_t base = ((size_t)(j >> 3) << (p->height + 3)) + (j & 7);
    float x[MAX_SAMPLE * MAX_FEATURES];
    float z[TRAIN_SPAN];
    uint16_t idx[MAX_SAMPLE];

    unsigned long rng_state[8];
    gsl_rng rng = {gsl_rng_taus2, rng_state};
    vg_assert(gsl_rng_taus2->size <= sizeof(rng_state));
    gsl_rng_set(&rng, (unsigned long)(splitmix64(st->seed ^ splitmix64(st->builds)) >> 32));
    st->builds++;

    /* levels of the newest `span` values, oldest first, computed once */
    const double inv_scale = 1.0 / st->scale;
    const uint32_t span = w->len < TRAIN_SPAN ? w->len : TRAIN_SPAN;
    for (uint32_t i = 0; i < span;) {
        /* one contiguous stretch of the ring at a time */
        uint32_t at = w->len == w->cap ? w->next + (w->len - span + i) : w->len - span + i;
        at = at >= w->cap ? at - w->cap : at;
        uint32_t run = w->cap - at < span - i ? w->cap - at : span - i;
        for (uint32_t r = 0; r < run; r++)
            z[i + r] = level_of(w->values[at + r], st->loc, inv_scale);
        i += run;
    }
    const uint32_t shingles = span - k + 1;
    for (uint32_t s = 0; s < psi; s++) {
        uint32_t from = (uint32_t)((uint64_t)s * shingles / psi);
        uint32_t to = (uint32_t)((uint64_t)(s + 1) * shingles / psi);
        uint32_t first = from + (uint32_t)gsl_rng_uniform_int(&rng, to - from);
        shingle_features(z + first, k, x + (size_t)s * nf);
        idx[s] = (uint16_t)s;
    }

    builder b = {
        .p = p,
        .node = node_of(st, p) + base,
        .leaf = leaf_of(st, p) + base,
        .x = x,
        .rng = &rng,
    };
    for (size_t r = 0; r < rows; r++) {
        b.node[r * 8] = 0;
        b.leaf[r * 8] = 0;
    }
    grow(&b, idx, psi, 0, 0);

    /* the sample's range of the newest value's level and step */
    float *box = box_of(st, p);
    const uint32_t q[2] = {k - 1, nf - 1};
    for (uint32_t a = 0; a < 2; a++) {
        float lo = x[q[a]], hi = lo;
        for (uint32_t s = 1; s < psi; s++) {
            float f = x[(size_t)s * nf + q[a]];
            lo = f < lo ? f : lo;
            hi = f > hi ? f : hi;
        }
        box[(2 * a) * p->trees + j] = lo;
        box[(2 * a + 1) * p->trees + j] = hi;
    }
}

void vg__iforest_train_step(iforest_state *st, const iforest_params *p, const vg_window *w)
{
    uint32_t from, to;
    if (st->ready < p->trees) {
        from = st->ready;
        to = from + WARMUP_TREES_PER_POINT < p->trees ? from + WARMUP_TREES_PER_POINT : p->trees;
        st->ready = to;
    } else {
        /* trees j with floor(j * R / t) == tick */
        uint64_t r = p->retrain, t = p->trees;
        from = (uint32_t)((st->tick * t + r - 1) / r);
        to = (uint32_t)(((st->tick + 1) * t + r - 1) / r);
        st->tick = st->tick + 1 == p->retrain ? 0 : st->tick + 1;
    }
    if (from == to)
        return;
    window_stats(w, p->min_scale, &st->loc, &st->scale);
    for (uint32_t j = from; j < to; j++)
        build_tree(st, p, w, j);
}
