/* Snapshot costs: CRC-32C throughput, and for 2,000 warm series under the
 * default config (every detector), bytes per series, encoding, decoding
 * (verify into a scratch pipeline, then apply) and an atomic save to a file
 * (fsync included, so that one is wall time). Other times are thread CPU
 * time, medians of RUNS.
 *
 * Then checkpoints at scale: BIG_SERIES series in one partition, 1 % of
 * them changed per checkpoint interval, saved incrementally
 * (models/state_store.h) beside the full rewrite of every series as the
 * baseline, both in this run: bytes per checkpoint, the loop's stall (the
 * time the scoring thread spends in the save call) and the time the disk
 * work takes in the background, compaction included (amortised over the
 * intervals between two compactions), against the default 5 s interval.
 * usage: bench_snapshot [DIR [SERIES]]   (DIR for the files; default /tmp) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "models/crc32c.h"
#include "models/snapshot.h"
#include "models/state_store.h"
#include "util.h"

#define SERIES    2000
#define POINTS    400     /* per series, past every default warm-up but seasonal's */
#define RUNS      5
#define CRC_BYTES ((size_t)64 << 20)
#define BIG_SERIES    100000  /* the default max_series */
#define BIG_POINTS    40      /* per series: every block at its full size */
#define BIG_PARTITION 0
#define INTERVALS     10      /* incremental checkpoints timed */
#define INTERVAL_S    5.0     /* state.checkpoint_ms's default */
#define COMPACT_PCT   50      /* state.compact_percent's default */

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

static vg_pipeline *warm_pipeline(const vg_config *cfg, int series, int points)
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
    vg_origin origin = {"metrics", BIG_PARTITION, 0};
    for (int t = 0; t < points; t++) {
        for (int s = 0; s < series; s++) {
            int n = snprintf(key, sizeof(key), "m{s=\"%d\"}", s);
            double v = 50.0 + 10.0 * sin(t * 0.13 + s) + (double)((t * 7919 + s) % 13);
            vg_batch_push(&b, key, (size_t)n, (int64_t)t * 60000, v, &origin);
            if (b.n >= 4096) {
                vg_pipeline_process(p, &b);
                vg_batch_reset(&b);
            }
        }
    }
    vg_pipeline_process(p, &b);
    vg_batch_release(&b);
    return p;
}

static double file_mb(const char *path)
{
    size_t len = 0;
    uint8_t *data = vg_snapshot_read_file(path, &len, NULL);
    free(data);
    return (double)len / 1e6;
}

/* One point more for each of `count` series from `first` (wrapping). */
static void change(vg_pipeline *p, int series, int first, int count, int t)
{
    vg_batch b;
    vg_batch_init(&b);
    vg_origin origin = {"metrics", BIG_PARTITION, 0};
    char key[32];
    for (int i = 0; i < count; i++) {
        int s = (first + i) % series;
        int n = snprintf(key, sizeof(key), "m{s=\"%d\"}", s);
        vg_batch_push(&b, key, (size_t)n, (int64_t)t * 60000, 50.0 + (double)(i % 9), &origin);
    }
    vg_pipeline_process(p, &b);
    vg_batch_release(&b);
}

typedef struct merge_src {
    const uint8_t *base;
    uint8_t       *log;
    size_t   base_len, log_len;
} merge_src;

static int produce_merged(void *ctx, vg_snapshot_sink_fn sink, void *sink_ctx, vg_error *err)
{
    merge_src *m = ctx;
    return vg_snapshot_merge(m->base, m->base_len, m->log, m->log_len, "bench", sink, sink_ctx,
                             NULL, err);
}

/* What the state writer does to compact: map the base (mapped = 1; else
 * read it into a buffer, as compaction did before), read the log, merge,
 * write the new base atomically. Wall seconds. */
static double time_compaction(const char *base, const char *log, const char *out, int mapped)
{
    merge_src m = {0};
    vg_error err = {0};
    uint8_t *copy = NULL;
    double t0 = now_s(CLOCK_MONOTONIC);
    m.base = mapped ? vg_snapshot_map_file(base, &m.base_len, NULL)
                    : (copy = vg_snapshot_read_file(base, &m.base_len, NULL));
    m.log = vg_snapshot_read_file(log, &m.log_len, NULL);
    if (m.base == NULL || m.log == NULL ||
        vg_snapshot_write_atomic(out, produce_merged, &m, &err) != VG_OK) {
        fprintf(stderr, "bench_snapshot: compaction: %s %s\n", err.where, err.msg);
        exit(1);
    }
    double s = now_s(CLOCK_MONOTONIC) - t0;
    if (mapped)
        vg_snapshot_unmap_file(m.base, m.base_len);
    free(copy);
    free(m.log);
    unlink(out);
    return s;
}

static void positions(vg_snapshot_positions *pos, int64_t offset)
{
    *pos = (vg_snapshot_positions){.n = 1};
    snprintf(pos->v[0].topic, sizeof(pos->v[0].topic), "metrics");
    pos->v[0].partition = BIG_PARTITION;
    pos->v[0].next_offset = offset;
}

/* stall[0]: wall, stall[1]: the loop thread's CPU time in the save call
 * (on a loaded machine the wall time also counts waiting for a core). */
