/* Replay end to end: the real `vigil replay` binary over a generated
 * long-format CSV of 1,000 interleaved series (10 M rows by default), CSV
 * parse -> series table -> detectors -> scores file, on one core. The
 * ceiling it is compared with, in the same run, is the CSV reader alone.
 *
 * Two configs: z-score only (the walking-skeleton target, >= 5 M rows/s)
 * and the defaults (all detectors + ensemble). Best of VG_BENCH_RUNS each.
 * Also prints bytes per series for both configs.
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

/* Best wall time of `vigil replay` with scores written to /dev/null. */
static double time_replay(const char *vigil, const char *config, const char *csv)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "taskset -c 0 %s replay -q %s %s %s --scores /dev/null",
             vigil, config ? "-c" : "", config ? config : "", csv);
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
    snprintf(zcfg, sizeof(zcfg), "/tmp/vigil_bench_zscore_%d.json", (int)getpid());
    const char *zscore_only = "{\"detectors\": {\"zscore\": {}}}";
    FILE *f = fopen(zcfg, "w");
    if (f == NULL || fputs(zscore_only, f) < 0 || fclose(f) != 0)
        return 1;

    printf("writing %ld rows, %d interleaved series ...\n", rows, VG_BENCH_SERIES);
    int rc = 1;
    if (vg_bench_write_csv(csv, rows, 1) == 0) {
        printf("best of %d, one core:\n", VG_BENCH_RUNS);
        double ceiling = vg_bench_time_reader(csv, "reader");
        double tz = time_replay(vigil, zcfg, csv);
        double td = time_replay(vigil, NULL, csv);
        if (ceiling > 0 && tz > 0 && td > 0) {
            printf("replay zscore only   %6.2f M rows/s   %.2fx of the reader alone\n",
                   (double)rows / tz / 1e6, (double)rows / tz / ceiling);
            printf("replay all defaults  %6.2f M rows/s   %.2fx of the reader alone\n",
                   (double)rows / td / 1e6, (double)rows / td / ceiling);
            rc = 0;
        }
    }
    printf("bytes per series: zscore only %zu, all defaults %zu (plus ~120 B of table)\n",
           series_bytes(zscore_only), series_bytes(NULL));
    unlink(csv);
    unlink(zcfg);
    return rc;
}
