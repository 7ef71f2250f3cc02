/* The isolation-forest detector over shingled windows.
 *
 * A point is described by its shingle: the last k values (the window's
 * newest k-1 and the point itself), normalised by the window's mean and
 * standard deviation, plus their k-1 first differences (2k-1 features).
 * Each series keeps a forest of `trees` isolation trees trained on ψ
 * shingles of its own window; a point that random axis splits isolate in
 * fewer steps than the trees' average is anomalous.
 *
 * Memory: the whole forest lives in the series' fixed state block as flat
 * node arrays (layout in iforest_forest.h): 8 * 2^ceil(log2 ψ) + 16 bytes
 * per tree, so the defaults (ψ = 32, 32 trees) cost 8,768 bytes per series
 * (plus the pipeline's window): 10,000 series take about 88 MB, 100,000
 * about 880 MB, and 1,000 series' forests fit in a 32 MB L3 cache. Larger
 * forests score more smoothly but cost memory and cache misses: scoring
 * one point walks every tree, so with many interleaved series the forest
 * size sets the speed.
 *
 * Training is amortised, never a whole forest at once. The first forest is
 * built WARMUP_TREES_PER_POINT trees per point once the window holds ψ
 * shingles (scores are 0 until it is complete). Afterwards the points run
 * through a cycle of `retrain` ticks and tree j is rebuilt, in place, at
 * tick floor(j * retrain / trees): every tree is retrained once per
 * `retrain` points, staggered, so a point pays for at most
 * ceil(trees / retrain) tree builds (one with the defaults).
 *
 * Each tree's ψ shingles are a stratified sample of the window's newest
 * TRAIN_SPAN values, all of it by default (one uniformly chosen shingle
 * from each of ψ equal stretches): no duplicates and the whole window
 * covered, from one pass that normalises the values. The random
 * choices come from GSL's taus2 generator, whose 24-byte state sits on the
 * stack and is seeded for every build from (series seed, build number):
 * builds are deterministic, nothing is allocated, and saved state needs no
 * generator state.
 *
 * The window's mean and scale (standard deviation, floored) are measured
 * when a tree is built and kept for scoring, so they are at most
 * retrain/trees points old and a point costs no pass over the window.
 *
 * Score: with r = E[h]/c(ψ) the standard score is s = 2^-r; normal points
 * sit near r = 1 (s = 0.5) and even a point every tree isolates at the root
 * only reaches r = 1/c(ψ) (s = 0.89 for ψ = 32), so a linear rescale of s
 * could never pass 0.9. The score is instead a logistic in r centred on
 * R_EDGE (s = 0.57, the usual edge of normal): strictly decreasing in the
 * depth, so distinct depths keep distinct scores at both ends, never
 * exactly 0 or 1 (0.9995 at r = 1/c(32)). */
#include "detectors/detector.h"
#include "detectors/iforest_forest.h"

#include <gsl/gsl_rng.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MAX_SHINGLE 16u
#define MAX_SAMPLE 256u
#define MAX_FEATURES (2u * MAX_SHINGLE - 1u)
/* A pass-through node: threshold 3.4e38 (features stay below 1e30), so a
 * point always goes left; feature 0. */
#define PASS_THROUGH 0x7f7fffe0u
#define WARMUP_TREES_PER_POINT 4u
/* Trees sample the newest TRAIN_SPAN values of longer windows. */
#define TRAIN_SPAN 1024u
/* Score = 1 / (1 + exp(SLOPE * (r - R_EDGE))): 0.08 at the expected depth
 * (r = 1), 0.5 at r = 0.8, 0.92 at r = 0.6, 0.98 at r = 0.5. */
#define R_EDGE 0.8
#define SLOPE 12.0
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

static const vg_conf_field fields[] = {
    {"shingle", VG_CONF_UINT32, offsetof(iforest_params, shingle), 8, 2, MAX_SHINGLE, NULL,
     "values per shingle (k): features are the k normalised values and their k-1 differences"},
    {"sample", VG_CONF_UINT32, offsetof(iforest_params, sample), 32, 16, MAX_SAMPLE, NULL,
     "shingles sampled per tree (psi), capped at the shingles a full window holds"},
    {"trees", VG_CONF_UINT32, offsetof(iforest_params, trees), 32, 8, 256, NULL,
     "trees per series, a multiple of 8; each costs 8 * 2^ceil(log2 psi) + 16 bytes"},
    {"retrain", VG_CONF_UINT32, offsetof(iforest_params, retrain), 512, 16, 1048576, NULL,
     "points between two rebuilds of the same tree (rebuilds are staggered)"},
    {"min_scale", VG_CONF_DOUBLE, offsetof(iforest_params, min_scale), 1e-9, 0, 1e300, NULL,
     "floor on the window's scale (also floored at 1e-6 * |mean|)"},
};

