/* SSE2, AVX2 (with FMA) and AVX-512 versions of the reduction kernels in
 * kernels.h, compiled with per-function target attributes so the rest of
 * the build stays generic and the CPU check happens at run time.
 *
 * Each uses four independent vector accumulators: one accumulator would
 * wait on the latency of every add (about 4 cycles) and run no faster than
 * the scalar loop. The three sets share one body, instantiated per
 * instruction set with its own intrinsics. */
#include "detectors/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#define TARGET_sse2   __attribute__((target("sse2")))
#define TARGET_avx2   __attribute__((target("avx2,fma")))
#define TARGET_avx512 __attribute__((target("avx512f")))

/* Per instruction set: vector type, lane count W, and the operations the
 * body needs (load unaligned, add, subtract, a*b+c, broadcast, zero, and the
 * horizontal sum of one vector). */
TARGET_sse2 static inline __m128d sse2_madd(__m128d a, __m128d b, __m128d c)
{
    return _mm_add_pd(_mm_mul_pd(a, b), c);
}
TARGET_sse2 static inline double sse2_hsum(__m128d v)
{
    return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v)));
}
TARGET_avx2 static inline double avx2_hsum(__m256d v)
{
    return sse2_hsum(_mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1)));
}
TARGET_avx512 static inline double avx512_hsum(__m512d v)
{
    return _mm512_reduce_add_pd(v);
}

#define DEFINE_KERNELS(isa, W, vec, load, add, sub, madd, set1, zero, hsum)      \
    TARGET_##isa static double isa##_sum(const double *x, size_t n)              \
    {                                                                            \
        vec a0 = zero(), a1 = zero(), a2 = zero(), a3 = zero();                  \
        size_t i = 0;                                                            \
        for (; i + 4 * (W) <= n; i += 4 * (W)) {                                 \
            a0 = add(a0, load(x + i));                                           \
            a1 = add(a1, load(x + i + (W)));                                     \
            a2 = add(a2, load(x + i + 2 * (W)));                                 \
            a3 = add(a3, load(x + i + 3 * (W)));                                 \
        }                                                                        \
        for (; i + (W) <= n; i += (W))                                           \
            a0 = add(a0, load(x + i));                                           \
        double s = hsum(add(add(a0, a1), add(a2, a3)));                          \
        for (; i < n; i++)                                                       \
            s += x[i];                                                           \
        return s;                                                                \
    }                                                                            \
    TARGET_##isa static void isa##_dev_sums(const double *x, size_t n, double shift, \
                                            double *d, double *q)                \
    {                                                                            \
        vec m = set1(shift);                                                     \
        vec d0 = zero(), d1 = zero(), d2 = zero(), d3 = zero();                  \
        vec q0 = zero(), q1 = zero(), q2 = zero(), q3 = zero();                  \
        size_t i = 0;                                                            \
        for (; i + 4 * (W) <= n; i += 4 * (W)) {                                 \
            vec e0 = sub(load(x + i), m);                                        \
            vec e1 = sub(load(x + i + (W)), m);                                  \
            vec e2 = sub(load(x + i + 2 * (W)), m);                              \
            vec e3 = sub(load(x + i + 3 * (W)), m);                              \
            d0 = add(d0, e0);                                                    \
            d1 = add(d1, e1);                                                    \
            d2 = add(d2, e2);                                                    \
            d3 = add(d3, e3);                                                    \
            q0 = madd(e0, e0, q0);                                               \
            q1 = madd(e1, e1, q1);                                               \
            q2 = madd(e2, e2, q2);                                               \
            q3 = madd(e3, e3, q3);                                               \
        }                                                                        \
        for (; i + (W) <= n; i += (W)) {                                         \
            vec e = sub(load(x + i), m);                                         \
            d0 = add(d0, e);                                                     \
            q0 = madd(e, e, q0);                                                 \
        }                                                                        \
        double sd = hsum(add(add(d0, d1), add(d2, d3)));                         \
        double sq = hsum(add(add(q0, q1), add(q2, q3)));                         \
        for (; i < n; i++) {                                                     \
            double e = x[i] - shift;                                             \
            sd += e;                                                             \
            sq += e * e;                                                         \
        }                                                                        \
        *d = sd;                                                                 \
        *q = sq;                                                                 \
    }                                                                            \
    static const vg_kernels isa##_kernels = {                                    \
        .name = #isa, .sum = isa##_sum, .dev_sums = isa##_dev_sums,              \
    };

DEFINE_KERNELS(sse2, 2, __m128d, _mm_loadu_pd, _mm_add_pd, _mm_sub_pd, sse2_madd,
               _mm_set1_pd, _mm_setzero_pd, sse2_hsum)
DEFINE_KERNELS(avx2, 4, __m256d, _mm256_loadu_pd, _mm256_add_pd, _mm256_sub_pd,
               _mm256_fmadd_pd, _mm256_set1_pd, _mm256_setzero_pd, avx2_hsum)
DEFINE_KERNELS(avx512, 8, __m512d, _mm512_loadu_pd, _mm512_add_pd, _mm512_sub_pd,
               _mm512_fmadd_pd, _mm512_set1_pd, _mm512_setzero_pd, avx512_hsum)

size_t vg__kernels_simd(const vg_kernels **out, size_t cap)
{
    size_t n = 0;
    /* Called from a constructor: the CPU model must be read first. */
    __builtin_cpu_init();
    if (n < cap && __builtin_cpu_supports("sse2"))
        out[n++] = &sse2_kernels;
    if (n < cap && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        out[n++] = &avx2_kernels;
    if (n < cap && __builtin_cpu_supports("avx512f"))
        out[n++] = &avx512_kernels;
    return n;
}

#else /* not x86: the scalar reference only */

size_t vg__kernels_simd(const vg_kernels **out, size_t cap)
{
    (void)out;
    (void)cap;
    return 0;
}

#endif
