/* Benchmark of the isolation-forest detector on one core: 1,000 interleaved
 * noisy-sine series with default params, driven as the pipeline drives them
 * (score, then push into a 200-value window). Prints points/s with the
 * amortised retraining included, the forest scoring time of the AVX2 kernel
 * against the scalar reference on the same trained forests, and the bytes
 * each series costs.
 *
 * Times are this thread's CPU time (the machine is shared, so wall time
 * counts other jobs); the run is timed in chunks and the kernels in rounds,
 * and the best chunk and round are printed beside the averages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detectors/detector.h"
#include "detectors/iforest_forest.h"

extern const vg_detector_ops vg_iforest_ops;

#define SERIES bench_series
static int bench_series = 1000;
#define WINDOW 200u
#define WARM 400    /* points per series before timing: first forests built */
#define CHUNK 256   /* points per series per timed chunk: one retraining cycle */
#define CHUNKS 8
#define TIMED (CHUNK * CHUNKS)
#define PROBES 100  /* kernel probes per series per round */
#define ROUNDS 5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state = 12345;
static double noise(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(rng_state >> 11) * 0x1.0p-53 - 0.5) * 0.6;
}

static double value_at(int s, int i)
{
    return 100.0 + s + (3.0 + s % 7) * sin(2.0 * M_PI * (i + s) / (20.0 + s % 50));
}

int main(int argc, char **argv)
{
    if (argc > 1)
        bench_series = atoi(argv[1]);
    const vg_detector_ops *d = &vg_iforest_ops;
    vg_error err;
    /* optional second argument: the detector's JSON config, for comparisons */
    json_t *cfg = argc > 2 ? json_loads(argv[2], 0, NULL) : NULL;
    void *params = calloc(1, d->params_size);
    if (params == NULL || d->configure(params, NULL, cfg, WINDOW, &err) != VG_OK) {
        fprintf(stderr, "configure failed: %s\n", err.msg);
        return 1;
    }
    json_decref(cfg);
    const size_t size = d->state_size(params);
    const size_t wbytes = vg_window_bytes(WINDOW);
    char *states = malloc(size * SERIES);
    char *windows = malloc(wbytes * SERIES);
    double *values = malloc(sizeof(double) * SERIES * (WARM + TIMED));
    if (states == NULL || windows == NULL || values == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i < WARM + TIMED; i++)
        for (int s = 0; s < SERIES; s++)
            values[(size_t)i * SERIES + s] = value_at(s, i) + noise();
    for (int s = 0; s < SERIES; s++) {
        d->init(states + size * s, params, 1000003ULL * (uint64_t)s);
        vg_window_init((vg_window *)(windows + wbytes * s), WINDOW);
    }

    double sink = 0.0;
    double t_run = 0.0, t_best_chunk = 1e300, t_chunk = 0.0;
    uint64_t builds0 = 0;
    for (int i = 0; i < WARM + TIMED; i++) {
        if (i == WARM) {
            for (int s = 0; s < SERIES; s++)
                builds0 += vg__iforest_builds(states + size * s);
        }
        if (i >= WARM && (i - WARM) % CHUNK == 0)
            t_chunk = now_s();
        for (int s = 0; s < SERIES; s++) {
            vg_window *w = (vg_window *)(windows + wbytes * s);
            double v = values[(size_t)i * SERIES + s];
            vg_explain why;
            sink += d->score(states + size * s, params, w, i, v, &why);
            vg_window_push(w, v);
        }
        if (i >= WARM && (i - WARM) % CHUNK == CHUNK - 1) {
            double dt = now_s() - t_chunk;
            t_run += dt;
            t_best_chunk = dt < t_best_chunk ? dt : t_best_chunk;
        }
    }
    uint64_t builds = 0;
    for (int s = 0; s < SERIES; s++)
        builds += vg__iforest_builds(states + size * s);

    /* the same trained forests, both kernels, same probe values, best round */
    const vg__iforest_kernel kernels[2] = {vg__iforest_paths_scalar,
                                           __builtin_cpu_supports("avx2")
                                               ? vg__iforest_paths_avx2
                                               : vg__iforest_paths_scalar};
    double t_kernel[2] = {1e300, 1e300}, sums[2] = {0.0, 0.0};
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < 2; k++) {
            double t1 = now_s(), sum = 0.0;
            for (int r = 0; r < PROBES; r++)
                for (int s = 0; s < SERIES; s++)
                    sum += vg__iforest_depth(states + size * s, params,
                                             (vg_window *)(windows + wbytes * s),
                                             value_at(s, r) + 0.1 * r, kernels[k], NULL);
            double dt = now_s() - t1;
            t_kernel[k] = dt < t_kernel[k] ? dt : t_kernel[k];
            sums[k] = sum;
        }
    }

    double points = (double)SERIES * TIMED;
    printf("iforest, %d series, window %u, default params, one thread\n", SERIES, WINDOW);
    printf("  points/s (score + push, retraining included): %.2f M (best %d-point chunk %.2f M)\n",
           points / t_run / 1e6, CHUNK, SERIES * (double)CHUNK / t_best_chunk / 1e6);
    printf("  tree builds per point:                        %.3f\n",
           (double)(builds - builds0) / points);
    printf("  forest scoring, scalar reference:             %.0f ns/point\n",
           t_kernel[0] / (SERIES * PROBES) * 1e9);
    printf("    (features + forest walk, best of %d rounds)\n", ROUNDS);
    printf("  forest scoring, %s:                         %.0f ns/point (%.2fx)%s\n",
           kernels[1] == vg__iforest_paths_avx2 ? "AVX2  " : "scalar",
           t_kernel[1] / (SERIES * PROBES) * 1e9, t_kernel[0] / t_kernel[1],
           sums[0] == sums[1] ? "" : "  MISMATCH");
    printf("  bytes per series: detector %zu + window %zu = %zu\n", size, wbytes, size + wbytes);
    printf("  (checksum %.6f)\n", sink);
    free(values);
    free(windows);
    free(states);
    free(params);
    return sums[0] == sums[1] ? 0 : 1;
}