/* c(n): the average path length of an unsuccessful search in a binary
 * search tree of n keys, exact harmonic numbers. */
static void fill_c(double *c, uint32_t n_max)
{
    double harmonic = 0.0; /* H(n - 1) */
    c[0] = 0.0;
    for (uint32_t n = 1; n <= n_max; n++) {
        if (n >= 2)
            harmonic += 1.0 / (double)(n - 1);
        c[n] = n <= 1 ? 0.0 : 2.0 * harmonic - 2.0 * (double)(n - 1) / (double)n;
    }
}

static int iforest_configure(void *params, const vg_conf_doc *doc, const json_t *cfg,
                             uint32_t window_cap, vg_error *err)
{
    iforest_params *p = params;
    memset(p, 0, sizeof(*p));
    int rc = vg_conf_apply(doc, cfg, "detectors.iforest", fields, VG_CONF_COUNT(fields), NULL,
                           p, err);
    if (rc != VG_OK)
        return rc;
    char where[64];
    if (p->trees % 8 != 0) {
        vg_conf_where(doc, cfg, "trees", 0, where, sizeof(where));
        return vg_error_set_at(err, VG_ECONFIG, where,
                               "detectors.iforest.trees: must be a multiple of 8, not %u",
                               p->trees);
    }
    if (window_cap < p->shingle + 15) {
        vg_conf_where(doc, cfg, "shingle", 0, where, sizeof(where));
        return vg_error_set_at(err, VG_ECONFIG, where,
                               "detectors.iforest.shingle: a window of %u values holds fewer "
                               "than 16 shingles of %u",
                               window_cap, p->shingle);
    }
    uint32_t shingles = window_cap - p->shingle + 1;
    p->psi = p->sample < shingles ? p->sample : shingles;
    p->height = 0;
    while ((1u << p->height) < p->psi)
        p->height++;
    p->n_feat = 2 * p->shingle - 1;
    p->min_len = p->psi + p->shingle - 1;

    size_t nodes = (size_t)p->trees << p->height;
    p->off_node = HEADER_BYTES;
    p->off_leaf = p->off_node + nodes * sizeof(uint32_t);
    p->off_box = p->off_leaf + nodes * sizeof(float);
    p->bytes = p->off_box + 4 * (size_t)p->trees * sizeof(float);
    fill_c(p->c, p->psi);
    p->c_psi = p->c[p->psi];
    return VG_OK;
}

static size_t iforest_state_size(const void *params)
{
    return ((const iforest_params *)params)->bytes;
}

static uint32_t *node_of(void *state, const iforest_params *p)
{
    return (uint32_t *)(void *)((char *)state + p->off_node);
}
static float *leaf_of(void *state, const iforest_params *p)
{
    return (float *)((char *)state + p->off_leaf);
}
static float *box_of(void *state, const iforest_params *p)
{
    return (float *)((char *)state + p->off_box);
}

static void iforest_init(void *state, const void *params, uint64_t seed)
{
    const iforest_params *p = params;
    _Static_assert(sizeof(iforest_state) <= HEADER_BYTES, "state header outgrew its slot");
    memset(state, 0, p->bytes);
    iforest_state *st = state;
    st->seed = seed;
    st->scale = 1.0;
}

uint64_t vg__iforest_builds(const void *state)
{
    return ((const iforest_state *)state)->builds;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A value's normalised level as a feature: finite (huge deviations are
 * clamped, NaN becomes 0) and a float, like the thresholds. */
static float level_of(double v, double loc, double inv_scale)
{
    double z = (v - loc) * inv_scale;
    z = z > FEATURE_LIMIT ? FEATURE_LIMIT : z;
    z = z < -FEATURE_LIMIT ? -FEATURE_LIMIT : z;
    return z == z ? (float)z : 0.0f;
}

/* The 2k-1 features of a shingle from its k levels z[0..k), oldest first:
 * the levels, then their differences. */
static void shingle_features(const float *z, uint32_t k, float *x)
{
    for (uint32_t i = 0; i < k; i++)
        x[i] = z[i];
    for (uint32_t i = 1; i < k; i++)
        x[k - 1 + i] = z[i] - z[i - 1];
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
    float         *leaf;
    const float   *x;       /* [ψ][n_feat] */
    gsl_rng       *rng;
} builder;

/* Makes node a leaf of n samples at depth: pass-through down the left
 * spine to the bottom slot holding its path length. */
