/* Shared pieces of the benchmarks; see util.c. */
#ifndef VG_BENCH_UTIL_H
#define VG_BENCH_UTIL_H

#define VG_BENCH_SERIES 1000  /* interleaved series in long-format files */
#define VG_BENCH_RUNS   3     /* timed runs; the best is reported */

/* Monotonic seconds. */
double vg_bench_now(void);

/* Writes `rows` rows to path: long format (`timestamp,series,value`, 1,000
 * interleaved series) or NAB-shaped (`timestamp,value`). Returns 0 or -1. */
int vg_bench_write_csv(const char *path, long rows, int long_format);

/* Times the CSV reader alone over path, best of VG_BENCH_RUNS; prints one
 * line under `label` and returns rows/s, or -1 on error. */
double vg_bench_time_reader(const char *path, const char *label);

#endif
