/* Isolation-forest scoring kernels: the scalar reference and an AVX2
 * version that walks eight trees at once, one tree per lane, with gathers
 * (layout in iforest_forest.h). Both return the same striped sum, so the
 * detector's score does not depend on which one the CPU runs; a unit test
 * holds them to that. The AVX2 code is compiled with a target attribute and
 * only called after __builtin_cpu_supports("avx2"). */
#include "detectors/iforest_forest.h"

#include <immintrin.h>

/* One tree's walk from the root to its bottom slot. */
static inline float walk(const vg__iforest_forest *f, const float *x, uint32_t t)
{
    const size_t base = (size_t)t << f->height;
    const float *thr = f->thr + base;
    const uint8_t *feat = f->feat + base;
    uint32_t i = 0;
    for (uint32_t h = 0; h < f->height; h++)
        i = 2 * i + 1 + (x[feat[i]] >= thr[i]);
    return f->leaf[base + i - ((1u << f->height) - 1)];
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
    const float *box = f->box;
    const uint32_t n = f->trees;
    float pi = max_ps(cut_off(box[t], box[n + t], x[f->level]),
                      cut_off(box[2 * n + t], box[3 * n + t], x[f->step]));
    return pi + (1.0f - pi) * walk(f, x, t);
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

__attribute__((target("avx2")))
__attribute__((target("avx2")))
static inline __m256 cut_off_avx2(__m256 lo, __m256 hi, __m256 x)
{
    __m256 ext = _mm256_max_ps(_mm256_max_ps(_mm256_sub_ps(lo, x), _mm256_sub_ps(x, hi)),
                               _mm256_setzero_ps());
    __m256 den = _mm256_max_ps(_mm256_add_ps(_mm256_sub_ps(hi, lo), ext), _mm256_set1_ps(1e-30f));
    return _mm256_div_ps(ext, den);
}

__attribute__((target("avx2")))
double vg__iforest_paths_avx2(const vg__iforest_forest *f, const float *x, float *paths)
{
    const uint32_t n = f->trees;
    const __m256 level = _mm256_set1_ps(x[f->level]);
    const __m256 step_x = _mm256_set1_ps(x[f->step]);
    const __m256 unit = _mm256_set1_ps(1.0f);
    const int stride = 1 << f->height;
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i byte = _mm256_set1_epi32(0xff);
    const __m256i bottom = _mm256_set1_epi32(stride - 1);
    __m256i base = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                      _mm256_set1_epi32(stride));
    const __m256i step = _mm256_set1_epi32(8 * stride);
    __m256d acc_lo = _mm256_setzero_pd();
    __m256d acc_hi = _mm256_setzero_pd();
    uint32_t t = 0;

    for (; t + 8 <= f->trees; t += 8, base = _mm256_add_epi32(base, step)) {
        __m256i i = _mm256_setzero_si256();
        for (uint32_t h = 0; h < f->height; h++) {
            __m256i node = _mm256_add_epi32(base, i);
            __m256i q = _mm256_and_si256(
                _mm256_i32gather_epi32((const int *)(const void *)f->feat, node, 1), byte);
            __m256 thr = _mm256_i32gather_ps(f->thr, node, 4);
            __m256 xq = _mm256_i32gather_ps(x, q, 4);
            /* all-ones (-1) where the point goes right */
            __m256i right = _mm256_castps_si256(_mm256_cmp_ps(xq, thr, _CMP_GE_OQ));
            i = _mm256_sub_epi32(_mm256_add_epi32(_mm256_add_epi32(i, i), one), right);
        }
        __m256i slot = _mm256_sub_epi32(_mm256_add_epi32(base, i), bottom);
        __m256 walked = _mm256_i32gather_ps(f->leaf, slot, 4);
        __m256 pi = _mm256_max_ps(
            cut_off_avx2(_mm256_loadu_ps(f->box + t), _mm256_loadu_ps(f->box + n + t), level),
            cut_off_avx2(_mm256_loadu_ps(f->box + 2 * n + t), _mm256_loadu_ps(f->box + 3 * n + t),
                         step_x));
        __m256 len = _mm256_add_ps(pi, _mm256_mul_ps(_mm256_sub_ps(unit, pi), walked));
        if (paths != NULL)
            _mm256_storeu_ps(paths + t, len);
        acc_lo = _mm256_add_pd(acc_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(len)));
        acc_hi = _mm256_add_pd(acc_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(len, 1)));
    }

    double lanes[8];
    _mm256_storeu_pd(lanes, acc_lo);
    _mm256_storeu_pd(lanes + 4, acc_hi);
    for (; t < f->trees; t++) {
        float h = path(f, x, t);
        if (paths != NULL)
            paths[t] = h;
        lanes[t % 8] += h;
    }
    return sum_lanes(lanes);
}

vg__iforest_kernel vg__iforest_kernel_best(void)
{
    return __builtin_cpu_supports("avx2") ? vg__iforest_paths_avx2 : vg__iforest_paths_scalar;
}