static void make_leaf(builder *b, uint32_t node, uint32_t depth, uint32_t n)
{
    const uint32_t inner = (1u << b->p->height) - 1;
    float len = (float)((double)depth + b->p->c[n]);
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
        b.leaf[r * 8] = 0.0f;
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

/* This point's share of training: the first forest a few trees at a time,
 * then the trees whose tick in the retraining cycle has come. */
static void train_step(iforest_state *st, const iforest_params *p, const vg_window *w)
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

static vg__iforest_forest forest_of(const iforest_state *st, const iforest_params *p)
{
    vg__iforest_forest f = {
        .trees = p->trees,
        .height = p->height,
        .n_feat = p->n_feat,
        .node = node_of((void *)st, p),
        .leaf = leaf_of((void *)st, p),
        .box = box_of((void *)st, p),
        .level = p->shingle - 1,
        .step = p->n_feat - 1,
    };
    return f;
}

double vg__iforest_depth(const void *state, const void *params, const vg_window *w,
                         double value, vg__iforest_kernel kernel, float *paths)
{
    const iforest_state *st = state;
    const iforest_params *p = params;
    const uint32_t k = p->shingle;
    const double inv_scale = 1.0 / st->scale;
    float z[MAX_SHINGLE];
    float x[VG__IFOREST_FEATURES] = {0};
    for (uint32_t i = 0; i + 1 < k; i++)
        z[i] = level_of(vg_window_at(w, w->len - k + 1 + i), st->loc, inv_scale);
    z[k - 1] = level_of(value, st->loc, inv_scale);
    shingle_features(z, k, x);
    vg__iforest_forest f = forest_of(st, p);
    return kernel(&f, x, paths) / p->trees;
}

/* Writes v (0 <= v < 1000) with one decimal at out; returns the end. */
static char *put_tenths(char *out, double v)
{
    long t = lround(fmin(fmax(v, 0.0), 999.9) * 10.0);
    char digits[8];
    int n = 0;
    do {
        digits[n++] = (char)('0' + t % 10);
        t /= 10;
    } while (t > 0 || n < 2);
    while (n > 1)
        *out++ = digits[--n];
    *out++ = '.';
    *out++ = digits[0];
    return out;
}

/* "depth=2.1/6.1", without printf: formatting floats with it would cost
 * more than scoring the point. */
static void format_depth(char *out, double depth, double expected)
{
    memcpy(out, "depth=", 6);
    out = put_tenths(out + 6, depth);
    *out++ = '/';
    *put_tenths(out, expected) = '\0';
}

static double iforest_score(void *state, const void *params, const vg_window *w, int64_t ts_ms,
                            double value, vg_explain *why)
{
    (void)ts_ms;
    iforest_state *st = state;
    const iforest_params *p = params;
    why->expected = NAN;
    why->lower = NAN;
    why->upper = NAN;
    why->detail[0] = '\0';

    if (!isfinite(value)) {
        snprintf(why->detail, sizeof(why->detail), "non-finite value");
        return 0.0;
    }
    if (w->len < p->min_len) {
        snprintf(why->detail, sizeof(why->detail), "warming up: %u/%u values", w->len,
                 p->min_len);
        return 0.0;
    }
    /* With many interleaved series the forest is rarely in L1/L2, and a walk
     * would fetch it one dependent level at a time: ask for all of it now,
     * while the features are computed. */
    for (size_t at = p->off_node; at < p->bytes; at += 64)
        __builtin_prefetch((const char *)state + at, 0, 3);
    train_step(st, p, w);
    if (st->ready < p->trees) {
        snprintf(why->detail, sizeof(why->detail), "warming up: %u/%u trees", st->ready,
                 p->trees);
        return 0.0;
    }

    /* The kernel is not kept in params: their bytes make the pipeline's
     * state id, which a code address would change from run to run. */
    double depth = vg__iforest_depth(st, p, w, value, vg__iforest_kernel_best(), NULL);

    why->expected = st->loc;
    why->lower = st->loc - 3.0 * st->scale;
    why->upper = st->loc + 3.0 * st->scale;
    _Static_assert(sizeof(why->detail) >= sizeof("depth=999.9/999.9"), "detail too short");
    format_depth(why->detail, depth, p->c_psi);
    return 1.0 / (1.0 + exp(SLOPE * (depth / p->c_psi - R_EDGE)));
}

#define SAVE_TAG 0x31524649u /* "IFR1" */

/* Node words, path lengths and ranges travel as little-endian 32-bit
 * words (floats by their bits). */
static void put_words(vg_writer *out, const void *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, (const char *)v + 4 * i, sizeof(bits));
        vg_writer_u32(out, bits);
    }
}

static void get_words(vg_reader *in, void *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = 0;
        vg_reader_u32(in, &bits);
        memcpy((char *)v + 4 * i, &bits, sizeof(bits));
    }
}

