/* Seasonal detector throughput: points/s on one core over many interleaved
 * series (each point touches a different series' state, as a busy consumer
 * does), with the default params, and the bytes each series costs.
 *
 * Series get 5-minute points of a daily sine plus noise. The training
 * phase (buffering, then one season search per series) and the running
 * phase are timed apart. The detector does not read the window, so one
 * shared window is passed and the pipeline's push is left out.
 *
 * Usage: bench_seasonal [series=1000] [running points per series=20000] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detectors/detector.h"

extern const vg_detector_ops vg_seasonal_ops;

#define STEP_MS  300000
#define DAY_PTS  288
#define NOISE_N  4096

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Deterministic N(0,1) table (splitmix64 + Box-Muller). */
static void fill_noise(double *noise)
{
    uint64_t s = 12345;
    for (size_t i = 0; i < NOISE_N; i++) {
        double u[2];
        for (int j = 0; j < 2; j++) {
            uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            u[j] = ((double)((z ^ (z >> 31)) >> 11) + 0.5) * 0x1.0p-53;
        }
        noise[i] = sqrt(-2.0 * log(u[0])) * cos(2.0 * M_PI * u[1]);
    }
}

typedef struct bench {
    const vg_detector_ops *d;
    const void            *params;
    unsigned char         *states;
    size_t                 state_size;
    size_t                 n_series;
    const vg_window       *w;
    double                 sine[DAY_PTS];
    double                 noise[NOISE_N];
} bench;

/* Scores rounds [from, to) of every series, interleaved; returns the sum of
 * scores (so nothing is optimised away). */
static double run_rounds(const bench *b, int64_t from, int64_t to)
{
    double sum = 0.0;
    vg_explain why;
    for (int64_t t = from; t < to; t++) {
        double season = b->sine[t % DAY_PTS];
        for (size_t s = 0; s < b->n_series; s++) {
            double v = 100.0 + (double)s + season + b->noise[((size_t)t * 7 + s) % NOISE_N];
            sum += b->d->score(b->states + s * b->state_size, b->params, b->w,
                               t * STEP_MS, v, &why);
        }
    }
    return sum;
}

int main(int argc, char **argv)
{
    size_t n_series = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    int64_t rounds = argc > 2 ? strtoll(argv[2], NULL, 10) : 20000;
    vg_error err = {0};
    static bench b;
    b.d = &vg_seasonal_ops;
    void *params = calloc(1, b.d->params_size);
    if (params == NULL || b.d->configure(params, NULL, NULL, 200, &err) != 0) {
        fprintf(stderr, "bench_seasonal: configure failed: %s\n", err.msg);
        return 1;
    }
    b.params = params;
    b.state_size = (b.d->state_size(params) + 63) / 64 * 64;
    b.n_series = n_series;
    b.states = aligned_alloc(64, b.state_size * n_series);
    vg_window *w = vg_window_new(200, &err);
    if (b.states == NULL || w == NULL) {
        fprintf(stderr, "bench_seasonal: out of memory\n");
        return 1;
    }
    b.w = w;
    for (size_t s = 0; s < n_series; s++)
        b.d->init(b.states + s * b.state_size, params, s);
    for (int i = 0; i < DAY_PTS; i++)
        b.sine[i] = 10.0 * sin(2.0 * M_PI * i / DAY_PTS);
    fill_noise(b.noise);

    /* Training: 1440 points per series by default; one more round so every
     * series has finished its season search. */
    int64_t training = 1441;
    double t0 = now_s();
    double sum = run_rounds(&b, 0, training);
    double t1 = now_s();
    sum += run_rounds(&b, training, training + rounds);
    double t2 = now_s();

    vg_explain why;
    b.d->score(b.states, params, w, (training + rounds) * STEP_MS, 100.0, &why);
    double train_pts = (double)training * n_series, run_pts = (double)rounds * n_series;
    printf("seasonal: %zu series, state %zu bytes/series (%zu with 64-byte alignment)\n",
           n_series, b.d->state_size(params), b.state_size);
    printf("  training: %.0f points in %.3f s = %.2f M points/s (incl. %zu season searches)\n",
           train_pts, t1 - t0, train_pts / (t1 - t0) / 1e6, n_series);
    printf("  running:  %.0f points in %.3f s = %.2f M points/s (%.1f ns/point)\n", run_pts,
           t2 - t1, run_pts / (t2 - t1) / 1e6, (t2 - t1) / run_pts * 1e9);
    printf("  series 0: %s (score sum %.6g)\n", why.detail, sum);
    free(b.states);
    free(params);
    vg_window_free(w);
    return 0;
}