static vg_state_saved save_and_wait(vg_state_store *st, vg_pipeline *p, int64_t offset,
                                    int full, double stall[2], double *background)
{
    vg_snapshot_positions pos;
    vg_error err = {0};
    vg_state_saved r;
    positions(&pos, offset);
    double c0 = now_s(CLOCK_THREAD_CPUTIME_ID), t0 = now_s(CLOCK_MONOTONIC);
    vg_state_store_save(st, p, BIG_PARTITION, &pos, full, &err);
    double t1 = now_s(CLOCK_MONOTONIC);
    stall[1] = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    vg_state_store_results(st, 1, &r, 1);
    if (r.rc != VG_OK) {
        fprintf(stderr, "bench_snapshot: save: %s %s\n", r.err.where, r.err.msg);
        exit(1);
    }
    stall[0] = t1 - t0;
    *background = now_s(CLOCK_MONOTONIC) - t1;
    return r;
}

static void checkpoints_at_scale(const vg_config *cfg, const char *dir, int series)
{
    double t0 = now_s(CLOCK_MONOTONIC);
    vg_pipeline *p = warm_pipeline(cfg, series, BIG_POINTS);
    printf("\ncheckpoints: %d series (%d points each, %.0f s to build), %d changed per "
           "%.0f s interval\n", series, BIG_POINTS, now_s(CLOCK_MONOTONIC) - t0, series / 100,
           INTERVAL_S);
    char full_path[4096], base[4096], log[4096], out[4096];
    snprintf(full_path, sizeof(full_path), "%s/bench_full.vgstate", dir);
    snprintf(out, sizeof(out), "%s/bench_compacted.vgstate", dir);
    vg_error err = {0};
    vg_snapshot_positions pos;
    double full[2], full_cpu[2];
    for (int r = 0; r < 2; r++) {  /* the baseline: every series, on the loop */
        positions(&pos, r);
        double c = now_s(CLOCK_THREAD_CPUTIME_ID), t = now_s(CLOCK_MONOTONIC);
        vg_snapshot_save_at(p, full_path, BIG_PARTITION, &pos, &err);
        full[r] = now_s(CLOCK_MONOTONIC) - t;
        full_cpu[r] = now_s(CLOCK_THREAD_CPUTIME_ID) - c;
    }
    double full_s = full[0] < full[1] ? full[0] : full[1], full_mb = file_mb(full_path);
    double full_cpu_s = full_cpu[0] < full_cpu[1] ? full_cpu[0] : full_cpu[1];
    unlink(full_path);

    vg_state_store *st = vg_state_store_open(dir, "bench", 1000000, &err);
    vg_snapshot_path(base, sizeof(base), dir, "bench", BIG_PARTITION);
    vg_snapshot_delta_path(log, sizeof(log), base);
    double stall[INTERVALS], stall_cpu[INTERVALS], bg[INTERVALS], bytes[INTERVALS], one[2];
    save_and_wait(st, p, 0, 1, one, &bg[0]);  /* the base */
    for (int k = 0; k < INTERVALS; k++) {
        change(p, series, k * (series / 100), series / 100, BIG_POINTS + k);
        vg_state_saved r = save_and_wait(st, p, k + 1, 0, one, &bg[k]);
        stall[k] = one[0];
        stall_cpu[k] = one[1];
        bytes[k] = (double)r.bytes;
    }
    double stall_ms = 1e3 * vg_bench_median(stall, INTERVALS);
    double stall_cpu_ms = 1e3 * vg_bench_median(stall_cpu, INTERVALS);
    double bg_ms = 1e3 * vg_bench_median(bg, INTERVALS);
    double seg_mb = vg_bench_median(bytes, INTERVALS) / 1e6, base_mb = file_mb(base);
    double read_s = time_compaction(base, log, out, 0);
    double compact_s = time_compaction(base, log, out, 1);
    double every = ceil(COMPACT_PCT / 100.0 * base_mb / seg_mb);
    double saving_ms = bg_ms + stall_ms + 1e3 * compact_s / every;
    vg_state_store_close(st);
    unlink(base);
    unlink(log);

    printf("full rewrite (baseline) %9.1f MB per checkpoint, loop stall %8.1f ms wall, "
           "%.1f ms CPU (%.1f %% of the interval)\n", full_mb, 1e3 * full_s,
           1e3 * full_cpu_s, 100 * full_s / INTERVAL_S);
    printf("incremental             %9.1f MB per checkpoint, loop stall %8.1f ms wall, "
           "%.1f ms CPU; in the background (encode, write, fdatasync) %.1f ms\n", seg_mb,
           stall_ms, stall_cpu_ms, bg_ms);
    printf("  compaction            %9.1f s every %.0f intervals (at %d %%) = %.1f ms per interval "
           "(base mapped; read into a buffer first: %.1f s)\n",
           compact_s, every, COMPACT_PCT, 1e3 * compact_s / every, read_s);
    printf("  saving per interval   %9.1f ms = %.2f %% of the interval (stall + disk + "
           "compaction share)\n", saving_ms, saving_ms / 10.0 / INTERVAL_S);
    printf("  vs baseline           bytes %.4f x, loop stall %.4f x\n", seg_mb / full_mb,
           stall_ms / 1e3 / full_s);
    vg_pipeline_free(p);
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
    vg_pipeline *p = warm_pipeline(cfg, SERIES, POINTS);
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
    checkpoints_at_scale(cfg, dir, argc > 2 ? atoi(argv[2]) : BIG_SERIES);
    vg_config_free(cfg);
    return 0;
}
