/* Snapshot costs: CRC-32C throughput, and for 2,000 warm series under the
 * default config (every detector), bytes per series, encoding, decoding
 * (verify into a scratch pipeline, then apply) and an atomic save to a file
 * (fsync included, so that one is wall time). Other times are thread CPU
 * time, medians of RUNS.
 * usage: bench_snapshot [DIR]   (DIR for the file save; default /tmp) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "models/crc32c.h"
#include "models/snapshot.h"

#define SERIES    2000
#define POINTS    400     /* per series, past every default warm-up but seasonal's */
#define RUNS      5
#define CRC_BYTES ((size_t)64 << 20)

static double now_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof(*v), cmp_double);
    return v[RUNS / 2];
}

static vg_pipeline *warm_pipeline(const vg_config *cfg)
{
    vg_error err;
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    if (p == NULL) {
        fprintf(stderr, "bench_snapshot: %s\n", err.msg);
        exit(1);
    }
    vg_batch b;
    vg_batch_init(&b);
    char key[32];
    for (int t = 0; t < POINTS; t++) {
        for (int s = 0; s < SERIES; s++) {
            int n = snprintf(key, sizeof(key), "m{s=\"%d\"}", s);
            double v = 50.0 + 10.0 * sin(t * 0.13 + s) + (double)((t * 7919 + s) % 13);
            vg_batch_push(&b, key, (size_t)n, (int64_t)t * 60000, v, NULL);
        }
        vg_pipeline_process(p, &b);
        vg_batch_reset(&b);
    }
    vg_batch_release(&b);
    return p;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    double t[RUNS];

    uint8_t *buf = malloc(CRC_BYTES);
    for (size_t i = 0; i < CRC_BYTES; i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    uint32_t crc = 0;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s(CLOCK_THREAD_CPUTIME_ID);
        crc ^= vg_crc32c(buf, CRC_BYTES);
        t[r] = now_s(CLOCK_THREAD_CPUTIME_ID) - t0;
    }
    printf("crc32c            %8.0f MB/s (slicing-by-8; check %08x)\n",
           (double)CRC_BYTES / median(t) / 1e6, crc);
    free(buf);

    vg_error err;
    vg_config *cfg = vg_config_default(&err);
    vg_pipeline *p = warm_pipeline(cfg);
    vg_writer w;
    vg_writer_init(&w);
    for (int r = 0; r < RUNS; r++) {
        vg_writer_reset(&w);
        double t0 = now_s(CLOCK_THREAD_CPUTIME_ID);
        vg_snapshot_encode_mem(p, -1, &w, &err);
        t[r] = now_s(CLOCK_THREAD_CPUTIME_ID) - t0;
    }
    double enc = median(t);
    printf("state             %8zu bytes/series in the file (%zu in memory), %zu series\n",
           w.len / SERIES, vg_pipeline_series_bytes(p), (size_t)SERIES);
    printf("encode            %8.0f series/s %8.0f MB/s\n", SERIES / enc, (double)w.len / enc / 1e6);

    vg_pipeline *q = vg_pipeline_new(cfg, &err);
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s(CLOCK_THREAD_CPUTIME_ID);
        if (vg_snapshot_decode(q, w.buf, w.len, "bench", NULL, &err) != VG_OK) {
            fprintf(stderr, "bench_snapshot: %s\n", err.msg);
            return 1;
        }
        t[r] = now_s(CLOCK_THREAD_CPUTIME_ID) - t0;
    }
    double dec = median(t);
    printf("decode            %8.0f series/s %8.0f MB/s (verify + apply)\n", SERIES / dec,
           (double)w.len / dec / 1e6);

    char path[4096];
    snprintf(path, sizeof(path), "%s/bench_snapshot.vgstate", dir);
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s(CLOCK_MONOTONIC);
        if (vg_snapshot_save(p, path, -1, &err) != VG_OK) {
            fprintf(stderr, "bench_snapshot: %s: %s\n", err.where, err.msg);
            return 1;
        }
        t[r] = now_s(CLOCK_MONOTONIC) - t0;
    }
    printf("save (wall)       %8.1f ms for %.1f MB, fsync and rename included\n",
           1e3 * median(t), (double)w.len / 1e6);
    unlink(path);

    vg_writer_release(&w);
    vg_pipeline_free(q);
    vg_pipeline_free(p);
    vg_config_free(cfg);
    return 0;
}
