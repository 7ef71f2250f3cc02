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
 * node arrays (layout in iforest_forest.h): 6 * 2^ceil(log2 ψ) + 16 bytes
 * per tree, so the defaults (ψ = 32, 32 trees) cost 6,720 bytes per series
 * (plus the pipeline's window): 10,000 series take about 67 MB, 100,000
 * about 670 MB, and 1,000 series' forests fit in a 32 MB L3 cache. Larger
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
#include "detectors/iforest_model.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Score = 1 / (1 + exp(SLOPE * (r - R_EDGE))): 0.08 at the expected depth
 * (r = 1), 0.5 at r = 0.8, 0.92 at r = 0.6, 0.98 at r = 0.5. */
#define R_EDGE 0.8
#define SLOPE 12.0

static const vg_conf_field fields[] = {
    {"shingle", VG_CONF_UINT32, offsetof(iforest_params, shingle), 8, 2, MAX_SHINGLE, NULL,
     "values per shingle (k): features are the k normalised values and their k-1 differences"},
    {"sample", VG_CONF_UINT32, offsetof(iforest_params, sample), 32, 16, MAX_SAMPLE, NULL,
     "shingles sampled per tree (psi), capped at the shingles a full window holds"},
    {"trees", VG_CONF_UINT32, offsetof(iforest_params, trees), 32, 8, 256, NULL,
     "trees per series, a multiple of 8; each costs 6 * 2^ceil(log2 psi) + 16 bytes"},
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
    p->off_box = p->off_leaf + nodes * sizeof(uint16_t);   /* nodes: a multiple of 8 */
    p->bytes = p->off_box + 4 * (size_t)p->trees * sizeof(float);
    fill_c(p->c, p->psi);
    p->c_psi = p->c[p->psi];
    return VG_OK;
}

static size_t iforest_state_size(const void *params)
{
    return ((const iforest_params *)params)->bytes;
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
    vg__iforest_train_step(st, p, w);
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

/* n (even) uint16_t path lengths, two to a u32, the first in the low half. */
static void put_halves(vg_writer *out, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i += 2)
        vg_writer_u32(out, (uint32_t)v[i] | (uint32_t)v[i + 1] << 16);
}

static void get_halves(vg_reader *in, uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i += 2) {
        uint32_t pair = 0;
        vg_reader_u32(in, &pair);
        v[i] = (uint16_t)pair;
        v[i + 1] = (uint16_t)(pair >> 16);
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
    put_halves(out, leaf_of((void *)st, p), nodes);
    put_words(out, box_of((void *)st, p), 4 * (size_t)p->trees);
    return out->failed ? VG_ENOMEM : VG_OK;
}

/* Everything the kernels rely on: features in range, finite positive path
 * lengths, a sane window scale. */
static int check_loaded(const iforest_state *st, const iforest_params *p, vg_error *err)
{
    const size_t nodes = (size_t)p->trees << p->height;
    const uint32_t *node = node_of((void *)st, p);
    if (st->ready > p->trees || st->tick >= p->retrain)
        return vg_error_set(err, VG_EPARSE, "iforest: schedule %u/%u out of range", st->ready,
                            st->tick);
    if (!isfinite(st->loc) || !(st->scale > 0.0) || !isfinite(st->scale))
        return vg_error_set(err, VG_EPARSE, "iforest: bad window location or scale");
    for (size_t i = 0; i < nodes; i++) {
        if ((node[i] & VG__IFOREST_FEATURE_MASK) >= p->n_feat)
            return vg_error_set(err, VG_EPARSE, "iforest: node %zu splits on feature %u", i,
                                node[i] & VG__IFOREST_FEATURE_MASK);
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
    get_halves(in, leaf_of(st, p), nodes);
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
