/* The pipeline alone (series table -> detectors -> ensemble -> alert), no
 * input parsing and no output formatting, for 1,000 interleaved series in
 * batches of 4,096 (a CSV source's). Two tables, configurations alternated
 * within each run, best of VG_BENCH_RUNS:
 *  - per core: one worker, the thread's CPU time; z-score only (the
 *    baseline) against all defaults and each shipped part, with the bytes
 *    of state per series of each;
 *  - scaling: z-score only and all defaults with 1, 2 and 4 scoring workers
 *    (config `workers`), wall time, against the 1-worker figure.
 *
 *   bench_pipeline [points]     (default 3,000,000) */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench/util.h"
#include "engine/config.h"
#include "engine/pipeline.h"

#define BATCH 4096

/* Points/s of one pipeline over b, timed by this thread's CPU time (per
 * core, one worker) or by the wall clock (the workers' threads count). */
static double run(const char *config_text, int workers, int cpu_time, const vg_batch *b,
                  size_t *series_bytes)
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
    double (*clock)(void) = cpu_time ? vg_bench_cpu_now : vg_bench_now;
    double t0 = clock();
    /* Views of b, BATCH points each (keys are offsets into b's arena). */
    for (size_t off = 0; off < b->n; off += BATCH) {
        vg_batch view = *b;
        view.points = b->points + off;
        view.n = b->n - off < BATCH ? b->n - off : BATCH;
        vg_pipeline_process(p, &view);
    }
    double dt = clock() - t0;
    if (series_bytes != NULL)
        *series_bytes = vg_pipeline_series_bytes(p);
    vg_pipeline_free(p);
    vg_config_free(cfg);
    return (double)b->n / dt;
}

/* The configurations timed per core: z-score only (the baseline), all
 * defaults (the target), and each shipped detector alone, the calendar
 * season and the ensemble without its tail, to show what each part costs.
 * NULL: the built-in defaults. */
static const struct setup {
    const char *label, *config;
} setups[] = {
    {"zscore only (baseline)", "{\"detectors\": {\"zscore\": {}}}"},
    {"all defaults (4 + ens.)", NULL},
    {"seasonal, no calendar", "{\"detectors\": {\"seasonal\": {\"calendar\": false}}}"},
    {"seasonal (+ calendar)", "{\"detectors\": {\"seasonal\": {}}}"},
    {"iforest only", "{\"detectors\": {\"iforest\": {}}}"},
    {"extreme only", "{\"detectors\": {\"extreme\": {}}}"},
    {"all, no tail recalib.", "{\"ensemble\": {\"recalibrate\": false}}"},
};
#define SETUPS (sizeof(setups) / sizeof(setups[0]))

static void per_core(const vg_batch *b)
{
    double best[SETUPS] = {0};
    size_t bytes[SETUPS] = {0};
    for (int r = 0; r < VG_BENCH_RUNS; r++) {
        for (size_t i = 0; i < SETUPS; i++) {
            double rate = run(setups[i].config, 1, 1, b, &bytes[i]);
            best[i] = rate > best[i] ? rate : best[i];
        }
    }
    printf("pipeline alone, %zu points, %d series, one worker, best of %d (thread CPU time):\n",
           b->n, VG_BENCH_SERIES, VG_BENCH_RUNS);
    for (size_t i = 0; i < SETUPS; i++)
        printf("  %-24s %6.2f M points/s per core  %6zu bytes/series  %.2fx of zscore only\n",
               setups[i].label, best[i] / 1e6, bytes[i], best[i] / best[0]);
}

static const int worker_counts[] = {1, 2, 4};
#define N_COUNTS 3

static void print_scaling(const char *label, const double best[N_COUNTS])
{
    for (int k = 0; k < N_COUNTS; k++) {
        double speedup = best[k] / best[0];
        printf("  %-24s %d worker%s %6.2f M points/s  %.2fx of 1 worker, efficiency %3.0f %%\n",
               label, worker_counts[k], worker_counts[k] == 1 ? " " : "s", best[k] / 1e6,
               speedup, 100.0 * speedup / worker_counts[k]);
    }
}

static void scaling(const vg_batch *b)
{
    const char *zscore = setups[0].config;
    double best_z[N_COUNTS] = {0}, best_all[N_COUNTS] = {0};
    for (int r = 0; r < VG_BENCH_RUNS; r++) {
        for (int k = 0; k < N_COUNTS; k++) {
            /* Wall time for every count, 1 included, so the ratios compare alike. */
            double z = run(zscore, worker_counts[k], 0, b, NULL);
            double all = run(NULL, worker_counts[k], 0, b, NULL);
            best_z[k] = z > best_z[k] ? z : best_z[k];
            best_all[k] = all > best_all[k] ? all : best_all[k];
        }
    }
    printf("scaling, batches of %d, %ld online CPUs, best of %d (wall time):\n", BATCH,
           sysconf(_SC_NPROCESSORS_ONLN), VG_BENCH_RUNS);
    print_scaling("zscore only", best_z);
    print_scaling("all defaults", best_all);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 3000000;
    vg_batch b;
    vg_batch_init(&b);
    vg_bench_fill_cycles(&b, n);
    per_core(&b);
    scaling(&b);
    vg_batch_release(&b);
    return 0;
}
