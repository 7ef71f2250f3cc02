/* The pipeline alone (series table -> detectors -> ensemble -> alert), no
 * input parsing and no output formatting: points/s for 1,000 interleaved
 * series in batches of 4,096 (a CSV source's), z-score only against all
 * defaults, each with 1, 2 and 4 scoring workers (config `workers`) in the
 * same run, alternated, best of VG_BENCH_RUNS; scaling printed against the
 * 1-worker figure.
 *
 *   bench_pipeline [points]     (default 3,000,000) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench/util.h"
#include "engine/config.h"
#include "engine/pipeline.h"

/* Fills b with `n` points of 1,000 noisy daily cycles, round robin. */
static void fill(vg_batch *b, long n)
{
    uint64_t s = 7;
    char key[32];
    for (long i = 0; i < n; i++) {
        long series = i % VG_BENCH_SERIES, step = i / VG_BENCH_SERIES;
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double noise = (double)(s >> 11) * 0x1.0p-53 - 0.5;
        double v = 100.0 + 20.0 * sin(2.0 * M_PI * (double)(step % 288) / 288.0) + noise;
        int len = snprintf(key, sizeof(key), "host%03ld.cpu", series);
        vg_batch_push(b, key, (size_t)len, 1404172800000LL + step * 300000LL, v, NULL);
    }
}

#define BATCH 4096

static double run(const char *config_text, int workers, const vg_batch *b)
{
    vg_error err = {0};
    vg_config *cfg = config_text ? vg_config_load_string(config_text, "bench", &err)
                                 : vg_config_default(&err);
    if (cfg != NULL)
        cfg->workers = workers;
    vg_pipeline *p = cfg ? vg_pipeline_new(cfg, &err) : NULL;
    if (p == NULL) {
        fprintf(stderr, "bench_pipeline: %s\n", err.msg);
        exit(1);
    }
    double t0 = vg_bench_now();
    /* Views of b, BATCH points each (keys are offsets into b's arena). */
    for (size_t off = 0; off < b->n; off += BATCH) {
        vg_batch view = *b;
        view.points = b->points + off;
        view.n = b->n - off < BATCH ? b->n - off : BATCH;
        vg_pipeline_process(p, &view);
    }
    double dt = vg_bench_now() - t0;
    vg_pipeline_free(p);
    vg_config_free(cfg);
    return (double)b->n / dt;
}

static const int worker_counts[] = {1, 2, 4};
#define N_COUNTS 3

static void print_scaling(const char *label, const double best[N_COUNTS])
{
    for (int k = 0; k < N_COUNTS; k++) {
        double speedup = best[k] / best[0];
        printf("  %-22s %d worker%s %6.2f M points/s  %.2fx of 1 worker, efficiency %3.0f %%\n",
               label, worker_counts[k], worker_counts[k] == 1 ? " " : "s", best[k] / 1e6,
               speedup, 100.0 * speedup / worker_counts[k]);
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 3000000L;
    vg_batch b;
    vg_batch_init(&b);
    fill(&b, n);
    const char *zscore = "{\"detectors\": {\"zscore\": {}}}";
    double best_z[N_COUNTS] = {0}, best_all[N_COUNTS] = {0};
    for (int r = 0; r < VG_BENCH_RUNS; r++) {
        for (int k = 0; k < N_COUNTS; k++) {
            double z = run(zscore, worker_counts[k], &b);
            double all = run(NULL, worker_counts[k], &b);
            best_z[k] = z > best_z[k] ? z : best_z[k];
            best_all[k] = all > best_all[k] ? all : best_all[k];
        }
    }
    printf("pipeline alone, %ld points, %d series, batches of %d, %ld online CPUs, "
           "best of %d:\n", n, VG_BENCH_SERIES, BATCH, sysconf(_SC_NPROCESSORS_ONLN),
           VG_BENCH_RUNS);
    print_scaling("zscore only", best_z);
    print_scaling("all defaults (3 + ens.)", best_all);
    printf("  all defaults, 1 worker: %.2fx of zscore only\n", best_all[0] / best_z[0]);
    vg_batch_release(&b);
    return 0;
}
