/* Detector throughput on one core: z-score points/s through score() with
 * the SIMD kernels and with the scalar reference, the recompute kernels
 * alone, and bytes per series.
 *
 * 1,000 series with the pipeline's default window (200) are scored
 * interleaved, point t of every series before point t+1 of any, as a
 * stream of mixed series arrives; every series is past its warm-up before
 * timing starts. Runs alternate between kernel sets so drift in machine
 * load hits both alike, and the median of each is reported. Times are
 * thread CPU time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detectors/detector.h"
#include "detectors/kernels.h"

#define SERIES 1000
#define CAP    200
#define POINTS 1000   /* per series per timed run */
#define RUNS   9      /* per kernel set, alternated */
#define RECOMPUTE_REPS 200

typedef struct bench {
    const vg_detector_ops *d;
    void    *params;
    size_t   state_size, stride;
    uint8_t *slab;      /* SERIES blocks: detector state, then the window */
    double  *values;    /* POINTS x SERIES, in arrival order */
} bench;

/* Thread CPU time, not wall time: the bench machine is shared, and time
 * spent descheduled says nothing about the code. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Roughly normal noise (sum of four uniforms) around a per-series level. */
static double noise(uint64_t *s)
{
    double u = 0.0;
    for (int i = 0; i < 4; i++)
        u += (double)(rng_next(s) >> 11) * 0x1.0p-53;
    return (u - 2.0) * 1.7;
}

static void *block(const bench *b, size_t s)
{
    return b->slab + s * b->stride;
}

static vg_window *window_of(const bench *b, size_t s)
{
    return (vg_window *)(b->slab + s * b->stride + b->state_size);
}

/* One pass of every point in b->values; returns the seconds it took. */
static double score_pass(bench *b, int64_t *ts, double *checksum)
{
    double t0 = now_s(), sum = 0.0;
    vg_explain why;
    for (size_t t = 0; t < POINTS; t++, (*ts)++) {
        const double *row = b->values + t * SERIES;
        for (size_t s = 0; s < SERIES; s++) {
            vg_window *w = window_of(b, s);
            sum += b->d->score(block(b, s), b->params, w, *ts, row[s], &why);
            vg_window_push(w, row[s]);
        }
    }
    *checksum += sum;
    return now_s() - t0;
}

/* Seconds for one exact recompute (sum, then deviation sums) of every
 * series' window, averaged over RECOMPUTE_REPS. */
static double recompute_pass(const bench *b, const vg_kernels *k, double *checksum)
{
    double t0 = now_s(), sum = 0.0;
    for (int r = 0; r < RECOMPUTE_REPS; r++)
        for (size_t s = 0; s < SERIES; s++) {
            const vg_window *w = window_of(b, s);
            const double *x = vg_window_raw(w);
            double shift = k->sum(x, w->len) / w->len, d, q;
            k->dev_sums(x, w->len, shift, &d, &q);
            sum += q - d * d / w->len;
        }
    *checksum += sum;
    return (now_s() - t0) / RECOMPUTE_REPS;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return v[n / 2];
}

/* cfg_json: the zscore config, NULL for defaults. */
static int bench_open(bench *b, const char *cfg_json)
{
    vg_error err;
    b->d = vg_detector_find("zscore");
    b->params = calloc(1, b->d->params_size);
    json_t *cfg = cfg_json != NULL ? json_loads(cfg_json, 0, NULL) : NULL;
    int rc = b->params != NULL ? b->d->configure(b->params, NULL, cfg, CAP, &err) : -1;
    json_decref(cfg);
    if (rc != 0)
        return -1;
    b->state_size = (b->d->state_size(b->params) + 7) & ~(size_t)7;
    b->stride = b->state_size + vg_window_bytes(CAP);
    b->slab = aligned_alloc(64, (SERIES * b->stride + 63) & ~(size_t)63);
    b->values = malloc(sizeof(double) * POINTS * SERIES);
    if (b->slab == NULL || b->values == NULL)
        return -1;
    uint64_t rng = 1;
    double level[SERIES];
    for (size_t s = 0; s < SERIES; s++) {
        level[s] = 100.0 * (double)(s + 1);
        b->d->init(block(b, s), b->params, s);
        vg_window_init(window_of(b, s), CAP);
    }
    for (size_t t = 0; t < POINTS; t++)
        for (size_t s = 0; s < SERIES; s++)
            b->values[t * SERIES + s] = level[s] + noise(&rng);
    return 0;
}

