/* Isolation-forest scoring kernels: the scalar reference and an AVX2
 * version that walks a group of eight trees at once, one tree per lane
 * (layout in iforest_forest.h). Gathers are slow on many cores (about 7 ns
 * each on the Zen machine this was tuned on), so the kernel avoids them
 * where it can: levels 0-3 load every node row of the level and pick each
 * lane's node with blends, features are looked up in registers with
 * permutes, and only deeper levels and the leaves use gathers. Both kernels
 * return the same striped sum of the same float path lengths, so the score
 * does not depend on which one the CPU runs; a unit test holds them to
 * that. The AVX2 code is compiled with a target attribute and only called
 * after __builtin_cpu_supports("avx2"). */
#include "detectors/iforest_forest.h"

#include <immintrin.h>
#include <string.h>

static inline float as_float(uint32_t word)
{
    float v;
    memcpy(&v, &word, sizeof(v));
    return v;
}

/* max as _mm256_max_ps computes it, so both kernels round alike */
static inline float max_ps(float a, float b)
{
    return a > b ? a : b;
}

/* Chance that a root split on a feature with sample range [lo, hi] cuts x
 * off from the whole sample. */
static inline float cut_off(float lo, float hi, float x)
{
    float ext = max_ps(max_ps(lo - x, x - hi), 0.0f);
    return ext / max_ps((hi - lo) + ext, 1e-30f);
}

/* Tree t's path length, shortened for an out-of-range newest value. */
static inline float path(const vg__iforest_forest *f, const float *x, uint32_t t)
{
    const size_t base = ((size_t)(t >> 3) << (f->height + 3)) + (t & 7);
    uint32_t i = 0;
    for (uint32_t h = 0; h < f->height; h++) {
        uint32_t word = f->node[base + ((size_t)i << 3)];
        i = 2 * i + 1 + (x[word & VG__IFOREST_FEATURE_MASK] >= as_float(word));
    }
    float walked = (float)f->leaf[base + ((size_t)(i - ((1u << f->height) - 1)) << 3)] *
                   (1.0f / VG__IFOREST_LEAF_ONE);
    const float *box = f->box;
    const uint32_t n = f->trees;
    float pi = max_ps(cut_off(box[t], box[n + t], x[f->level]),
                      cut_off(box[2 * n + t], box[3 * n + t], x[f->step]));
    return pi + (1.0f - pi) * walked;
}

static double sum_lanes(const double lanes[8])
{
    double s = 0.0;
    for (int i = 0; i < 8; i++)
        s += lanes[i];
    return s;
}

double vg__iforest_paths_scalar(const vg__iforest_forest *f, const float *x, float *paths)
{
    double lanes[8] = {0};
    for (uint32_t t = 0; t < f->trees; t++) {
        float h = path(f, x, t);
        if (paths != NULL)
            paths[t] = h;
        lanes[t % 8] += h;
    }
    return sum_lanes(lanes);
}

/* ---- AVX2 ---------------------------------------------------------------- */

#define AVX2 __attribute__((target("avx2"), always_inline)) static inline

/* Bit b of each lane of v as a blendv mask (the sign bit). */
AVX2 __m256 bit_mask(__m256i v, int b)
{
    return _mm256_castsi256_ps(_mm256_sll_epi32(v, _mm_cvtsi32_si128(31 - b)));
}

/* Each lane's node among the 2^l rows of level l that start at `row`. */
AVX2 __m256i pick_row(const uint32_t *row, __m256i pos, int l)
{
    __m256 r[8];
    int n = 1 << l;
    for (int j = 0; j < n; j++)
        r[j] = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(row + 8 * j)));
    for (int b = 0; b < l; b++) {
        __m256 m = bit_mask(pos, b);
        for (int j = 0; j < n >> (b + 1); j++)
            r[j] = _mm256_blendv_ps(r[2 * j], r[2 * j + 1], m);
    }
    return _mm256_castps_si256(r[0]);
}

/* x[word & 31] per lane, from x held in four registers (two when wide is 0:
 * at most 16 features). */
AVX2 __m256 lookup(const __m256 xr[4], __m256i word, int wide)
{
    __m256 lo = _mm256_blendv_ps(_mm256_permutevar8x32_ps(xr[0], word),
                                 _mm256_permutevar8x32_ps(xr[1], word), bit_mask(word, 3));
    if (!wide)
        return lo;
    __m256 hi = _mm256_blendv_ps(_mm256_permutevar8x32_ps(xr[2], word),
                                 _mm256_permutevar8x32_ps(xr[3], word), bit_mask(word, 3));
    return _mm256_blendv_ps(lo, hi, bit_mask(word, 4));
}