static int iforest_save(const void *state, const void *params, vg_writer *out)
{
    const iforest_state *st = state;
    const iforest_params *p = params;
    const size_t nodes = (size_t)p->trees << p->height;
    vg_writer_u32(out, SAVE_TAG);
    vg_writer_u32(out, p->shingle);
    vg_writer_u32(out, p->psi);
    vg_writer_u32(out, p->trees);
    vg_writer_u32(out, p->height);
    vg_writer_u64(out, st->seed);
    vg_writer_u64(out, st->builds);
    vg_writer_u32(out, st->ready);
    vg_writer_u32(out, st->tick);
    vg_writer_f64(out, st->loc);
    vg_writer_f64(out, st->scale);
    put_words(out, node_of((void *)st, p), nodes);
    put_words(out, leaf_of((void *)st, p), nodes);
    put_words(out, box_of((void *)st, p), 4 * (size_t)p->trees);
    return out->failed ? VG_ENOMEM : VG_OK;
}

/* Everything the kernels rely on: features in range, finite positive path
 * lengths, a sane window scale. */
static int check_loaded(const iforest_state *st, const iforest_params *p, vg_error *err)
{
    const size_t nodes = (size_t)p->trees << p->height;
    const uint32_t *node = node_of((void *)st, p);
    const float *leaf = leaf_of((void *)st, p);
    if (st->ready > p->trees || st->tick >= p->retrain)
        return vg_error_set(err, VG_EPARSE, "iforest: schedule %u/%u out of range", st->ready,
                            st->tick);
    if (!isfinite(st->loc) || !(st->scale > 0.0) || !isfinite(st->scale))
        return vg_error_set(err, VG_EPARSE, "iforest: bad window location or scale");
    for (size_t i = 0; i < nodes; i++) {
        if ((node[i] & VG__IFOREST_FEATURE_MASK) >= p->n_feat)
            return vg_error_set(err, VG_EPARSE, "iforest: node %zu splits on feature %u", i,
                                node[i] & VG__IFOREST_FEATURE_MASK);
        if (!(leaf[i] >= 0.0f) || !isfinite(leaf[i]))
            return vg_error_set(err, VG_EPARSE, "iforest: bad path length at slot %zu", i);
    }
    const float *box = box_of((void *)st, p);
    for (uint32_t t = 0; t < p->trees; t++) {
        for (uint32_t a = 0; a < 2; a++) {
            float lo = box[2 * a * p->trees + t], hi = box[(2 * a + 1) * p->trees + t];
            if (!isfinite(lo) || !isfinite(hi) || lo > hi)
                return vg_error_set(err, VG_EPARSE, "iforest: bad sample range of tree %u", t);
        }
    }
    return VG_OK;
}

/* On any error the series starts fresh (init() with its seed). */
static int iforest_load(void *state, const void *params, vg_reader *in, vg_error *err)
{
    iforest_state *st = state;
    const iforest_params *p = params;
    const size_t nodes = (size_t)p->trees << p->height;
    const uint64_t seed = st->seed;
    uint32_t tag = 0, shingle = 0, psi = 0, trees = 0, height = 0;
    int rc;
    vg_reader_u32(in, &tag);
    vg_reader_u32(in, &shingle);
    vg_reader_u32(in, &psi);
    vg_reader_u32(in, &trees);
    vg_reader_u32(in, &height);
    if (in->failed) {
        rc = vg_error_set(err, VG_EPARSE, "iforest: truncated state");
        goto out_reset;
    }
    if (tag != SAVE_TAG) {
        rc = vg_error_set(err, VG_EPARSE, "iforest: not an iforest state (tag %08x)", tag);
        goto out_reset;
    }
    if (shingle != p->shingle || psi != p->psi || trees != p->trees || height != p->height) {
        rc = vg_error_set(err, VG_EPARSE,
                          "iforest: saved shape k=%u psi=%u trees=%u does not match the "
                          "configured k=%u psi=%u trees=%u",
                          shingle, psi, trees, p->shingle, p->psi, p->trees);
        goto out_reset;
    }
    vg_reader_u64(in, &st->seed);
    vg_reader_u64(in, &st->builds);
    vg_reader_u32(in, &st->ready);
    vg_reader_u32(in, &st->tick);
    vg_reader_f64(in, &st->loc);
    vg_reader_f64(in, &st->scale);
    get_words(in, node_of(st, p), nodes);
    get_words(in, leaf_of(st, p), nodes);
    get_words(in, box_of(st, p), 4 * (size_t)p->trees);
    rc = in->failed ? vg_error_set(err, VG_EPARSE, "iforest: truncated state")
                    : check_loaded(st, p, err);
    if (rc == VG_OK)
        return VG_OK;

out_reset:
    iforest_init(state, params, seed);
    return rc;
}

const vg_detector_ops vg_iforest_ops = {
    .name = "iforest",
    .params_size = sizeof(iforest_params),
    .configure = iforest_configure,
    .state_size = iforest_state_size,
    .init = iforest_init,
    .score = iforest_score,
    .save = iforest_save,
    .load = iforest_load,
    .fields = fields,
    .n_fields = VG_CONF_COUNT(fields),
};
