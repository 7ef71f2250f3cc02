/* Replay end to end: the real `vigil replay` binary over a generated
 * long-format CSV of 1,000 interleaved series (10 M rows by default), CSV
 * parse -> series table -> detectors -> scores file. The ceiling it is
 * compared with, in the same run, is the CSV reader alone (one core).
 *
 * z-score only with one worker on one core (the walking-skeleton target,
 * >= 5 M rows/s), then the defaults (all detectors + ensemble) with 1, 2
 * and 4 scoring workers (config `workers`), on every core, with their
 * scaling against the 1-worker figure. Best of VG_BENCH_RUNS each. Also
 * prints bytes per series for both configs.
 *
 *   bench_replay [rows]     (vigil is looked up beside this program) */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/util.h"
#include "engine/config.h"
#include "engine/pipeline.h"

/* Best wall time of `vigil replay` with scores written to /dev/null;
 * pinned to one core when `one_core`. */
static double time_replay(const char *vigil, const char *config, const char *csv, int one_core)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "%s %s replay -q -c %s %s --scores /dev/null",
             one_core ? "taskset -c 0" : "", vigil, config, csv);
    double best = 1e30;
    for (int run = 0; run < VG_BENCH_RUNS; run++) {
        double t0 = vg_bench_now();
        if (system(cmd) != 0) {
            fprintf(stderr, "failed: %s\n", cmd);
            return -1.0;
        }
        double dt = vg_bench_now() - t0;
        best = dt < best ? dt : best;
    }
    return best;
}

/* Writes {"workers": workers} plus `rest` (JSON members, may be "") to a
 * new config file named into path[64]. Returns 0 or -1. */
static int write_config(char path[64], const char *name, int workers, const char *rest)
{
    snprintf(path, 64, "/tmp/vigil_bench_%s_%d.json", name, (int)getpid());
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int ok = fprintf(f, "{\"workers\": %d%s%s}\n", workers, *rest ? ", " : "", rest) > 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static const int worker_counts[] = {1, 2, 4};
#define N_COUNTS 3

/* The defaults with 1, 2 and 4 workers on every core. Returns 0 or -1. */
static int scaling(const char *vigil, const char *csv, long rows, double ceiling)
{
    double t[N_COUNTS];
    for (int k = 0; k < N_COUNTS; k++) {
        char cfg[64], name[16];
        snprintf(name, sizeof(name), "w%d", worker_counts[k]);
        if (write_config(cfg, name, worker_counts[k], "") != 0)
            return -1;
        t[k] = time_replay(vigil, cfg, csv, 0);
        unlink(cfg);
        if (t[k] <= 0)
            return -1;
    }
    printf("all defaults, %ld online CPUs:\n", sysconf(_SC_NPROCESSORS_ONLN));
    for (int k = 0; k < N_COUNTS; k++) {
        double speedup = t[0] / t[k];
        printf("  %d worker%s %6.2f M rows/s   %.2fx of 1 worker, efficiency %3.0f %%, "
               "%.2fx of the reader alone\n", worker_counts[k], worker_counts[k] == 1 ? " " : "s",
               (double)rows / t[k] / 1e6, speedup, 100.0 * speedup / worker_counts[k],
               (double)rows / t[k] / ceiling);
    }
    return 0;
}

static size_t series_bytes(const char *config_text)
{
    vg_error err = {0};
    vg_config *cfg = config_text ? vg_config_load_string(config_text, "bench", &err)
                                 : vg_config_default(&err);
    vg_pipeline *p = cfg ? vg_pipeline_new(cfg, &err) : NULL;
    size_t bytes = p ? vg_pipeline_series_bytes(p) : 0;
    vg_pipeline_free(p);
    vg_config_free(cfg);
    return bytes;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 10000000L;
    char self[4096], vigil[4200], csv[64], zcfg[64];
    snprintf(self, sizeof(self), "%s", argv[0]);
    snprintf(vigil, sizeof(vigil), "%s/vigil", dirname(self));
    snprintf(csv, sizeof(csv), "/tmp/vigil_bench_replay_%d.csv", (int)getpid());
    const char *zscore_only = "{\"detectors\": {\"zscore\": {}}}";
    if (write_config(zcfg, "zscore", 1, "\"detectors\": {\"zscore\": {}}") != 0)
        return 1;

    printf("writing %ld rows, %d interleaved series ...\n", rows, VG_BENCH_SERIES);
    int rc = 1;
    if (vg_bench_write_csv(csv, rows, 1) == 0) {
        printf("best of %d:\n", VG_BENCH_RUNS);
        double ceiling = vg_bench_time_reader(csv, "reader (one core)");
        double tz = time_replay(vigil, zcfg, csv, 1);
        if (ceiling > 0 && tz > 0) {
            printf("replay zscore only, 1 worker, one core  %6.2f M rows/s   %.2fx of the "
                   "reader alone\n", (double)rows / tz / 1e6, (double)rows / tz / ceiling);
            rc = scaling(vigil, csv, rows, ceiling) == 0 ? 0 : 1;
        }
    }
    printf("bytes per series: zscore only %zu, all defaults %zu (plus ~120 B of table)\n",
           series_bytes(zscore_only), series_bytes(NULL));
    unlink(csv);
    unlink(zcfg);
    return rc;
}