AVX2 __m256 cut_off_avx2(__m256 lo, __m256 hi, __m256 x)
{
    __m256 ext = _mm256_max_ps(_mm256_max_ps(_mm256_sub_ps(lo, x), _mm256_sub_ps(x, hi)),
                               _mm256_setzero_ps());
    __m256 den = _mm256_max_ps(_mm256_add_ps(_mm256_sub_ps(hi, lo), ext), _mm256_set1_ps(1e-30f));
    return _mm256_div_ps(ext, den);
}

/* Path lengths of trees 8g..8g+7; xl, xs: the newest value's level and
 * step features in every lane. */
AVX2 __m256 group_paths(const vg__iforest_forest *f, const __m256 xr[4], __m256 xl, __m256 xs,
                        uint32_t g, int wide)
{
    const size_t base = (size_t)g << (f->height + 3);
    const uint32_t *node = f->node + base;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i one = _mm256_set1_epi32(1);
    __m256i i = _mm256_setzero_si256();
    for (uint32_t l = 0; l < f->height; l++) {
        __m256i word;
        if (l < 4) {
            /* level l's rows start at row 2^l - 1 */
            __m256i pos = _mm256_sub_epi32(i, _mm256_set1_epi32((1 << l) - 1));
            const uint32_t *row = node + 8 * ((1u << l) - 1);
            word = l == 0 ? pick_row(row, pos, 0)
                 : l == 1 ? pick_row(row, pos, 1)
                 : l == 2 ? pick_row(row, pos, 2)
                          : pick_row(row, pos, 3);
        } else {
            __m256i at = _mm256_add_epi32(_mm256_slli_epi32(i, 3), lane);
            word = _mm256_i32gather_epi32((const int *)(const void *)node, at, 4);
        }
        __m256 xq = lookup(xr, word, wide);
        __m256i right = _mm256_castps_si256(
            _mm256_cmp_ps(xq, _mm256_castsi256_ps(word), _CMP_GE_OQ));
        i = _mm256_sub_epi32(_mm256_add_epi32(_mm256_add_epi32(i, i), one), right);
    }
    __m256i slot = _mm256_sub_epi32(i, _mm256_set1_epi32((1 << f->height) - 1));
    /* 32-bit gathers at 2-byte steps: the slot's uint16_t is the low half */
    __m256i halves = _mm256_i32gather_epi32((const int *)(const void *)(f->leaf + base),
                                            _mm256_add_epi32(_mm256_slli_epi32(slot, 3), lane), 2);
    __m256 walked = _mm256_mul_ps(
        _mm256_cvtepi32_ps(_mm256_and_si256(halves, _mm256_set1_epi32(0xffff))),
        _mm256_set1_ps(1.0f / VG__IFOREST_LEAF_ONE));
    const float *box = f->box + 8 * g;
    const uint32_t n = f->trees;
    __m256 pi = _mm256_max_ps(
        cut_off_avx2(_mm256_loadu_ps(box), _mm256_loadu_ps(box + n), xl),
        cut_off_avx2(_mm256_loadu_ps(box + 2 * n), _mm256_loadu_ps(box + 3 * n), xs));
    return _mm256_add_ps(pi, _mm256_mul_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), pi), walked));
}

AVX2 double paths_avx2(const vg__iforest_forest *f, const float *x, float *paths, int wide)
{
    const __m256 xr[4] = {_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8), _mm256_loadu_ps(x + 16),
                          _mm256_loadu_ps(x + 24)};
    const __m256 xl = _mm256_set1_ps(x[f->level]);
    const __m256 xs = _mm256_set1_ps(x[f->step]);
    __m256d acc_lo = _mm256_setzero_pd();
    __m256d acc_hi = _mm256_setzero_pd();
    for (uint32_t g = 0; g < f->trees / 8; g++) {
        __m256 len = group_paths(f, xr, xl, xs, g, wide);
        if (paths != NULL)
            _mm256_storeu_ps(paths + 8 * g, len);
        acc_lo = _mm256_add_pd(acc_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(len)));
        acc_hi = _mm256_add_pd(acc_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(len, 1)));
    }
    double lanes[8];
    _mm256_storeu_pd(lanes, acc_lo);
    _mm256_storeu_pd(lanes + 4, acc_hi);
    return sum_lanes(lanes);
}

__attribute__((target("avx2")))
double vg__iforest_paths_avx2(const vg__iforest_forest *f, const float *x, float *paths)
{
    /* two specialisations: up to 16 features fit in two registers */
    return f->n_feat <= 16 ? paths_avx2(f, x, paths, 0) : paths_avx2(f, x, paths, 1);
}

vg__iforest_kernel vg__iforest_kernel_best(void)
{
    return __builtin_cpu_supports("avx2") ? vg__iforest_paths_avx2 : vg__iforest_paths_scalar;
}
