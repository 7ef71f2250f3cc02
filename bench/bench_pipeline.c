/* The pipeline alone (series table -> detectors -> ensemble -> alert), no
 * input parsing and no output formatting: points/s on one core for 1,000
 * interleaved series (the thread's CPU time), z-score only against all
 * defaults and each shipped part in the same run, alternated, best of
 * VG_BENCH_RUNS; and the bytes of state per series of each.
 *
 *   bench_pipeline [points]     (default 3,000,000) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

static double run(const char *config_text, const vg_batch *b, size_t *series_bytes)
{
    vg_error err = {0};
    vg_config *cfg = config_text ? vg_config_load_string(config_text, "bench", &err)
                                 : vg_config_default(&err);
    vg_pipeline *p = cfg ? vg_pipeline_new(cfg, &err) : NULL;
    if (p == NULL) {
        fprintf(stderr, "bench_pipeline: %s\n", err.msg);
        exit(1);
    }
    *series_bytes = vg_pipeline_series_bytes(p);
    double t0 = vg_bench_cpu_now();
    vg_pipeline_process(p, b);
    double dt = vg_bench_cpu_now() - t0;
    vg_pipeline_free(p);
    vg_config_free(cfg);
    return (double)b->n / dt;
}

/* The configurations timed, alternated within each run: z-score only (the
 * baseline), all defaults (the target), and each shipped detector alone,
 * the calendar season and the ensemble without its tail, to show what
 * each part costs. NULL: the built-in defaults. */
static const struct setup {
    const char *label, *config;
} setups[] = {
    {"zscore only (baseline)", "{\"detectors\": {\"zscore\": {}}}"},
    {"all defaults (4 + ens.)", NULL},
    {"seasonal only", "{\"detectors\": {\"seasonal\": {}}}"},
    {"seasonal + calendar", "{\"detectors\": {\"seasonal\": {\"calendar\": true}}}"},
    {"iforest only", "{\"detectors\": {\"iforest\": {}}}"},
    {"extreme only", "{\"detectors\": {\"extreme\": {}}}"},
    {"all, no tail recalib.", "{\"ensemble\": {\"recalibrate\": false}}"},
};
#define SETUPS (sizeof(setups) / sizeof(setups[0]))

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 3000000L;
    vg_batch b;
    vg_batch_init(&b);
    fill(&b, n);
    double best[SETUPS] = {0};
    size_t bytes[SETUPS] = {0};
    for (int r = 0; r < VG_BENCH_RUNS; r++) {
        for (size_t i = 0; i < SETUPS; i++) {
            double rate = run(setups[i].config, &b, &bytes[i]);
            best[i] = rate > best[i] ? rate : best[i];
        }
    }
    printf("pipeline alone, %ld points, %d series, best of %d (thread CPU time):\n", n,
           VG_BENCH_SERIES, VG_BENCH_RUNS);
    for (size_t i = 0; i < SETUPS; i++)
        printf("  %-24s %6.2f M points/s per core  %6zu bytes/series  %.2fx of zscore only\n",
               setups[i].label, best[i] / 1e6, bytes[i], best[i] / best[0]);
    vg_batch_release(&b);
    return 0;
}