static void bench_close(bench *b)
{
    free(b->params);
    free(b->slab);
    free(b->values);
}

/* Robust mode (median and MAD from a sorted copy of the window). */
static int bench_robust(double *checksum)
{
    bench b;
    if (bench_open(&b, "{\"robust\": true}") != 0)
        return -1;
    int64_t ts = 0;
    double t[RUNS];
    score_pass(&b, &ts, checksum);
    for (int r = 0; r < RUNS; r++)
        t[r] = score_pass(&b, &ts, checksum);
    size_t state = b.d->state_size(b.params), window = vg_window_bytes(CAP);
    printf("zscore robust (median/MAD), same stream: %.1f M points/s, "
           "bytes per series %zu + %zu = %zu\n",
           (double)SERIES * POINTS / median(t, RUNS) / 1e6, state, window, state + window);
    bench_close(&b);
    return 0;
}

int main(void)
{
    bench b;
    if (bench_open(&b, NULL) != 0) {
        fprintf(stderr, "bench_detectors: setup failed\n");
        return 1;
    }
    const vg_kernels *simd = vg_kernels_get(), *scalar = vg_kernels_scalar();
    double checksum = 0.0;
    int64_t ts = 0;

    /* Fill every window and get past the warm-up before timing. */
    score_pass(&b, &ts, &checksum);

    double t_simd[RUNS], t_scalar[RUNS];
    for (int r = 0; r < RUNS; r++) {
        vg_kernels_force(simd);
        t_simd[r] = score_pass(&b, &ts, &checksum);
        vg_kernels_force(scalar);
        t_scalar[r] = score_pass(&b, &ts, &checksum);
    }
    vg_kernels_force(NULL);
    double pts = (double)SERIES * POINTS;
    double simd_rate = pts / median(t_simd, RUNS), scalar_rate = pts / median(t_scalar, RUNS);
    printf("zscore score(), %d series x window %d, interleaved, median of %d alternated runs:\n",
           SERIES, CAP, RUNS);
    printf("  %-7s %7.1f M points/s\n", simd->name, simd_rate / 1e6);
    printf("  %-7s %7.1f M points/s\n", scalar->name, scalar_rate / 1e6);
    printf("  ratio   %7.2fx\n", simd_rate / scalar_rate);

    /* The recompute kernels alone, every set this CPU runs, alternated. */
    size_t n_sets = vg_kernels_count();
    double t_rec[8][RUNS];
    for (int r = 0; r < RUNS; r++)
        for (size_t k = 0; k < n_sets && k < 8; k++)
            t_rec[k][r] = recompute_pass(&b, vg_kernels_at(k), &checksum);
    double scalar_rec = median(t_rec[0], RUNS);
    printf("recompute (sum + deviation sums) of %d windows of %d, median of %d runs:\n",
           SERIES, CAP, RUNS);
    for (size_t k = 0; k < n_sets && k < 8; k++) {
        double m = k == 0 ? scalar_rec : median(t_rec[k], RUNS);
        printf("  %-7s %7.1f ns per window  %6.2f G values/s  %5.2fx scalar\n",
               vg_kernels_at(k)->name, 1e9 * m / SERIES, (double)SERIES * CAP / m / 1e9,
               scalar_rec / m);
    }

    size_t state = b.d->state_size(b.params), window = vg_window_bytes(CAP);
    printf("bytes per series: zscore state %zu + window(%d) %zu = %zu\n", state, CAP, window,
           state + window);
    bench_close(&b);
    if (bench_robust(&checksum) != 0) {
        fprintf(stderr, "bench_detectors: robust setup failed\n");
        return 1;
    }
    printf("(checksum %g)\n", checksum);
    return 0;
}
