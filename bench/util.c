/* Shared pieces of the benchmarks: a clock, medians and quantiles, a
 * generator of large CSV files shaped like real metric data, the CSV reader
 * timed alone (the ceiling every replay figure is compared with), and the
 * small librdkafka helpers the Kafka benchmarks share. */
#include "bench/util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/point.h"
#include "streams/csv.h"

double vg_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double vg_bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Rows of 2014-07-01 onwards; long: one step per VG_BENCH_SERIES rows. Values mix
 * NAB's styles: integers, 4 to 10 decimals, an exponent now and then. */
int vg_bench_write_csv(const char *path, long rows, int long_format)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    fputs(long_format ? "timestamp,series,value\n" : "timestamp,value\n", f);
    uint64_t seed = 42;
    time_t t0 = 1404172800;
    for (long r = 0; r < rows; r++) {
        time_t t = t0 + (long_format ? r / VG_BENCH_SERIES : r) * 300;
        struct tm tm;
        gmtime_r(&t, &tm);
        char ts[32];
        strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
        uint64_t u = next_rand(&seed);
        double v = (double)(u % 2000000) / 100.0 - 5000.0;
        if (long_format)
            fprintf(f, "%s,host%03ld.cpu,", ts, r % VG_BENCH_SERIES);
        else
            fprintf(f, "%s,", ts);
        switch (u >> 60) {
        case 0:  fprintf(f, "%.11e\n", v * 1e-7); break;
        case 1:
        case 2:  fprintf(f, "%ld\n", (long)v); break;
        case 3:  fprintf(f, "%.10f\n", v); break;
        default: fprintf(f, "%.4f\n", v); break;
        }
    }
    return fclose(f) == 0 ? 0 : -1;
}

double vg_bench_time_reader(const char *path, const char *label)
{
    double best = 1e30;
    vg_csv_source_stats st = {0};
    long bytes = 0;
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        fseek(f, 0, SEEK_END);
        bytes = ftell(f);
        fclose(f);
    }
    for (int run = 0; run < VG_BENCH_RUNS; run++) {
        vg_error err;
        double t0 = vg_bench_now();
        vg_source *src = vg_csv_source_open(path, NULL, &err);
        if (src == NULL) {
            fprintf(stderr, "%s: %s\n", path, err.msg);
            return -1.0;
        }
        vg_batch b;
        vg_batch_init(&b);
        int rc;
        do {
            vg_batch_reset(&b);
            rc = vg_source_poll(src, &b, 0);
        } while (rc > 0);
        double dt = vg_bench_now() - t0;
        vg_csv_source_get_stats(src, &st);
        vg_batch_release(&b);
        vg_source_close(src);
        if (rc != VG_EEOF) {
            fprintf(stderr, "%s: poll failed: %s\n", path, vg_strerror(rc));
            return -1.0;
        }
        if (dt < best)
            best = dt;
    }
    printf("%-6s rows=%llu points=%llu malformed=%llu  %.3f s  %.2f M rows/s  %.0f MB/s\n",
           label, (unsigned long long)st.rows, (unsigned long long)st.points,
           (unsigned long long)st.malformed, best, (double)st.rows / best / 1e6,
           (double)bytes / best / 1e6);
    return st.malformed == 0 ? (double)st.rows / best : -1.0;
}


static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double vg_bench_quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof(*v), cmp_double);
    size_t rank = (size_t)(q * (double)n + 0.999999);  /* nearest rank, 1-based */
    return v[rank == 0 ? 0 : rank > n ? n - 1 : rank - 1];
}

double vg_bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

rd_kafka_t *vg_bench_kafka_client(rd_kafka_type_t type, const char *brokers,
                                  const char *const *props)
{
    return vg_bench_kafka_client_conf(type, rd_kafka_conf_new(), brokers, props);
}

rd_kafka_t *vg_bench_kafka_client_conf(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                                       const char *brokers, const char *const *props)
{
    char why[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, why, sizeof(why));
    for (; props && props[0]; props += 2)
        if (rd_kafka_conf_set(conf, props[0], props[1], why, sizeof(why)) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "%s: %s\n", props[0], why);
            exit(1);
        }
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof(why));
    if (rk == NULL) {
        fprintf(stderr, "kafka client: %s\n", why);
        exit(1);
    }
    return rk;
}

long vg_bench_kafka_held(rd_kafka_t *rk, const char *topic, int partitions)
{
    long held = 0;
    for (int p = 0; p < partitions; p++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
            return -1;
        held += (long)(hi - lo);
    }
    return held;
}

void vg_bench_fill_cycles(vg_batch *b, long n)
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
