/* Shared pieces of the benchmarks; see util.c. */
#ifndef VG_BENCH_UTIL_H
#define VG_BENCH_UTIL_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "core/point.h"

#define VG_BENCH_SERIES 1000  /* interleaved series in long-format files */
#define VG_BENCH_RUNS   3     /* timed runs; the best is reported */

/* Monotonic seconds. */
double vg_bench_now(void);

/* The calling thread's CPU seconds: a per-core figure that other tenants
 * of a shared machine do not slow down as much as the wall clock. */
double vg_bench_cpu_now(void);

/* Writes `rows` rows to path: long format (`timestamp,series,value`, 1,000
 * interleaved series) or NAB-shaped (`timestamp,value`). Returns 0 or -1. */
int vg_bench_write_csv(const char *path, long rows, int long_format);

/* Times the CSV reader alone over path, best of VG_BENCH_RUNS; prints one
 * line under `label` and returns rows/s, or -1 on error. */
double vg_bench_time_reader(const char *path, const char *label);

/* Appends `n` points of 1,000 noisy daily cycles (series host000.cpu ..
 * host999.cpu, 5 minutes apart), round robin. */
void vg_bench_fill_cycles(vg_batch *b, long n);

/* The median of v[0..n) (sorts v in place); n >= 1. */
double vg_bench_median(double *v, size_t n);

/* The q-quantile (0..1, nearest rank) of v[0..n) (sorts v in place); n >= 1. */
double vg_bench_quantile(double *v, size_t n, double q);

/* A librdkafka client for brokers with props, a NULL-terminated list of
 * name, value pairs (NULL-able). Exits the program on a bad property. */
rd_kafka_t *vg_bench_kafka_client(rd_kafka_type_t type, const char *brokers,
                                  const char *const *props);

/* As above, over conf (callbacks already set); takes conf. */
rd_kafka_t *vg_bench_kafka_client_conf(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                                       const char *brokers, const char *const *props);

/* Messages the broker holds in topic (high minus low watermark, summed
 * over partitions 0..partitions-1), or -1 when a query fails. */
long vg_bench_kafka_held(rd_kafka_t *rk, const char *topic, int partitions);

#endif
