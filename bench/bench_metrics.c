/* Self-metrics costs: nanoseconds per update of each kind (counter inc,
 * fractional add, gauge set, histogram observe, partition lag by name) on
 * one thread and on two threads hitting the same counter, and the time to
 * render vigil's whole metric set with 64 partitions. Best of 3 runs.
 *
 *   bench_metrics [updates]   (default 20,000,000 per figure)
 *   bench_metrics --exposition
 *       prints vigil's metric set filled with sample values, for
 *       tests/cli/test_promtool.sh to hand to `promtool check metrics`. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/vigil_metrics.h"

#define RUNS 3

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A value of every family, a few label values each, one needing escapes. */
static void fill_samples(void)
{
    vg_metric_inc(VG_M_POINTS_READ, 1048576);
    vg_metric_inc(VG_M_POINTS_SCORED, 1048000);
    vg_metric_inc(VG_M_CSV_MALFORMED_ROWS, 3);
    vg_metric_inc(VG_M_SERIES_EVICTED, 12);
    vg_metric_inc(VG_M_ALERT_DELIVERY_FAILURES, 1);
    vg_metric_inc(VG_M_EVENT_LOG_BYTES, 734003);
    vg_metric_inc(VG_M_ALERTMANAGER_POSTS, 42);
    vg_metric_inc(VG_M_ALERTMANAGER_FAILURES, 2);
    vg_metric_label_inc(VG_M_PARSE_ERRORS, "json_syntax", 17);
    vg_metric_label_inc(VG_M_PARSE_ERRORS, "bad_timestamp", 4);
    vg_metric_label_inc(VG_M_PARSE_ERRORS, "field \"value\" in C:\\data\nnext line", 1);
    vg_metric_label_inc(VG_M_EVENTS, "firing", 9);
    vg_metric_label_inc(VG_M_EVENTS, "resolved", 7);
    vg_metric_label_add(VG_M_DETECTOR_SECONDS, "zscore", 1.25);
    vg_metric_label_add(VG_M_DETECTOR_SECONDS, "seasonal", 3.5);
    vg_metric_label_add(VG_M_DETECTOR_SECONDS, "iforest", 12.0625);
    vg_metric_label_inc(VG_M_CONFIG_RELOADS, "success", 2);
    vg_metric_labels_inc(VG_M_FEEDBACK, (const char *const[]){"refused", "kafka"}, 3);
    vg_metrics_set(vg_metric_with(VG_M_INCIDENTS_FIRING, (const char *const[]){"disk", "critical"}),
                   2);
    vg_metric_set(VG_M_SERIES_ACTIVE, 5000);
    for (int32_t p = 0; p < 3; p++)
        vg_metric_lag_set("metrics", p, 100 * p);
    static const double batch[] = {0.00004, 0.0003, 0.0012, 0.0012, 0.004, 0.03, 0.7, 12};
    for (size_t i = 0; i < sizeof(batch) / sizeof(batch[0]); i++)
        vg_metric_observe(VG_M_BATCH_SECONDS, batch[i]);
}

static int print_exposition(void)
{
    vg_metrics *reg = vg_metric_registry();
    if (reg == NULL)
        return 1;
    fill_samples();
    return vg_metrics_write(reg, stdout) == VG_OK ? 0 : 1;
}

typedef enum op { OP_INC, OP_ADD, OP_SET, OP_OBSERVE, OP_LAG } op;

typedef struct job {
    op     what;
    long   n;
} job;

static void *run_job(void *arg)
{
    const job *j = arg;
    vg_metric_child *secs = vg_metric_with(VG_M_DETECTOR_SECONDS,
                                           (const char *const[]){"bench"});
    for (long i = 0; i < j->n; i++) {
        switch (j->what) {
        case OP_INC:     vg_metric_inc(VG_M_POINTS_SCORED, 1); break;
        case OP_ADD:     vg_metrics_add(secs, 1e-6); break;
        case OP_SET:     vg_metric_set(VG_M_SERIES_ACTIVE, (double)i); break;
        case OP_OBSERVE: vg_metric_observe(VG_M_BATCH_SECONDS, (double)(i & 1023) * 1e-5); break;
        case OP_LAG:     vg_metric_lag_set("metrics", (int32_t)(i & 63), i); break;
        }
    }
    return NULL;
}

/* Best wall-clock ns per update over RUNS runs, `threads` threads doing n
 * updates each (so 2 threads at full speed would halve it). */
static double time_op(op what, long n, int threads)
{
    double best = 1e30;
    for (int r = 0; r < RUNS; r++) {
        job j = {what, n};
        pthread_t t[2];
        double t0 = now_s();
        for (int k = 0; k < threads; k++)
            pthread_create(&t[k], NULL, run_job, &j);
        for (int k = 0; k < threads; k++)
            pthread_join(t[k], NULL);
        double ns = (now_s() - t0) * 1e9 / ((double)n * threads);
        if (ns < best)
            best = ns;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--exposition") == 0)
        return print_exposition();
    long n = argc > 1 ? atol(argv[1]) : 20000000L;
    if (n <= 0 || vg_metric_registry() == NULL) {
        fprintf(stderr, "usage: bench_metrics [updates] | --exposition\n");
        return 2;
    }
    printf("%-44s %10s\n", "update (best of 3)", "ns/update");
    printf("%-44s %10.2f\n", "counter inc, 1 thread", time_op(OP_INC, n, 1));
    printf("%-44s %10.2f\n", "counter inc, 2 threads, same counter", time_op(OP_INC, n, 2));
    printf("%-44s %10.2f\n", "counter add seconds (CAS), 1 thread", time_op(OP_ADD, n, 1));
    printf("%-44s %10.2f\n", "gauge set, 1 thread", time_op(OP_SET, n, 1));
    printf("%-44s %10.2f\n", "histogram observe (16 buckets), 1 thread",
           time_op(OP_OBSERVE, n, 1));
    printf("%-44s %10.2f\n", "partition lag by name (64 partitions)",
           time_op(OP_LAG, n / 20, 1));

    fill_samples();
    double best = 1e30;
    size_t bytes = 0;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s();
        for (int k = 0; k < 1000; k++) {
            char *text = vg_metrics_render(vg_metric_registry(), &bytes, NULL);
            free(text);
        }
        double us = (now_s() - t0) * 1e6 / 1000;
        if (us < best)
            best = us;
    }
    printf("render whole set (64 partitions, %zu bytes): %.1f us\n", bytes, best);
    return 0;
}
